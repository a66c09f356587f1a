/*
 * queue_file - queue and maildrop files: commit protocol, grammar, reader
 *
 * The grammar is a small state machine over record types, with a payload
 * check per type. The reader is that machine plus bookkeeping; it never
 * decides anything the grammar did not, so postdrop, pickup, qmgr and
 * postcat cannot disagree about what a well-formed file is.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "util/fileio.h"
#include "util/mem.h"
#include "util/msg.h"
#include "global/queue_file.h"
#include "global/rec.h"

/* ---- The grammar ---- */

enum grammar_state {
    G_START,   /* expect V */
    G_VERSION, /* queue: expect S; maildrop: expect T */
    G_SIZE,    /* expect T */
    G_TIME,    /* expect F */
    G_SENDER,  /* A, a recipient group, or (maildrop) M */
    G_RCPTS,   /* inside or after recipient groups: O o n R D, or M */
    G_CONTENT, /* L P E */
    G_DONE,    /* nothing may follow E */
};

/* Order of the optional records before an R: each must follow the last. */
enum { PREFIX_NONE, PREFIX_ORCP, PREFIX_DSN_ORCPT, PREFIX_DSN_NOTIFY };

void queue_grammar_init(queue_grammar *g, queue_file_kind kind)
{
    if (kind != QUEUE_FILE_QUEUE && kind != QUEUE_FILE_MAILDROP)
        msg_panic("queue_grammar_init: bad kind %d", (int)kind);
    memset(g, 0, sizeof(*g));
    g->kind = kind;
    g->state = G_START;
}

int queue_grammar_complete(const queue_grammar *g)
{
    return g->state == G_DONE;
}

/* No C0 control characters or DEL: addresses and attribute values end
 * up in headers and log lines. 8-bit bytes (UTF-8) are fine. */
static int has_control(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c < 0x20 || c == 0x7f)
            return 1;
    }
    return 0;
}

static int is_digits(const char *s, size_t len)
{
    if (len == 0)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

/* A 15-wide right-aligned non-negative decimal, as REC_SIZE_FORMAT writes. */
static int parse_size_field(const char *s, long long *out)
{
    size_t i = 0;
    long long v = 0;

    while (i < 15 && s[i] == ' ')
        i++;
    if (!is_digits(s + i, 15 - i))
        return -1;
    for (; i < 15; i++)
        v = v * 10 + (s[i] - '0');
    *out = v;
    return 0;
}

/* Parse an S payload; 0 or -1. */
static int parse_sizes(const char *s, size_t len, long long out[3])
{
    if (len != REC_SIZE_LEN || s[15] != ' ' || s[31] != ' ')
        return -1;
    for (int i = 0; i < 3; i++)
        if (parse_size_field(s + 16 * i, &out[i]) < 0)
            return -1;
    return 0;
}

/* Parse a T payload: seconds, '.', six digits of microseconds. */
static int parse_time(const char *s, size_t len, long long *sec, long *usec)
{
    const char *dot = memchr(s, '.', len);
    size_t int_len;
    long long v = 0;
    long u = 0;

    if (dot == NULL)
        return -1;
    int_len = (size_t)(dot - s);
    if (int_len > 15 || !is_digits(s, int_len) || len - int_len - 1 != 6 || !is_digits(dot + 1, 6))
        return -1;
    for (size_t i = 0; i < int_len; i++)
        v = v * 10 + (s[i] - '0');
    for (int i = 1; i <= 6; i++)
        u = u * 10 + (dot[i] - '0');
    *sec = v;
    *usec = u;
    return 0;
}

/* Parse an n payload: decimal 1..15; NEVER (1) excludes the others. */
static int parse_notify(const char *s, size_t len, int *out)
{
    int v = 0;

    if (len == 0 || len > 2 || !is_digits(s, len) || s[0] == '0')
        return -1;
    for (size_t i = 0; i < len; i++)
        v = v * 10 + (s[i] - '0');
    if (v > REC_DSN_NOTIFY_MASK || ((v & REC_DSN_NOTIFY_NEVER) && v != REC_DSN_NOTIFY_NEVER))
        return -1;
    *out = v;
    return 0;
}

static int check_address(const char *data, size_t len, int empty_ok, vstr *why)
{
    if (len == 0 && !empty_ok) {
        vstr_set_str(why, "empty address");
        return -1;
    }
    if (len > QUEUE_ADDR_MAX) {
        vstr_set_fmt(why, "address longer than %d bytes", QUEUE_ADDR_MAX);
        return -1;
    }
    if (has_control(data, len)) {
        vstr_set_str(why, "control character in address");
        return -1;
    }
    return 0;
}

/* An A payload: name=value, name of [A-Za-z0-9_-], value without controls. */
static int check_attr(const char *data, size_t len, vstr *why)
{
    const char *eq = memchr(data, '=', len);
    size_t name_len;

    if (len > QUEUE_ATTR_MAX) {
        vstr_set_fmt(why, "attribute longer than %d bytes", QUEUE_ATTR_MAX);
        return -1;
    }
    if (eq == NULL || eq == data) {
        vstr_set_str(why, "attribute is not name=value");
        return -1;
    }
    name_len = (size_t)(eq - data);
    if (name_len > QUEUE_ATTR_NAME_MAX) {
        vstr_set_str(why, "attribute name too long");
        return -1;
    }
    for (size_t i = 0; i < name_len; i++) {
        char c = data[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-')) {
            vstr_set_str(why, "bad character in attribute name");
            return -1;
        }
    }
    if (has_control(eq + 1, len - name_len - 1)) {
        vstr_set_str(why, "control character in attribute value");
        return -1;
    }
    return 0;
}

/* Payload check for a type that is allowed here. */
static int check_payload(const queue_grammar *g, int type, const char *data, size_t len, vstr *why)
{
    long long sizes[3], sec;
    long usec;
    int notify;

    switch (type) {
    case REC_TYPE_VERSION:
        if (len != strlen(REC_VERSION) || memcmp(data, REC_VERSION, len) != 0) {
            vstr_set_str(why, "unsupported version");
            return -1;
        }
        return 0;
    case REC_TYPE_SIZE:
        if (parse_sizes(data, len, sizes) < 0) {
            vstr_set_str(why, "malformed size record");
            return -1;
        }
        return 0;
    case REC_TYPE_TIME:
        if (parse_time(data, len, &sec, &usec) < 0) {
            vstr_set_str(why, "malformed arrival time");
            return -1;
        }
        return 0;
    case REC_TYPE_FROM:
        return check_address(data, len, 1, why);
    case REC_TYPE_ORCP:
    case REC_TYPE_RCPT:
    case REC_TYPE_DONE:
        return check_address(data, len, 0, why);
    case REC_TYPE_DSN_ORCPT: {
        const char *semi = memchr(data, ';', len);

        if (semi == NULL || semi == data || semi == data + len - 1) {
            vstr_set_str(why, "DSN original recipient is not type;address");
            return -1;
        }
        return check_address(data, len, 0, why);
    }
    case REC_TYPE_DSN_NOTIFY:
        if (parse_notify(data, len, &notify) < 0) {
            vstr_set_str(why, "malformed DSN notify mask");
            return -1;
        }
        return 0;
    case REC_TYPE_ATTR:
        if (g->attrs >= QUEUE_ATTR_COUNT_MAX) {
            vstr_set_fmt(why, "more than %d attributes", QUEUE_ATTR_COUNT_MAX);
            return -1;
        }
        return check_attr(data, len, why);
    case REC_TYPE_MESG:
    case REC_TYPE_END:
        if (len != 0) {
            vstr_set_fmt(why, "%s record with a payload", rec_type_name(type));
            return -1;
        }
        return 0;
    default:
        return 0; /* L and P: any bytes */
    }
}

/* Is type allowed in the current state? On no, why says what was expected. */
static int type_allowed(const queue_grammar *g, int type, vstr *why)
{
    int maildrop = g->kind == QUEUE_FILE_MAILDROP;
    const char *expect = NULL;

    switch (g->state) {
    case G_START:
        if (type == REC_TYPE_VERSION)
            return 1;
        expect = "version record first";
        break;
    case G_VERSION:
        if (type == (maildrop ? REC_TYPE_TIME : REC_TYPE_SIZE))
            return 1;
        expect = maildrop ? "arrival time after version" : "size record after version";
        break;
    case G_SIZE:
        if (type == REC_TYPE_TIME)
            return 1;
        expect = "arrival time after size record";
        break;
    case G_TIME:
        if (type == REC_TYPE_FROM)
            return 1;
        expect = "sender after arrival time";
        break;
    case G_SENDER:
    case G_RCPTS:
        if (type == REC_TYPE_ATTR && g->state == G_SENDER)
            return 1;
        if (type == REC_TYPE_ORCP && g->rcpt_prefix < PREFIX_ORCP)
            return 1;
        if (type == REC_TYPE_DSN_ORCPT && !maildrop && g->rcpt_prefix < PREFIX_DSN_ORCPT)
            return 1;
        if (type == REC_TYPE_DSN_NOTIFY && g->rcpt_prefix < PREFIX_DSN_NOTIFY)
            return 1;
        if (type == REC_TYPE_RCPT || (type == REC_TYPE_DONE && !maildrop))
            return 1;
        if (type == REC_TYPE_MESG && g->rcpt_prefix == PREFIX_NONE && (maildrop || g->rcpts > 0))
            return 1;
        if (type == REC_TYPE_MESG && g->rcpt_prefix != PREFIX_NONE)
            expect = "recipient after its original recipient or DSN records";
        else if (type == REC_TYPE_MESG)
            expect = "at least one recipient";
        else if (type == REC_TYPE_ATTR)
            expect = "attributes before recipients";
        else if (type == REC_TYPE_ORCP || type == REC_TYPE_DSN_ORCPT ||
                 type == REC_TYPE_DSN_NOTIFY)
            expect = maildrop && type == REC_TYPE_DSN_ORCPT
                         ? "no DSN original recipient in a maildrop file"
                         : "O, o, n at most once each and in that order before a recipient";
        else if (type == REC_TYPE_DONE)
            expect = "no done recipients in a maildrop file";
        else
            expect = "envelope records before content";
        break;
    case G_CONTENT:
        if (type == REC_TYPE_NORM || type == REC_TYPE_CONT)
            return 1;
        if (type == REC_TYPE_END && !g->in_piece)
            return 1;
        expect = type == REC_TYPE_END ? "line after a piece" : "content or end records";
        break;
    case G_DONE:
        expect = "nothing after the end record";
        break;
    }
    vstr_set_fmt(why, "unexpected %s record: expected %s",
                 rec_type_name(type) ? rec_type_name(type) : "unknown", expect);
    return 0;
}

int queue_grammar_check(queue_grammar *g, int type, const char *data, size_t len, vstr *why)
{
    if (rec_type_name(type) == NULL) {
        vstr_set_fmt(why, "unknown record type 0x%02x", (unsigned)type & 0xff);
        return -1;
    }
    if (!type_allowed(g, type, why) || check_payload(g, type, data, len, why) < 0)
        return -1;
    switch (type) {
    case REC_TYPE_VERSION:
        g->state = G_VERSION;
        break;
    case REC_TYPE_SIZE:
        g->state = G_SIZE;
        break;
    case REC_TYPE_TIME:
        g->state = G_TIME;
        break;
    case REC_TYPE_FROM:
        g->state = G_SENDER;
        break;
    case REC_TYPE_ATTR:
        g->attrs++;
        break;
    case REC_TYPE_ORCP:
        g->rcpt_prefix = PREFIX_ORCP;
        g->state = G_RCPTS;
        break;
    case REC_TYPE_DSN_ORCPT:
        g->rcpt_prefix = PREFIX_DSN_ORCPT;
        g->state = G_RCPTS;
        break;
    case REC_TYPE_DSN_NOTIFY:
        g->rcpt_prefix = PREFIX_DSN_NOTIFY;
        g->state = G_RCPTS;
        break;
    case REC_TYPE_RCPT:
    case REC_TYPE_DONE:
        g->rcpt_prefix = PREFIX_NONE;
        g->rcpts++;
        g->state = G_RCPTS;
        break;
    case REC_TYPE_MESG:
        g->state = G_CONTENT;
        break;
    case REC_TYPE_NORM:
        g->in_piece = 0;
        break;
    case REC_TYPE_CONT:
        g->in_piece = 1;
        break;
    case REC_TYPE_END:
        g->state = G_DONE;
        break;
    }
    return 0;
}

/* ---- Writing: the commit protocol ---- */

struct queue_file {
    char *queue_dir; /* QUEUE_DIR */
    char *dir_path;  /* QUEUE_DIR/QUEUE_NAME, for messages */
    int dir_fd;     /* that directory: every name below is relative to it */
    char temp[64];  /* ".tPID.N" */
    char id[QUEUE_ID_SIZE];
    int fd;
    vstream *fp;
    mode_t mode;
    off_t size_offset; /* where the S record starts; -1 when there is none */
    long long sizes[3];
    int sizes_set;
};

static void queue_file_free(queue_file *qf)
{
    if (qf->fp)
        (void)vstream_close(qf->fp);
    else if (qf->fd >= 0)
        (void)close(qf->fd);
    if (qf->dir_fd >= 0)
        (void)close(qf->dir_fd);
    mem_free(qf->queue_dir);
    mem_free(qf->dir_path);
    mem_free(qf);
}

/* A name for a directory entry: no slash, not "." or "..". */
static int plain_name(const char *s)
{
    return *s && strchr(s, '/') == NULL && strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

queue_file *queue_file_create(const char *queue_dir, const char *queue_name, mode_t mode,
                              vstr *err)
{
    static unsigned counter;
    queue_file *qf;
    struct stat st;
    struct timeval tv;

    if (!plain_name(queue_name))
        msg_panic("queue_file_create: bad queue name \"%s\"", queue_name);
    qf = mem_calloc(1, sizeof(*qf));
    qf->fd = -1;
    qf->size_offset = -1;
    qf->mode = mode;
    qf->queue_dir = mem_strdup(queue_dir);
    qf->dir_path = mem_alloc(strlen(queue_dir) + strlen(queue_name) + 2);
    sprintf(qf->dir_path, "%s/%s", queue_dir, queue_name);
    qf->dir_fd = open(qf->dir_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (qf->dir_fd < 0) {
        vstr_set_fmt(err, "open directory %s: %s", qf->dir_path, strerror(errno));
        queue_file_free(qf);
        return NULL;
    }
    /* O_EXCL never follows a symlink and never reuses a name: a stale
     * temporary file from a crash just means another try. */
    for (int tries = 0; qf->fd < 0; tries++) {
        snprintf(qf->temp, sizeof(qf->temp), ".t%ld.%u", (long)getpid(), counter++);
        qf->fd = openat(qf->dir_fd, qf->temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                        0600);
        if (qf->fd < 0 && (errno != EEXIST || tries >= 100)) {
            vstr_set_fmt(err, "create %s/%s: %s", qf->dir_path, qf->temp, strerror(errno));
            queue_file_free(qf);
            return NULL;
        }
    }
    if (fstat(qf->fd, &st) < 0) {
        vstr_set_fmt(err, "fstat %s/%s: %s", qf->dir_path, qf->temp, strerror(errno));
        queue_file_abort(qf);
        return NULL;
    }
    /* The time after the inode exists: a file that had this inode before
     * is gone, and the clock has moved on since it was named. */
    gettimeofday(&tv, NULL);
    queue_id_make(qf->id, (long long)tv.tv_sec, (long)tv.tv_usec, (uint64_t)st.st_ino);
    qf->fp = vstream_fdopen(qf->fd, VSTREAM_WRITE);
    return qf;
}

const char *queue_file_id(const queue_file *qf)
{
    return qf->id;
}

vstream *queue_file_stream(queue_file *qf)
{
    return qf->fp;
}

const char *queue_file_temp_name(const queue_file *qf)
{
    return qf->temp;
}

int queue_file_put_sizes(queue_file *qf)
{
    char zeros[REC_SIZE_LEN + 1];

    qf->size_offset = vstream_tell(qf->fp);
    if (qf->size_offset < 0)
        return -1;
    snprintf(zeros, sizeof(zeros), REC_SIZE_FORMAT, 0LL, 0LL, 0LL);
    return rec_put(qf->fp, REC_TYPE_SIZE, zeros, REC_SIZE_LEN);
}

void queue_file_set_sizes(queue_file *qf, long long content_offset, long long content_bytes,
                          long long rcpt_count)
{
    qf->sizes[0] = content_offset;
    qf->sizes[1] = content_bytes;
    qf->sizes[2] = rcpt_count;
    qf->sizes_set = 1;
}

int queue_file_commit(queue_file *qf, vstr *err)
{
    return queue_file_commit_in(qf, NULL, err);
}

int queue_file_commit_in(queue_file *qf, const char *queue_name, vstr *err)
{
    const char *step;
    int to_fd = qf->dir_fd;
    char *to_path = NULL;

    if (qf->size_offset >= 0) {
        char payload[REC_SIZE_LEN + 1];

        if (!qf->sizes_set)
            msg_panic("queue_file_commit: %s: sizes not set", qf->id);
        snprintf(payload, sizeof(payload), REC_SIZE_FORMAT, qf->sizes[0], qf->sizes[1],
                 qf->sizes[2]);
        step = "write";
        /* Type byte and one length byte precede the payload. */
        if (vstream_flush(qf->fp) < 0 ||
            pwrite(qf->fd, payload, REC_SIZE_LEN, qf->size_offset + 2) != REC_SIZE_LEN)
            goto fail;
    }
    step = "write";
    if (vstream_flush(qf->fp) < 0)
        goto fail;
    step = "chmod";
    if (fchmod(qf->fd, qf->mode) < 0)
        goto fail;
    step = "fsync";
    if (fileio_fsync(qf->fd) < 0)
        goto fail;
    if (queue_name) {
        if (!plain_name(queue_name))
            msg_panic("queue_file_commit_in: bad queue name \"%s\"", queue_name);
        to_path = mem_alloc(strlen(qf->queue_dir) + strlen(queue_name) + 2);
        sprintf(to_path, "%s/%s", qf->queue_dir, queue_name);
        step = "open directory";
        if ((to_fd = open(to_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
            goto fail;
    }
    step = "rename";
    /* EEXIST: the clock went back onto a live id; the caller retries later. */
    if (fileio_rename_noreplace(qf->dir_fd, qf->temp, to_fd, qf->id) < 0)
        goto fail;
    if (fileio_fsync(to_fd) < 0) {
        /* Reported as not queued, so it must not stay to be delivered as
         * well as resubmitted. */
        vstr_set_fmt(err, "fsync %s: %s", to_path ? to_path : qf->dir_path, strerror(errno));
        (void)unlinkat(to_fd, qf->id, 0);
        goto out;
    }
    /* The temporary name's removal from the first directory need not be
     * durable: a temporary file found after a crash is no queue file. */
    if (to_path)
        (void)close(to_fd);
    mem_free(to_path);
    queue_file_free(qf);
    return 0;

fail:
    vstr_set_fmt(err, "%s %s/%s: %s", step, qf->dir_path, qf->temp, strerror(errno));
    if (to_path && to_fd >= 0)
        (void)close(to_fd);
    mem_free(to_path);
    queue_file_abort(qf);
    return -1;
out:
    if (to_path)
        (void)close(to_fd);
    mem_free(to_path);
    queue_file_free(qf);
    return -1;
}

int queue_file_read_temp(queue_file *qf)
{
    if (vstream_flush(qf->fp) < 0)
        return -1;
    return openat(qf->dir_fd, qf->temp, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
}

void queue_file_adopt_id(queue_file *qf, const queue_file *from)
{
    snprintf(qf->id, sizeof(qf->id), "%s", from->id);
}

void queue_file_abort(queue_file *qf)
{
    if (qf->fp) {
        (void)vstream_close(qf->fp);
        qf->fp = NULL;
        qf->fd = -1;
    }
    if (qf->dir_fd >= 0 && qf->temp[0])
        (void)unlinkat(qf->dir_fd, qf->temp, 0);
    queue_file_free(qf);
}

/* ---- Reading ---- */

struct queue_reader {
    char *name;
    int fd;
    vstream *fp;
    queue_file_kind kind; /* as asked; AUTO until the second record */
    queue_grammar g;
    queue_grammar g_content; /* the grammar as it was at the first content record */
    rec_read cur;
    vstr buf;
    queue_envelope env;
    int env_state; /* 0: not read; 1: read; -1: failed */
    char *pending_orcp, *pending_dsn_orcpt;
    int pending_notify;
    /* Content. */
    vstr pend; /* payload of the current L or P record */
    size_t pend_pos;
    int pend_type; /* 0 when there is none */
    int content_done;
    int failed;
    vstr error, reason;
    off_t error_offset;
};

static void reader_error(queue_reader *r, off_t offset, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void reader_error(queue_reader *r, off_t offset, const char *fmt, ...)
{
    va_list ap;

    r->failed = 1;
    r->error_offset = offset;
    vstr_reset(&r->reason);
    va_start(ap, fmt);
    vstr_append_vfmt(&r->reason, fmt, ap);
    va_end(ap);
    vstr_set_fmt(&r->error, "offset %lld: %s", (long long)offset, vstr_str(&r->reason));
}

queue_reader *queue_file_open_fd(int fd, const char *name, queue_file_kind kind)
{
    queue_reader *r = mem_calloc(1, sizeof(*r));

    r->name = mem_strdup(name);
    r->fd = fd;
    r->fp = vstream_fdopen(fd, VSTREAM_READ);
    r->kind = kind;
    r->env.kind = kind == QUEUE_FILE_AUTO ? QUEUE_FILE_QUEUE : kind;
    queue_grammar_init(&r->g, r->env.kind);
    r->cur = (rec_read)REC_READ_INIT;
    r->error_offset = -1;
    return r;
}

queue_reader *queue_file_open_path(const char *path, queue_file_kind kind, vstr *err)
{
    struct stat st;
    int fd, flags;

    /* O_NONBLOCK: opening a FIFO planted here must not hang us. */
    fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ELOOP)
            vstr_set_fmt(err, "%s: is a symbolic link", path);
        else
            vstr_set_fmt(err, "open %s: %s", path, strerror(errno));
        return NULL;
    }
    if (fstat(fd, &st) < 0) {
        vstr_set_fmt(err, "fstat %s: %s", path, strerror(errno));
        close(fd);
        return NULL;
    }
    if (!S_ISREG(st.st_mode)) {
        vstr_set_fmt(err, "%s: not a regular file", path);
        close(fd);
        return NULL;
    }
    if ((flags = fcntl(fd, F_GETFL)) < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0) {
        vstr_set_fmt(err, "fcntl %s: %s", path, strerror(errno));
        close(fd);
        return NULL;
    }
    return queue_file_open_fd(fd, path, kind);
}

queue_reader *queue_file_open(const char *queue_dir, const char *queue_name, const char *id,
                              queue_file_kind kind, vstr *err)
{
    vstr path = VSTR_INIT;
    queue_reader *r;

    if (!plain_name(queue_name)) {
        vstr_set_fmt(err, "bad queue name \"%s\"", queue_name);
        return NULL;
    }
    if (!queue_id_valid(id)) {
        vstr_set_str(err, "bad queue id");
        return NULL;
    }
    vstr_set_fmt(&path, "%s/%s/%s", queue_dir, queue_name, id);
    r = queue_file_open_path(vstr_str(&path), kind, err);
    vstr_release(&path);
    return r;
}

int queue_file_fd(const queue_reader *r)
{
    return r->fd;
}

const char *queue_file_name(const queue_reader *r)
{
    return r->name;
}

const char *queue_file_error(const queue_reader *r)
{
    return vstr_str(&r->error);
}

off_t queue_file_error_offset(const queue_reader *r)
{
    return r->error_offset;
}

const char *queue_file_error_reason(const queue_reader *r)
{
    return vstr_str(&r->reason);
}

const char *queue_envelope_attr(const queue_envelope *env, const char *name)
{
    for (size_t i = env->attr_count; i-- > 0;)
        if (strcmp(env->attrs[i].name, name) == 0)
            return env->attrs[i].value;
    return NULL;
}

const queue_envelope *queue_file_envelope(const queue_reader *r)
{
    return &r->env;
}

/* Read the next record and check it against the grammar; 0, or -1 with
 * the reader's error set. REC_EOF is an error here: every caller is
 * waiting for a record the grammar still requires. */
static int next_record(queue_reader *r)
{
    rec_status st = rec_get(r->fp, REC_PAYLOAD_MAX, &r->cur, &r->buf);
    vstr why = VSTR_INIT;

    if (st == REC_EOF) {
        reader_error(r, r->cur.offset, "file ends before the end record");
        return -1;
    }
    if (st == REC_ERR_TYPE) {
        reader_error(r, r->cur.offset, "unknown record type 0x%02x", (unsigned)r->cur.type);
        return -1;
    }
    if (st == REC_ERR_OVERSIZE) {
        reader_error(r, r->cur.offset, "%s (%zu bytes)", rec_strerror(st), r->cur.len);
        return -1;
    }
    if (st == REC_ERR_IO) {
        reader_error(r, r->cur.offset, "%s: %s", rec_strerror(st), strerror(errno));
        return -1;
    }
    if (st != REC_OK) {
        reader_error(r, r->cur.offset, "%s", rec_strerror(st));
        return -1;
    }
    /* AUTO: a V followed by T is a maildrop file; start over as one. */
    if (r->kind == QUEUE_FILE_AUTO && r->g.state == G_VERSION && r->cur.type == REC_TYPE_TIME &&
        r->env.kind == QUEUE_FILE_QUEUE) {
        r->env.kind = QUEUE_FILE_MAILDROP;
        queue_grammar_init(&r->g, QUEUE_FILE_MAILDROP);
        (void)queue_grammar_check(&r->g, REC_TYPE_VERSION, REC_VERSION, strlen(REC_VERSION), &why);
    }
    if (queue_grammar_check(&r->g, r->cur.type, vstr_str(&r->buf), vstr_len(&r->buf), &why) < 0) {
        reader_error(r, r->cur.offset, "%s", vstr_str(&why));
        vstr_release(&why);
        return -1;
    }
    vstr_release(&why);
    return 0;
}

static void add_attr(queue_envelope *env, const char *data, size_t len)
{
    const char *eq = memchr(data, '=', len);

    env->attrs = mem_reallocarray(env->attrs, env->attr_count + 1, sizeof(queue_attr));
    env->attrs[env->attr_count++] =
        (queue_attr){mem_strndup(data, (size_t)(eq - data)),
                     mem_memdup0(eq + 1, len - (size_t)(eq - data) - 1)};
}

static void add_rcpt(queue_reader *r, int done)
{
    queue_envelope *env = &r->env;

    if ((env->rcpt_count & (env->rcpt_count - 1)) == 0)
        env->rcpts = mem_reallocarray(env->rcpts, env->rcpt_count ? env->rcpt_count * 2 : 1,
                                      sizeof(queue_rcpt));
    env->rcpts[env->rcpt_count++] = (queue_rcpt){mem_memdup0(vstr_str(&r->buf), vstr_len(&r->buf)),
                                                 r->pending_orcp,
                                                 r->pending_dsn_orcpt,
                                                 r->pending_notify,
                                                 r->cur.offset,
                                                 done};
    r->pending_orcp = r->pending_dsn_orcpt = NULL;
    r->pending_notify = 0;
}

const queue_envelope *queue_file_read_envelope(queue_reader *r)
{
    queue_envelope *env = &r->env;

    if (r->env_state)
        return r->env_state > 0 ? env : NULL;
    r->env_state = -1;
    for (;;) {
        const char *data;
        size_t len;
        long long sizes[3];

        if (next_record(r) < 0)
            return NULL;
        data = vstr_str(&r->buf);
        len = vstr_len(&r->buf);
        switch (r->cur.type) {
        case REC_TYPE_SIZE:
            (void)parse_sizes(data, len, sizes);
            env->size_content_offset = sizes[0];
            env->size_content_bytes = sizes[1];
            env->size_rcpt_count = sizes[2];
            break;
        case REC_TYPE_TIME:
            (void)parse_time(data, len, &env->arrival_sec, &env->arrival_usec);
            break;
        case REC_TYPE_FROM:
            env->sender = mem_memdup0(data, len);
            break;
        case REC_TYPE_ATTR:
            add_attr(env, data, len);
            break;
        case REC_TYPE_ORCP:
            r->pending_orcp = mem_memdup0(data, len);
            break;
        case REC_TYPE_DSN_ORCPT:
            r->pending_dsn_orcpt = mem_memdup0(data, len);
            break;
        case REC_TYPE_DSN_NOTIFY:
            (void)parse_notify(data, len, &r->pending_notify);
            break;
        case REC_TYPE_RCPT:
        case REC_TYPE_DONE:
            add_rcpt(r, r->cur.type == REC_TYPE_DONE);
            break;
        case REC_TYPE_MESG:
            env->content_offset = r->cur.next;
            r->g_content = r->g;
            /* The S record is patched at commit; one that disagrees with
             * the file means the file is not what was committed. */
            if (env->kind == QUEUE_FILE_QUEUE &&
                (env->size_content_offset != (long long)env->content_offset ||
                 env->size_rcpt_count != (long long)env->rcpt_count)) {
                reader_error(r, r->cur.offset,
                             "size record disagrees with the file (content offset %lld, "
                             "%lld recipients)",
                             env->size_content_offset, env->size_rcpt_count);
                return NULL;
            }
            r->env_state = 1;
            return env;
        }
    }
}

queue_line_status queue_file_read_line(queue_reader *r, vstr *line, size_t bound)
{
    if (r->env_state <= 0)
        msg_panic("queue_file_read_line: %s: envelope not read", r->name);
    if (bound == 0)
        msg_panic("queue_file_read_line: zero bound");
    vstr_reset(line);
    if (r->failed)
        return QUEUE_ERROR;
    if (r->content_done)
        return QUEUE_END;
    for (;;) {
        if (r->pend_type) {
            size_t left = vstr_len(&r->pend) - r->pend_pos;
            size_t room = bound - vstr_len(line);
            size_t take = left < room ? left : room;

            vstr_append(line, vstr_str(&r->pend) + r->pend_pos, take);
            r->pend_pos += take;
            if (r->pend_pos == vstr_len(&r->pend)) {
                int type = r->pend_type;

                r->pend_type = 0;
                if (type == REC_TYPE_NORM)
                    return QUEUE_LINE;
            }
            if (vstr_len(line) == bound)
                return QUEUE_PIECE;
            continue;
        }
        if (next_record(r) < 0)
            return QUEUE_ERROR;
        if (r->cur.type == REC_TYPE_END) {
            rec_status st;
            rec_read after = r->cur;

            st = rec_get(r->fp, 0, &after, &r->buf);
            if (st != REC_EOF) {
                reader_error(r, after.offset, "data after the end record");
                return QUEUE_ERROR;
            }
            r->content_done = 1;
            return QUEUE_END;
        }
        /* Swap buffers: the record's payload becomes the pending one. */
        {
            vstr tmp = r->pend;

            r->pend = r->buf;
            r->buf = tmp;
        }
        r->pend_pos = 0;
        r->pend_type = r->cur.type;
    }
}

int queue_file_rewind_content(queue_reader *r)
{
    if (r->env_state <= 0)
        msg_panic("queue_file_rewind_content: %s: envelope not read", r->name);
    if (vstream_seek(r->fp, r->env.content_offset, SEEK_SET) < 0) {
        reader_error(r, r->env.content_offset, "seek: %s", strerror(errno));
        return -1;
    }
    r->cur.next = r->env.content_offset;
    r->g = r->g_content;
    r->pend_type = 0;
    r->content_done = 0;
    r->failed = 0;
    vstr_reset(&r->error);
    vstr_reset(&r->reason);
    r->error_offset = -1;
    return 0;
}

void queue_file_close(queue_reader *r)
{
    queue_envelope *env = &r->env;

    if (r->fp)
        (void)vstream_close(r->fp);
    mem_free(r->name);
    mem_free(env->sender);
    for (size_t i = 0; i < env->attr_count; i++) {
        mem_free(env->attrs[i].name);
        mem_free(env->attrs[i].value);
    }
    mem_free(env->attrs);
    for (size_t i = 0; i < env->rcpt_count; i++) {
        mem_free(env->rcpts[i].address);
        mem_free(env->rcpts[i].orig_rcpt);
        mem_free(env->rcpts[i].dsn_orcpt);
    }
    mem_free(env->rcpts);
    mem_free(r->pending_orcp);
    mem_free(r->pending_dsn_orcpt);
    vstr_release(&r->buf);
    vstr_release(&r->pend);
    vstr_release(&r->error);
    vstr_release(&r->reason);
    mem_free(r);
}
