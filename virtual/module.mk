# virtual/: the virtual mailbox delivery agent. Every virtual/*.c is part of it.
LIBEXEC_PROGS += $(if $(wildcard virtual/virtual.c),virtual)
virtual_SRCS := $(wildcard virtual/*.c)
