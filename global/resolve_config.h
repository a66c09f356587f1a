/*
 * NAME
 *   resolve_config - global/resolve's rules filled in from main.cf
 *
 * SYNOPSIS
 *   resolve_config rc;
 *   resolve_config_init(&rc, cfg);      (before the privilege drop)
 *   resolve_addr(&rc.rules, addr, &res);
 *   resolve_config_free(&rc);
 *
 * DESCRIPTION
 *   One reading of mydestination, virtual_alias_domains,
 *   virtual_mailbox_domains, relay_domains,
 *   the four *_transport parameters and relayhost, shared by qmgr (which
 *   routes mail) and smtpd (which decides at RCPT what it may accept), so
 *   the two always agree on a domain's class.
 *
 *   A "/file" list element is replaced by the names in the file (words
 *   separated by white space or commas, '#' comments); a "type:table"
 *   element is opened here, and a domain matches when it is a key in the
 *   table (Postfix's rule). A table that cannot be opened stands in as
 *   one whose every lookup fails, so mail for domains it might list is
 *   deferred, never misrouted.
 *
 * DIAGNOSTICS
 *   An unreadable "/file" or table is logged with a warning; bad values
 *   of the transport parameters are fatal (config_str).
 */
#ifndef GLOBAL_RESOLVE_CONFIG_H
#define GLOBAL_RESOLVE_CONFIG_H

#include "global/config.h"
#include "global/resolve.h"
#include "util/argv.h"
#include "util/htable.h"

typedef struct resolve_config {
    resolve_rules rules; /* points into the members below */
    argv_t *mydestination, *alias_domains, *virtual_domains, *relay_domains;
    htable *domain_tables; /* "type:name" in those lists -> dict */
    char *local_transport, *virtual_transport, *relay_transport, *default_transport;
    char *relayhost;
} resolve_config;

/* Read the parameters of cfg and open the lists' tables. */
void resolve_config_init(resolve_config *rc, config *cfg);
/* Close the tables and free everything. */
void resolve_config_free(resolve_config *rc);

#endif
