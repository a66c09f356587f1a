/*
 * dict_texthash - texthash:FILE, a postmap(1) source file read into memory
 */
#ifndef UTIL_DICT_TEXTHASH_H
#define UTIL_DICT_TEXTHASH_H

#include "util/dict.h"

/* Open texthash:FILE (dict_open_fn). */
dict *dict_texthash_open(const char *name, int open_flags, int dict_flags, vstr *err);

#endif
