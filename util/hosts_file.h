/*
 * hosts_file - a bounded reader of /etc/hosts
 *
 * SYNOPSIS
 *   hosts_file h;
 *   vstr why = VSTR_INIT;
 *   if (hosts_file_load("/etc/hosts", &h, &why) < 0) warn why; (h is empty)
 *   const char *name = hosts_file_name_of(&h, AF_INET, addr4);  // NULL: not listed
 *   switch (hosts_file_lookup(&h, "mail.example", AF_INET, addr4)) {
 *   case 1:  the name is listed with that address
 *   case 0:  the name is listed, with other addresses of that family only
 *   case -1: the name has no address of that family here: ask DNS
 *   }
 *   hosts_file_free(&h);
 *
 * DESCRIPTION
 *   For programs that resolve names themselves (global/dns) but must
 *   still honour the hosts file the C library would read first. A line
 *   is an IPv4 or IPv6 address and the names it has, separated by white
 *   space; "#" starts a comment. The first name is the canonical one: a
 *   reverse lookup gives it, as the C library does. Names compare
 *   without regard to case.
 *
 *   Bounds, for a file that may hold anything: at most HOSTS_FILE_MAX
 *   bytes are read (a larger file is refused as a whole); a line longer
 *   than HOSTS_LINE_MAX, an address that does not parse (a zone index,
 *   junk), a name longer than 253 bytes or with bytes a host name cannot
 *   have, and names past HOSTS_NAMES_MAX on a line are skipped, and
 *   counted in skipped. A line with no name left is skipped too.
 *
 * DIAGNOSTICS
 *   hosts_file_load returns -1 with why when the file cannot be read or
 *   is too large; a missing file is an empty table, not an error.
 */
#ifndef UTIL_HOSTS_FILE_H
#define UTIL_HOSTS_FILE_H

#include <stddef.h>

#include "util/vstr.h"

#define HOSTS_FILE_MAX (1024 * 1024)
#define HOSTS_LINE_MAX 4096
#define HOSTS_NAMES_MAX 64
#define HOSTS_NAME_MAX 253

typedef struct hosts_entry {
    int family;             /* AF_INET or AF_INET6 */
    unsigned char addr[16]; /* 4 or 16 bytes */
    char *name;             /* one name of the line (each name its own entry) */
    int canonical;          /* the first name of its line */
} hosts_entry;

typedef struct hosts_file {
    hosts_entry *list;
    size_t count, cap;
    size_t skipped; /* lines, addresses and names left out (DESCRIPTION) */
} hosts_file;

/* Parse len bytes of hosts-file text into out (which needs no
 * initialisation; free it with hosts_file_free). Never fails. */
void hosts_file_parse(const char *text, size_t len, hosts_file *out);
/* Read and parse path: 0; -1 with why (out is then empty). */
int hosts_file_load(const char *path, hosts_file *out, vstr *why);
void hosts_file_free(hosts_file *h);

/* The canonical name of the first line with the address (family AF_INET:
 * 4 bytes, AF_INET6: 16), or NULL. */
const char *hosts_file_name_of(const hosts_file *h, int family, const unsigned char *addr);
/* 1: name is listed with the address; 0: listed with other addresses
 * of the family, not with it; -1: no address of the family is listed for
 * name (as the C library's "files, then dns" goes on to DNS then). */
int hosts_file_lookup(const hosts_file *h, const char *name, int family,
                      const unsigned char *addr);

#endif
