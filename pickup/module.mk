# pickup/: the pickup daemon. Built once pickup/pickup.c exists; every pickup/*.c is part of it.
LIBEXEC_PROGS += $(if $(wildcard pickup/pickup.c),pickup)
pickup_SRCS := $(wildcard pickup/*.c)
