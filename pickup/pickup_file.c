/*
 * pickup_file - one maildrop file into the queue
 *
 * DESCRIPTION
 *   The file is untrusted: whoever could run postdrop (or write to
 *   maildrop/ some other way) chose every byte of it, its owner excepted.
 *   So:
 *
 *   - it is opened without following a symlink, and must be a regular
 *     file with one link (a hard link could be someone else's file);
 *     in an unprivileged instance it must belong to the instance's user;
 *   - the submitting user is the file's owner (uid), never an attribute;
 *     a uid attribute that names someone else is a forgery;
 *   - every record goes through global/maildrop before anything uses
 *     it, and only the attributes a local submission may carry reach the
 *     queue file (rewrite_context, protocol and uid are set here);
 *   - the envelope is collected until M, so that sendmail -t (the flags
 *     attribute) is known when the queue-file writer starts, and a file
 *     whose envelope is broken never creates a queue file.
 *
 *   Outcomes: committed (then the maildrop file is removed: a crash in
 *   between brings it back at the next scan, a duplicate but never a
 *   loss); refused by the queue-file writer for what the message is (too
 *   big, too many hops, no recipients found by -t), reported to the
 *   sender with a non-delivery report as Postfix does, then removed;
 *   broken (moved to corrupt/ with one log line: file, offset, reason);
 *   or left for later when the failure may pass (a read error, the
 *   queue cannot take mail).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/fileio.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/safe_open.h"
#include "util/vstream.h"
#include "global/bounce.h"
#include "global/cleanup.h"
#include "global/dsn.h"
#include "global/maildrop.h"
#include "global/queue_file.h"
#include "global/rec.h"
#include "pickup/pickup.h"

/* Attributes a local submission may set; everything else is ignored with
 * a warning (a file cannot pose as mail from the network). flags and uid
 * are handled on their own. */
static const char *const honoured_attrs[] = {
    "full_name", "dsn_envid", "dsn_ret", "body_type", "smtputf8", NULL,
};

typedef struct md_rcpt {
    char *addr;
    char *orig; /* NULL when none */
    int notify;
} md_rcpt;

/* One file being picked up. */
typedef struct job {
    const pickup_ctx *ctx;
    const char *name;
    vstr path;
    int fd;
    uid_t uid;

    /* The envelope, until M. */
    long long sec;
    long usec;
    char *sender;
    queue_attr *attrs;
    size_t attr_count, attr_cap;
    md_rcpt *rcpts;
    size_t rcpt_count, rcpt_cap;
    char *pend_orig;   /* O before its R */
    int pend_notify;   /* n before its R */
    size_t ignored;    /* attributes ignored */
    vstr ignored_name; /* the first of them */

    cleanup *c;
    char id[QUEUE_ID_SIZE];
    long long content_bytes;
} job;

static void job_free(job *j)
{
    if (j->c)
        cleanup_abort(j->c);
    if (j->fd >= 0)
        (void)close(j->fd);
    vstr_release(&j->path);
    mem_free(j->sender);
    for (size_t i = 0; i < j->attr_count; i++) {
        mem_free(j->attrs[i].name);
        mem_free(j->attrs[i].value);
    }
    mem_free(j->attrs);
    for (size_t i = 0; i < j->rcpt_count; i++) {
        mem_free(j->rcpts[i].addr);
        mem_free(j->rcpts[i].orig);
    }
    mem_free(j->rcpts);
    mem_free(j->pend_orig);
    vstr_release(&j->ignored_name);
}

/* ---- Dispositions ---- */

/* Move the file to corrupt/, keeping its bytes for the administrator. */
static pickup_result corrupt(job *j, long long offset, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static pickup_result corrupt(job *j, long long offset, const char *fmt, ...)
{
    vstr why = VSTR_INIT, to = VSTR_INIT, where = VSTR_INIT;
    pickup_result result = PICKUP_CORRUPT;
    va_list ap;

    va_start(ap, fmt);
    vstr_append_vfmt(&why, fmt, ap);
    va_end(ap);
    if (offset >= 0)
        vstr_set_fmt(&where, "uid=%ld: offset %lld: ", (long)j->uid, offset);
    vstr_set_fmt(&to, "%s/corrupt/%s", j->ctx->queue_dir, j->name);
    if (fileio_rename_durable(vstr_str(&j->path), vstr_str(&to)) < 0) {
        msg_warn("maildrop/%s: %s%s; cannot move it to corrupt/: %s", j->name, vstr_str(&where),
                 vstr_str(&why), strerror(errno));
        result = PICKUP_RETRY;
    } else {
        msg_warn("maildrop/%s: %s%s; moved to corrupt/%s", j->name, vstr_str(&where),
                 vstr_str(&why), j->name);
    }
    vstr_release(&why);
    vstr_release(&to);
    vstr_release(&where);
    return result;
}

/* The file is in the queue (or was reported on): remove it, durably. A
 * file left behind would be queued again at every pass, so one that
 * cannot be removed goes to corrupt/ instead. */
static void remove_maildrop_file(job *j)
{
    vstr dir = VSTR_INIT, to = VSTR_INIT;

    if (unlink(vstr_str(&j->path)) < 0) {
        int e = errno;

        vstr_set_fmt(&to, "%s/corrupt/%s", j->ctx->queue_dir, j->name);
        if (rename(vstr_str(&j->path), vstr_str(&to)) == 0)
            msg_warn("%s: cannot remove maildrop/%s: %s; moved to corrupt/%s", j->id, j->name,
                     strerror(e), j->name);
        else
            msg_error("%s: cannot remove maildrop/%s: %s; it will be queued again", j->id, j->name,
                      strerror(e));
    }
    vstr_set_fmt(&dir, "%s/maildrop", j->ctx->queue_dir);
    if (fileio_fsync_dir(vstr_str(&dir)) < 0)
        msg_warn("fsync %s: %s", vstr_str(&dir), strerror(errno));
    vstr_release(&dir);
    vstr_release(&to);
}

/* ---- Opening ---- */

/* Open the file, or say why not: 0, or the result to return. */
static int open_file(job *j, pickup_result *result)
{
    vstr err = VSTR_INIT;
    uid_t owner = j->ctx->privileged ? SAFE_OPEN_ANY_OWNER : j->ctx->instance_uid;
    struct stat st;

    j->fd = safe_open_existing(vstr_str(&j->path), O_RDONLY, owner, SAFE_OPEN_ANY_MODE, &err);
    if (j->fd < 0) {
        int e = errno;

        switch (e) {
        case ENOENT:
            *result = PICKUP_GONE;
            break;
        case ELOOP:
            *result = corrupt(j, -1, "symbolic link");
            break;
        case EMLINK:
            *result = corrupt(j, -1, "more than one hard link");
            break;
        case EINVAL:
            *result = corrupt(j, -1, "not a regular file");
            break;
        case EPERM: {
            struct stat lst;

            if (lstat(vstr_str(&j->path), &lst) == 0)
                *result = corrupt(j, -1, "owner uid %ld is not the instance's user (uid %ld)",
                                  (long)lst.st_uid, (long)j->ctx->instance_uid);
            else
                *result = PICKUP_GONE;
            break;
        }
        case EACCES:
            *result = corrupt(j, -1, "cannot be read: %s", strerror(e));
            break;
        default:
            msg_warn("maildrop/%s: %s; will retry", j->name, vstr_str(&err));
            *result = PICKUP_RETRY;
            break;
        }
        vstr_release(&err);
        return -1;
    }
    vstr_release(&err);
    if (fstat(j->fd, &st) < 0) {
        msg_warn("maildrop/%s: fstat: %s; will retry", j->name, strerror(errno));
        *result = PICKUP_RETRY;
        return -1;
    }
    j->uid = st.st_uid;
    return 0;
}

/* ---- The envelope ---- */

static int is_honoured(const char *name, size_t len)
{
    for (const char *const *a = honoured_attrs; *a; a++)
        if (strlen(*a) == len && memcmp(*a, name, len) == 0)
            return 1;
    return 0;
}

/* An A record the checker accepted. 0, or -1 with a reason for corrupt. */
static int take_attr(job *j, const char *data, size_t len, vstr *why)
{
    const char *eq = memchr(data, '=', len);
    size_t name_len = (size_t)(eq - data);
    const char *value = eq + 1;

    if (name_len == 5 && memcmp(data, "flags", 5) == 0)
        return 0; /* the checker keeps it: maildrop_flags() */
    if (name_len == 3 && memcmp(data, "uid", 3) == 0) {
        char *end;
        long claimed;

        errno = 0;
        claimed = strtol(value, &end, 10);
        if (errno || end == value || *end || claimed != (long)j->uid) {
            vstr_set_fmt(why, "claims uid %.20s but the file belongs to uid %ld", value,
                         (long)j->uid);
            return -1;
        }
        return 0;
    }
    if (!is_honoured(data, name_len)) {
        if (j->ignored++ == 0)
            vstr_set(&j->ignored_name, data, name_len);
        return 0;
    }
    if (j->attr_count == j->attr_cap) {
        j->attr_cap = j->attr_cap ? 2 * j->attr_cap : 8;
        j->attrs = mem_reallocarray(j->attrs, j->attr_cap, sizeof(*j->attrs));
    }
    j->attrs[j->attr_count++] = (queue_attr){mem_strndup(data, name_len), mem_strdup(value)};
    return 0;
}

/* A T record the checker accepted: seconds.microseconds. A time in the
 * future (a user's clock, or a forgery) becomes now. */
static void take_time(job *j, const char *data)
{
    const char *dot = strchr(data, '.');
    long long now = (long long)time(NULL);

    j->sec = strtoll(data, NULL, 10);
    j->usec = strtol(dot + 1, NULL, 10);
    if (j->sec > now) {
        j->sec = now;
        j->usec = 0;
    }
}

static void take_rcpt(job *j, const char *addr)
{
    if (j->rcpt_count == j->rcpt_cap) {
        j->rcpt_cap = j->rcpt_cap ? 2 * j->rcpt_cap : 8;
        j->rcpts = mem_reallocarray(j->rcpts, j->rcpt_cap, sizeof(*j->rcpts));
    }
    j->rcpts[j->rcpt_count++] = (md_rcpt){mem_strdup(addr), j->pend_orig, j->pend_notify};
    j->pend_orig = NULL;
    j->pend_notify = 0;
}

/* M: start the queue file with the envelope. 0, or -1 (queue unavailable). */
static int start_queue_file(job *j, long flags)
{
    vstr err = VSTR_INIT, uid = VSTR_INIT;

    j->c = cleanup_open(j->ctx->cfg, (flags & MAILDROP_FLAG_EXTRACT) ? CLEANUP_FLAG_EXTRACT : 0,
                        &err);
    if (j->c == NULL) {
        msg_warn("maildrop/%s: uid=%ld: cannot queue now: %s; will retry", j->name, (long)j->uid,
                 vstr_str(&err));
        vstr_release(&err);
        return -1;
    }
    snprintf(j->id, sizeof(j->id), "%s", cleanup_id(j->c));
    msg_info("%s: uid=%ld from=<%s>", j->id, (long)j->uid, j->sender);
    if (j->ignored)
        msg_warn("%s: uid=%ld: ignoring %zu attribute%s a local submission may not set (%s%s)",
                 j->id, (long)j->uid, j->ignored, j->ignored > 1 ? "s" : "",
                 vstr_str(&j->ignored_name), j->ignored > 1 ? ", ..." : "");
    cleanup_set_arrival(j->c, j->sec, j->usec);
    cleanup_set_sender(j->c, j->sender);
    cleanup_set_checks(j->c, j->ctx->checks);
    cleanup_set_attr(j->c, "rewrite_context", "local");
    cleanup_set_attr(j->c, "protocol", "LOCAL");
    vstr_set_fmt(&uid, "%ld", (long)j->uid);
    cleanup_set_attr(j->c, "uid", vstr_str(&uid));
    for (size_t i = 0; i < j->attr_count; i++)
        cleanup_set_attr(j->c, j->attrs[i].name, j->attrs[i].value);
    for (size_t i = 0; i < j->rcpt_count; i++)
        cleanup_add_rcpt(j->c, j->rcpts[i].addr, j->rcpts[i].orig, NULL, j->rcpts[i].notify);
    vstr_release(&err);
    vstr_release(&uid);
    return 0;
}

/* ---- Refused messages ---- */

/* The queue-file writer refused the message itself: tell the sender, as
 * Postfix does for local submissions, with the file as the original. */
static pickup_result bounce(job *j, cleanup_status st, const char *reason)
{
    const char *unknown = "unknown";
    dsn_rcpt *rcpts = mem_calloc(j->rcpt_count ? j->rcpt_count : 1, sizeof(*rcpts));
    size_t n = 0;
    vstr why = VSTR_INIT;
    queue_reader *reader;
    bounce_status bs;
    int fd;

    msg_info("%s: reject: %s %s (%s); from=<%s>", j->id, cleanup_status_dsn(st),
             cleanup_status_text(st), reason, j->sender);
    for (; n < j->rcpt_count; n++)
        rcpts[n] = (dsn_rcpt){.address = j->rcpts[n].addr,
                              .orig_rcpt = j->rcpts[n].orig,
                              .status = cleanup_status_dsn(st),
                              .action = "failed",
                              .reason = reason,
                              .time = (long long)time(NULL)};
    if (n == 0) /* sendmail -t found nobody: as Postfix, an unknown recipient */
        rcpts[n++] = (dsn_rcpt){.address = unknown,
                                .status = cleanup_status_dsn(st),
                                .action = "failed",
                                .reason = reason,
                                .time = (long long)time(NULL)};
    if ((fd = dup(j->fd)) < 0 || lseek(fd, 0, SEEK_SET) < 0) {
        msg_warn("%s: maildrop/%s: cannot reread: %s; will retry", j->id, j->name,
                 strerror(errno));
        if (fd >= 0)
            (void)close(fd);
        mem_free(rcpts);
        return PICKUP_RETRY;
    }
    reader = queue_file_open_fd(fd, vstr_str(&j->path), QUEUE_FILE_MAILDROP);
    /* As Postfix: a message refused for its size comes back as headers. */
    bs = bounce_refused(j->ctx->cfg, j->id, reader,
                        st == CLEANUP_SIZE ? LLONG_MAX : j->content_bytes, rcpts, n, &why);
    queue_file_close(reader);
    mem_free(rcpts);
    if (bs != BOUNCE_DONE) {
        msg_warn("%s: maildrop/%s: cannot return the message: %s; will retry", j->id, j->name,
                 vstr_str(&why));
        vstr_release(&why);
        return PICKUP_STALLED;
    }
    vstr_release(&why);
    remove_maildrop_file(j);
    return PICKUP_BOUNCED;
}

/* ---- The file, record by record ---- */

static pickup_result finish(job *j)
{
    vstr reason = VSTR_INIT;
    cleanup_status st;
    pickup_result result;

    st = cleanup_finish(j->c, &reason);
    j->c = NULL;
    if (st == CLEANUP_OK) {
        remove_maildrop_file(j);
        result = PICKUP_QUEUED;
    } else if (cleanup_status_dsn(st)[0] == '4') {
        msg_warn("%s: maildrop/%s: cannot queue now: %s; will retry", j->id, j->name,
                 vstr_str(&reason));
        result = PICKUP_STALLED;
    } else {
        result = bounce(j, st, vstr_str(&reason));
    }
    vstr_release(&reason);
    return result;
}

/* Read, check and pass on every record. */
static pickup_result copy_records(job *j)
{
    vstream *fp = vstream_fdopen(j->fd, VSTREAM_READ);
    vstr payload = VSTR_INIT, reason = VSTR_INIT;
    rec_read r = REC_READ_INIT;
    maildrop_check m;
    maildrop_status ms;
    pickup_result result = PICKUP_RETRY;

    maildrop_check_init(&m);
    while ((ms = maildrop_get(fp, &m, &r, &payload, &reason)) == MAILDROP_OK) {
        const char *data = vstr_str(&payload);
        size_t len = vstr_len(&payload);

        switch (r.type) {
        case REC_TYPE_TIME:
            take_time(j, data);
            continue;
        case REC_TYPE_FROM:
            j->sender = mem_strdup(data);
            continue;
        case REC_TYPE_ATTR:
            if (take_attr(j, data, len, &reason) < 0) {
                result = corrupt(j, (long long)r.offset, "%s", vstr_str(&reason));
                goto out;
            }
            continue;
        case REC_TYPE_ORCP:
            j->pend_orig = mem_strdup(data);
            continue;
        case REC_TYPE_DSN_NOTIFY:
            j->pend_notify = atoi(data);
            continue;
        case REC_TYPE_RCPT:
            take_rcpt(j, data);
            continue;
        case REC_TYPE_MESG:
            if (start_queue_file(j, maildrop_flags(&m)) < 0) {
                result = PICKUP_STALLED;
                goto out;
            }
            continue;
        case REC_TYPE_NORM:
        case REC_TYPE_CONT:
            j->content_bytes += (long long)len + (r.type == REC_TYPE_NORM);
            cleanup_put_record(j->c, r.type, data, len);
            continue;
        case REC_TYPE_END:
            result = finish(j);
            goto out;
        default: /* V */
            continue;
        }
    }
    if (ms == MAILDROP_BAD) {
        result = corrupt(j, (long long)maildrop_error_offset(&m), "%s", vstr_str(&reason));
    } else {
        msg_warn("maildrop/%s: %s; will retry", j->name, vstr_str(&reason));
        result = PICKUP_RETRY;
    }
out:
    /* The stream owns the descriptor now. */
    if (j->c) {
        cleanup_abort(j->c);
        j->c = NULL;
    }
    (void)vstream_close(fp);
    j->fd = -1;
    vstr_release(&payload);
    vstr_release(&reason);
    return result;
}

pickup_result pickup_file(const pickup_ctx *ctx, const char *name)
{
    job j;
    pickup_result result;

    memset(&j, 0, sizeof(j));
    j.ctx = ctx;
    j.name = name;
    j.fd = -1;
    j.uid = (uid_t)-1;
    vstr_set_fmt(&j.path, "%s/maildrop/%s", ctx->queue_dir, name);
    if (open_file(&j, &result) == 0)
        result = copy_records(&j);
    job_free(&j);
    return result;
}
