/*
 * dict_pcre - pcre:FILE, rules of PCRE2 regular expressions (pcre_table(5))
 */
#ifndef UTIL_DICT_PCRE_H
#define UTIL_DICT_PCRE_H

#include "util/dict.h"

/* Open pcre:FILE (dict_open_fn). */
dict *dict_pcre_open(const char *name, int open_flags, int dict_flags, vstr *err);

#endif
