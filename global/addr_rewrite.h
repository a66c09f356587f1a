/*
 * NAME
 *   addr_rewrite - envelope address rewriting: canonical, masquerade, virtual alias
 *
 * SYNOPSIS
 *   addr_rewrite *rw = addr_rewrite_tables(cfg);   (pre_init: before the privilege drop)
 *   if (addr_rewrite_sender(rw, "user@host.example.com", &out, &why) < 0)
 *       ... a table failed: defer (4.3.0) ...
 *   addr_rewrite_recipient(rw, rcpt, &out, &why);
 *   switch (addr_rewrite_virtual(rw, out, expansion, &why)) { ... }
 *   addr_rewrite_known(rw, rcpt, 0, &why);         (smtpd at RCPT)
 *
 * DESCRIPTION
 *   What Postfix's cleanup does to the envelope, in its order:
 *
 *   1. canonical: the sender through sender_canonical_maps then
 *      canonical_maps, a recipient through recipient_canonical_maps then
 *      canonical_maps, as canonical_classes allows (envelope_sender,
 *      envelope_recipient). One address in, one out: the first address
 *      of a result counts (a longer one is logged). A result is looked
 *      up again, at most 10 times, until it maps to itself or to
 *      nothing.
 *   2. masquerade_domains, for the classes in masquerade_classes
 *      (envelope_sender by default): "user@host.sub.example.com" becomes
 *      "user@example.com" for the first listed domain the address is
 *      strictly below; a "!domain" element that matches first stops
 *      the search (no change). A local part in masquerade_exceptions is
 *      never masqueraded.
 *   3. virtual_alias_maps, for recipients: one address becomes any
 *      number, each result expanded again, in place, until it is not in
 *      the table or maps to itself (the usual "user@d user@d, other@d"
 *      keeps a copy). More than virtual_alias_recursion_limit steps for
 *      one address (a loop such as a -> b -> a) or more than
 *      virtual_alias_expansion_limit addresses, or a result longer than
 *      virtual_alias_address_length_limit, is an error: the message is
 *      deferred (4.6.0 "Alias expansion error"), never cut short.
 *
 *   Lookups use global/addr_find's order; the bare local part is a key
 *   only for a domain in myorigin or mydestination. Where
 *   propagate_unmatched_extensions names "canonical" or "virtual", a
 *   match found without the address's extension puts the extension back
 *   into each result ("user+ext" -> "other+ext"). A result "@domain"
 *   keeps the local part and replaces the domain. A result without a
 *   domain gets "@myorigin". Results are parsed as an address list
 *   (global/addr_list): commas, quotes and <> as in a header.
 *
 *   addr_rewrite_header() does step 1 and 2 for one address of a
 *   message header, for header_sender (sender_canonical_maps) or
 *   header_recipient (recipient_canonical_maps); global/header_rewrite
 *   finds the addresses in the header text.
 *
 *   The tables are opened once per process and configuration, at the
 *   first addr_rewrite_tables() (daemons call it from pre_init, so a
 *   chroot or privilege drop cannot hide them), and opened again when a
 *   table file changes. A table that fails is never "not found": the
 *   functions return an error with the reason.
 */
#ifndef GLOBAL_ADDR_REWRITE_H
#define GLOBAL_ADDR_REWRITE_H

#include "global/addr_find.h"
#include "global/config.h"
#include "global/maps.h"
#include "global/resolve_config.h"
#include "util/argv.h"
#include "util/vstr.h"

/* Class bits (canonical_classes, masquerade_classes). */
#define ADDR_REWRITE_ENV_SENDER 1
#define ADDR_REWRITE_ENV_RECIPIENT 2
#define ADDR_REWRITE_HDR_SENDER 4
#define ADDR_REWRITE_HDR_RECIPIENT 8

/* Results of addr_rewrite_virtual. */
#define ADDR_REWRITE_OK 0
#define ADDR_REWRITE_TABLE (-1) /* a table failed */
#define ADDR_REWRITE_LIMIT (-2) /* a recursion or expansion limit was hit */

typedef struct addr_rewrite {
    config *cfg;
    maps *canonical, *sender_canonical, *recipient_canonical, *virtual_alias;
    addr_find_opts opts;
    resolve_config local; /* mydestination, for the local-domain keys */
    char *myorigin;
    int canonical_classes, masquerade_classes;
    int propagate_canonical, propagate_virtual;
    argv_t *masquerade_domains;
    argv_t *masquerade_exceptions;
    long long recursion_limit, expansion_limit, length_limit;
} addr_rewrite;

/* The process's tables for cfg (opened on the first call, or when cfg
 * is another configuration; opened again when a file changed). */
addr_rewrite *addr_rewrite_tables(config *cfg);
/* Close them (at exit, and for tests). */
void addr_rewrite_release(void);

/* The envelope sender after canonical mapping and masquerading, in out.
 * 0, or -1 with the reason in why. The null sender is left alone. */
int addr_rewrite_sender(addr_rewrite *rw, const char *addr, vstr *out, vstr *why);
/* A recipient after canonical mapping (and masquerading when
 * masquerade_classes says envelope_recipient). 0 or -1 as above. */
int addr_rewrite_recipient(addr_rewrite *rw, const char *addr, vstr *out, vstr *why);
/* A header address of class cls (ADDR_REWRITE_HDR_SENDER or _RECIPIENT)
 * after canonical mapping and masquerading, as canonical_classes and
 * masquerade_classes allow. 0 or -1 as above. */
int addr_rewrite_header(addr_rewrite *rw, int cls, const char *addr, vstr *out, vstr *why);
/* Expand a recipient through virtual_alias_maps: the addresses are
 * appended to out (addr itself when it has no alias). ADDR_REWRITE_OK,
 * ADDR_REWRITE_TABLE or ADDR_REWRITE_LIMIT (out then holds addr alone;
 * why says what happened). */
int addr_rewrite_virtual(addr_rewrite *rw, const char *addr, argv_t *out, vstr *why);
/* Is addr an address rewriting knows: an entry in
 * (sender_|recipient_)canonical_maps, canonical_maps or virtual_alias_maps
 * (smtpd's unlisted checks accept those, as Postfix's do)? 1, 0, or -1
 * (why says). */
int addr_rewrite_known(addr_rewrite *rw, const char *addr, int sender, vstr *why);

/* Masquerade addr by the list domains (the rules above) into out; 1 when
 * it changed. For tests and the functions above. */
int addr_rewrite_masquerade(const argv_t *domains, const argv_t *exceptions, const char *addr,
                            vstr *out);

#endif
