/*
 * bounce - send the delivery status notifications a message calls for
 *
 * SYNOPSIS
 *   vstr why = VSTR_INIT;
 *   switch (bounce_flush(cfg, "active", id, &why)) {
 *   case BOUNCE_DONE:  remove bounce/ID (done already), carry on
 *   case BOUNCE_RETRY: keep the message; try again later (why says what failed)
 *   }
 *   bounce_delay_warning(cfg, "active", id, &deferred, retry_until, &why);
 *
 * DESCRIPTION
 *   bounce_flush() reads bounce/ID (global/dsn_log) and the queue file
 *   QUEUE_NAME/ID, and writes the notifications through the queue-file
 *   writer (global/cleanup), with the null sender:
 *
 *   - a non-delivery report (global/dsn, DSN_KIND_FAILURE) to the
 *     envelope sender, for failed recipients whose DSN NOTIFY allows it
 *     (no NOTIFY, or FAILURE; never with NEVER);
 *   - a success report (DSN_KIND_SUCCESS) for recipients that asked for
 *     one (NOTIFY=SUCCESS) and were delivered, relayed or expanded;
 *
 *   then removes bounce/ID. Never a bounce of a bounce: when the failed
 *   message itself has the null sender, its failures go to
 *   2bounce_notice_recipient as a postmaster copy (DSN_KIND_POSTMASTER)
 *   whose envelope sender is double_bounce_sender; when the failed
 *   message is such a copy (its sender is double_bounce_sender), the
 *   failure is logged and dropped. Nothing ever goes back to the null
 *   sender, so no notification can loop.
 *
 *   The original comes back whole (message/rfc822) unless the sender
 *   asked for headers only (RET=HDRS) or the content is over
 *   bounce_size_limit; then its header block comes back
 *   (text/rfc822-headers). Success and delay reports carry the headers.
 *
 *   bounce_refused() is bounce_flush() for a message that never reached
 *   the queue (pickup: the queue-file writer refused a local submission):
 *   the failed recipients come from the caller, the original from a
 *   reader the caller opened (the maildrop file), and the caller says how
 *   big the content is.
 *
 *   bounce_delay_warning() sends a delay report (DSN_KIND_DELAY) for the
 *   given deferred recipients whose NOTIFY allows it (none, or DELAY),
 *   unless the sender is null or double_bounce_sender.
 *
 *   Each notification is logged as Postfix does: "ID: sender non-delivery
 *   notification: NEWID".
 *
 * DIAGNOSTICS
 *   BOUNCE_RETRY with a reason when the log or the queue file cannot be
 *   read or the notification cannot be queued for now (a full disk); the
 *   caller keeps the message and the log and tries later. A notification
 *   that can never be queued (the sender address is unusable) is logged
 *   and counts as done.
 */
#ifndef GLOBAL_BOUNCE_H
#define GLOBAL_BOUNCE_H

#include "util/vstr.h"
#include "global/config.h"
#include "global/dsn.h"
#include "global/dsn_log.h"
#include "global/queue_file.h"

typedef enum bounce_status {
    BOUNCE_DONE = 0, /* every notification sent (or none was due); bounce/ID removed */
    BOUNCE_RETRY,    /* nothing removed; try again later */
} bounce_status;

/* Send what bounce/ID calls for, then remove it. queue_name is where the
 * message is now ("active"). */
bounce_status bounce_flush(config *cfg, const char *queue_name, const char *id, vstr *why);

/* Send a delay notification for the deferred recipients in log; retry_until
 * is when the message will expire. */
bounce_status bounce_delay_warning(config *cfg, const char *queue_name, const char *id,
                                   const dsn_log *deferred, long long retry_until, vstr *why);

/* A message refused before it was queued (pickup: the queue-file writer
 * rejected a local submission): report rcpts as failed, as bounce_flush
 * would, with reader (a maildrop file, not yet read) as the original and
 * id as its queue id; content_bytes decides whether it comes back whole
 * (bounce_size_limit). reader stays the caller's to close. */
bounce_status bounce_refused(config *cfg, const char *id, queue_reader *reader,
                             long long content_bytes, const dsn_rcpt *rcpts, size_t count,
                             vstr *why);

/* True when sender is the double_bounce_sender (qualified with myorigin
 * when it has no domain): mail from it is never reported on. */
int bounce_is_double_bounce_sender(config *cfg, const char *sender);

#endif
