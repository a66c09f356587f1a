/*
 * dict_mem - a table of strings held in memory, for types read whole at open
 *
 * SYNOPSIS
 *   dict_mem *dm = dict_mem_alloc("texthash", name, open_flags, dict_flags);
 *   dict_mem_update(&dm->dict, "key", "value");   ... while loading ...
 *   return &dm->dict;                               lookup, sequence, close set
 *
 * DESCRIPTION
 *   inline: and texthash: parse their text once and then answer from a
 *   hash table (util/htable). This is that table with the dict
 *   operations over it: lookup, sequence (in no particular order) and
 *   close. Keys are folded to lower case (DICT_FLAG_FOLD_KEY). The type
 *   fills it with dict_mem_update() and leaves dict.update NULL, so the
 *   table is read-only to its users.
 */
#ifndef UTIL_DICT_MEM_H
#define UTIL_DICT_MEM_H

#include <stddef.h>

#include "util/dict.h"
#include "util/htable.h"

typedef struct dict_mem {
    dict dict;
    htable *table;       /* key -> value (mem_strdup'ed) */
    htable_entry **list; /* sequence: a snapshot of the entries */
    size_t next;
} dict_mem;

/* An empty table of the given type and name. */
dict_mem *dict_mem_alloc(const char *type, const char *name, int open_flags, int dict_flags);
/* Add key (already folded): DICT_FOUND, or DICT_DUPLICATE when present (the
 * value is replaced under DICT_FLAG_DUP_REPLACE). Has dict's update shape. */
int dict_mem_update(dict *d, const char *key, const char *value);

#endif
