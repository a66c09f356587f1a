/*
 * NAME
 *   header_rewrite - rewrite the addresses in a message header, keeping the rest
 *
 * SYNOPSIS
 *   cls = header_rewrite_class("Reply-To", 8);     (ADDR_REWRITE_HDR_*, or 0)
 *   st = header_rewrite(rw, "example.com", "To: Joe <joe>,\n\tann@host.example.com",
 *                       len, &out, &why);
 *   st = header_rewrite_text(text, len, map_fn, ctx, &out);   (the part without tables)
 *
 * DESCRIPTION
 *   The address headers Postfix's cleanup rewrites, in its classes:
 *   header_sender: From, Sender, Reply-To, Errors-To, Return-Receipt-To,
 *   Return-Path, Disposition-Notification-To, Mail-Followup-To,
 *   Resent-From, Resent-Sender; header_recipient: To, Cc, Bcc,
 *   Apparently-To, Resent-To, Resent-Cc, Resent-Bcc and (as Postfix has
 *   it) Resent-Reply-To. Names are matched without regard to case; the
 *   obsolete "Name :" form counts.
 *
 *   A header comes in as its physical lines joined by '\n' ("Name: value"
 *   then continuation lines). Its value is parsed as an address list
 *   (global/addr_list, at most HEADER_REWRITE_ADDRS addresses); each
 *   address is handed to the map function, and where the answer differs,
 *   the addr-spec's bytes (and only those: display names, comments
 *   around the address, angle brackets, groups, quoting of other
 *   addresses and line breaks stay as they were) are replaced by the
 *   answer in external form (addr_list_quote). A physical line that grew
 *   past HEADER_REWRITE_COLUMNS is folded again before a space, after a
 *   comma where there is one; a line that did not change is left alone.
 *
 *   header_rewrite() is that with global/addr_rewrite as the map: an
 *   address without a domain first gets "@domain" (when domain is not
 *   empty: myorigin for local mail, remote_header_rewrite_domain for
 *   other clients), then canonical mapping and masquerading as
 *   canonical_classes and masquerade_classes allow for the header's
 *   class.
 *
 * DIAGNOSTICS
 *   HEADER_REWRITE_SAME: not an address header, a value that does not
 *   parse completely (it is left exactly as it was), more addresses than
 *   the bound, or nothing changed; out is then not touched.
 *   HEADER_REWRITE_CHANGED: out holds the new header. HEADER_REWRITE_ERROR:
 *   a table failed (why says which); the caller defers the message.
 */
#ifndef GLOBAL_HEADER_REWRITE_H
#define GLOBAL_HEADER_REWRITE_H

#include <stddef.h>

#include "global/addr_rewrite.h"
#include "util/vstr.h"

/* Most addresses rewritten in one header. */
#define HEADER_REWRITE_ADDRS 1000
/* A changed line longer than this is folded. */
#define HEADER_REWRITE_COLUMNS 78

#define HEADER_REWRITE_SAME 0
#define HEADER_REWRITE_CHANGED 1
#define HEADER_REWRITE_ERROR (-1)

/* The class of the header named name (len bytes): ADDR_REWRITE_HDR_SENDER,
 * ADDR_REWRITE_HDR_RECIPIENT, or 0 when it holds no addresses to rewrite. */
int header_rewrite_class(const char *name, size_t len);

/* Map one internal-form address: set out to the new address and return 0,
 * or return -1 (a table failed) with the reason in why. */
typedef int (*header_rewrite_fn)(void *ctx, const char *addr, vstr *out, vstr *why);

/* Rewrite the addresses of the header text (len bytes) through fn. */
int header_rewrite_text(const char *text, size_t len, header_rewrite_fn fn, void *ctx, vstr *out,
                        vstr *why);

/* Rewrite the header text through rw, qualifying with domain ("": no). */
int header_rewrite(addr_rewrite *rw, const char *domain, const char *text, size_t len, vstr *out,
                   vstr *why);

#endif
