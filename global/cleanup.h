/*
 * cleanup - the queue-file writer: one message in, one committed queue file out
 *
 * SYNOPSIS
 *   cleanup *c = cleanup_open(cfg, extract ? CLEANUP_FLAG_EXTRACT : 0, &err);
 *   ... cleanup_id(c) names the message from here on (for log lines) ...
 *   cleanup_set_sender(c, "user@example.com");
 *   cleanup_add_rcpt(c, "rcpt@example.org", NULL, NULL, 0);
 *   cleanup_set_attr(c, "protocol", "ESMTP");
 *   while (... a line ...)
 *       cleanup_put_line(c, line, len);
 *   st = cleanup_finish(c, &reason);
 *   if (st != CLEANUP_OK)
 *       reply("%d %s %s", cleanup_status_smtp(st), cleanup_status_dsn(st), vstr_str(&reason));
 *
 * DESCRIPTION
 *   Used by pickup (maildrop files), smtpd (DATA) and qmgr (bounces).
 *   cleanup_open() creates the temporary queue file in incoming, so the
 *   id is known before the message is. The envelope (sender, recipients,
 *   attributes) may be given in any order before the first content line;
 *   the file itself is written in the order of docs/PROTOCOLS.md once the
 *   header block has been read.
 *
 *   Content is given one line at a time, without its terminator;
 *   cleanup_put_record() also takes a maildrop file's P pieces. The
 *   header block is kept in memory, at most header_size_limit bytes;
 *   the line that would exceed it and everything after it are body, as
 *   in Postfix. Headers are unfolded for inspection and written exactly
 *   as received, with these changes:
 *
 *   - Received: is prepended. Local submissions (no client_address
 *     attribute): "by MYHOSTNAME (Postern, from userid UID) id ID; DATE";
 *     SMTP: "from HELO (NAME [ADDR]) by MYHOSTNAME (Postern) with
 *     PROTOCOL id ID for <RCPT>; DATE", "for" only with exactly one
 *     recipient; folded over several lines as Postfix does.
 *   - Message-ID: <ID@myhostname>, Date: (the arrival time) and From:
 *     (the sender, with the full_name attribute as display name) are
 *     appended when missing.
 *   - With CLEANUP_FLAG_EXTRACT (sendmail -t), recipients are taken from
 *     To:, Cc: and Bcc: (Resent-To:, Resent-Cc:, Resent-Bcc: instead when
 *     any of those is present) and added to those given; then Bcc: and
 *     Resent-Bcc: are removed.
 *   - More than hopcount_limit - 1 Received: headers already (Postfix's
 *     count) is a mail loop: CLEANUP_HOPS.
 *
 *   Envelope and extracted addresses are in internal form (global/
 *   addr_list); one without '@' gets "@myorigin" appended, and the
 *   address as given is then kept as the original recipient. The same
 *   recipient (with the same DSN original recipient) is written once.
 *   Header text itself is never rewritten.
 *
 *   When the header block ends, the envelope is rewritten as Postfix's
 *   cleanup does (global/addr_rewrite): canonical_maps and masquerading
 *   for the sender, canonical_maps and then virtual_alias_maps expansion
 *   (one to many) for each recipient, each result keeping the recipient
 *   as given as its original recipient. A table that fails, or an
 *   expansion past virtual_alias_recursion_limit or
 *   virtual_alias_expansion_limit, is CLEANUP_ALIAS (451 4.6.0): the
 *   mail is tried again later, never bounced as unknown.
 *
 *   A content line longer than line_length_limit is stored as P pieces of
 *   that length and a final L; nothing is ever truncated. Bytes are not
 *   interpreted: 8-bit text, and even NULs, pass unchanged. The message
 *   (every content byte, plus one per line end) may not exceed
 *   message_size_limit (0: no limit).
 *
 *   The first error sticks: later input is read and dropped, so a caller
 *   that must consume its input (SMTP DATA) simply carries on and learns
 *   the outcome from cleanup_finish(). cleanup_finish() commits the file
 *   only when the status is CLEANUP_OK; otherwise it removes it. Either
 *   way it frees the cleanup.
 *
 * ACTIONS
 *   Content checks (global/cleanup_checks) and smtpd's access tables act
 *   on the message through these, at any time before cleanup_finish():
 *
 *   cleanup_hold      the committed file goes to QUEUE_DIR/hold instead
 *                     of incoming: qmgr never scans hold; `postqueue -p`
 *                     lists it with '!'; `postsuper -H` releases it to
 *                     deferred, due at once (as a file postsuper -h put
 *                     there).
 *   cleanup_discard   the message is accepted (cleanup_finish says
 *                     CLEANUP_OK, reason "discarded", so smtpd answers 250)
 *                     but nothing is committed.
 *   cleanup_redirect  every recipient is replaced by addr; each recipient
 *                     as given stays its O (original recipient) record, so
 *                     DSN and logs still name it. The last call wins.
 *   cleanup_filter    the A record content_filter=transport:nexthop, which
 *                     qmgr honours (docs/PROTOCOLS.md). The last call wins.
 *   cleanup_prepend_header  a header line put first, above Received:; only
 *                     before the header block has ended.
 *   cleanup_reject    CLEANUP_CONTENT; the reason is "5.7.1 text" (or the
 *                     text as given when it starts with its own 4.X.Y or
 *                     5.X.Y code), which smtpd sends after its reply code.
 *   cleanup_lookup_failed  CLEANUP_TABLE (451 4.3.0): a table could not be
 *                     read; the mail must be tried again, never pass
 *                     unchecked.
 *
 *   where, when not NULL, names what triggered the action for a log line
 *   in Postfix's shape, e.g. where "header Subject: hi" for a hold:
 *   "ID: hold: header Subject: hi from host[addr]; from=<s> to=<r>
 *   proto=ESMTP helo=<h>: text" ("from local" without a client_address;
 *   to= the first recipient; ": text" only with a text). where NULL: no
 *   line (smtpd logs its own "hold: RCPT from ..." line). A redirect or
 *   filter given after the envelope was written (a body check) makes
 *   cleanup_finish write the file again with the new envelope under the
 *   same id.
 *
 * DIAGNOSTICS
 *   cleanup_open returns NULL with a reason when the queue file cannot be
 *   created. Statuses carry an enhanced status code and an SMTP reply
 *   code (cleanup_status_table), and cleanup_finish puts a one-line
 *   reason for log lines and replies in reason. Calls in the wrong order
 *   (content after finish, no sender) are a panic: they are bugs.
 */
#ifndef GLOBAL_CLEANUP_H
#define GLOBAL_CLEANUP_H

#include <stddef.h>

#include "util/vstr.h"
#include "global/config.h"

typedef enum cleanup_status {
    CLEANUP_OK = 0,
    CLEANUP_WRITE,      /* 4.3.0 queue file write error */
    CLEANUP_SIZE,       /* 5.3.4 message file too big */
    CLEANUP_HOPS,       /* 5.4.6 too many hops */
    CLEANUP_NO_RCPT,    /* 5.1.3 no recipients specified */
    CLEANUP_BAD_HEADER, /* 5.6.0 malformed address header (recipient extraction) */
    CLEANUP_BAD_ADDR,   /* 5.1.3 bad address syntax (envelope) */
    CLEANUP_CONTENT,    /* 5.7.1 message content rejected (cleanup_reject) */
    CLEANUP_TABLE,      /* 4.3.0 temporary lookup failure (cleanup_lookup_failed) */
    CLEANUP_ALIAS,      /* 4.6.0 alias expansion error (rewriting tables, limits) */
} cleanup_status;

typedef struct cleanup_status_info {
    cleanup_status status;
    int smtp_code;    /* 451, 552, 554, 550 */
    const char *dsn;  /* "4.3.0" */
    const char *text; /* "queue file write error" */
} cleanup_status_info;

/* Every status; ends with text NULL. */
extern const cleanup_status_info cleanup_status_table[];
const char *cleanup_status_dsn(cleanup_status st);
int cleanup_status_smtp(cleanup_status st);
const char *cleanup_status_text(cleanup_status st);

/* Take recipients from To:/Cc:/Bcc: and remove Bcc: (sendmail -t). */
#define CLEANUP_FLAG_EXTRACT 1

typedef struct cleanup cleanup;

/* Start a message: creates the queue file under queue_directory/incoming.
 * cfg gives myhostname, myorigin and the limits (read here, once). NULL
 * with a reason in err when the file cannot be made. */
cleanup *cleanup_open(config *cfg, int flags, vstr *err);
/* The queue id. */
const char *cleanup_id(const cleanup *c);

/* Arrival time (default: when cleanup_open ran). */
void cleanup_set_arrival(cleanup *c, long long sec, long usec);
/* The envelope sender, internal form; "" is the null sender. Required. */
void cleanup_set_sender(cleanup *c, const char *addr);
/* Add an envelope recipient; orig_rcpt and dsn_orcpt may be NULL,
 * dsn_notify 0 (REC_DSN_NOTIFY_* bits otherwise). */
void cleanup_add_rcpt(cleanup *c, const char *addr, const char *orig_rcpt, const char *dsn_orcpt,
                      int dsn_notify);
/* Set an attribute (PROTOCOLS.md names); a later call replaces the value.
 * Control characters in the value become '?'. */
void cleanup_set_attr(cleanup *c, const char *name, const char *value);

/* Content checks (global/cleanup_checks), opened by the daemon before it
 * dropped privileges; NULL or tables that are all empty: none. Before
 * content. k must outlive c. */
typedef struct cleanup_checks cleanup_checks;
void cleanup_set_checks(cleanup *c, const cleanup_checks *k);

/* ---- Actions (see ACTIONS above) ---- */

void cleanup_hold(cleanup *c, const char *where, const char *text);
void cleanup_discard(cleanup *c, const char *where, const char *text);
/* True once cleanup_discard was called (later checks are pointless). */
int cleanup_discarding(const cleanup *c);
/* -1 (and nothing changes) when addr is no usable address. */
int cleanup_redirect(cleanup *c, const char *addr, const char *where);
/* -1 with a warning when filter is not "transport:nexthop". */
int cleanup_filter(cleanup *c, const char *filter, const char *where);
/* -1 with a warning when text is not one header line ("Name: value"). */
int cleanup_prepend_header(cleanup *c, const char *text);
void cleanup_reject(cleanup *c, const char *where, const char *text);
/* Log "ID: warning: WHERE from CLIENT; ...: text"; nothing else changes. */
void cleanup_warn(cleanup *c, const char *where, const char *text);
/* A table failed (why says which): CLEANUP_TABLE, logged as a warning. */
void cleanup_lookup_failed(cleanup *c, const char *why);

/* One content line, without its terminator. */
void cleanup_put_line(cleanup *c, const char *data, size_t len);
/* A content record: REC_TYPE_NORM (a line, or the end of one) or
 * REC_TYPE_CONT (a piece; the next record continues the line). */
void cleanup_put_record(cleanup *c, int type, const char *data, size_t len);

/* The status so far (an error here is final; input is now dropped). */
cleanup_status cleanup_status_now(const cleanup *c);

/* Finish: commit when all is well, else remove the file. Frees c. The
 * reason ("5.3.4 message file too big" is the status; reason says e.g.
 * "message size 123456 exceeds size limit 100000") goes to reason, which
 * may be NULL. */
cleanup_status cleanup_finish(cleanup *c, vstr *reason);
/* Give up: remove the file, free c. */
void cleanup_abort(cleanup *c);

#endif
