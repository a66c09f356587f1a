/*
 * dict_lmdb - lmdb:NAME, tables in LMDB files (NAME.lmdb)
 */
#ifndef UTIL_DICT_LMDB_H
#define UTIL_DICT_LMDB_H

#include "util/dict.h"

/* Open NAME.lmdb (dict_open_fn). */
dict *dict_lmdb_open(const char *name, int open_flags, int dict_flags, vstr *err);

#endif
