/*
 * NAME
 *   addr_find - Postfix's lookup order for an address or a domain in tables
 *
 * SYNOPSIS
 *   addr_find_opts o;
 *   addr_find_opts_from_config(&o, cfg);
 *   addr_find_result r;
 *   addr_find_result_init(&r);
 *   switch (addr_find(virtual_maps, "User+Ext@Example.COM", &o,
 *                     local ? ADDR_FIND_LOCAL : 0, &value, &r)) {
 *   case DICT_FOUND:    ... value; r.kind says which key matched, r.extension the "ext" ...
 *   case DICT_NOTFOUND: ...
 *   case DICT_ERROR:    ... maps_error(virtual_maps); defer, 4xx ...
 *   }
 *   addr_find_domain(transport_maps, "mail.example.com", parent_style, &value, &r);
 *   addr_find_result_release(&r);
 *
 * DESCRIPTION
 *   One place for the order in which access tables, virtual_alias_maps,
 *   canonical_maps, transport_maps and relocated_maps are searched, so
 *   smtpd and the rewriting and routing code always agree.
 *
 *   Addresses (Postfix's mail_addr_find): for "user+ext@domain", where '+'
 *   is any character of recipient_delimiter,
 *
 *     1. user+ext@domain          (the whole address)
 *     2. user@domain              (only when there is an extension)
 *     3. user+ext                 (only with ADDR_FIND_LOCAL)
 *     4. user                     (only with ADDR_FIND_LOCAL and an extension)
 *     5. @domain
 *
 *   An unqualified address ("user+ext") gives keys 1 and 2 without the
 *   domain and no step 5. The first key goes to every table in order;
 *   the later ones skip pattern tables (pcre:, regexp:, cidr:), which
 *   match the whole address only, as in Postfix. The first table to know
 *   a key answers; a table error stops the search (a later table must not
 *   answer for a key the broken one might hold). Indexed tables fold keys
 *   to lower case themselves (util/dict); pattern tables see the address
 *   as given. With owner_request_special, "owner-x" and "x-request" are
 *   not split when '-' is a delimiter. A leading delimiter is no
 *   extension ("+x@d" is the user "+x").
 *
 *   Domains (check_*_access and transport_maps): the domain itself, then
 *   each parent: ".example.com", ".com" normally, or "example.com",
 *   "com" when the feature is listed in parent_domain_matches_subdomains
 *   (addr_find_parent_style). Again only the first key sees pattern
 *   tables.
 *
 *   The key lists are available on their own (addr_find_keys,
 *   addr_find_domain_keys) for tests and for postmap -q comparisons.
 */
#ifndef GLOBAL_ADDR_FIND_H
#define GLOBAL_ADDR_FIND_H

#include "global/maps.h"
#include "util/argv.h"
#include "util/vstr.h"

typedef struct addr_find_opts {
    const char *delimiters;    /* recipient_delimiter; NULL or "" means none */
    int owner_request_special; /* owner-x, x-request are whole names */
} addr_find_opts;

/* o as cfg says: recipient_delimiter and owner_request_special. o points
 * into cfg's strings, so it is valid while cfg is. */
void addr_find_opts_from_config(addr_find_opts *o, config *cfg);

/* flags */
#define ADDR_FIND_LOCAL 1 /* the domain is local: also try the bare local part */

/* Which key matched. */
typedef enum addr_find_kind {
    ADDR_FIND_KEY_FULL = 1,    /* user+ext@domain (or the domain itself) */
    ADDR_FIND_KEY_NOEXT,       /* user@domain, the extension dropped */
    ADDR_FIND_KEY_LOCAL,       /* user+ext */
    ADDR_FIND_KEY_LOCAL_NOEXT, /* user */
    ADDR_FIND_KEY_DOMAIN,      /* @domain */
    ADDR_FIND_KEY_PARENT,      /* a parent domain (.parent or parent) */
    ADDR_FIND_KEY_WILDCARD,    /* a caller's last resort ("*" in transport_maps) */
} addr_find_kind;

typedef struct addr_find_result {
    addr_find_kind kind; /* 0 until something matched */
    vstr key;            /* the key that matched */
    vstr extension;      /* "ext" of user+ext ("" when none), without the delimiter */
    int delimiter;       /* the delimiter character that preceded the extension */
} addr_find_result;

void addr_find_result_init(addr_find_result *r);
void addr_find_result_release(addr_find_result *r);

/* Split addr into user, extension (without the delimiter) and domain
 * ("" when unqualified); returns the delimiter character, or 0 when there
 * is no extension. user, extension, domain may be NULL. */
int addr_find_split(const char *addr, const addr_find_opts *o, vstr *user, vstr *extension,
                    vstr *domain);
/* Append to keys the keys addr_find tries, in order, and (when kinds is
 * not NULL) set kinds[i] for key i (room for 5). */
void addr_find_keys(const char *addr, const addr_find_opts *o, int flags, argv_t *keys,
                    addr_find_kind *kinds);
/* Search m for addr in Postfix's order: DICT_FOUND (value set, r filled),
 * DICT_NOTFOUND, DICT_ERROR (maps_error(m) says why). r may be NULL. */
int addr_find(maps *m, const char *addr, const addr_find_opts *o, int flags, vstr *value,
              addr_find_result *r);

/* Search m for keys in order (kinds[i] describes keys->argv[i]): the
 * first key in every table, the others in fixed ones; results as addr_find.
 * For a caller whose order is a mix of the two above (transport_maps). */
int addr_find_list(maps *m, const argv_t *keys, const addr_find_kind *kinds, vstr *value,
                   addr_find_result *r);

/* True when feature (e.g. "transport_maps", "smtpd_access_maps") is
 * listed in pdms, the value of parent_domain_matches_subdomains. */
int addr_find_parent_style(const char *pdms, const char *feature);
/* Append the domain keys to keys: domain (trailing dots dropped), then
 * ".parent" forms, or plain "parent" forms when parent_style is set. */
void addr_find_domain_keys(const char *domain, int parent_style, argv_t *keys);
/* Search m for domain in that order; results as addr_find. */
int addr_find_domain(maps *m, const char *domain, int parent_style, vstr *value,
                     addr_find_result *r);

#endif
