/*
 * htable - hash tables with string keys
 *
 * Keys are copied; values are the caller's. Each table hashes with its own
 * random seed, so keys chosen by a client cannot force collisions. The
 * table doubles when it holds more entries than buckets.
 */
#ifndef UTIL_HTABLE_H
#define UTIL_HTABLE_H

#include <stddef.h>

typedef struct htable_entry {
    char *key;
    void *value;
    struct htable_entry *next;
} htable_entry;

typedef struct htable {
    htable_entry **buckets;
    size_t size;  /* number of buckets, a power of two */
    size_t used;  /* number of entries */
    unsigned long seed;
} htable;

/* A table with room for about hint entries before it grows. */
htable *htable_new(size_t hint);
/* Free the table; free_value (may be NULL) is called on each value. */
void htable_free(htable *t, void (*free_value)(void *));
/* Add key; returns the new entry, or NULL when key is already present. */
htable_entry *htable_enter(htable *t, const char *key, void *value);
/* The entry for key, or NULL. */
htable_entry *htable_locate(const htable *t, const char *key);
/* The value for key, or NULL (also when the stored value is NULL). */
void *htable_find(const htable *t, const char *key);
/* Remove key; free_value (may be NULL) gets its value. Returns 1 if found. */
int htable_delete(htable *t, const char *key, void (*free_value)(void *));
/* All entries in unspecified order, NULL-terminated; caller frees the array. */
htable_entry **htable_list(const htable *t);

#endif
