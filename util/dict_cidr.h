/*
 * dict_cidr - cidr:FILE, rules of IPv4 and IPv6 networks (cidr_table(5))
 */
#ifndef UTIL_DICT_CIDR_H
#define UTIL_DICT_CIDR_H

#include "util/dict.h"

/* Open cidr:FILE (dict_open_fn). */
dict *dict_cidr_open(const char *name, int open_flags, int dict_flags, vstr *err);

#endif
