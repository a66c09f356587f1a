# qmgr/: the qmgr daemon. Built once qmgr/qmgr.c exists; every qmgr/*.c is part of it.
LIBEXEC_PROGS += $(if $(wildcard qmgr/qmgr.c),qmgr)
qmgr_SRCS := $(wildcard qmgr/*.c)
