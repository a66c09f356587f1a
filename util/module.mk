# util/: libutil.a, nothing mail-specific. Every util/*.c belongs to it.
UTIL_SRCS += $(wildcard util/*.c)
