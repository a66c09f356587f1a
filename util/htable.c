/*
 * htable - hash tables with string keys
 *
 * Chained buckets; FNV-1a mixed with a per-table random seed.
 */
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "util/htable.h"
#include "util/mem.h"

static unsigned long htable_seed(void)
{
    unsigned long seed;

    if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != (ssize_t)sizeof(seed))
        seed = (unsigned long)time(NULL) ^ ((unsigned long)getpid() << 16);
    return seed;
}

static size_t htable_hash(const htable *t, const char *key)
{
    unsigned long h = 14695981039346656037UL ^ t->seed;

    for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
        h ^= *p;
        h *= 1099511628211UL;
    }
    h ^= h >> 29;
    return (size_t)h & (t->size - 1);
}

htable *htable_new(size_t hint)
{
    htable *t = mem_alloc(sizeof(*t));

    t->size = 16;
    while (t->size < hint)
        t->size *= 2;
    t->buckets = mem_calloc(t->size, sizeof(*t->buckets));
    t->used = 0;
    t->seed = htable_seed();
    return t;
}

void htable_free(htable *t, void (*free_value)(void *))
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->size; i++) {
        htable_entry *e = t->buckets[i], *next;

        for (; e; e = next) {
            next = e->next;
            if (free_value)
                free_value(e->value);
            mem_free(e->key);
            mem_free(e);
        }
    }
    mem_free(t->buckets);
    mem_free(t);
}

static void htable_grow(htable *t)
{
    size_t old_size = t->size;
    htable_entry **old = t->buckets;

    t->size *= 2;
    t->buckets = mem_calloc(t->size, sizeof(*t->buckets));
    for (size_t i = 0; i < old_size; i++) {
        htable_entry *e = old[i], *next;

        for (; e; e = next) {
            size_t b = htable_hash(t, e->key);

            next = e->next;
            e->next = t->buckets[b];
            t->buckets[b] = e;
        }
    }
    mem_free(old);
}

htable_entry *htable_locate(const htable *t, const char *key)
{
    for (htable_entry *e = t->buckets[htable_hash(t, key)]; e; e = e->next)
        if (strcmp(e->key, key) == 0)
            return e;
    return NULL;
}

void *htable_find(const htable *t, const char *key)
{
    htable_entry *e = htable_locate(t, key);

    return e ? e->value : NULL;
}

htable_entry *htable_enter(htable *t, const char *key, void *value)
{
    htable_entry *e;
    size_t b;

    if (htable_locate(t, key))
        return NULL;
    if (t->used >= t->size)
        htable_grow(t);
    b = htable_hash(t, key);
    e = mem_alloc(sizeof(*e));
    e->key = mem_strdup(key);
    e->value = value;
    e->next = t->buckets[b];
    t->buckets[b] = e;
    t->used++;
    return e;
}

int htable_delete(htable *t, const char *key, void (*free_value)(void *))
{
    htable_entry **link = &t->buckets[htable_hash(t, key)];

    for (; *link; link = &(*link)->next) {
        htable_entry *e = *link;

        if (strcmp(e->key, key) == 0) {
            *link = e->next;
            if (free_value)
                free_value(e->value);
            mem_free(e->key);
            mem_free(e);
            t->used--;
            return 1;
        }
    }
    return 0;
}

htable_entry **htable_list(const htable *t)
{
    htable_entry **list = mem_calloc(t->used + 1, sizeof(*list));
    size_t n = 0;

    for (size_t i = 0; i < t->size; i++)
        for (htable_entry *e = t->buckets[i]; e; e = e->next)
            list[n++] = e;
    list[n] = NULL;
    return list;
}
