/*
 * queue_list - the queue listing of mailq, sendmail -bp, postqueue -p and -j
 *
 * SYNOPSIS
 *   vstr err = VSTR_INIT;
 *   if (queue_list_print(queue_dir, out, &err) < 0)
 *       ... vstr_str(&err): which directory could not be read ...
 *
 * DESCRIPTION
 *   Lists every message in maildrop, incoming, active, deferred and hold
 *   (in that order, each by queue id) in the shape of Postfix's
 *   postqueue -p with long queue ids (enable_long_queue_ids = yes; Postern's
 *   ids are of that kind), which scripts and administrators already read:
 *
 *     ----Queue ID----- --Size-- ---Arrival Time---- --Sender/Recipient------
 *     ID[*!]                SIZE Www Mmm dd hh:mm:ss SENDER
 *                    (REASON, right-aligned to 78 columns when it fits)
 *                                                    RECIPIENT
 *     (a blank line after each message)
 *     -- N Kbytes in M Requests.
 *
 *   "*" marks a message in active, "!" one in hold; the mark follows the
 *   id directly and the two are padded to 17 columns together. SIZE is the message
 *   content size of a queue file (the S record), the file size of a
 *   maildrop file. The null sender shows as MAILER-DAEMON. Only
 *   recipients not yet done are shown; a recipient with a deferral reason
 *   in defer/ID has that reason above it, once for a run of recipients
 *   with the same reason. An empty queue prints "Mail queue is empty".
 *
 *   Files that vanish while the listing runs (qmgr moved or removed them)
 *   and files that cannot be parsed are left out.
 *
 * DIAGNOSTICS
 *   -1 with a one-line reason in err when a queue directory exists but
 *   cannot be read (errno is kept: EACCES for a caller without access).
 */
#ifndef GLOBAL_QUEUE_LIST_H
#define GLOBAL_QUEUE_LIST_H

#include "util/vstr.h"
#include "util/vstream.h"

/* Width the reason line is right-aligned to. */
#define QUEUE_LIST_REASON_WIDTH 78
/* Column where recipients start. */
#define QUEUE_LIST_RCPT_INDENT 47
/* Width of the id with its mark, and of the size. */
#define QUEUE_LIST_ID_WIDTH 17
#define QUEUE_LIST_SIZE_WIDTH 8

/* Print the whole listing to out. 0, or -1 with a reason in err. */
int queue_list_print(const char *queue_dir, vstream *out, vstr *err);

/* The same messages as JSON (postqueue -j): one object per message and
 * line, {"queue_name", "queue_id", "arrival_time", "message_size",
 * "forced_expire", "sender", "recipients": [{"address", "delay_reason"}]}
 * (delay_reason only when defer/ID has one); no header, no total. Strings
 * are escaped with util/json_write. 0, or -1 with a reason in err. */
int queue_list_print_json(const char *queue_dir, vstream *out, vstr *err);

/* The pieces of the listing, each one line appended to out. */
void queue_list_format_header(vstr *out);
/* status: '*' active, '!' hold, ' ' otherwise; sender "" is the null sender. */
void queue_list_format_entry(vstr *out, const char *id, int status, long long size,
                             long long arrival, const char *sender);
void queue_list_format_reason(vstr *out, const char *reason);
void queue_list_format_rcpt(vstr *out, const char *rcpt);
/* "-- N Kbytes in M Requests.", or "Mail queue is empty" when M is 0. */
void queue_list_format_total(vstr *out, long long bytes, long long requests);

#endif
