/*
 * cleanup_checks - header_checks, mime_header_checks, nested_header_checks
 * and body_checks: Postfix's built-in content inspection
 *
 * SYNOPSIS
 *   In a daemon's pre_init (before privileges are dropped):
 *   cleanup_checks *k = cleanup_checks_open(cfg);
 *   Per connection or message:
 *   cleanup_checks_refresh(k);
 *   cleanup_set_checks(c, k);                  (global/cleanup)
 *
 *   cleanup calls, for each header and body line:
 *   vstr text = VSTR_INIT;
 *   switch (cleanup_checks_header(k, c, MIME_HDR_PRIMARY, hdr, len, &text)) {
 *   case CLEANUP_CHECK_KEEP:    write the header as it was
 *   case CLEANUP_CHECK_DROP:    write nothing (IGNORE)
 *   case CLEANUP_CHECK_REPLACE: write text instead (REPLACE)
 *   case CLEANUP_CHECK_PREPEND: write text, then the header (PREPEND)
 *   }
 *
 * DESCRIPTION
 *   A header is looked up unfolded (its physical lines joined without the
 *   line breaks, name and value as one string, as Postfix does) in one
 *   table list: mime_header_checks for MIME headers (Content-*,
 *   MIME-Version) at any level and for every header of a multipart part,
 *   nested_header_checks for the other headers of an attached message,
 *   header_checks for the other headers of the message itself. A body
 *   line is looked up in body_checks. The result is an action:
 *
 *   REJECT [text]  the message is refused (cleanup_reject)
 *   WARN [text]    logged, nothing else
 *   IGNORE         the header or line is removed
 *   DISCARD [text] accepted and thrown away (cleanup_discard)
 *   HOLD [text]    committed into the hold queue (cleanup_hold)
 *   PREPEND text   text goes before it (for a header: a header line)
 *   REPLACE text   text goes instead of it (for a header: a header line)
 *   REDIRECT addr  every recipient becomes addr (cleanup_redirect)
 *   FILTER transport:nexthop  qmgr sends it there (cleanup_filter)
 *   DUNNO, OK      nothing happens
 *
 *   Anything else (4NN/5NN codes, DEFER, BCC, ...) is, as in Postfix,
 *   not an action of these tables: a warning is logged and the header or
 *   line passes. Actions are logged as Postfix's cleanup logs them, with
 *   "header TEXT" or "body TEXT" (at most 200 bytes of it) as the cause.
 *
 *   A table that cannot be opened or read makes the lookup fail: the
 *   message gets CLEANUP_TABLE (451 4.3.0 in SMTP, pickup tries again)
 *   and is never passed unchecked. receive_override_options containing
 *   no_header_body_checks switches all four off.
 */
#ifndef GLOBAL_CLEANUP_CHECKS_H
#define GLOBAL_CLEANUP_CHECKS_H

#include <stddef.h>

#include "util/vstr.h"
#include "global/cleanup.h"
#include "global/config.h"
#include "global/mime.h"

typedef enum cleanup_check_verdict {
    CLEANUP_CHECK_KEEP = 0,
    CLEANUP_CHECK_DROP,
    CLEANUP_CHECK_REPLACE,
    CLEANUP_CHECK_PREPEND,
} cleanup_check_verdict;

/* Open the four table lists named in cfg (tables that fail to open stand
 * in as tables whose every lookup fails). */
cleanup_checks *cleanup_checks_open(config *cfg);
/* Open again the tables whose files changed. */
void cleanup_checks_refresh(cleanup_checks *k);
void cleanup_checks_free(cleanup_checks *k);

/* True when no table is configured: nothing to inspect. */
int cleanup_checks_none(const cleanup_checks *k);
/* disable_mime_input_processing: the body is just lines. */
int cleanup_checks_mime_disabled(const cleanup_checks *k);
/* The MIME parser's limits (mime_nesting_limit, ...). */
const mime_limits *cleanup_checks_mime_limits(const cleanup_checks *k);
/* body_checks_size_limit: bytes of each body part that body_checks see. */
long long cleanup_checks_body_limit(const cleanup_checks *k);

/* Inspect one header (physical lines joined by '\n'); act on c; the text
 * for REPLACE and PREPEND goes to out. */
cleanup_check_verdict cleanup_checks_header(const cleanup_checks *k, cleanup *c, mime_class cls,
                                            const char *text, size_t len, vstr *out);
/* Inspect one body line. */
cleanup_check_verdict cleanup_checks_body(const cleanup_checks *k, cleanup *c, const char *data,
                                          size_t len, vstr *out);

#endif
