/*
 * mem - allocation that never returns NULL
 *
 * Every allocation in Postern goes through these. Running out of memory is
 * fatal, decided here in one place: callers never test for NULL.
 */
#ifndef UTIL_MEM_H
#define UTIL_MEM_H

#include <stddef.h>

/* Allocate size bytes (size 0 allowed); fatal on exhaustion. */
void *mem_alloc(size_t size);
/* Allocate n zeroed objects of size bytes; fatal on overflow or exhaustion. */
void *mem_calloc(size_t n, size_t size);
/* Resize ptr (may be NULL) to size bytes; fatal on exhaustion. */
void *mem_realloc(void *ptr, size_t size);
/* Resize ptr to n objects of size bytes; fatal on overflow or exhaustion. */
void *mem_reallocarray(void *ptr, size_t n, size_t size);
/* Free ptr; NULL is fine. */
void mem_free(void *ptr);
/* Copy a NUL-terminated string. */
char *mem_strdup(const char *s);
/* Copy at most len bytes of s and terminate the copy. */
char *mem_strndup(const char *s, size_t len);
/* Copy len bytes (which may hold NULs) and add a terminating NUL. */
char *mem_memdup0(const void *p, size_t len);

#endif
