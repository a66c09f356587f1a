/*
 * argv - growable NULL-terminated string arrays
 */
#include <string.h>

#include "util/argv.h"
#include "util/mem.h"

argv_t *argv_new(void)
{
    argv_t *a = mem_alloc(sizeof(*a));

    a->cap = 8;
    a->argc = 0;
    a->argv = mem_calloc(a->cap, sizeof(char *));
    return a;
}

void argv_free(argv_t *a)
{
    if (a == NULL)
        return;
    for (size_t i = 0; i < a->argc; i++)
        mem_free(a->argv[i]);
    mem_free(a->argv);
    mem_free(a);
}

static void argv_push(argv_t *a, char *owned)
{
    if (a->argc + 1 >= a->cap) {
        a->argv = mem_reallocarray(a->argv, a->cap * 2, sizeof(char *));
        a->cap *= 2;
    }
    a->argv[a->argc++] = owned;
    a->argv[a->argc] = NULL;
}

void argv_add(argv_t *a, const char *s)
{
    argv_push(a, mem_strdup(s));
}

void argv_addn(argv_t *a, const char *s, size_t len)
{
    argv_push(a, mem_memdup0(s, len));
}

argv_t *argv_split(const char *s, const char *delims)
{
    argv_t *a = argv_new();

    while (*s) {
        size_t skip = strspn(s, delims), len;

        s += skip;
        len = strcspn(s, delims);
        if (len)
            argv_addn(a, s, len);
        s += len;
    }
    return a;
}

void argv_truncate(argv_t *a, size_t start)
{
    while (a->argc > start)
        mem_free(a->argv[--a->argc]);
    a->argv[a->argc] = NULL;
}
