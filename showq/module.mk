# showq/: the showq daemon (the queue listing for postqueue). Built once showq/showq.c exists.
LIBEXEC_PROGS += $(if $(wildcard showq/showq.c),showq)
showq_SRCS := $(wildcard showq/*.c)
