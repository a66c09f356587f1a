/*
 * dict_inline - inline:{ key=value, ... }, a small table written in place
 */
#ifndef UTIL_DICT_INLINE_H
#define UTIL_DICT_INLINE_H

#include "util/dict.h"

/* Open inline:{ key=value, { key = text, with commas }, ... } (dict_open_fn). */
dict *dict_inline_open(const char *name, int open_flags, int dict_flags, vstr *err);

#endif
