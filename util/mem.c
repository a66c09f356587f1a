/*
 * mem - allocation that never returns NULL
 *
 * Out of memory is reported through msg_fatal, which formats into a stack
 * buffer and so needs no heap itself.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/mem.h"
#include "util/msg.h"

static void mem_exhausted(size_t size)
{
    msg_fatal("out of memory allocating %zu bytes", size);
}

void *mem_alloc(size_t size)
{
    void *p = malloc(size ? size : 1);

    if (p == NULL)
        mem_exhausted(size);
    return p;
}

void *mem_calloc(size_t n, size_t size)
{
    void *p;

    if (size && n > SIZE_MAX / size)
        msg_fatal("allocation overflow: %zu * %zu", n, size);
    p = calloc(n ? n : 1, size ? size : 1);
    if (p == NULL)
        mem_exhausted(n * size);
    return p;
}

void *mem_realloc(void *ptr, size_t size)
{
    void *p = realloc(ptr, size ? size : 1);

    if (p == NULL)
        mem_exhausted(size);
    return p;
}

void *mem_reallocarray(void *ptr, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        msg_fatal("allocation overflow: %zu * %zu", n, size);
    return mem_realloc(ptr, n * size);
}

void mem_free(void *ptr)
{
    free(ptr);
}

char *mem_strdup(const char *s)
{
    return mem_memdup0(s, strlen(s));
}

char *mem_strndup(const char *s, size_t len)
{
    return mem_memdup0(s, strnlen(s, len));
}

char *mem_memdup0(const void *p, size_t len)
{
    char *copy;

    if (len == SIZE_MAX)
        msg_fatal("allocation overflow: %zu + 1", len);
    copy = mem_alloc(len + 1);
    memcpy(copy, p, len);
    copy[len] = 0;
    return copy;
}
