/*
 * NAME
 *   cidr_match - is a client address in a list of networks (mynetworks)?
 *
 * SYNOPSIS
 *   vstr err = VSTR_INIT, why = VSTR_INIT;
 *   argv_t *list = maps_split(config_str(cfg, "mynetworks"));
 *   cidr_list *nets = cidr_list_parse("mynetworks", list, &err);
 *   switch (cidr_list_match(nets, "192.0.2.7", &why)) {
 *   case 1:  ... trusted ...
 *   case 0:  ... not listed ...
 *   case -1: ... a table could not be read: vstr_str(&why); defer (451 4.3.0) ...
 *   }
 *   cidr_list_free(nets);
 *
 * DESCRIPTION
 *   The list of Postfix's mynetworks: elements are tried in order and the
 *   first that matches decides.
 *
 *   192.0.2.0/24, 192.0.2.1, [192.0.2.1], [2001:db8::]/32, 2001:db8::1
 *           a network or an address (util/cidr: brackets optional, both
 *           families; bits after the prefix are an error). IPv6 may be
 *           written without brackets where it cannot be read as
 *           "type:table" (Postfix wants the brackets).
 *   type:table
 *           a lookup table (cidr:, hash:, inline:{...}, ...) asked for the
 *           client address; found means listed, whatever the value.
 *   /file/name
 *           the patterns in the file, read once here: any of these forms,
 *           separated by white space or commas, '#' starts a comment line;
 *           files may name files, up to CIDR_LIST_DEPTH_MAX deep.
 *   !pattern
 *           when pattern matches, the address is not listed, and the
 *           search stops ("!192.0.2.5 192.0.2.0/24": all of the network
 *           but one host); "!/file/name" negates every pattern of it.
 *
 *   Tables are opened here, once: call before any privilege drop. A table
 *   that cannot be opened is logged and stands as a surrogate whose every
 *   lookup fails, so the list answers -1 (a temporary failure) rather
 *   than "not listed" or "listed".
 *
 * DIAGNOSTICS
 *   cidr_list_parse returns NULL with "bad network: ELEMENT (reason)" (or
 *   "FILE: reason") in err for the first element it cannot use.
 *   cidr_list_match returns -1 with the table's reason in why when a table
 *   lookup fails before a decision.
 */
#ifndef GLOBAL_CIDR_MATCH_H
#define GLOBAL_CIDR_MATCH_H

#include "util/argv.h"
#include "util/vstr.h"

#define CIDR_LIST_DEPTH_MAX 10           /* /file/name inside /file/name */
#define CIDR_LIST_FILE_MAX (1024 * 1024) /* bytes of one /file/name */

typedef struct cidr_list cidr_list;

/* Parse (and open the tables and read the files of) every element of
 * list, the value of parameter title (named in warnings); NULL and a
 * reason in err on a bad one. */
cidr_list *cidr_list_parse(const char *title, const argv_t *list, vstr *err);
/* 1 when addr (text form, IPv4 or IPv6) is listed, 0 when not, -1 with a
 * reason in why when a table lookup failed. */
int cidr_list_match(const cidr_list *nets, const char *addr, vstr *why);
/* The number of patterns in the list (files expanded). */
size_t cidr_list_count(const cidr_list *nets);
void cidr_list_free(cidr_list *nets);

#endif
