/*
 * dict_regexp - regexp:FILE, rules of POSIX regular expressions (regexp_table(5))
 */
#ifndef UTIL_DICT_REGEXP_H
#define UTIL_DICT_REGEXP_H

#include "util/dict.h"

/* Open regexp:FILE (dict_open_fn). */
dict *dict_regexp_open(const char *name, int open_flags, int dict_flags, vstr *err);

#endif
