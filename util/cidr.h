/*
 * cidr - IPv4 and IPv6 networks in text: parse "address[/length]", match
 *
 * SYNOPSIS
 *   cidr_net net;
 *   unsigned char addr[16];
 *   vstr why = VSTR_INIT;
 *   if (cidr_net_parse("192.0.2.0/24", 12, &net, &why) < 0) ... vstr_str(&why) ...
 *   int family = cidr_addr_parse("192.0.2.7", addr);
 *   if (family != 0 && cidr_net_match(&net, family, addr)) ... in the network ...
 *
 * DESCRIPTION
 *   The one parser of network patterns, shared by cidr: tables
 *   (util/dict_cidr) and address lists such as mynetworks
 *   (global/cidr_match), with Postfix's rules:
 *
 *   - A pattern is an address (a network of one host) or
 *     address/prefix-length. The address may stand in brackets, IPv4 as
 *     well as IPv6: "[192.0.2.1]/32", "[2001:db8::]/32".
 *   - A network with bits set after its prefix ("10.1.2.3/8") is refused,
 *     naming the network it probably meant ("10.0.0.0/8").
 *   - The two families never mix. An IPv4-mapped IPv6 address
 *     ("::ffff:192.0.2.1") is an IPv6 address: it matches IPv6 networks
 *     such as "::ffff:192.0.2.0/120", never IPv4 ones. (Daemons give
 *     tables the plain IPv4 form of an IPv4 client: util/sock turns a
 *     mapped peer address into it.)
 *   - A key to match is a bare address: "[192.0.2.1]" is no address.
 *
 * DIAGNOSTICS
 *   cidr_net_parse returns -1 with a reason in why; cidr_addr_parse
 *   returns 0 for text that is not an address.
 */
#ifndef UTIL_CIDR_H
#define UTIL_CIDR_H

#include <stddef.h>

#include "util/vstr.h"

typedef struct cidr_net {
    int family; /* AF_INET or AF_INET6 */
    int prefix; /* 0..32 or 0..128 */
    unsigned char addr[16];
} cidr_net;

/* Parse the pattern text[0..len) into net: 0, or -1 with a reason in why. */
int cidr_net_parse(const char *text, size_t len, cidr_net *net, vstr *why);
/* Parse a bare address: AF_INET (4 bytes in addr) or AF_INET6 (16), 0 when
 * text is not an address. */
int cidr_addr_parse(const char *text, unsigned char addr[16]);
/* 1 when addr (of family, from cidr_addr_parse) is in net, else 0. */
int cidr_net_match(const cidr_net *net, int family, const unsigned char addr[16]);

#endif
