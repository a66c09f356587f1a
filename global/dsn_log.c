/*
 * dsn_log - the delivery status logs defer/ID and bounce/ID; see dsn_log.h
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/fileio.h"
#include "util/mem.h"
#include "util/vstream.h"
#include "global/dsn_log.h"
#include "global/rec.h"

/* Longest attribute name we write, plus '='. */
#define DSN_LOG_NAME_MAX 32

void dsn_log_init(dsn_log *log)
{
    memset(log, 0, sizeof(*log));
}

static void entry_free(dsn_log_entry *e)
{
    mem_free(e->recipient);
    mem_free(e->orig_rcpt);
    mem_free(e->dsn_orcpt);
    mem_free(e->status);
    mem_free(e->action);
    mem_free(e->reason);
    mem_free(e->diag_type);
    mem_free(e->diag_text);
    mem_free(e->mta);
    memset(e, 0, sizeof(*e));
}

void dsn_log_release(dsn_log *log)
{
    for (size_t i = 0; i < log->count; i++)
        entry_free(&log->entries[i]);
    mem_free(log->entries);
    dsn_log_init(log);
}

static char *dup_or_null(const char *s)
{
    return s ? mem_strdup(s) : NULL;
}

void dsn_log_add(dsn_log *log, const dsn_log_entry *e)
{
    dsn_log_entry *n;

    if (log->count == log->cap) {
        log->cap = log->cap ? 2 * log->cap : 8;
        log->entries = mem_reallocarray(log->entries, log->cap, sizeof(*log->entries));
    }
    n = &log->entries[log->count++];
    n->recipient = dup_or_null(e->recipient);
    n->orig_rcpt = dup_or_null(e->orig_rcpt);
    n->dsn_orcpt = dup_or_null(e->dsn_orcpt);
    n->dsn_notify = e->dsn_notify;
    n->offset = e->offset;
    n->status = dup_or_null(e->status);
    n->action = dup_or_null(e->action);
    n->reason = dup_or_null(e->reason);
    n->diag_type = dup_or_null(e->diag_type);
    n->diag_text = dup_or_null(e->diag_text);
    n->mta = dup_or_null(e->mta);
    n->time = e->time;
}

static void log_path(vstr *path, const char *queue_dir, const char *name, const char *prefix,
                     const char *id)
{
    vstr_set_fmt(path, "%s/%s/%s%s", queue_dir, name, prefix, id);
}

/* ---- Writing ---- */

static int put_attr(vstream *fp, const char *name, const char *value)
{
    size_t len;

    if (value == NULL)
        return 0;
    len = strlen(value);
    if (len > DSN_LOG_VALUE_MAX)
        len = DSN_LOG_VALUE_MAX;
    return rec_put_fmt(fp, REC_TYPE_ATTR, "%s=%.*s", name, (int)len, value);
}

static int put_num(vstream *fp, const char *name, long long value)
{
    return rec_put_fmt(fp, REC_TYPE_ATTR, "%s=%lld", name, value);
}

static int put_entry(vstream *fp, const dsn_log_entry *e)
{
    if (put_attr(fp, "recipient", e->recipient ? e->recipient : "") < 0 ||
        put_attr(fp, "original_recipient", e->orig_rcpt) < 0 ||
        put_attr(fp, "dsn_orcpt", e->dsn_orcpt) < 0 ||
        (e->dsn_notify && put_num(fp, "dsn_notify", e->dsn_notify) < 0) ||
        put_num(fp, "offset", e->offset) < 0 || put_attr(fp, "status", e->status) < 0 ||
        put_attr(fp, "action", e->action) < 0 || put_attr(fp, "reason", e->reason) < 0 ||
        put_attr(fp, "diag_type", e->diag_type) < 0 ||
        put_attr(fp, "diag_text", e->diag_text) < 0 || put_attr(fp, "mta", e->mta) < 0 ||
        put_num(fp, "time", e->time) < 0 || rec_put(fp, REC_TYPE_END, "", 0) < 0)
        return -1;
    return 0;
}

static int put_warned(vstream *fp, long long when)
{
    if (put_num(fp, "delay_warning", when) < 0 || rec_put(fp, REC_TYPE_END, "", 0) < 0)
        return -1;
    return 0;
}

/* Open the log for appending and run one writer on it. */
static int append(const char *queue_dir, const char *name, const char *id, int sync,
                  const dsn_log_entry *e, long long warned, vstr *err)
{
    vstr path = VSTR_INIT;
    vstream *fp;
    int fd, status = 0;

    log_path(&path, queue_dir, name, "", id);
    fd = open(vstr_str(&path), O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        vstr_set_fmt(err, "open %s: %s", vstr_str(&path), strerror(errno));
        vstr_release(&path);
        return -1;
    }
    fp = vstream_fdopen(fd, VSTREAM_WRITE);
    if ((e ? put_entry(fp, e) : put_warned(fp, warned)) < 0 || vstream_flush(fp) < 0 ||
        (sync && fileio_fsync(fd) < 0)) {
        vstr_set_fmt(err, "write %s: %s", vstr_str(&path), strerror(errno));
        status = -1;
    }
    if (vstream_close(fp) < 0 && status == 0) {
        vstr_set_fmt(err, "close %s: %s", vstr_str(&path), strerror(errno));
        status = -1;
    }
    vstr_release(&path);
    return status;
}

int dsn_log_append(const char *queue_dir, const char *name, const char *id, const dsn_log_entry *e,
                   int sync, vstr *err)
{
    return append(queue_dir, name, id, sync, e, 0, err);
}

int dsn_log_append_warned(const char *queue_dir, const char *name, const char *id, long long when,
                          int sync, vstr *err)
{
    return append(queue_dir, name, id, sync, NULL, when, err);
}

int dsn_log_remove(const char *queue_dir, const char *name, const char *id, vstr *err)
{
    vstr path = VSTR_INIT;
    int status = 0;

    log_path(&path, queue_dir, name, "", id);
    if (unlink(vstr_str(&path)) < 0 && errno != ENOENT) {
        vstr_set_fmt(err, "remove %s: %s", vstr_str(&path), strerror(errno));
        status = -1;
    }
    vstr_release(&path);
    return status;
}

int dsn_log_rewrite(const char *queue_dir, const char *name, const char *id, const dsn_log *log,
                    vstr *err)
{
    vstr path = VSTR_INIT, tmp = VSTR_INIT;
    vstream *fp;
    int fd, status = 0;

    if (log->count == 0 && log->warned == 0)
        return dsn_log_remove(queue_dir, name, id, err);
    log_path(&path, queue_dir, name, "", id);
    log_path(&tmp, queue_dir, name, ".t", id);
    (void)unlink(vstr_str(&tmp));
    fd = open(vstr_str(&tmp), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        vstr_set_fmt(err, "create %s: %s", vstr_str(&tmp), strerror(errno));
        status = -1;
        goto out;
    }
    fp = vstream_fdopen(fd, VSTREAM_WRITE);
    for (size_t i = 0; i < log->count && status == 0; i++)
        status = put_entry(fp, &log->entries[i]);
    if (status == 0 && log->warned)
        status = put_warned(fp, log->warned);
    if (status < 0 || vstream_flush(fp) < 0 || fileio_fsync(fd) < 0) {
        vstr_set_fmt(err, "write %s: %s", vstr_str(&tmp), strerror(errno));
        status = -1;
    }
    if (vstream_close(fp) < 0 && status == 0) {
        vstr_set_fmt(err, "close %s: %s", vstr_str(&tmp), strerror(errno));
        status = -1;
    }
    if (status == 0 && fileio_rename_durable(vstr_str(&tmp), vstr_str(&path)) < 0) {
        vstr_set_fmt(err, "rename %s: %s", vstr_str(&tmp), strerror(errno));
        status = -1;
    }
    if (status < 0)
        (void)unlink(vstr_str(&tmp));
out:
    vstr_release(&path);
    vstr_release(&tmp);
    return status;
}

/* ---- Reading ---- */

static long long parse_num(const char *s)
{
    char *end;
    long long v;

    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || end == s || *end)
        return -1;
    return v;
}

/* Take one "name=value" into the group being read. */
static void take_attr(dsn_log_entry *e, long long *warned, int *has_rcpt, const char *name,
                      const char *value)
{
    static const struct {
        const char *name;
        size_t offset;
    } strings[] = {
        {"recipient", offsetof(dsn_log_entry, recipient)},
        {"original_recipient", offsetof(dsn_log_entry, orig_rcpt)},
        {"dsn_orcpt", offsetof(dsn_log_entry, dsn_orcpt)},
        {"status", offsetof(dsn_log_entry, status)},
        {"action", offsetof(dsn_log_entry, action)},
        {"reason", offsetof(dsn_log_entry, reason)},
        {"diag_type", offsetof(dsn_log_entry, diag_type)},
        {"diag_text", offsetof(dsn_log_entry, diag_text)},
        {"mta", offsetof(dsn_log_entry, mta)},
    };

    for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
        if (strcmp(name, strings[i].name) == 0) {
            char **slot = (char **)((char *)e + strings[i].offset);

            mem_free(*slot);
            *slot = mem_strdup(value);
            if (slot == &e->recipient)
                *has_rcpt = 1;
            return;
        }
    }
    if (strcmp(name, "dsn_notify") == 0)
        e->dsn_notify = (int)(parse_num(value) & 0xff);
    else if (strcmp(name, "offset") == 0)
        e->offset = parse_num(value);
    else if (strcmp(name, "time") == 0)
        e->time = parse_num(value);
    else if (strcmp(name, "delay_warning") == 0 && parse_num(value) > *warned)
        *warned = parse_num(value);
    /* Anything else: a newer writer's attribute; skip it. */
}

int dsn_log_read(const char *queue_dir, const char *name, const char *id, dsn_log *log, vstr *err)
{
    vstr path = VSTR_INIT, payload = VSTR_INIT;
    rec_read r = REC_READ_INIT;
    dsn_log_entry e;
    vstream *fp;
    rec_status st;
    int fd, has_rcpt = 0, in_group = 0, status = 0;

    log_path(&path, queue_dir, name, "", id);
    fd = open(vstr_str(&path), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        if (errno != ENOENT) {
            vstr_set_fmt(err, "open %s: %s", vstr_str(&path), strerror(errno));
            status = -1;
        }
        vstr_release(&path);
        return status;
    }
    fp = vstream_fdopen(fd, VSTREAM_READ);
    memset(&e, 0, sizeof(e));
    e.offset = -1;
    while ((st = rec_get(fp, DSN_LOG_VALUE_MAX + DSN_LOG_NAME_MAX, &r, &payload)) == REC_OK) {
        if (r.type == REC_TYPE_ATTR) {
            char *eq = memchr(payload.data, '=', vstr_len(&payload));

            if (eq == NULL || memchr(payload.data, 0, vstr_len(&payload)) != NULL) {
                log->damaged = 1;
                break;
            }
            *eq = 0;
            take_attr(&e, &log->warned, &has_rcpt, payload.data, eq + 1);
            in_group = 1;
        } else if (r.type == REC_TYPE_END) {
            if (has_rcpt && log->count < DSN_LOG_ENTRIES_MAX)
                dsn_log_add(log, &e);
            entry_free(&e);
            e.offset = -1;
            has_rcpt = in_group = 0;
        } else {
            log->damaged = 1;
            break;
        }
    }
    if (st == REC_ERR_IO) {
        vstr_set_fmt(err, "read %s: %s", vstr_str(&path), strerror(vstream_errno(fp)));
        status = -1;
    } else if (st != REC_EOF || in_group) {
        log->damaged = 1;
    }
    entry_free(&e);
    vstream_close(fp);
    vstr_release(&path);
    vstr_release(&payload);
    return status;
}
