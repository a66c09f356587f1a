/*
 * NAME
 *   route_tables - the table-driven part of routing: relocated_maps,
 *   transport_maps, sender_dependent_relayhost_maps, content_filter
 *
 * SYNOPSIS
 *   route_tables *rt = route_tables_open(cfg);      (before the privilege drop)
 *   route_tables_refresh(rt);                      (a rebuilt .db is opened again)
 *   route_tables_sender_relayhost(rt, sender, &relayhost);
 *   route_tables_relocated(rt, rcpt, is_local, &new_location);
 *   route_tables_transport(rt, rcpt, &res);        (res from resolve_addr)
 *   route_filter_parse("smtp:[127.0.0.1]:10025", "", domain, &transport, &nexthop);
 *   route_tables_free(rt);
 *
 * DESCRIPTION
 *   What Postfix's trivial-rewrite adds to the address classes of
 *   global/resolve, each through global/addr_find's lookup order:
 *
 *   - sender_dependent_relayhost_maps: the envelope sender (the null
 *     sender as empty_address_relayhost_maps_lookup_key, "<>"), then
 *     @domain; the answer replaces relayhost for the relay and default
 *     classes. "DUNNO" ends the search and keeps relayhost.
 *   - relocated_maps: the recipient (user+ext@domain, user@domain, and
 *     for a local domain user+ext and user, then @domain); a match is a
 *     5.1.6 bounce "User has moved to NEW" (Postfix's text).
 *   - transport_maps: the recipient, the recipient without extension,
 *     its domain, the parent domains (".parent", or "parent" when
 *     transport_maps is in parent_domain_matches_subdomains), then "*".
 *     The value is "transport:nexthop", split at the first ':' (so
 *     "smtp:[::1]:2525" is smtp to [::1]:2525). Postfix's rules for
 *     empty fields: "" and ":" change nothing; ":nexthop" keeps the
 *     class's transport with that nexthop; "transport" and "transport:"
 *     use that transport with the recipient domain as nexthop (for
 *     "error" and "retry", the default text "Address is undeliverable").
 *   - content_filter (a message's attribute, written by cleanup from the
 *     parameter or a FILTER action): every recipient goes to the
 *     filter's transport and nexthop; an empty nexthop is
 *     default_filter_nexthop, or when that is empty the recipient
 *     domain (Postfix 2.7 and later).
 *
 *   Each lookup returns DICT_FOUND, DICT_NOTFOUND or DICT_ERROR; on an
 *   error route_tables_error() names the table and why. A table error
 *   is a temporary failure (4.3.0, the mail waits) for the caller, never
 *   "not found".
 */
#ifndef GLOBAL_ROUTE_TABLES_H
#define GLOBAL_ROUTE_TABLES_H

#include "global/addr_find.h"
#include "global/config.h"
#include "global/maps.h"
#include "global/resolve.h"
#include "util/vstr.h"

typedef struct route_tables {
    config *cfg;
    maps *transport, *relocated, *sender_relay;
    addr_find_opts opts;
    int parent_style;      /* transport_maps in parent_domain_matches_subdomains */
    char *null_sender_key; /* empty_address_relayhost_maps_lookup_key */
    const char *error;     /* the last failed lookup's reason */
} route_tables;

/* Open the three tables named in cfg (which must outlive rt). */
route_tables *route_tables_open(config *cfg);
/* Open a table again when its file changed. */
void route_tables_refresh(route_tables *rt);
void route_tables_free(route_tables *rt);
/* Why the last lookup returned DICT_ERROR ("transport_maps: hash:/x: ..."). */
const char *route_tables_error(const route_tables *rt);

/* The sender's relayhost into relayhost: DICT_FOUND, DICT_NOTFOUND (also
 * for DUNNO), DICT_ERROR. */
int route_tables_sender_relayhost(route_tables *rt, const char *sender, vstr *relayhost);
/* The new location of a moved recipient; is_local: its domain is local. */
int route_tables_relocated(route_tables *rt, const char *rcpt, int is_local, vstr *location);
/* Apply transport_maps to res (transport, nexthop, domain from
 * resolve_addr): DICT_FOUND when an entry matched (res may be unchanged
 * for "" or ":"), DICT_NOTFOUND, DICT_ERROR. */
int route_tables_transport(route_tables *rt, const char *rcpt, resolve_result *res);

/* Apply a "transport:nexthop" value (from transport_maps) to transport
 * and nexthop, with domain the recipient domain (Postfix's rules above). */
void route_apply_entry(const char *value, const char *domain, vstr *transport, vstr *nexthop);
/* Split a content_filter value for a recipient in domain; an empty
 * nexthop is default_nexthop (default_filter_nexthop) or else domain. 0,
 * or -1 when it has no transport. */
int route_filter_parse(const char *filter, const char *default_nexthop, const char *domain,
                       vstr *transport, vstr *nexthop);

#endif
