# util/: libutil.a, nothing mail-specific.
UTIL_SRCS += util/mem.c util/msg.c util/vstr.c util/argv.c util/htable.c
