/*
 * argv - growable NULL-terminated string arrays
 *
 * argv->argv[argv->argc] is always NULL, so an argv_t can go to execv().
 */
#ifndef UTIL_ARGV_H
#define UTIL_ARGV_H

#include <stddef.h>

typedef struct argv_t {
    char **argv;
    size_t argc;
    size_t cap; /* slots allocated, the terminating NULL included */
} argv_t;

argv_t *argv_new(void);
/* Free the array and every string in it; NULL is fine. */
void argv_free(argv_t *a);
/* Append a copy of s. */
void argv_add(argv_t *a, const char *s);
/* Append a copy of the first len bytes of s. */
void argv_addn(argv_t *a, const char *s, size_t len);
/* Split s at any of the delimiter bytes; empty fields are dropped. */
argv_t *argv_split(const char *s, const char *delims);
/* Drop elements from index start on. */
void argv_truncate(argv_t *a, size_t start);

#endif
