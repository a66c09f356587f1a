/*
 * smtpd_access.h - access(5) tables: the keys looked up and the actions
 * found (the pure parts, with no session: unit tests and the fuzz target
 * link smtpd_access_keys.c and smtpd_access_action.c alone)
 *
 * SYNOPSIS
 *   access_keys k;
 *   access_keys_init(&k);
 *   access_keys_address(&k, "User+ext@Sub.Example.com", &opts, parent_style, "<>");
 *   for (size_t i = 0; i < k.keys->argc; i++)
 *       ... k.keys->argv[i], pattern tables too when k.whole[i] ...
 *   access_keys_release(&k);
 *
 *   access_action a;
 *   access_action_init(&a);
 *   if (access_action_parse("REJECT go away", &a, &why) == 0) ... a.kind ...
 *   access_action_release(&a);
 *
 * DESCRIPTION
 *   Lookup order, as Postfix's check_*_access (access(5)):
 *   - an address (sender, recipient): user+ext@domain; user@domain (with
 *     an extension); domain and its parent domains (parent or .parent
 *     forms, parent_domain_matches_subdomains' smtpd_access_maps);
 *     user+ext@; user@ (with an extension). The null sender is looked
 *     up as smtpd_null_access_lookup_key alone.
 *   - a host name (client, reverse client, HELO): the name, then its
 *     parent domains; an address literal "[addr]" as the address.
 *   - a client address: 192.0.2.1, then 192.0.2, 192.0, 192; an IPv6
 *     address as written, then with its last ":part" removed, in turn.
 *   Only the first key of each (the whole thing) goes to pattern tables
 *   (pcre:, regexp:, cidr:); the partial keys go to indexed tables only,
 *   as in Postfix (global/addr_find).
 *
 *   Actions: OK, all digits (OK), DUNNO, REJECT [text], DEFER [text],
 *   DEFER_IF_REJECT [text], DEFER_IF_PERMIT [text], "4NN text" and
 *   "5NN text" (text may begin with an enhanced status code of the same
 *   class), HOLD [text], DISCARD [text], PREPEND header, REDIRECT addr,
 *   FILTER transport:dest, WARN [text]; anything else is a restriction
 *   list (a class name, or "reject_unauth_destination, permit").
 *   Action words are caseless.
 *
 * DIAGNOSTICS
 *   access_action_parse returns -1 with a reason for a value over
 *   ACCESS_ACTION_MAX bytes, a reply code outside 400..599, a status code
 *   of the wrong class, and an action that needs an argument without one.
 */
#ifndef SMTPD_SMTPD_ACCESS_H
#define SMTPD_SMTPD_ACCESS_H

#include <stddef.h>

#include "global/addr_find.h"
#include "util/argv.h"
#include "util/vstr.h"

/* The longest access-table value acted upon. */
#define ACCESS_ACTION_MAX 4096

typedef struct access_keys {
    argv_t *keys;
    unsigned char *whole; /* whole[i]: key i goes to pattern tables too */
    size_t cap;
} access_keys;

void access_keys_init(access_keys *k);
void access_keys_release(access_keys *k);
/* Append the keys of a sender or recipient address ("" is the null
 * sender, looked up as null_key). */
void access_keys_address(access_keys *k, const char *addr, const addr_find_opts *o,
                         int parent_style, const char *null_key);
/* Append the keys of a host name or an address literal. */
void access_keys_host(access_keys *k, const char *name, int parent_style);
/* Append the keys of a client address (IPv4 or IPv6 text). */
void access_keys_ipaddr(access_keys *k, const char *addr);

typedef enum access_action_kind {
    ACCESS_OK = 1,
    ACCESS_DUNNO,
    ACCESS_REJECT,          /* code, dsn, text: a refusal (REJECT, DEFER, 4NN, 5NN) */
    ACCESS_DEFER_IF_REJECT, /* text */
    ACCESS_DEFER_IF_PERMIT, /* text */
    ACCESS_HOLD,            /* text */
    ACCESS_DISCARD,         /* text */
    ACCESS_PREPEND,         /* text: the header line */
    ACCESS_REDIRECT,        /* text: the address */
    ACCESS_FILTER,          /* text: transport:destination */
    ACCESS_WARN,            /* text */
    ACCESS_RESTRICTIONS,    /* text: the value, a restriction list */
} access_action_kind;

typedef struct access_action {
    access_action_kind kind;
    int code;     /* ACCESS_REJECT: 0 means access_map_reject_code (REJECT) ... */
    int is_defer; /* ... or access_map_defer_code (DEFER) */
    vstr dsn;     /* "5.7.1"; empty: the default of the code's class */
    vstr text;    /* "" when none was given */
} access_action;

void access_action_init(access_action *a);
void access_action_release(access_action *a);
/* Parse an access-table value. 0, or -1 with a reason in why. */
int access_action_parse(const char *value, access_action *a, vstr *why);

#endif
