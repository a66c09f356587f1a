# local/: the local daemon. Built once local/local.c exists; every local/*.c is part of it.
LIBEXEC_PROGS += $(if $(wildcard local/local.c),local)
local_SRCS := $(wildcard local/*.c)
