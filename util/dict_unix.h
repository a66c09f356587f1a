/*
 * dict_unix - unix:passwd.byname and unix:group.byname, the system's users and groups
 */
#ifndef UTIL_DICT_UNIX_H
#define UTIL_DICT_UNIX_H

#include "util/dict.h"

/* Open unix:passwd.byname or unix:group.byname (dict_open_fn). */
dict *dict_unix_open(const char *name, int open_flags, int dict_flags, vstr *err);

#endif
