/*
 * qmgr_message - messages in the active queue: loading, finishing, freeing
 *
 * DESCRIPTION
 *   Loading reads the envelope of active/ID (global/queue_file), keeps
 *   the recipients still marked R, logs "ID: from=<...>, size=N,
 *   nrcpt=M (queue active)" and hands the recipients to the resolver.
 *   A file that cannot be parsed goes to corrupt/ with a log line. The
 *   delivery status logs are brought into shape first: the defer log
 *   describes only the latest pass (Postfix's rule), so it is emptied
 *   except for the record that the delay notice went out; a bounce log
 *   with a damaged tail (a crash while appending) is cut back to its
 *   complete groups before anything is appended to it.
 *
 *   Finishing a pass (qmgr_message_done): expired deferrals become
 *   failures; bounce/ID becomes notifications (global/bounce); then the
 *   message is removed ("ID: removed") when no recipient is left, or
 *   else gets a delay notice if one is due and goes to deferred with its
 *   next retry time as mtime. A notification that cannot be queued now
 *   keeps the message (and its log) for the next retry, so none is lost.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "util/fileio.h"
#include "util/mem.h"
#include "util/msg.h"
#include "global/backoff.h"
#include "global/bounce.h"
#include "global/dsn_log.h"
#include "global/queue_file.h"
#include "qmgr/qmgr.h"

int qmgr_message_room(const qmgr *q)
{
    /* One message always fits, however many recipients it has: a queue
     * must not stall on a message bigger than the recipient limit. */
    if (q->active_count == 0)
        return 1;
    return (long long)q->active_count < q->set.active_limit &&
           (long long)q->active_rcpts < q->set.rcpt_limit;
}

static void path_of(const qmgr *q, const char *queue, const char *id, char *buf, size_t size)
{
    snprintf(buf, size, "%s/%s/%s", q->set.queue_dir, queue, id);
}

/* A file nobody can read goes where postsuper and an administrator will
 * find it, out of the way of the queue. */
static void move_to_corrupt(qmgr *q, const char *id, const char *why)
{
    char from[4096], to[4096];

    path_of(q, "active", id, from, sizeof(from));
    path_of(q, "corrupt", id, to, sizeof(to));
    if (rename(from, to) < 0)
        msg_warn("%s: corrupt queue file (%s); cannot move it to corrupt: %s", id, why,
                 strerror(errno));
    else
        msg_warn("%s: corrupt queue file (%s); moved to corrupt", id, why);
}

/* The defer log keeps only the delay-notice record across passes; a
 * damaged bounce log is cut back to its good part. */
static void tidy_logs(qmgr *q, qmgr_message *msg)
{
    dsn_log log;
    vstr err = VSTR_INIT;

    dsn_log_init(&log);
    if (dsn_log_read(q->set.queue_dir, DSN_LOG_DEFER, msg->id, &log, &err) < 0)
        msg_warn("%s: %s", msg->id, vstr_str(&err));
    msg->warned = log.warned;
    if (log.count > 0 || log.damaged) {
        dsn_log_release(&log);
        log.warned = msg->warned;
        if (dsn_log_rewrite(q->set.queue_dir, DSN_LOG_DEFER, msg->id, &log, &err) < 0)
            msg_warn("%s: %s", msg->id, vstr_str(&err));
    }
    dsn_log_release(&log);

    if (dsn_log_read(q->set.queue_dir, DSN_LOG_BOUNCE, msg->id, &log, &err) < 0) {
        msg_warn("%s: %s", msg->id, vstr_str(&err));
    } else if (log.damaged) {
        msg_warn("%s: bounce log ends in a partial record; keeping %zu complete ones", msg->id,
                 log.count);
        if (dsn_log_rewrite(q->set.queue_dir, DSN_LOG_BOUNCE, msg->id, &log, &err) < 0)
            msg_warn("%s: %s", msg->id, vstr_str(&err));
    }
    dsn_log_release(&log);
    vstr_release(&err);
}

static char *dup_or_null(const char *s)
{
    return s ? mem_strdup(s) : NULL;
}

int qmgr_message_load(qmgr *q, const char *id)
{
    char path[4096];
    const queue_envelope *env;
    qmgr_message *msg;
    queue_reader *r;
    vstr err = VSTR_INIT;
    struct stat st;
    size_t n = 0;

    r = queue_file_open(q->set.queue_dir, "active", id, QUEUE_FILE_QUEUE, &err);
    if (r == NULL) {
        path_of(q, "active", id, path, sizeof(path));
        if (access(path, F_OK) == 0)
            msg_warn("%s: %s", id, vstr_str(&err));
        vstr_release(&err);
        return -1;
    }
    vstr_release(&err);
    if ((env = queue_file_read_envelope(r)) == NULL) {
        move_to_corrupt(q, id, queue_file_error(r));
        queue_file_close(r);
        return -1;
    }

    msg = mem_calloc(1, sizeof(*msg));
    snprintf(msg->id, sizeof(msg->id), "%s", id);
    /* postsuper -e marks the file as Postfix does: the owner-execute bit. */
    msg->forced_expire = fstat(queue_file_fd(r), &st) == 0 && (st.st_mode & S_IXUSR) != 0;
    msg->sender = mem_strdup(env->sender);
    msg->arrival = env->arrival_sec;
    msg->content_offset = env->size_content_offset;
    msg->content_size = env->size_content_bytes;
    msg->rcpt_total = (long long)env->rcpt_count;
    msg->attr_names = argv_new();
    msg->attr_values = argv_new();
    for (size_t i = 0; i < env->attr_count; i++) {
        argv_add(msg->attr_names, env->attrs[i].name);
        argv_add(msg->attr_values, env->attrs[i].value);
    }
    for (size_t i = 0; i < env->rcpt_count; i++)
        n += !env->rcpts[i].done;
    msg->rcpts = mem_calloc(n ? n : 1, sizeof(*msg->rcpts));
    for (size_t i = 0; i < env->rcpt_count; i++) {
        const queue_rcpt *qr = &env->rcpts[i];
        qmgr_rcpt *mr;

        if (qr->done)
            continue;
        mr = &msg->rcpts[msg->rcpt_count++];
        mr->address = mem_strdup(qr->address);
        mr->orig_rcpt = dup_or_null(qr->orig_rcpt);
        mr->dsn_orcpt = dup_or_null(qr->dsn_orcpt);
        mr->dsn_notify = qr->dsn_notify;
        mr->offset = (long long)qr->offset;
        mr->msg = msg;
    }
    queue_file_close(r);
    dsn_log_init(&msg->deferrals);

    /* The active queue. */
    msg->prev = q->active_tail;
    if (q->active_tail)
        q->active_tail->next = msg;
    else
        q->active_head = msg;
    q->active_tail = msg;
    htable_enter(q->active_ids, msg->id, msg);
    q->active_count++;
    q->active_rcpts += msg->rcpt_count;

    tidy_logs(q, msg);
    msg_info("%s: from=<%s>, size=%lld, nrcpt=%lld (queue active)", msg->id, msg->sender,
             msg->content_size, msg->rcpt_total);

    /* The resolver may finish recipients (and with them the message)
     * while it works: hold the message until it is through. */
    msg->unfinished = msg->rcpt_count;
    qmgr_message_hold(msg);
    qmgr_resolve_message(q, msg);
    q->sched_wanted = 1;
    qmgr_message_release(q, msg);
    return 0;
}

void qmgr_message_hold(qmgr_message *msg)
{
    msg->unfinished++;
}

void qmgr_message_release(qmgr *q, qmgr_message *msg)
{
    if (msg->unfinished == 0)
        msg_panic("%s: message released more often than held", msg->id);
    if (--msg->unfinished == 0)
        qmgr_message_done(q, msg);
}

void qmgr_message_free(qmgr *q, qmgr_message *msg)
{
    if (msg->prev)
        msg->prev->next = msg->next;
    else
        q->active_head = msg->next;
    if (msg->next)
        msg->next->prev = msg->prev;
    else
        q->active_tail = msg->prev;
    q->active_count--;
    q->active_rcpts -= msg->rcpt_count;
    htable_delete(q->active_ids, msg->id, NULL);
    /* A scan left this message's file alone while it was in memory. */
    if (q->skipped_busy && q->scan_incoming != NULL) {
        q->skipped_busy = 0;
        qmgr_scan_request(q->scan_incoming, 0);
        qmgr_scan_request(q->scan_deferred, 0);
    }
    for (size_t i = 0; i < msg->rcpt_count; i++) {
        mem_free(msg->rcpts[i].address);
        mem_free(msg->rcpts[i].orig_rcpt);
        mem_free(msg->rcpts[i].dsn_orcpt);
    }
    mem_free(msg->rcpts);
    mem_free(msg->sender);
    argv_free(msg->attr_names);
    argv_free(msg->attr_values);
    dsn_log_release(&msg->deferrals);
    mem_free(msg);
}

/* Remove the message: every recipient is done and every notice sent. */
static void remove_message(qmgr *q, qmgr_message *msg)
{
    char path[4096];
    vstr err = VSTR_INIT;

    path_of(q, "active", msg->id, path, sizeof(path));
    if (unlink(path) < 0 && errno != ENOENT) {
        msg_warn("%s: remove %s: %s", msg->id, path, strerror(errno));
        vstr_release(&err);
        return;
    }
    if (dsn_log_remove(q->set.queue_dir, DSN_LOG_DEFER, msg->id, &err) < 0)
        msg_warn("%s: %s", msg->id, vstr_str(&err));
    msg_info("%s: removed", msg->id);
    vstr_release(&err);
}

/* Send the delay notice when it is due and has not gone out yet. */
static void maybe_warn(qmgr *q, qmgr_message *msg, long long now)
{
    vstr why = VSTR_INIT;
    long long lifetime;

    if (q->set.delay_warning <= 0 || msg->warned ||
        !backoff_warning_due(now, msg->arrival, q->set.delay_warning) || msg->deferrals.count == 0)
        return;
    lifetime = *msg->sender == 0 ? q->set.bounce_lifetime : q->set.max_lifetime;
    if (bounce_delay_warning(q->cfg, "active", msg->id, &msg->deferrals, msg->arrival + lifetime,
                             &why) != BOUNCE_DONE) {
        msg_warn("%s: delay notification not sent: %s; will retry", msg->id, vstr_str(&why));
    } else {
        qmgr_scan_request(q->scan_incoming, 0);
        msg->warned = now;
        if (dsn_log_append_warned(q->set.queue_dir, DSN_LOG_DEFER, msg->id, now, 1, &why) < 0)
            msg_warn("%s: %s", msg->id, vstr_str(&why));
    }
    vstr_release(&why);
}

/* Park the message in deferred until its next retry time. */
static void move_to_deferred(qmgr *q, qmgr_message *msg, long long now)
{
    char from[4096], to[4096];
    long long next = qmgr_defer_next_retry(q, msg, now);
    struct timeval tv[2] = {{(time_t)now, 0}, {(time_t)next, 0}};
    int fd;

    path_of(q, "active", msg->id, from, sizeof(from));
    path_of(q, "deferred", msg->id, to, sizeof(to));
    /* The done marks of the last batch were not fsynced (see
     * qmgr_batch_flush): make them durable before the file leaves. */
    if ((fd = open(from, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) >= 0) {
        if (fileio_fsync(fd) < 0)
            msg_warn("%s: fsync: %s", msg->id, strerror(errno));
        close(fd);
    }
    /* mtime first: a crash between the two leaves the file in active,
     * where the next start takes it up anyway. */
    if (utimes(from, tv) < 0)
        msg_warn("%s: set retry time: %s", msg->id, strerror(errno));
    if (rename(from, to) < 0)
        msg_warn("%s: move to deferred: %s", msg->id, strerror(errno));
    else if (msg_verbose_level())
        msg_debug("%s: deferred until %lld (in %llds)", msg->id, next, next - now);
}

void qmgr_message_done(qmgr *q, qmgr_message *msg)
{
    long long now = qmgr_now();
    char path[4096];
    vstr why = VSTR_INIT;
    struct stat st;

    if (msg->deferred && (msg->forced_expire || qmgr_defer_expired(q, msg, now)) &&
        msg->deferrals.count > 0) {
        if (qmgr_defer_expire(q, msg) == 0)
            msg->deferred = 0;
        msg_info("%s: from=<%s>, status=expired, returned to sender", msg->id, msg->sender);
    }
    path_of(q, DSN_LOG_BOUNCE, msg->id, path, sizeof(path));
    if (lstat(path, &st) == 0) {
        if (bounce_flush(q->cfg, "active", msg->id, &why) != BOUNCE_DONE) {
            msg_warn("%s: notification not sent: %s; will retry", msg->id, vstr_str(&why));
            msg->deferred = 1;
        }
        /* Notifications are new mail in incoming: nobody else will say so. */
        qmgr_scan_request(q->scan_incoming, 0);
    }
    if (!msg->deferred && msg->marked_done == msg->rcpt_count) {
        remove_message(q, msg);
    } else {
        maybe_warn(q, msg, now);
        move_to_deferred(q, msg, now);
    }
    vstr_release(&why);
    qmgr_message_free(q, msg);
    q->sched_wanted = 1;
}
