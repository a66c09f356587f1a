/*
 * resolve - a recipient address to (transport, nexthop)
 *
 * SYNOPSIS
 *   resolve_rules rules = {.myhostname = "mx.example.com", .mydestination = list, ...};
 *   resolve_result res;
 *   resolve_result_init(&res);
 *   switch (resolve_addr(&rules, "User@Example.COM.", &res)) {
 *   case RESOLVE_ERROR:   ... bounce with res.status and res.reason ...
 *   default:              ... deliver through res.transport to res.nexthop ...
 *   }
 *   resolve_result_release(&res);
 *
 * DESCRIPTION
 *   The address classes of Postfix's trivial-rewrite, in this order:
 *
 *   - local: an unqualified address, or a domain in mydestination:
 *     local_transport (nexthop: the transport's own, else myhostname);
 *   - alias: a domain in virtual_alias_domains: every address there is
 *     an alias, expanded when the message was queued (global/
 *     addr_rewrite); one that reaches routing had none, and bounces
 *     (qmgr: 5.1.1 "User unknown in virtual alias table"); smtpd refuses
 *     it at RCPT. transport and nexthop are "error" and that text;
 *   - virtual: a domain in virtual_mailbox_domains: virtual_transport
 *     (nexthop: the transport's own, else the recipient domain);
 *   - relay: a domain in relay_domains (a listed domain also covers its
 *     subdomains, as Postfix's parent_domain_matches_subdomains does for
 *     relay_domains): relay_transport;
 *   - default: everything else: default_transport.
 *
 *   For relay and default, relayhost (when set) replaces the recipient
 *   domain as nexthop, and a nexthop written in the transport itself
 *   ("smtp:[mail.example.net]") wins over both, as in Postfix.
 *
 *   The domain is compared without a trailing dot and without regard to
 *   case; a list element ".example.com" matches the subdomains of
 *   example.com. An element that is a lookup table ("hash:/path") matches
 *   a domain that is a key in it, through rules->table_lookup (for
 *   relay_domains also a parent domain, or ".parent"); a table that fails
 *   makes the address RESOLVE_ERROR with a 4.3.0 status, so the mail is
 *   deferred, never misrouted. "/file" elements are the caller's to
 *   expand.
 *
 *   No routing tricks: a local part holding '@', '!' or '%' is never
 *   delivered locally (no "user%other@here", "host!user@here"); such an
 *   address in a local class resolves to RESOLVE_ERROR, 5.1.3. Remote
 *   addresses are passed on as they are: their local part belongs to the
 *   remote site.
 *
 *   Pure: no configuration, no I/O; the caller fills resolve_rules from
 *   main.cf (qmgr/qmgr_resolve.c).
 */
#ifndef GLOBAL_RESOLVE_H
#define GLOBAL_RESOLVE_H

#include <stddef.h>

#include "util/argv.h"
#include "util/vstr.h"

typedef enum resolve_class {
    RESOLVE_LOCAL = 1, /* mydestination, or unqualified */
    RESOLVE_ALIAS,     /* virtual_alias_domains */
    RESOLVE_VIRTUAL,   /* virtual_mailbox_domains */
    RESOLVE_RELAY,     /* relay_domains */
    RESOLVE_DEFAULT,   /* anything else */
    RESOLVE_ERROR,     /* undeliverable as written: status and reason say why */
} resolve_class;

/* The nexthop (error text) of the alias class. */
#define RESOLVE_ALIAS_UNKNOWN "5.1.1 User unknown in virtual alias table"

/* Look domain (lower case, no trailing dot) up as a key in a lookup table
 * of a domain list ("hash:/etc/postern/relay_domains"): 1 found, 0 not
 * found, -1 the table failed (a reason in err). */
typedef int (*resolve_table_fn)(void *ctx, const char *table, const char *domain, vstr *err);

typedef struct resolve_rules {
    const char *myhostname;
    const argv_t *mydestination; /* expanded list; NULL is empty */
    const argv_t *virtual_alias_domains;
    const argv_t *virtual_mailbox_domains;
    const argv_t *relay_domains;
    const char *local_transport; /* "transport" or "transport:nexthop" */
    const char *virtual_transport;
    const char *relay_transport;
    const char *default_transport;
    const char *relayhost;         /* "" or NULL: none */
    resolve_table_fn table_lookup; /* NULL: table elements never match */
    void *table_ctx;
} resolve_rules;

typedef struct resolve_result {
    resolve_class rclass;
    vstr transport;     /* "local", "smtp" */
    vstr nexthop;       /* "mx.example.com", "[relay.example.net]:587" */
    vstr domain;        /* the recipient domain, lower case, no trailing dot; "" if unqualified */
    const char *status; /* RESOLVE_ERROR: enhanced status code */
    vstr reason;        /* RESOLVE_ERROR: text for the log and the DSN */
} resolve_result;

void resolve_result_init(resolve_result *res);
void resolve_result_release(resolve_result *res);

/* Resolve addr (internal form) by rules; returns res->rclass. */
resolve_class resolve_addr(const resolve_rules *rules, const char *addr, resolve_result *res);

/* The class's name for logs ("local", "virtual", "relay", "default", "error"). */
const char *resolve_class_name(resolve_class rclass);

/* True when domain (any case, trailing dot allowed) matches an element of
 * list; subdomains: a plain element also matches its subdomains. Table
 * elements are skipped. */
int resolve_domain_match(const argv_t *list, const char *domain, int subdomains);
/* As resolve_domain_match, with table elements looked up through rules:
 * 1 match, 0 none, -1 a table failed (reason in err). */
int resolve_domain_match_tables(const resolve_rules *rules, const argv_t *list, const char *domain,
                                int subdomains, vstr *err);

/* True when a list element is a lookup table or a file ("type:name",
 * "/path"), which resolve_domain_match() does not consult. */
int resolve_element_is_table(const char *element);

#endif
