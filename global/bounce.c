/*
 * bounce - delivery status notifications from the logs and the queue file; see bounce.h
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "util/mem.h"
#include "util/msg.h"
#include "global/bounce.h"
#include "global/cleanup.h"
#include "global/dsn.h"
#include "global/queue_file.h"
#include "global/rec.h"

/* Longest piece of an original line handed over at once; longer lines
 * travel in pieces and are never cut. */
#define BOUNCE_LINE_BOUND 4096

/* The message being reported on. */
typedef struct original {
    const char *id;
    const char *queue_dir;
    queue_reader *reader;
    const queue_envelope *env;
    long long content_bytes; /* decides whether it comes back whole */
} original;

static dsn_line next_line(void *ctx, vstr *line)
{
    switch (queue_file_read_line(ctx, line, BOUNCE_LINE_BOUND)) {
    case QUEUE_LINE:
        return DSN_LINE;
    case QUEUE_PIECE:
        return DSN_LINE_PIECE;
    case QUEUE_END:
        return DSN_LINE_END;
    case QUEUE_ERROR:
        break;
    }
    return DSN_LINE_ERROR;
}

static void put_record(void *ctx, const char *data, size_t len, int partial)
{
    cleanup_put_record(ctx, partial ? REC_TYPE_CONT : REC_TYPE_NORM, data, len);
}

int bounce_is_double_bounce_sender(config *cfg, const char *sender)
{
    const char *dbs = config_str(cfg, "double_bounce_sender");
    const char *myorigin;
    size_t len = strlen(dbs);

    if (*sender == 0 || *dbs == 0)
        return 0;
    if (strcasecmp(sender, dbs) == 0)
        return 1;
    if (strchr(dbs, '@') != NULL)
        return 0;
    myorigin = config_str(cfg, "myorigin");
    return strncasecmp(sender, dbs, len) == 0 && sender[len] == '@' &&
           strcasecmp(sender + len + 1, myorigin) == 0;
}

static int open_original(config *cfg, const char *queue_name, const char *id, original *o,
                         vstr *why)
{
    vstr err = VSTR_INIT;

    o->id = id;
    o->queue_dir = config_str(cfg, "queue_directory");
    o->reader = queue_file_open(o->queue_dir, queue_name, id, QUEUE_FILE_QUEUE, &err);
    if (o->reader == NULL) {
        vstr_set_fmt(why, "open queue file: %s", vstr_str(&err));
        vstr_release(&err);
        return -1;
    }
    vstr_release(&err);
    if ((o->env = queue_file_read_envelope(o->reader)) == NULL) {
        vstr_set_fmt(why, "queue file %s/%s: %s", queue_name, id, queue_file_error(o->reader));
        queue_file_close(o->reader);
        return -1;
    }
    o->content_bytes = o->env->size_content_bytes;
    return 0;
}

static dsn_ret choose_ret(config *cfg, const original *o, dsn_kind kind)
{
    const char *ret = queue_envelope_attr(o->env, "dsn_ret");

    if (kind == DSN_KIND_DELAY || kind == DSN_KIND_SUCCESS)
        return DSN_RET_HDRS;
    if (ret != NULL && strcasecmp(ret, "HDRS") == 0)
        return DSN_RET_HDRS;
    if (o->content_bytes > config_size(cfg, "bounce_size_limit"))
        return DSN_RET_HDRS;
    return DSN_RET_FULL;
}

static const char *log_label(dsn_kind kind)
{
    switch (kind) {
    case DSN_KIND_FAILURE:
        return "sender non-delivery notification";
    case DSN_KIND_DELAY:
        return "sender delay notification";
    case DSN_KIND_SUCCESS:
        return "sender delivery status notification";
    case DSN_KIND_POSTMASTER:
        return "postmaster non-delivery notification";
    }
    return "notification";
}

/* Queue one report about o for the given recipients. */
static bounce_status send_report(config *cfg, original *o, dsn_kind kind, const dsn_rcpt *rcpts,
                                 size_t count, long long retry_until, vstr *why)
{
    const char *body_type = queue_envelope_attr(o->env, "body_type");
    const char *smtputf8 = queue_envelope_attr(o->env, "smtputf8");
    dsn_report rep = {
        .kind = kind,
        .myhostname = config_str(cfg, "myhostname"),
        .queue_id = o->id,
        .sender = o->env->sender,
        .arrival = o->env->arrival_sec,
        .now = time(NULL),
        .retry_until = retry_until,
        .envid = queue_envelope_attr(o->env, "dsn_envid"),
        .ret = choose_ret(cfg, o, kind),
        .eight_bit = (body_type && strcasecmp(body_type, "8BITMIME") == 0) || smtputf8 != NULL,
        .rcpts = rcpts,
        .rcpt_count = count,
    };
    dsn_content orig = {next_line, o->reader};
    vstr err = VSTR_INIT, to = VSTR_INIT;
    char new_id[QUEUE_ID_SIZE];
    bounce_status result;
    cleanup_status st;
    cleanup *c;

    if (kind == DSN_KIND_POSTMASTER) {
        /* As cleanup will qualify the envelope, so the To: header. */
        vstr_set_str(&to, config_str(cfg, "2bounce_notice_recipient"));
        if (strchr(vstr_str(&to), '@') == NULL)
            vstr_append_fmt(&to, "@%s", config_str(cfg, "myorigin"));
        rep.recipient = vstr_str(&to);
    } else {
        rep.recipient = o->env->sender;
    }
    if (queue_file_rewind_content(o->reader) < 0) {
        vstr_set_fmt(why, "queue file %s: %s", o->id, queue_file_error(o->reader));
        result = BOUNCE_RETRY;
        goto out;
    }
    if ((c = cleanup_open(cfg, 0, &err)) == NULL) {
        vstr_set_fmt(why, "cannot queue %s: %s", log_label(kind), vstr_str(&err));
        result = BOUNCE_RETRY;
        goto out;
    }
    snprintf(new_id, sizeof(new_id), "%s", cleanup_id(c));
    /* A postmaster copy comes from double_bounce_sender, so that its own
     * failure is recognised and dropped; everything else from <>. */
    cleanup_set_sender(c,
                       kind == DSN_KIND_POSTMASTER ? config_str(cfg, "double_bounce_sender") : "");
    cleanup_add_rcpt(c, rep.recipient, NULL, NULL, 0);
    cleanup_set_attr(c, "rewrite_context", "local");
    if (dsn_compose(&rep, &orig, put_record, c) < 0) {
        vstr_set_fmt(why, "queue file %s: %s", o->id, queue_file_error(o->reader));
        cleanup_abort(c);
        result = BOUNCE_RETRY;
        goto out;
    }
    st = cleanup_finish(c, &err);
    if (st == CLEANUP_OK) {
        msg_info("%s: %s: %s", o->id, log_label(kind), new_id);
        result = BOUNCE_DONE;
    } else if (cleanup_status_dsn(st)[0] == '4') {
        vstr_set_fmt(why, "cannot queue %s: %s", log_label(kind), vstr_str(&err));
        result = BOUNCE_RETRY;
    } else {
        /* Permanent: retrying would fail the same way forever. */
        msg_warn("%s: %s to <%s> not sent: %s %s", o->id, log_label(kind), rep.recipient,
                 cleanup_status_dsn(st), vstr_str(&err));
        result = BOUNCE_DONE;
    }
out:
    vstr_release(&err);
    vstr_release(&to);
    return result;
}

static int is_success_action(const dsn_log_entry *e)
{
    const char *a = e->action ? e->action : "";

    return strcmp(a, "delivered") == 0 || strcmp(a, "relayed") == 0 || strcmp(a, "expanded") == 0;
}

static dsn_rcpt rcpt_from_entry(const dsn_log_entry *e)
{
    dsn_rcpt r = {
        .address = e->recipient,
        .orig_rcpt = e->orig_rcpt,
        .dsn_orcpt = e->dsn_orcpt,
        .status = e->status,
        .action = e->action,
        .reason = e->reason,
        .diag_type = e->diag_type,
        .diag_text = e->diag_text,
        .mta = e->mta,
        .time = e->time,
    };
    return r;
}

/* True when a later entry is about the same recipient record: after a
 * crash a result may have been logged twice; the last one counts. */
static int superseded(const dsn_log *log, size_t i)
{
    for (size_t j = i + 1; j < log->count; j++)
        if (log->entries[i].offset >= 0 && log->entries[j].offset == log->entries[i].offset)
            return 1;
    return 0;
}

bounce_status bounce_flush(config *cfg, const char *queue_name, const char *id, vstr *why)
{
    const char *queue_dir = config_str(cfg, "queue_directory");
    dsn_log log, unsent;
    dsn_rcpt *failed, *success;
    size_t nfailed = 0, nsuccess = 0;
    bounce_status st = BOUNCE_DONE, st_success = BOUNCE_DONE;
    original o;
    vstr err = VSTR_INIT;
    int null_sender, from_double_bounce;

    dsn_log_init(&log);
    if (dsn_log_read(queue_dir, DSN_LOG_BOUNCE, id, &log, &err) < 0) {
        vstr_set_str(why, vstr_str(&err));
        vstr_release(&err);
        return BOUNCE_RETRY;
    }
    if (log.count == 0) {
        dsn_log_release(&log);
        vstr_release(&err);
        if (dsn_log_remove(queue_dir, DSN_LOG_BOUNCE, id, why) < 0)
            return BOUNCE_RETRY;
        return BOUNCE_DONE;
    }
    if (open_original(cfg, queue_name, id, &o, why) < 0) {
        dsn_log_release(&log);
        vstr_release(&err);
        return BOUNCE_RETRY;
    }
    null_sender = *o.env->sender == 0;
    from_double_bounce = bounce_is_double_bounce_sender(cfg, o.env->sender);

    failed = mem_calloc(log.count, sizeof(*failed));
    success = mem_calloc(log.count, sizeof(*success));
    for (size_t i = 0; i < log.count; i++) {
        const dsn_log_entry *e = &log.entries[i];
        int notify = e->dsn_notify;

        if (superseded(&log, i))
            continue;
        if (is_success_action(e)) {
            if ((notify & REC_DSN_NOTIFY_SUCCESS) && !(notify & REC_DSN_NOTIFY_NEVER))
                success[nsuccess++] = rcpt_from_entry(e);
        } else if (null_sender || notify == 0 ||
                   ((notify & REC_DSN_NOTIFY_FAILURE) && !(notify & REC_DSN_NOTIFY_NEVER))) {
            /* For a bounce that failed, the postmaster hears of every
             * recipient: there is no sender whose wishes count. */
            failed[nfailed++] = rcpt_from_entry(e);
        }
    }

    if (from_double_bounce) {
        if (nfailed > 0)
            msg_warn("%s: undeliverable postmaster notification discarded", id);
    } else {
        if (nfailed > 0)
            st = send_report(cfg, &o, null_sender ? DSN_KIND_POSTMASTER : DSN_KIND_FAILURE, failed,
                             nfailed, 0, why);
        if (nsuccess > 0 && !null_sender)
            st_success = send_report(cfg, &o, DSN_KIND_SUCCESS, success, nsuccess, 0, why);
    }

    if (st == BOUNCE_DONE && st_success == BOUNCE_DONE) {
        if (dsn_log_remove(queue_dir, DSN_LOG_BOUNCE, id, &err) < 0) {
            vstr_set_str(why, vstr_str(&err));
            st = BOUNCE_RETRY;
        }
    } else if (st == BOUNCE_DONE || st_success == BOUNCE_DONE) {
        /* One of the two went out: keep only what the other still needs,
         * so that a retry does not send the first again. */
        dsn_log_init(&unsent);
        for (size_t i = 0; i < log.count; i++)
            if (is_success_action(&log.entries[i]) == (st_success == BOUNCE_RETRY))
                dsn_log_add(&unsent, &log.entries[i]);
        if (dsn_log_rewrite(queue_dir, DSN_LOG_BOUNCE, id, &unsent, &err) < 0)
            msg_warn("%s: %s", id, vstr_str(&err));
        dsn_log_release(&unsent);
        st = BOUNCE_RETRY;
    }
    mem_free(failed);
    mem_free(success);
    queue_file_close(o.reader);
    dsn_log_release(&log);
    vstr_release(&err);
    return st;
}

bounce_status bounce_delay_warning(config *cfg, const char *queue_name, const char *id,
                                   const dsn_log *deferred, long long retry_until, vstr *why)
{
    dsn_rcpt *rcpts;
    size_t n = 0;
    bounce_status st = BOUNCE_DONE;
    original o;

    if (open_original(cfg, queue_name, id, &o, why) < 0)
        return BOUNCE_RETRY;
    if (*o.env->sender == 0 || bounce_is_double_bounce_sender(cfg, o.env->sender)) {
        queue_file_close(o.reader);
        return BOUNCE_DONE;
    }
    rcpts = mem_calloc(deferred->count + 1, sizeof(*rcpts));
    for (size_t i = 0; i < deferred->count; i++) {
        int notify = deferred->entries[i].dsn_notify;

        if (notify == 0 || ((notify & REC_DSN_NOTIFY_DELAY) && !(notify & REC_DSN_NOTIFY_NEVER)))
            rcpts[n++] = rcpt_from_entry(&deferred->entries[i]);
    }
    if (n > 0)
        st = send_report(cfg, &o, DSN_KIND_DELAY, rcpts, n, retry_until, why);
    mem_free(rcpts);
    queue_file_close(o.reader);
    return st;
}

bounce_status bounce_refused(config *cfg, const char *id, queue_reader *reader,
                             long long content_bytes, const dsn_rcpt *rcpts, size_t count,
                             vstr *why)
{
    original o = {id, config_str(cfg, "queue_directory"), reader, NULL, content_bytes};

    if ((o.env = queue_file_read_envelope(reader)) == NULL) {
        vstr_set_fmt(why, "%s: %s", queue_file_name(reader), queue_file_error(reader));
        return BOUNCE_RETRY;
    }
    if (bounce_is_double_bounce_sender(cfg, o.env->sender)) {
        msg_warn("%s: undeliverable postmaster notification discarded", id);
        return BOUNCE_DONE;
    }
    return send_report(cfg, &o, *o.env->sender ? DSN_KIND_FAILURE : DSN_KIND_POSTMASTER, rcpts,
                       count, 0, why);
}
