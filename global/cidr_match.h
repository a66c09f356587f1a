/*
 * NAME
 *   cidr_match - is a client address in a list of networks (mynetworks)?
 *
 * SYNOPSIS
 *   vstr err = VSTR_INIT;
 *   cidr_list *nets = cidr_list_parse(config_list(cfg, "mynetworks"), &err);
 *   if (cidr_list_match(nets, "192.0.2.7")) ... trusted ...
 *   cidr_list_free(nets);
 *
 * DESCRIPTION
 *   A list element is an address ("192.0.2.1", "2001:db8::1", an IPv6
 *   address may be written in brackets "[2001:db8::1]") or a network in
 *   CIDR notation ("10.0.0.0/8", "[2001:db8::]/32"), as in Postfix's
 *   mynetworks. A network is compared on its prefix only, so
 *   "10.1.2.3/8" means 10.0.0.0/8. An IPv4 client seen through an IPv6
 *   socket ("::ffff:192.0.2.7") matches IPv4 networks.
 *
 *   Pure: no I/O; "/file" and "type:table" elements are the caller's to
 *   expand (smtpd does not take tables in mynetworks yet).
 *
 * DIAGNOSTICS
 *   cidr_list_parse returns NULL with "bad network: ELEMENT (reason)" in
 *   err for the first element that is neither an address nor a network.
 */
#ifndef GLOBAL_CIDR_MATCH_H
#define GLOBAL_CIDR_MATCH_H

#include "util/argv.h"
#include "util/vstr.h"

typedef struct cidr_list cidr_list;

/* Parse every element of list; NULL and a reason in err on a bad one. */
cidr_list *cidr_list_parse(const argv_t *list, vstr *err);
/* 1 when addr (text form, IPv4 or IPv6) is in one of the networks; 0 when
 * not, or when addr is not an address at all. */
int cidr_list_match(const cidr_list *nets, const char *addr);
/* The number of networks in the list. */
size_t cidr_list_count(const cidr_list *nets);
void cidr_list_free(cidr_list *nets);

#endif
