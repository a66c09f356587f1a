/*
 * qmgr_defer - recipient results: status logs, done marks, retry times, expiry
 *
 * DESCRIPTION
 *   Every result, from an agent or decided by qmgr, is applied the same
 *   way, by its status class (docs/PROTOCOLS.md, "qmgr and delivery
 *   agents"):
 *
 *   2  mark the R record D; when the recipient asked for a success
 *      notice (NOTIFY=SUCCESS), log it in bounce/ID first;
 *   5  log it in bounce/ID (fsynced), then mark D;
 *   4  log it in defer/ID; the message goes to deferred at the end of
 *      its pass (or, past its lifetime, the deferral becomes a failure).
 *
 *   Log first, mark after: a crash in between makes a recipient that may
 *   be tried again, never a failure that nobody hears of. Marks of one
 *   batch share one open and one fsync of the queue file. A mark that
 *   cannot be written leaves the recipient to the next retry.
 *
 *   Retry times are Postfix's (global/backoff): the time since arrival
 *   clamped to [minimal_backoff_time, maximal_backoff_time]. Mail from
 *   the null sender (or from double_bounce_sender) lives
 *   bounce_queue_lifetime, other mail maximal_queue_lifetime.
 *
 *   Results that qmgr decides itself are logged here in the agents'
 *   shape: "ID: to=<a>, relay=none, delay=1.2, delays=1.2/0/0/0,
 *   dsn=4.3.0, status=deferred (mail transport unavailable)".
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/fileio.h"
#include "util/mem.h"
#include "util/msg.h"
#include "global/backoff.h"
#include "global/bounce.h"
#include "global/dsn.h"
#include "global/rec.h"
#include "qmgr/qmgr.h"

void qmgr_log_status(const qmgr_message *msg, const qmgr_rcpt *r, const char *relay,
                     const char *dsn, const char *status, const char *reason)
{
    double delay = (double)clock_wall_us() / 1e6 - (double)msg->arrival;
    vstr orig = VSTR_INIT;

    if (delay < 0)
        delay = 0;
    if (r->orig_rcpt && strcmp(r->orig_rcpt, r->address) != 0)
        vstr_set_fmt(&orig, ", orig_to=<%s>", r->orig_rcpt);
    msg_info("%s: to=<%s>%s, relay=%s, delay=%.1f, delays=%.1f/0/0/0, dsn=%s, status=%s (%s)",
             msg->id, r->address, vstr_str(&orig), relay, delay, delay, dsn, status, reason);
    vstr_release(&orig);
}

void qmgr_batch_init(qmgr_batch *b, qmgr *q, qmgr_message *msg)
{
    memset(b, 0, sizeof(*b));
    b->q = q;
    b->msg = msg;
}

static void queue_mark(qmgr_batch *b, qmgr_rcpt *r)
{
    if (b->nmarks == b->cap) {
        b->cap = b->cap ? 2 * b->cap : 8;
        b->marks = mem_reallocarray(b->marks, b->cap, sizeof(*b->marks));
        b->marked = mem_reallocarray(b->marked, b->cap, sizeof(*b->marked));
    }
    b->marks[b->nmarks] = r->offset;
    b->marked[b->nmarks++] = r;
}

static const char *status_word(int cls)
{
    return cls == '2' ? "sent" : cls == '5' ? "bounced" : "deferred";
}

void qmgr_batch_add(qmgr_batch *b, qmgr_rcpt *r, const qmgr_result *res)
{
    qmgr *q = b->q;
    qmgr_message *msg = b->msg;
    const char *status = res->status && dsn_status_valid(res->status) ? res->status : "4.3.0";
    int cls = status[0];
    dsn_log_entry e = {
        .recipient = r->address,
        .orig_rcpt = r->orig_rcpt,
        .dsn_orcpt = r->dsn_orcpt,
        .dsn_notify = r->dsn_notify,
        .offset = r->offset,
        .status = (char *)status,
        .action = (char *)res->action,
        .reason = (char *)(res->reason ? res->reason : ""),
        .diag_type = (char *)res->diag_type,
        .diag_text = (char *)res->diag_text,
        .mta = (char *)res->mta,
        .time = qmgr_now(),
    };
    vstr err = VSTR_INIT;

    if (res->relay != NULL)
        qmgr_log_status(msg, r, res->relay, status, status_word(cls), e.reason);
    switch (cls) {
    case '2':
        if ((r->dsn_notify & REC_DSN_NOTIFY_SUCCESS) && !(r->dsn_notify & REC_DSN_NOTIFY_NEVER)) {
            if (e.action == NULL)
                e.action = "delivered";
            if (dsn_log_append(q->set.queue_dir, DSN_LOG_BOUNCE, msg->id, &e, 1, &err) < 0)
                msg_warn("%s: success notice for <%s> lost: %s", msg->id, r->address,
                         vstr_str(&err));
        }
        queue_mark(b, r);
        break;
    case '5':
        e.action = "failed";
        if (dsn_log_append(q->set.queue_dir, DSN_LOG_BOUNCE, msg->id, &e, 1, &err) < 0) {
            /* Not logged, so not marked: the next retry fails it again. */
            msg_warn("%s: %s; <%s> stays queued", msg->id, vstr_str(&err), r->address);
            msg->deferred = 1;
            b->finished++;
        } else {
            queue_mark(b, r);
        }
        break;
    default:
        e.action = "delayed";
        if (dsn_log_append(q->set.queue_dir, DSN_LOG_DEFER, msg->id, &e, 0, &err) < 0)
            msg_warn("%s: %s", msg->id, vstr_str(&err));
        dsn_log_add(&msg->deferrals, &e);
        msg->deferred = 1;
        b->finished++;
        break;
    }
    vstr_release(&err);
}

/* Rewrite R to D at each offset with one open (and, when sync is set, one
 * fsync); returns how many marks were written. */
static size_t write_marks(qmgr *q, qmgr_message *msg, const long long *offsets, size_t n, int sync)
{
    char path[4096];
    size_t ok = 0;
    int fd;

    if (n == 0)
        return 0;
    snprintf(path, sizeof(path), "%s/active/%s", q->set.queue_dir, msg->id);
    if ((fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC)) < 0) {
        msg_warn("%s: open %s to mark recipients done: %s", msg->id, path, strerror(errno));
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (rec_rewrite_type(fd, (off_t)offsets[i], REC_TYPE_RCPT, REC_TYPE_DONE) == 0)
            ok++;
        else
            msg_warn("%s: mark recipient at offset %lld done: %s", msg->id, offsets[i],
                     strerror(errno));
    }
    if (sync && fileio_fsync(fd) < 0) {
        msg_warn("%s: fsync %s: %s", msg->id, path, strerror(errno));
        ok = 0;
    }
    close(fd);
    return ok;
}

void qmgr_batch_flush(qmgr_batch *b, int release)
{
    qmgr_message *msg = b->msg;
    size_t closing = b->finished + b->nmarks + (release ? 1 : 0), ok;

    if (closing > msg->unfinished)
        msg_panic("%s: %zu recipients finished, %zu were open", msg->id, closing, msg->unfinished);
    /* Marks are fsynced unless this batch ends the message's pass: then
     * the file is either removed (the marks do not matter) or fsynced
     * before it moves to deferred (qmgr_message_done). */
    ok = write_marks(b->q, msg, b->marks, b->nmarks, closing < msg->unfinished);
    msg->marked_done += ok;
    if (ok < b->nmarks)
        msg->deferred = 1;
    msg->unfinished -= closing;
    mem_free(b->marks);
    mem_free(b->marked);
    b->marks = NULL;
    b->marked = NULL;
    b->nmarks = b->cap = 0;
    b->finished = 0;
    if (msg->unfinished == 0)
        qmgr_message_done(b->q, msg);
}

void qmgr_defer_now(qmgr *q, qmgr_rcpt *r, const char *status, const char *reason)
{
    qmgr_batch b;
    qmgr_result res = {.status = status, .reason = reason, .relay = "none"};

    qmgr_batch_init(&b, q, r->msg);
    qmgr_batch_add(&b, r, &res);
    qmgr_batch_flush(&b, 0);
}

static long long lifetime_of(const qmgr *q, const qmgr_message *msg)
{
    if (*msg->sender == 0 || bounce_is_double_bounce_sender(q->cfg, msg->sender))
        return q->set.bounce_lifetime;
    return q->set.max_lifetime;
}

int qmgr_defer_expired(const qmgr *q, const qmgr_message *msg, long long now)
{
    return backoff_expired(now, msg->arrival, lifetime_of(q, msg));
}

long long qmgr_defer_next_retry(const qmgr *q, const qmgr_message *msg, long long now)
{
    return now + backoff_delay(now, msg->arrival, q->set.min_backoff, q->set.max_backoff);
}

int qmgr_defer_expire(qmgr *q, qmgr_message *msg)
{
    dsn_log *d = &msg->deferrals;
    long long *offsets = mem_calloc(d->count, sizeof(*offsets));
    size_t n = 0, ok;
    vstr err = VSTR_INIT;

    for (size_t i = 0; i < d->count; i++) {
        dsn_log_entry e = d->entries[i];

        /* The last reason stands; the status keeps its class 4 (RFC 3464
         * allows "failed" with a transient status, and it tells the
         * sender the problem was not permanent, only too long). */
        e.action = "failed";
        if (dsn_log_append(q->set.queue_dir, DSN_LOG_BOUNCE, msg->id, &e, i + 1 == d->count,
                           &err) < 0) {
            msg_warn("%s: %s", msg->id, vstr_str(&err));
            continue;
        }
        offsets[n++] = e.offset;
    }
    ok = write_marks(q, msg, offsets, n, 1);
    msg->marked_done += ok;
    mem_free(offsets);
    vstr_release(&err);
    return ok == d->count ? 0 : -1;
}
