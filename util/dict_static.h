/*
 * dict_static - static:VALUE, a table that maps every key to VALUE
 */
#ifndef UTIL_DICT_STATIC_H
#define UTIL_DICT_STATIC_H

#include "util/dict.h"

/* Open static:VALUE or static:{VALUE with spaces} (dict_open_fn). */
dict *dict_static_open(const char *name, int open_flags, int dict_flags, vstr *err);

#endif
