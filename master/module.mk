# master/: the master daemon. Built once master/master.c exists; every master/*.c is part of it.
LIBEXEC_PROGS += $(if $(wildcard master/master.c),master)
master_SRCS := $(wildcard master/*.c)
