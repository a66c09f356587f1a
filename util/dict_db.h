/*
 * dict_db - hash: and btree: tables in Berkeley DB files
 *
 * "hash:/etc/postern/aliases" is the file /etc/postern/aliases.db. See
 * dict_db.c for the on-disk conventions (trailing NULs, bulk builds).
 */
#ifndef UTIL_DICT_DB_H
#define UTIL_DICT_DB_H

#include "util/dict.h"

/* Open NAME.db as a Berkeley DB hash (dict_open_fn). */
dict *dict_hash_open(const char *name, int open_flags, int dict_flags, vstr *err);
/* Open NAME.db as a Berkeley DB btree (dict_open_fn). */
dict *dict_btree_open(const char *name, int open_flags, int dict_flags, vstr *err);

#endif
