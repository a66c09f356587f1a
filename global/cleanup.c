/*
 * cleanup - the queue-file writer
 *
 * Two phases. While the header block is read, lines are kept in memory
 * (hbuf, bounded by header_size_limit) and nothing but the queue file's
 * creation has touched the disk. When the block ends (an empty line, a
 * line that is no header, the size bound, or the end of input) the
 * headers are inspected, recipients extracted, and the whole envelope,
 * Received:, the headers and the added headers are written at once. From
 * then on each body line goes straight to the file, split into pieces of
 * line_length_limit bytes, so memory stays bounded whatever the sender
 * does.
 *
 * Offsets are counted here (rec_size of every record written) rather
 * than asked of the stream, so the S record's content offset is exact
 * without flushing.
 */
#include <errno.h>
#include <unistd.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>

#include "util/argv.h"
#include "util/htable.h"
#include "util/mem.h"
#include "util/msg.h"
#include "global/addr_list.h"
#include "global/addr_rewrite.h"
#include "global/cleanup.h"
#include "global/cleanup_checks.h"
#include "global/dsn.h"
#include "global/header_rewrite.h"
#include "global/mail_date.h"
#include "global/mime.h"
#include "global/queue_file.h"
#include "global/rec.h"

const cleanup_status_info cleanup_status_table[] = {
    {CLEANUP_OK, 250, "2.0.0", "queued"},
    {CLEANUP_WRITE, 451, "4.3.0", "queue file write error"},
    {CLEANUP_SIZE, 552, "5.3.4", "message file too big"},
    {CLEANUP_HOPS, 554, "5.4.6", "too many hops"},
    {CLEANUP_NO_RCPT, 550, "5.1.3", "no recipients specified"},
    {CLEANUP_BAD_HEADER, 550, "5.6.0", "malformed address header"},
    {CLEANUP_BAD_ADDR, 553, "5.1.3", "bad address syntax"},
    {CLEANUP_CONTENT, 550, "5.7.1", "message content rejected"},
    {CLEANUP_TABLE, 451, "4.3.0", "temporary lookup failure"},
    {CLEANUP_ALIAS, 451, "4.6.0", "alias expansion error"},
    {CLEANUP_OK, 0, NULL, NULL},
};

static const cleanup_status_info *status_info(cleanup_status st)
{
    for (const cleanup_status_info *i = cleanup_status_table; i->text; i++)
        if (i->status == st)
            return i;
    msg_panic("cleanup: unknown status %d", (int)st);
}

const char *cleanup_status_dsn(cleanup_status st)
{
    return status_info(st)->dsn;
}

int cleanup_status_smtp(cleanup_status st)
{
    return status_info(st)->smtp_code;
}

const char *cleanup_status_text(cleanup_status st)
{
    return status_info(st)->text;
}

/* Most addresses extracted from one header block: the block is at most
 * header_size_limit bytes, so this only stops absurd inputs sooner. */
#define CLEANUP_EXTRACT_MAX 10000

typedef struct cleanup_rcpt {
    char *addr;
    char *orig; /* NULL when none */
    char *dsn_orcpt;
    int dsn_notify;
} cleanup_rcpt;

/* One physical header line in hbuf. */
typedef struct hline {
    size_t off, len;
    size_t header; /* index of the logical header it belongs to */
} hline;

/* One logical header: physical lines [first, first + count). */
typedef struct header {
    size_t first, count;
    int drop;      /* not written (Bcc: when extracting, IGNORE) */
    char *replace; /* written instead (REPLACE); NULL: none */
    char *prepend; /* written before it (PREPEND); NULL: none */
} header;

enum phase { PHASE_HEADERS, PHASE_BODY, PHASE_DONE };

struct cleanup {
    queue_file *qf;
    char id[QUEUE_ID_SIZE];
    int flags;
    cleanup_status status;
    vstr reason;

    /* Parameters, read once (copies: a config_override clears the cache). */
    char *queue_dir;
    char *myhostname;
    char *myorigin;
    char *remote_header_domain; /* remote_header_rewrite_domain */
    long long message_size_limit;
    long long header_size_limit;
    size_t line_length_limit;
    long long hopcount_limit;
    argv_t *drop_headers; /* message_drop_headers */
    int sasl_header; /* smtpd_sasl_authenticated_header */

    /* Envelope, kept until the header block ends. */
    long long arrival_sec;
    long arrival_usec;
    char *sender; /* NULL until set (or when it was refused) */
    int sender_set;
    queue_attr *attrs;
    size_t attr_count, attr_cap;
    cleanup_rcpt *rcpts;
    size_t rcpt_count, rcpt_cap;
    htable *rcpt_seen;
    addr_rewrite *rw; /* the process's rewriting tables (global/addr_rewrite) */

    /* Content. */
    enum phase phase;
    vstr cur;     /* the physical line being assembled (header phase) */
    int cur_open; /* cur holds part of a line (pieces seen) */
    vstr hbuf;    /* header lines, back to back */
    hline *hlines;
    size_t hline_count, hline_cap;
    header *headers;
    size_t header_count, header_cap;
    vstr first_body; /* the line that ended the header block, if any */
    int have_first_body;
    int first_body_open; /* it is still incomplete (more pieces follow) */
    vstr pend;           /* body: bytes of the current line not yet written */
    long long input_bytes;
    long long content_bytes; /* as written: bytes plus one per line */
    long long offset;        /* bytes written to the file so far */
    long long content_offset;

    /* Actions (cleanup_hold and the others). */
    int hold;             /* commit into hold, not incoming */
    int discard;          /* accept, commit nothing */
    char *redirect;       /* every recipient becomes this one; NULL: none */
    argv_t *prepend;      /* headers to put first */
    int envelope_written; /* the envelope is in the file */
    int envelope_changed; /* ... and changed since: rewritten at finish */

    /* Content checks (cleanup_set_checks); NULL: none. */
    const cleanup_checks *checks;
    mime_state *mime;          /* the body's MIME structure; NULL: not parsed */
    long long part_body_bytes; /* of the current body part, for body_checks_size_limit */
    int body_mid_line;         /* the last body record did not end its line */
    int body_skip_rest;        /* the rest of this line was dropped or replaced */
};

/* ---- Errors ---- */

static void fail(cleanup *c, cleanup_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail(cleanup *c, cleanup_status st, const char *fmt, ...)
{
    va_list ap;

    if (c->status != CLEANUP_OK)
        return;
    c->status = st;
    vstr_reset(&c->reason);
    va_start(ap, fmt);
    vstr_append_vfmt(&c->reason, fmt, ap);
    va_end(ap);
}

/* ---- Writing records ---- */

static void put(cleanup *c, int type, const char *data, size_t len)
{
    if (c->status != CLEANUP_OK)
        return;
    if (rec_put(queue_file_stream(c->qf), type, data, len) < 0) {
        fail(c, CLEANUP_WRITE, "queue file write error: %s", strerror(errno));
        return;
    }
    c->offset += (long long)rec_size(len);
}

static void put_str(cleanup *c, int type, const char *s)
{
    put(c, type, s, strlen(s));
}

/* One complete content line, split into pieces of line_length_limit. */
static void put_content_line(cleanup *c, const char *data, size_t len)
{
    while (len > c->line_length_limit) {
        put(c, REC_TYPE_CONT, data, c->line_length_limit);
        data += c->line_length_limit;
        len -= c->line_length_limit;
        c->content_bytes += (long long)c->line_length_limit;
    }
    put(c, REC_TYPE_NORM, data, len);
    c->content_bytes += (long long)len + 1;
}

/* Body bytes of a line that may continue: write all but the last
 * line_length_limit bytes as pieces now, keep the rest, so that the final
 * record of every line is an L. */
static void body_append(cleanup *c, const char *data, size_t len, int line_ends)
{
    vstr_append(&c->pend, data, len);
    if (line_ends) {
        put_content_line(c, vstr_str(&c->pend), vstr_len(&c->pend));
        vstr_reset(&c->pend);
        return;
    }
    if (vstr_len(&c->pend) > c->line_length_limit) {
        size_t done = 0, n = vstr_len(&c->pend);

        while (n - done > c->line_length_limit) {
            put(c, REC_TYPE_CONT, vstr_str(&c->pend) + done, c->line_length_limit);
            c->content_bytes += (long long)c->line_length_limit;
            done += c->line_length_limit;
        }
        memmove(c->pend.data, c->pend.data + done, n - done);
        vstr_truncate(&c->pend, n - done);
    }
}

/* ---- Body records through the content checks ---- */

/* A body record, inspected by body_checks at the start of each line
 * (its first record) while the part is within body_checks_size_limit. */
static void body_checked(cleanup *c, int flags, const char *data, size_t len, int line_ends)
{
    if (c->body_skip_rest) {
        c->body_skip_rest = !line_ends;
        return;
    }
    if (flags & MIME_BODY_BOUNDARY)
        c->part_body_bytes = 0;
    if (c->checks && !c->body_mid_line &&
        c->part_body_bytes < cleanup_checks_body_limit(c->checks)) {
        vstr text = VSTR_INIT;
        cleanup_check_verdict v = cleanup_checks_body(c->checks, c, data, len, &text);

        if (v == CLEANUP_CHECK_REPLACE || v == CLEANUP_CHECK_PREPEND)
            body_append(c, vstr_str(&text), vstr_len(&text), 1);
        vstr_release(&text);
        if (v == CLEANUP_CHECK_DROP || v == CLEANUP_CHECK_REPLACE) {
            c->body_skip_rest = !line_ends;
            return;
        }
    }
    c->part_body_bytes += (long long)len + line_ends;
    c->body_mid_line = !line_ends;
    body_append(c, data, len, line_ends);
}

/* Header lines joined by '\n' (a part's or an attached message's header),
 * written as the checks say. */
static void body_header(cleanup *c, mime_class cls, const char *text, size_t len)
{
    vstr out = VSTR_INIT;
    cleanup_check_verdict v = cleanup_checks_header(c->checks, c, cls, text, len, &out);

    if (v == CLEANUP_CHECK_PREPEND || v == CLEANUP_CHECK_REPLACE)
        body_append(c, vstr_str(&out), vstr_len(&out), 1);
    if (v == CLEANUP_CHECK_KEEP || v == CLEANUP_CHECK_PREPEND) {
        const char *end = text + len;

        for (const char *p = text;;) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));

            body_append(c, p, nl ? (size_t)(nl - p) : (size_t)(end - p), 1);
            if (nl == NULL)
                break;
            p = nl + 1;
        }
    }
    vstr_release(&out);
}

static void mime_header_cb(void *ctx, mime_class cls, const char *text, size_t len)
{
    /* The message's own headers were inspected and written already. */
    if (cls != MIME_HDR_PRIMARY)
        body_header(ctx, cls, text, len);
}

static void mime_body_cb(void *ctx, int flags, const char *data, size_t len, int line_ends)
{
    body_checked(ctx, flags, data, len, line_ends);
}

static const mime_callbacks cleanup_mime_callbacks = {mime_header_cb, NULL, mime_body_cb};

/* A body record from the input. */
static void body_record(cleanup *c, const char *data, size_t len, int line_ends)
{
    if (c->mime)
        mime_put(c->mime, data, len, line_ends);
    else if (c->checks)
        body_checked(c, 0, data, len, line_ends);
    else
        body_append(c, data, len, line_ends);
}

/* ---- Addresses ---- */

/* Control characters never enter the queue: they would end up in headers
 * and log lines, and the reader refuses them. */
static int address_ok(cleanup *c, const char *addr, const char *what)
{
    size_t len = strlen(addr);

    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)addr[i];

        if (ch < 0x20 || ch == 0x7f) {
            fail(c, CLEANUP_BAD_ADDR, "control character in %s address", what);
            return 0;
        }
    }
    if (len > QUEUE_ADDR_MAX) {
        fail(c, CLEANUP_BAD_ADDR, "%s address longer than %d bytes", what, QUEUE_ADDR_MAX);
        return 0;
    }
    return 1;
}

/* addr with "@myorigin" appended when it has no domain; caller frees. */
static char *qualify(cleanup *c, const char *addr)
{
    vstr out = VSTR_INIT;

    vstr_set_str(&out, addr);
    if (*addr && strchr(addr, '@') == NULL) {
        vstr_append_char(&out, '@');
        vstr_append_str(&out, c->myorigin);
    }
    return vstr_steal(&out);
}

static void add_rcpt(cleanup *c, const char *addr, const char *orig, const char *dsn_orcpt,
                     int dsn_notify)
{
    char *full;
    vstr key = VSTR_INIT;

    if (*addr == 0) {
        fail(c, CLEANUP_BAD_ADDR, "empty recipient address");
        return;
    }
    if (!address_ok(c, addr, "recipient") ||
        (orig && !address_ok(c, orig, "original recipient")) ||
        (dsn_orcpt && !address_ok(c, dsn_orcpt, "DSN original recipient")))
        return;
    full = qualify(c, addr);
    if (!address_ok(c, full, "recipient")) {
        mem_free(full);
        return;
    }
    /* Addresses hold no control characters, so '\n' separates safely. */
    vstr_set_fmt(&key, "%s\n%s", full, dsn_orcpt ? dsn_orcpt : "");
    if (htable_enter(c->rcpt_seen, vstr_str(&key), NULL) == NULL) {
        mem_free(full);
        vstr_release(&key);
        return;
    }
    vstr_release(&key);
    if (orig == NULL && strcmp(full, addr) != 0)
        orig = addr;
    if (c->rcpt_count == c->rcpt_cap) {
        c->rcpt_cap = c->rcpt_cap ? c->rcpt_cap * 2 : 8;
        c->rcpts = mem_reallocarray(c->rcpts, c->rcpt_cap, sizeof(cleanup_rcpt));
    }
    c->rcpts[c->rcpt_count++] =
        (cleanup_rcpt){full, orig ? mem_strdup(orig) : NULL,
                       dsn_orcpt ? mem_strdup(dsn_orcpt) : NULL, dsn_notify & REC_DSN_NOTIFY_MASK};
}

static const char *attr_value(const cleanup *c, const char *name)
{
    for (size_t i = 0; i < c->attr_count; i++)
        if (strcmp(c->attrs[i].name, name) == 0)
            return c->attrs[i].value;
    return NULL;
}

/* ---- Public: setting up the envelope ---- */

static void check_open(const cleanup *c, const char *fn)
{
    if (c->phase == PHASE_DONE)
        msg_panic("%s: called after cleanup_finish", fn);
}

static void check_envelope_phase(const cleanup *c, const char *fn)
{
    check_open(c, fn);
    if (c->phase != PHASE_HEADERS || c->hline_count > 0 || c->cur_open)
        msg_panic("%s: envelope change after content", fn);
}

cleanup *cleanup_open(config *cfg, int flags, vstr *err)
{
    cleanup *c;
    queue_file *qf;
    struct timeval tv;
    long long v;

    qf = queue_file_create(config_str(cfg, "queue_directory"), "incoming", 0600, err);
    if (qf == NULL)
        return NULL;
    c = mem_calloc(1, sizeof(*c));
    c->qf = qf;
    snprintf(c->id, sizeof(c->id), "%s", queue_file_id(qf));
    c->flags = flags;
    c->queue_dir = mem_strdup(config_str(cfg, "queue_directory"));
    c->myhostname = mem_strdup(config_str(cfg, "myhostname"));
    c->sasl_header = config_bool(cfg, "smtpd_sasl_authenticated_header");
    c->myorigin = mem_strdup(config_str(cfg, "myorigin"));
    c->remote_header_domain = mem_strdup(config_str(cfg, "remote_header_rewrite_domain"));
    c->message_size_limit = config_size(cfg, "message_size_limit");
    c->header_size_limit = config_size(cfg, "header_size_limit");
    v = config_size(cfg, "line_length_limit");
    /* Pieces must fit a record, and a zero limit would never end. */
    c->line_length_limit = v < 1 ? 1 : v > REC_PAYLOAD_MAX ? REC_PAYLOAD_MAX : (size_t)v;
    c->hopcount_limit = config_int(cfg, "hopcount_limit");
    c->drop_headers = argv_split(config_str(cfg, "message_drop_headers"), ", \t\r\n");
    gettimeofday(&tv, NULL);
    c->arrival_sec = tv.tv_sec;
    c->arrival_usec = tv.tv_usec;
    c->rcpt_seen = htable_new(16);
    c->rw = addr_rewrite_tables(cfg);
    c->phase = PHASE_HEADERS;
    /* Postfix's content_filter: the route is decided now and travels with
     * the message (a FILTER action may replace it); qmgr honours it. A
     * service that re-injects filtered mail has it empty (-o). */
    if (*config_str(cfg, "content_filter"))
        cleanup_set_attr(c, "content_filter", config_str(cfg, "content_filter"));
    return c;
}

const char *cleanup_id(const cleanup *c)
{
    return c->id;
}

void cleanup_set_arrival(cleanup *c, long long sec, long usec)
{
    check_envelope_phase(c, "cleanup_set_arrival");
    if (sec < 0 || usec < 0 || usec >= 1000000)
        msg_panic("cleanup_set_arrival: bad time %lld.%ld", sec, usec);
    c->arrival_sec = sec;
    c->arrival_usec = usec;
}

void cleanup_set_sender(cleanup *c, const char *addr)
{
    check_envelope_phase(c, "cleanup_set_sender");
    mem_free(c->sender);
    c->sender = NULL;
    c->sender_set = 1;
    if (!address_ok(c, addr, "sender"))
        return;
    c->sender = qualify(c, addr);
    (void)address_ok(c, c->sender, "sender");
}

void cleanup_add_rcpt(cleanup *c, const char *addr, const char *orig_rcpt, const char *dsn_orcpt,
                      int dsn_notify)
{
    check_envelope_phase(c, "cleanup_add_rcpt");
    add_rcpt(c, addr, orig_rcpt, dsn_orcpt, dsn_notify);
}

/* Set attribute name, whatever the phase (the caller checks). */
static void attr_set(cleanup *c, const char *name, const char *value)
{
    size_t name_len = strlen(name), value_len = strlen(value);
    char *clean;

    if (name_len == 0 || name_len > QUEUE_ATTR_NAME_MAX ||
        strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") !=
            name_len)
        msg_panic("cleanup: bad attribute name \"%s\"", name);
    /* The reader refuses longer records: cut rather than write a file
     * nobody can read. */
    if (name_len + 1 + value_len > QUEUE_ATTR_MAX) {
        msg_warn("%s: attribute %s truncated to %d bytes", cleanup_id(c), name, QUEUE_ATTR_MAX);
        value_len = QUEUE_ATTR_MAX - name_len - 1;
    }
    clean = mem_strndup(value, value_len);
    for (char *p = clean; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
    for (size_t i = 0; i < c->attr_count; i++) {
        if (strcmp(c->attrs[i].name, name) == 0) {
            mem_free(c->attrs[i].value);
            c->attrs[i].value = clean;
            return;
        }
    }
    if (c->attr_count >= QUEUE_ATTR_COUNT_MAX) {
        msg_warn("%s: more than %d attributes; %s dropped", cleanup_id(c), QUEUE_ATTR_COUNT_MAX,
                 name);
        mem_free(clean);
        return;
    }
    if (c->attr_count == c->attr_cap) {
        c->attr_cap = c->attr_cap ? c->attr_cap * 2 : 8;
        c->attrs = mem_reallocarray(c->attrs, c->attr_cap, sizeof(queue_attr));
    }
    c->attrs[c->attr_count++] = (queue_attr){mem_strdup(name), clean};
}

void cleanup_set_attr(cleanup *c, const char *name, const char *value)
{
    check_envelope_phase(c, "cleanup_set_attr");
    attr_set(c, name, value);
}

void cleanup_set_checks(cleanup *c, const cleanup_checks *k)
{
    check_envelope_phase(c, "cleanup_set_checks");
    if (k == NULL || cleanup_checks_none(k)) {
        c->checks = NULL;
        return;
    }
    c->checks = k;
    if (c->mime == NULL && !cleanup_checks_mime_disabled(k))
        c->mime = mime_open(cleanup_checks_mime_limits(k), &cleanup_mime_callbacks, c);
}

cleanup_status cleanup_status_now(const cleanup *c)
{
    return c->status;
}

/* ---- Header inspection ---- */

static const char *hline_data(const cleanup *c, size_t i)
{
    return vstr_str(&c->hbuf) + c->hlines[i].off;
}

static int header_is(const cleanup *c, const header *h, const char *name)
{
    const char *s = hline_data(c, h->first);
    size_t n = mime_header_name_len(s, c->hlines[h->first].len);

    return n == strlen(name) && strncasecmp(s, name, n) == 0;
}

/* The unfolded value: the physical lines joined (unfolding removes only
 * the line breaks), the name and colon skipped. */
static void header_value(const cleanup *c, const header *h, vstr *out)
{
    vstr_reset(out);
    for (size_t i = h->first; i < h->first + h->count; i++)
        vstr_append(out, hline_data(c, i), c->hlines[i].len);
    {
        const char *colon = memchr(vstr_str(out), ':', vstr_len(out));
        size_t skip = (size_t)(colon - vstr_str(out)) + 1;

        memmove(out->data, out->data + skip, vstr_len(out) - skip);
        vstr_truncate(out, vstr_len(out) - skip);
    }
}

static void store_header_line(cleanup *c, const char *data, size_t len, int continuation)
{
    if (!continuation) {
        if (c->header_count == c->header_cap) {
            c->header_cap = c->header_cap ? c->header_cap * 2 : 16;
            c->headers = mem_reallocarray(c->headers, c->header_cap, sizeof(header));
        }
        c->headers[c->header_count++] = (header){c->hline_count, 0, 0, NULL, NULL};
    }
    if (c->hline_count == c->hline_cap) {
        c->hline_cap = c->hline_cap ? c->hline_cap * 2 : 32;
        c->hlines = mem_reallocarray(c->hlines, c->hline_cap, sizeof(hline));
    }
    c->hlines[c->hline_count++] = (hline){vstr_len(&c->hbuf), len, c->header_count - 1};
    c->headers[c->header_count - 1].count++;
    vstr_append(&c->hbuf, data, len);
}

/* Add recipients from the address headers named in names. */
static void extract_from(cleanup *c, const char *const *names, addr_list *list, vstr *value)
{
    for (size_t i = 0; i < c->header_count && c->status == CLEANUP_OK; i++) {
        header *h = &c->headers[i];

        for (const char *const *n = names; *n; n++) {
            vstr err = VSTR_INIT;
            addr_list_status st;

            if (!header_is(c, h, *n))
                continue;
            header_value(c, h, value);
            addr_list_reset(list);
            st = addr_list_parse(list, vstr_str(value), vstr_len(value), &err);
            if (st != ADDR_LIST_OK)
                fail(c, CLEANUP_BAD_HEADER, "malformed address in %s: header: %s", *n,
                     vstr_str(&err));
            for (size_t k = 0; k < list->count && c->status == CLEANUP_OK; k++)
                add_rcpt(c, list->entries[k].addr, NULL, NULL, 0);
            if (strcasecmp(*n, "Bcc") == 0 || strcasecmp(*n, "Resent-Bcc") == 0)
                h->drop = 1;
            vstr_release(&err);
        }
    }
}

static void extract_recipients(cleanup *c, vstr *value)
{
    static const char *const plain[] = {"To", "Cc", "Bcc", NULL};
    static const char *const resent[] = {"Resent-To", "Resent-Cc", "Resent-Bcc", NULL};
    addr_list *list = addr_list_new(CLEANUP_EXTRACT_MAX);
    int use_resent = 0;

    for (size_t i = 0; i < c->header_count; i++)
        for (const char *const *n = resent; *n; n++)
            if (header_is(c, &c->headers[i], *n))
                use_resent = 1;
    extract_from(c, use_resent ? resent : plain, list, value);
    /* Bcc: goes whichever set was used: it must never be delivered. */
    for (size_t i = 0; i < c->header_count; i++)
        if (header_is(c, &c->headers[i], "Bcc") || header_is(c, &c->headers[i], "Resent-Bcc"))
            c->headers[i].drop = 1;
    addr_list_free(list);
}

/* message_drop_headers: the message's own headers by those names are not
 * written. After header_checks, which see them, as in Postfix. */
static void drop_listed_headers(cleanup *c)
{
    for (size_t i = 0; i < c->header_count; i++)
        for (size_t k = 0; k < c->drop_headers->argc; k++)
            if (header_is(c, &c->headers[i], c->drop_headers->argv[k]))
                c->headers[i].drop = 1;
}

/* ---- Writing the envelope and the header block ---- */

/* A "\t(text)" line of Received:, when there is a text. */
static void put_comment_line(cleanup *c, vstr *line, const char *text)
{
    if (text == NULL || *text == 0)
        return;
    vstr_set_fmt(line, "\t(%s)", text);
    put_content_line(c, vstr_str(line), vstr_len(line));
}

static void put_received(cleanup *c, vstr *date)
{
    const char *client_addr = attr_value(c, "client_address");
    const char *uid = attr_value(c, "uid");
    vstr line = VSTR_INIT;

    if (client_addr) {
        const char *name = attr_value(c, "client_name");
        const char *helo = attr_value(c, "helo_name");
        const char *proto = attr_value(c, "protocol");
        const char *sasl_user = attr_value(c, "sasl_username");

        if (name == NULL || *name == 0)
            name = "unknown";
        vstr_set_fmt(&line, "Received: from %s (%s [%s])", helo && *helo ? helo : name, name,
                     client_addr);
        put_content_line(c, vstr_str(&line), vstr_len(&line));
        /* smtpd_tls_received_header: "(using TLSv1.3 with cipher ...)". */
        put_comment_line(c, &line, attr_value(c, "tls_received"));
        put_comment_line(c, &line, attr_value(c, "tls_received_ccert"));
        if (c->sasl_header && sasl_user && *sasl_user) {
            vstr_set_fmt(&line, "\t(Authenticated sender: %s)", sasl_user);
            put_content_line(c, vstr_str(&line), vstr_len(&line));
        }
        vstr_set_fmt(&line, "\tby %s (Postern) with %s id %s", c->myhostname,
                     proto && *proto ? proto : "SMTP", cleanup_id(c));
        if (c->rcpt_count == 1) {
            put_content_line(c, vstr_str(&line), vstr_len(&line));
            vstr_set_str(&line, "\tfor <");
            addr_list_quote(&line, c->rcpts[0].addr);
            vstr_append_fmt(&line, ">; %s", vstr_str(date));
        } else {
            vstr_append_char(&line, ';');
            put_content_line(c, vstr_str(&line), vstr_len(&line));
            vstr_set_fmt(&line, "\t%s", vstr_str(date));
        }
        put_content_line(c, vstr_str(&line), vstr_len(&line));
    } else {
        if (uid && *uid)
            vstr_set_fmt(&line, "Received: by %s (Postern, from userid %s)", c->myhostname, uid);
        else
            vstr_set_fmt(&line, "Received: by %s (Postern)", c->myhostname);
        put_content_line(c, vstr_str(&line), vstr_len(&line));
        vstr_set_fmt(&line, "\tid %s; %s", cleanup_id(c), vstr_str(date));
        put_content_line(c, vstr_str(&line), vstr_len(&line));
    }
    vstr_release(&line);
}

/* A display name as an RFC 5322 phrase: as is when it is only atoms and
 * spaces, else a quoted string. */
static void append_phrase(vstr *out, const char *name)
{
    int plain = 1;

    for (const char *p = name; *p; p++)
        if (strchr("()<>[]:;@\\,.\"", *p))
            plain = 0;
    if (plain) {
        vstr_append_str(out, name);
        return;
    }
    vstr_append_char(out, '"');
    for (const char *p = name; *p; p++) {
        if (*p == '"' || *p == '\\')
            vstr_append_char(out, '\\');
        vstr_append_char(out, *p);
    }
    vstr_append_char(out, '"');
}

static void put_missing_headers(cleanup *c, vstr *date)
{
    int have_msgid = 0, have_date = 0, have_from = 0;
    vstr line = VSTR_INIT;

    for (size_t i = 0; i < c->header_count; i++) {
        const header *h = &c->headers[i];

        have_msgid |= header_is(c, h, "Message-ID");
        have_date |= header_is(c, h, "Date");
        have_from |= header_is(c, h, "From");
    }
    /* Postfix's order. */
    if (!have_msgid) {
        vstr_set_fmt(&line, "Message-ID: <%s@%s>", cleanup_id(c), c->myhostname);
        put_content_line(c, vstr_str(&line), vstr_len(&line));
    }
    if (!have_date) {
        vstr_set_fmt(&line, "Date: %s", vstr_str(date));
        put_content_line(c, vstr_str(&line), vstr_len(&line));
    }
    if (!have_from) {
        const char *full_name = attr_value(c, "full_name");
        char *addr = *c->sender ? NULL : qualify(c, "MAILER-DAEMON");

        vstr_set_str(&line, "From: ");
        if (full_name && *full_name) {
            append_phrase(&line, full_name);
            vstr_append_str(&line, " <");
            addr_list_quote(&line, addr ? addr : c->sender);
            vstr_append_char(&line, '>');
        } else {
            addr_list_quote(&line, addr ? addr : c->sender);
        }
        put_content_line(c, vstr_str(&line), vstr_len(&line));
        mem_free(addr);
    }
    vstr_release(&line);
}

static void put_envelope(cleanup *c)
{

    vstr buf = VSTR_INIT;

    put_str(c, REC_TYPE_VERSION, REC_VERSION);
    if (c->status == CLEANUP_OK) {
        if (queue_file_put_sizes(c->qf) < 0)
            fail(c, CLEANUP_WRITE, "queue file write error: %s", strerror(errno));
        c->offset += (long long)rec_size(REC_SIZE_LEN);
    }
    vstr_set_fmt(&buf, "%lld.%06ld", c->arrival_sec, c->arrival_usec);
    put(c, REC_TYPE_TIME, vstr_str(&buf), vstr_len(&buf));
    put_str(c, REC_TYPE_FROM, c->sender);
    for (size_t i = 0; i < c->attr_count; i++) {
        vstr_set_fmt(&buf, "%s=%s", c->attrs[i].name, c->attrs[i].value);
        put(c, REC_TYPE_ATTR, vstr_str(&buf), vstr_len(&buf));
    }
    for (size_t i = 0; i < c->rcpt_count; i++) {
        const cleanup_rcpt *r = &c->rcpts[i];
        /* Redirected: the recipient as given stays the original one, for
         * DSN and the logs, as Postfix does. */
        const char *orig = c->redirect && !r->orig ? r->addr : r->orig;

        if (orig)
            put_str(c, REC_TYPE_ORCP, orig);
        if (r->dsn_orcpt)
            put_str(c, REC_TYPE_DSN_ORCPT, r->dsn_orcpt);
        if (r->dsn_notify) {
            vstr_set_fmt(&buf, "%d", r->dsn_notify);
            put(c, REC_TYPE_DSN_NOTIFY, vstr_str(&buf), vstr_len(&buf));
        }
        put_str(c, REC_TYPE_RCPT, c->redirect ? c->redirect : r->addr);
    }
    put(c, REC_TYPE_MESG, "", 0);
    c->content_offset = c->offset;
    c->envelope_written = 1;
    vstr_release(&buf);
}

/* A logical header as its physical lines joined by '\n'. */
static void header_text(const cleanup *c, const header *h, vstr *text)
{
    vstr_reset(text);
    for (size_t k = h->first; k < h->first + h->count; k++) {
        if (k > h->first)
            vstr_append_char(text, '\n');
        vstr_append(text, hline_data(c, k), c->hlines[k].len);
    }
}

/* header_checks (and mime_header_checks for MIME headers) over the
 * message's own headers; the verdicts are kept for writing. */
static void check_headers(cleanup *c)
{
    vstr text = VSTR_INIT, out = VSTR_INIT;

    for (size_t i = 0; i < c->header_count && c->status == CLEANUP_OK; i++) {
        header *h = &c->headers[i];
        cleanup_check_verdict v;

        if (h->drop)
            continue;
        header_text(c, h, &text);
        v = cleanup_checks_header(c->checks, c, MIME_HDR_PRIMARY, vstr_str(&text), vstr_len(&text),
                                  &out);
        if (v == CLEANUP_CHECK_DROP)
            h->drop = 1;
        else if (v == CLEANUP_CHECK_REPLACE)
            h->replace = mem_strndup(vstr_str(&out), vstr_len(&out));
        else if (v == CLEANUP_CHECK_PREPEND)
            h->prepend = mem_strndup(vstr_str(&out), vstr_len(&out));
    }
    vstr_release(&text);
    vstr_release(&out);
}

/* The addresses in the message's own headers (global/header_rewrite),
 * after header_checks, as Postfix's cleanup: in the "local" rewrite
 * context (pickup, bounces, forwarding, and the smtpd clients that
 * local_header_rewrite_clients allows) qualified with myorigin; for
 * other clients only when remote_header_rewrite_domain is set, qualified
 * with it. A header that IGNORE dropped or REPLACE replaced is left to
 * that action. */
static void rewrite_headers(cleanup *c)
{
    const char *context = attr_value(c, "rewrite_context");
    int remote = context != NULL && strcmp(context, "remote") == 0;
    const char *domain = remote ? c->remote_header_domain : c->myorigin;
    vstr text = VSTR_INIT, out = VSTR_INIT, why = VSTR_INIT;

    if (remote && *domain == 0)
        return;
    for (size_t i = 0; i < c->header_count && c->status == CLEANUP_OK; i++) {
        header *h = &c->headers[i];
        int st;

        if (h->drop || h->replace)
            continue;
        header_text(c, h, &text);
        st = header_rewrite(c->rw, domain, vstr_str(&text), vstr_len(&text), &out, &why);
        if (st == HEADER_REWRITE_CHANGED) {
            h->replace = mem_strndup(vstr_str(&out), vstr_len(&out));
        } else if (st == HEADER_REWRITE_ERROR) {
            msg_warn("%s: %s -- message not accepted", c->id, vstr_str(&why));
            fail(c, CLEANUP_ALIAS, "%s", vstr_str(&why));
        }
    }
    vstr_release(&text);
    vstr_release(&out);
    vstr_release(&why);
}

/* Write a header that may hold several lines (joined by '\n'). */
static void put_header_lines(cleanup *c, const char *text)
{
    const char *nl;

    while ((nl = strchr(text, '\n')) != NULL) {
        put_content_line(c, text, (size_t)(nl - text));
        text = nl + 1;
    }
    put_content_line(c, text, strlen(text));
}

/* The envelope rewriting of Postfix's cleanup (global/addr_rewrite):
 * canonical and masquerading for the sender, canonical and then virtual
 * alias expansion for each recipient. Each result keeps the recipient as
 * given as its original recipient (DSN, logs); the same address with the
 * same DSN original recipient is written once. A REDIRECT replaces every
 * recipient anyway: no virtual alias expansion then, as in Postfix. */
static void rewrite_addresses(cleanup *c)
{
    cleanup_rcpt *old = c->rcpts;
    size_t count = c->rcpt_count;
    vstr out = VSTR_INIT, why = VSTR_INIT;
    argv_t *list = argv_new();

    if (c->sender && *c->sender) {
        if (addr_rewrite_sender(c->rw, c->sender, &out, &why) < 0) {
            msg_warn("%s: %s -- message not accepted", c->id, vstr_str(&why));
            fail(c, CLEANUP_ALIAS, "%s", vstr_str(&why));
        } else if (!vstr_equals(&out, c->sender)) {
            mem_free(c->sender);
            c->sender = mem_strdup(vstr_str(&out));
            (void)address_ok(c, c->sender, "sender");
        }
    }
    c->rcpts = NULL;
    c->rcpt_count = c->rcpt_cap = 0;
    htable_free(c->rcpt_seen, NULL);
    c->rcpt_seen = htable_new(16);
    for (size_t i = 0; i < count && c->status == CLEANUP_OK; i++) {
        const cleanup_rcpt *r = &old[i];
        int st = ADDR_REWRITE_OK;

        argv_truncate(list, 0);
        if (addr_rewrite_recipient(c->rw, r->addr, &out, &why) < 0)
            st = ADDR_REWRITE_TABLE;
        else if (c->redirect)
            argv_add(list, vstr_str(&out));
        else
            st = addr_rewrite_virtual(c->rw, vstr_str(&out), list, &why);
        if (st != ADDR_REWRITE_OK) {
            msg_warn("%s: %s -- message not accepted", c->id, vstr_str(&why));
            fail(c, CLEANUP_ALIAS, "%s", vstr_str(&why));
            break;
        }
        for (size_t k = 0; k < list->argc; k++) {
            const char *orig = r->orig;

            if (orig == NULL && strcmp(list->argv[k], r->addr) != 0)
                orig = r->addr;
            add_rcpt(c, list->argv[k], orig, r->dsn_orcpt, r->dsn_notify);
        }
    }
    for (size_t i = 0; i < count; i++) {
        mem_free(old[i].addr);
        mem_free(old[i].orig);
        mem_free(old[i].dsn_orcpt);
    }
    mem_free(old);
    argv_free(list);
    vstr_release(&out);
    vstr_release(&why);
}

/* The header block is complete: inspect, write everything so far, and
 * switch to streaming the body. */
static void end_headers(cleanup *c)
{
    vstr value = VSTR_INIT, date = VSTR_INIT;
    long long hops = 0;

    if (!c->sender_set)
        msg_panic("cleanup: content before cleanup_set_sender");
    c->phase = PHASE_BODY;
    if (c->status != CLEANUP_OK)
        return;
    for (size_t i = 0; i < c->header_count; i++)
        if (header_is(c, &c->headers[i], "Received"))
            hops++;
    /* Postfix rejects at hopcount_limit Received: headers. */
    if (c->hopcount_limit > 0 && hops >= c->hopcount_limit) {
        fail(c, CLEANUP_HOPS, "%lld Received: headers, hopcount_limit is %lld", hops,
             c->hopcount_limit);
        goto out;
    }
    if (c->flags & CLEANUP_FLAG_EXTRACT)
        extract_recipients(c, &value);
    if (c->status == CLEANUP_OK)
        rewrite_addresses(c);
    if (c->status != CLEANUP_OK)
        goto out;
    if (c->rcpt_count == 0) {
        fail(c, CLEANUP_NO_RCPT, "no recipients specified");
        goto out;
    }
    /* Before the envelope is written, so that what they do to it costs
     * nothing, and a refusal writes nothing. */
    if (c->checks)
        check_headers(c);
    if (c->status == CLEANUP_OK)
        rewrite_headers(c);
    if (c->status != CLEANUP_OK)
        goto out;
    drop_listed_headers(c);
    put_envelope(c);
    mail_date(&date, (time_t)c->arrival_sec);
    if (c->prepend)
        for (size_t i = 0; i < c->prepend->argc; i++)
            put_content_line(c, c->prepend->argv[i], strlen(c->prepend->argv[i]));
    put_received(c, &date);
    for (size_t i = 0; i < c->header_count; i++) {
        const header *h = &c->headers[i];

        if (h->prepend)
            put_content_line(c, h->prepend, strlen(h->prepend));
        if (h->replace)
            put_header_lines(c, h->replace);
        if (h->drop || h->replace)
            continue;
        for (size_t k = h->first; k < h->first + h->count; k++)
            put_content_line(c, hline_data(c, k), c->hlines[k].len);
    }
    put_missing_headers(c, &date);
    if (c->mime) {
        /* The parser learns the message's structure from its headers. */
        for (size_t k = 0; k < c->hline_count; k++)
            mime_put(c->mime, hline_data(c, k), c->hlines[k].len, 1);
        mime_end_headers(c->mime);
    }
    if (c->have_first_body)
        body_record(c, vstr_str(&c->first_body), vstr_len(&c->first_body), !c->first_body_open);
out:
    vstr_release(&value);
    vstr_release(&date);
    /* The header block is no longer needed. */
    vstr_release(&c->hbuf);
    vstr_release(&c->first_body);
}

/* A complete physical line in the header phase: header, continuation, or
 * the first line of the body. */
static void header_line(cleanup *c, const char *data, size_t len)
{
    int continuation = len > 0 && (data[0] == ' ' || data[0] == '\t');

    if ((continuation && c->header_count > 0) ||
        (!continuation && mime_header_name_len(data, len))) {
        if ((long long)(vstr_len(&c->hbuf) + len) <= c->header_size_limit) {
            store_header_line(c, data, len, continuation);
            return;
        }
        /* Over header_size_limit: the rest of the headers are body. */
    }
    vstr_set(&c->first_body, data, len);
    c->have_first_body = 1;
    end_headers(c);
}

void cleanup_put_record(cleanup *c, int type, const char *data, size_t len)
{
    int line_ends;

    check_open(c, "cleanup_put_record");
    if (type != REC_TYPE_NORM && type != REC_TYPE_CONT)
        msg_panic("cleanup_put_record: bad record type %d", type);
    line_ends = type == REC_TYPE_NORM;
    c->input_bytes += (long long)len + line_ends;
    if (c->message_size_limit > 0 && c->input_bytes > c->message_size_limit)
        fail(c, CLEANUP_SIZE, "message size exceeds size limit %lld", c->message_size_limit);
    if (c->status != CLEANUP_OK) {
        /* Keep reading, keep nothing. */
        if (!c->sender_set)
            msg_panic("cleanup: content before cleanup_set_sender");
        c->phase = PHASE_BODY;
        return;
    }
    if (c->phase == PHASE_BODY) {
        body_record(c, data, len, line_ends);
        return;
    }
    /* Header phase: assemble the physical line, bounded like the block. */
    vstr_append(&c->cur, data, len);
    c->cur_open = !line_ends;
    if (line_ends) {
        vstr line = c->cur;

        vstr_init(&c->cur);
        header_line(c, vstr_str(&line), vstr_len(&line));
        vstr_release(&line);
    } else if ((long long)(vstr_len(&c->hbuf) + vstr_len(&c->cur)) > c->header_size_limit) {
        /* A line so long it cannot be a header we keep: body from here. */
        vstr_set(&c->first_body, vstr_str(&c->cur), vstr_len(&c->cur));
        vstr_reset(&c->cur);
        c->have_first_body = 1;
        c->first_body_open = 1;
        c->cur_open = 0;
        end_headers(c);
    }
}

void cleanup_put_line(cleanup *c, const char *data, size_t len)
{
    cleanup_put_record(c, REC_TYPE_NORM, data, len);
}

/* ---- Actions ---- */

/* Longest REJECT text kept: with "550 5.7.1 " the reply line stays well
 * under RFC 5321's 512 bytes. */
#define CLEANUP_REJECT_TEXT_MAX 400

/* "ID: ACTION: WHERE from CLIENT; from=<S> to=<R> proto=P helo=<H>: TEXT",
 * the shape of Postfix's cleanup log lines. */
static void log_action(const cleanup *c, const char *action, const char *where, const char *text)
{
    const char *name = attr_value(c, "client_name");
    const char *addr = attr_value(c, "client_address");
    const char *proto = attr_value(c, "protocol");
    const char *helo = attr_value(c, "helo_name");
    vstr line = VSTR_INIT;

    vstr_set_fmt(&line, "%s: %s: %s from ", c->id, action, where);
    if (addr)
        vstr_append_fmt(&line, "%s[%s]", name && *name ? name : "unknown", addr);
    else
        vstr_append_str(&line, "local");
    vstr_append_fmt(&line, "; from=<%s>", c->sender ? c->sender : "");
    if (c->rcpt_count > 0)
        vstr_append_fmt(&line, " to=<%s>", c->rcpts[0].addr);
    if (proto && *proto)
        vstr_append_fmt(&line, " proto=%s", proto);
    if (helo && *helo)
        vstr_append_fmt(&line, " helo=<%s>", helo);
    if (text && *text)
        vstr_append_fmt(&line, ": %s", text);
    msg_info("%s", vstr_str(&line));
    vstr_release(&line);
}

static void check_action(const cleanup *c, const char *fn)
{
    check_open(c, fn);
}

/* The envelope is in the file already: it changes at finish. */
static void envelope_change(cleanup *c)
{
    if (c->envelope_written)
        c->envelope_changed = 1;
}

void cleanup_hold(cleanup *c, const char *where, const char *text)
{
    check_action(c, "cleanup_hold");
    if (where)
        log_action(c, "hold", where, text);
    c->hold = 1;
}

void cleanup_discard(cleanup *c, const char *where, const char *text)
{
    check_action(c, "cleanup_discard");
    if (where)
        log_action(c, "discard", where, text);
    c->discard = 1;
}

int cleanup_discarding(const cleanup *c)
{
    return c->discard;
}

int cleanup_redirect(cleanup *c, const char *addr, const char *where)
{
    char *full;

    check_action(c, "cleanup_redirect");
    full = qualify(c, addr);
    /* A bad table entry is the administrator's problem, not the sender's:
     * warn and leave the message as it is. */
    if (*addr == 0 || strlen(full) > QUEUE_ADDR_MAX ||
        strcspn(full, "\001\002\003\004\005\006\007\010\011\012\013\014\015\016\017\020"
                      "\021\022\023\024\025\026\027\030\031\032\033\034\035\036\037\177") !=
            strlen(full)) {
        msg_warn("%s: ignoring unusable REDIRECT address \"%.100s\"", c->id, addr);
        mem_free(full);
        return -1;
    }
    if (where)
        log_action(c, "redirect", where, full);
    mem_free(c->redirect);
    c->redirect = full;
    envelope_change(c);
    return 0;
}

int cleanup_filter(cleanup *c, const char *filter, const char *where)
{
    const char *colon = strchr(filter, ':');

    check_action(c, "cleanup_filter");
    /* "transport:nexthop", the transport a word; the next hop may be empty. */
    if (colon == NULL || colon == filter ||
        strspn(filter, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") !=
            (size_t)(colon - filter) ||
        strlen(filter) > QUEUE_ATTR_MAX - sizeof("content_filter=")) {
        msg_warn("%s: ignoring bad FILTER destination \"%s\": need transport:nexthop", c->id,
                 filter);
        return -1;
    }
    for (const char *p = filter; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f) {
            msg_warn("%s: ignoring FILTER destination with white space or control character",
                     c->id);
            return -1;
        }
    if (where)
        log_action(c, "filter", where, filter);
    attr_set(c, "content_filter", filter);
    envelope_change(c);
    return 0;
}

int cleanup_prepend_header(cleanup *c, const char *text)
{
    size_t len = strlen(text);

    check_action(c, "cleanup_prepend_header");
    if (c->envelope_written || c->phase != PHASE_HEADERS)
        msg_panic("cleanup_prepend_header: called after the header block");
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)text[i] < 0x20 && text[i] != '\t') || text[i] == 0x7f)
            len = 0;
    if (len == 0 || mime_header_name_len(text, len) == 0) {
        msg_warn("%s: ignoring PREPEND text that is no header line: \"%.100s\"", c->id, text);
        return -1;
    }
    if (c->prepend == NULL)
        c->prepend = argv_new();
    argv_add(c->prepend, text);
    return 0;
}

void cleanup_reject(cleanup *c, const char *where, const char *text)
{
    vstr reason = VSTR_INIT;

    check_action(c, "cleanup_reject");
    /* Text may start with its own enhanced status code, as in Postfix. It
     * goes into an SMTP reply line: no control characters, and short. */
    if (text && *text) {
        size_t n = strcspn(text, " ");
        char *code = mem_strndup(text, n);

        if (dsn_status_valid(code) && code[0] != '2' && text[n] == ' ')
            text += n + 1;
        else
            snprintf(code, n + 1, "%s", "");
        vstr_set_str(&reason, *code ? code : "5.7.1");
        vstr_append_char(&reason, ' ');
        dsn_clean_text(&reason, text, CLEANUP_REJECT_TEXT_MAX);
        mem_free(code);
    } else {
        vstr_set_str(&reason, "5.7.1 message content rejected");
    }
    if (where && c->status == CLEANUP_OK)
        log_action(c, "reject", where, vstr_str(&reason));
    fail(c, CLEANUP_CONTENT, "%s", vstr_str(&reason));
    vstr_release(&reason);
}

void cleanup_warn(cleanup *c, const char *where, const char *text)
{
    check_action(c, "cleanup_warn");
    log_action(c, "warning", where, text);
}

void cleanup_lookup_failed(cleanup *c, const char *why)
{
    check_action(c, "cleanup_lookup_failed");
    if (c->status == CLEANUP_OK)
        msg_warn("%s: %s; message deferred", c->id, why);
    fail(c, CLEANUP_TABLE, "%s", why);
}

/* The envelope changed after it was written (a body check redirected or
 * filtered): write a second file with the new envelope and the content
 * copied, under the same id, and drop the first. */
static void rewrite_envelope(cleanup *c)
{
    queue_file *old = c->qf, *qf;
    vstr err = VSTR_INIT, payload = VSTR_INIT;
    const char *queue_dir;
    rec_read r = REC_READ_INIT;
    vstream *in;
    int fd;

    queue_dir = c->queue_dir;
    if ((qf = queue_file_create(queue_dir, "incoming", 0600, &err)) == NULL) {
        fail(c, CLEANUP_WRITE, "queue file write error: %s", vstr_str(&err));
        vstr_release(&err);
        return;
    }
    if ((fd = queue_file_read_temp(old)) < 0) {
        fail(c, CLEANUP_WRITE, "queue file write error: reread: %s", strerror(errno));
        queue_file_abort(qf);
        return;
    }
    queue_file_adopt_id(qf, old);
    in = vstream_fdopen(fd, VSTREAM_READ);
    if (lseek(fd, (off_t)c->content_offset, SEEK_SET) < 0) {
        fail(c, CLEANUP_WRITE, "queue file write error: seek: %s", strerror(errno));
    }
    r.next = (off_t)c->content_offset;
    c->qf = qf;
    c->offset = 0;
    put_envelope(c);
    while (c->status == CLEANUP_OK) {
        rec_status rs = rec_get(in, REC_PAYLOAD_MAX, &r, &payload);

        if (rs != REC_OK) {
            fail(c, CLEANUP_WRITE, "queue file write error: reread: %s", rec_strerror(rs));
            break;
        }
        put(c, r.type, vstr_str(&payload), vstr_len(&payload));
        if (r.type == REC_TYPE_END)
            break;
    }
    (void)vstream_close(in);
    queue_file_abort(old);
    vstr_release(&payload);
    vstr_release(&err);
}

/* ---- Finishing ---- */

static void cleanup_free(cleanup *c)
{
    mem_free(c->queue_dir);
    mem_free(c->myhostname);
    mem_free(c->myorigin);
    mem_free(c->remote_header_domain);
    mem_free(c->sender);
    mem_free(c->redirect);
    if (c->prepend)
        argv_free(c->prepend);
    argv_free(c->drop_headers);
    for (size_t i = 0; i < c->attr_count; i++) {
        mem_free(c->attrs[i].name);
        mem_free(c->attrs[i].value);
    }
    mem_free(c->attrs);
    for (size_t i = 0; i < c->rcpt_count; i++) {
        mem_free(c->rcpts[i].addr);
        mem_free(c->rcpts[i].orig);
        mem_free(c->rcpts[i].dsn_orcpt);
    }
    mem_free(c->rcpts);
    htable_free(c->rcpt_seen, NULL);
    vstr_release(&c->cur);
    vstr_release(&c->hbuf);
    mem_free(c->hlines);
    for (size_t i = 0; i < c->header_count; i++) {
        mem_free(c->headers[i].replace);
        mem_free(c->headers[i].prepend);
    }
    mem_free(c->headers);
    if (c->mime)
        mime_close(c->mime);
    vstr_release(&c->first_body);
    vstr_release(&c->pend);
    vstr_release(&c->reason);
    mem_free(c);
}

cleanup_status cleanup_finish(cleanup *c, vstr *reason)
{
    cleanup_status st;
    vstr err = VSTR_INIT;

    check_open(c, "cleanup_finish");
    if (!c->sender_set)
        msg_panic("cleanup_finish: no sender");
    if (c->phase == PHASE_HEADERS) {
        /* The input ended inside the header block (or had no body). */
        if (c->cur_open) {
            vstr line = c->cur;

            vstr_init(&c->cur);
            c->cur_open = 0;
            header_line(c, vstr_str(&line), vstr_len(&line));
            vstr_release(&line);
        }
        if (c->phase == PHASE_HEADERS)
            end_headers(c);
    }
    if (c->mime && c->status == CLEANUP_OK)
        mime_finish(c->mime);
    /* A last piece with no line after it still ends a line. */
    if (vstr_len(&c->pend) > 0) {
        put_content_line(c, vstr_str(&c->pend), vstr_len(&c->pend));
        vstr_reset(&c->pend);
    }
    put(c, REC_TYPE_END, "", 0);
    c->phase = PHASE_DONE;
    if (c->status == CLEANUP_OK && !c->discard && c->envelope_changed)
        rewrite_envelope(c);
    if (c->status == CLEANUP_OK && !c->discard) {
        queue_file_set_sizes(c->qf, c->content_offset, c->content_bytes, (long long)c->rcpt_count);
        if (queue_file_commit_in(c->qf, c->hold ? "hold" : NULL, &err) < 0)
            fail(c, CLEANUP_WRITE, "%s", vstr_str(&err));
    } else {
        queue_file_abort(c->qf);
    }
    c->qf = NULL;
    st = c->status;
    if (reason) {
        if (st == CLEANUP_OK && c->discard)
            vstr_set_str(reason, "discarded");
        else if (st == CLEANUP_OK)
            vstr_set_fmt(reason, "queued as %s", c->id);
        else
            vstr_set_str(reason, vstr_str(&c->reason));
    }
    vstr_release(&err);
    cleanup_free(c);
    return st;
}

void cleanup_abort(cleanup *c)
{
    if (c->qf)
        queue_file_abort(c->qf);
    cleanup_free(c);
}
