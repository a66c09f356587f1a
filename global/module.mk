# global/: libglobal.a, mail-specific code shared by the programs.
GLOBAL_SRCS += $(wildcard global/*.c)
