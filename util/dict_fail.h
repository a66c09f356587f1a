/*
 * dict_fail - fail:NAME, a table whose every lookup is an error
 *
 * Also the base of dict_surrogate(), which stands in for a table that
 * could not be opened.
 */
#ifndef UTIL_DICT_FAIL_H
#define UTIL_DICT_FAIL_H

#include "util/dict.h"

/* Open fail:NAME (dict_open_fn). */
dict *dict_fail_open(const char *name, int open_flags, int dict_flags, vstr *err);

#endif
