/*
 * postcat - print queue files and maildrop files
 *
 * SYNOPSIS
 *   postcat [-c DIR] [-e] [-h] [-b] [-o] FILE ...
 *   postcat [-c DIR] [-e] [-h] [-b] [-o] -q ID ...
 *
 * DESCRIPTION
 *   Prints each file in Postfix's shape: the envelope records
 *   ("*** ENVELOPE RECORDS name ***", then message_size:,
 *   message_arrival_time:, sender:, named_attribute:, recipient:,
 *   done_recipient: ... in file order), the message ("*** MESSAGE CONTENTS
 *   name ***") and "*** MESSAGE FILE END name ***". -e, -h and -b select
 *   the envelope, the primary header block and the body (any
 *   combination; none means all). -o puts each record's file offset in
 *   front of it. -q takes queue ids and looks each up in incoming,
 *   active, deferred, hold, maildrop and corrupt under queue_directory
 *   (main.cf in DIR, or $MAIL_CONFIG, or /etc/postern).
 *
 *   Queue files and maildrop files are told apart by their second record
 *   and each is checked against its grammar (global/queue_file) as it is
 *   printed, so a damaged file is shown up to the damage. Content is
 *   printed as stored, pieces of long lines joined, 8-bit bytes as they
 *   are.
 *
 * DIAGNOSTICS
 *   Exit 0. A damaged or truncated file: what could be read is printed,
 *   then "postcat: fatal: FILE: offset N: reason" on stderr, exit 1. An
 *   id not found with -q is a warning and makes the exit status 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/mem.h"
#include "util/msg.h"
#include "util/vstr.h"
#include "util/vstream.h"
#include "global/config.h"
#include "global/queue_file.h"
#include "global/queue_id.h"
#include "global/rec.h"

#define PRINT_ENVELOPE 1
#define PRINT_HEADER 2
#define PRINT_BODY 4

/* Where -q looks, in Postfix's order. */
static const char *const postcat_queues[] = {"incoming", "active",  "deferred", "hold",
                                             "maildrop", "corrupt", NULL};

/* Envelope record labels: Postfix's words, for tools that read them. */
static const struct {
    int type;
    const char *label;
} postcat_labels[] = {
    {REC_TYPE_SIZE, "message_size"},
    {REC_TYPE_TIME, "message_arrival_time"},
    {REC_TYPE_FROM, "sender"},
    {REC_TYPE_ATTR, "named_attribute"},
    {REC_TYPE_ORCP, "original_recipient"},
    {REC_TYPE_DSN_ORCPT, "dsn_orig_rcpt"},
    {REC_TYPE_DSN_NOTIFY, "dsn_notify_flags"},
    {REC_TYPE_RCPT, "recipient"},
    {REC_TYPE_DONE, "done_recipient"},
    {0, NULL},
};

typedef struct printer {
    vstream *out;
    const char *name; /* for headings and diagnostics */
    int what;         /* PRINT_* */
    int offsets;      /* -o */
    /* Content state. */
    int in_header;     /* still in the primary header block */
    int seen_header;   /* a header line came before (continuations need one) */
    vstr line;         /* the logical line being joined from pieces */
    off_t line_offset; /* of its first record */
} printer;

static void out_write(printer *p, const void *data, size_t len)
{
    if (vstream_write(p->out, data, len) < 0)
        msg_fatal("write to standard output: %s", strerror(vstream_errno(p->out)));
}

static void out_fmt(printer *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void out_fmt(printer *p, const char *fmt, ...)
{
    va_list ap;
    int ret;

    va_start(ap, fmt);
    ret = vstream_vprintf(p->out, fmt, ap);
    va_end(ap);
    if (ret < 0)
        msg_fatal("write to standard output: %s", strerror(vstream_errno(p->out)));
}

static void heading(printer *p, const char *what)
{
    out_fmt(p, "*** %s %s ***\n", what, p->name);
}

static void print_offset(printer *p, off_t offset)
{
    if (p->offsets)
        out_fmt(p, "%9lld ", (long long)offset);
}

static const char *label(int type)
{
    for (size_t i = 0; postcat_labels[i].label; i++)
        if (postcat_labels[i].type == type)
            return postcat_labels[i].label;
    return NULL;
}

static void print_envelope_record(printer *p, const rec_read *r, const vstr *payload)
{
    const char *name = label(r->type);

    if (!(p->what & PRINT_ENVELOPE) || name == NULL)
        return;
    print_offset(p, r->offset);
    out_fmt(p, "%s: ", name);
    if (r->type == REC_TYPE_TIME) {
        /* The grammar has checked the digits. */
        time_t t = (time_t)strtoll(vstr_str(payload), NULL, 10);
        struct tm tm;
        char buf[64];

        if (localtime_r(&t, &tm) && strftime(buf, sizeof(buf), "%a %b %e %H:%M:%S %Y", &tm))
            out_fmt(p, "%s\n", buf);
        else
            out_fmt(p, "%s\n", vstr_str(payload));
        return;
    }
    out_write(p, vstr_str(payload), vstr_len(payload));
    out_write(p, "\n", 1);
}

/* Is this logical line part of the primary header block? Ends it when
 * not (the line that ends it is body, except an empty one). */
static int header_line(printer *p, const char *s, size_t len)
{
    size_t n = 0;

    if (!p->in_header)
        return 0;
    if (len > 0 && (s[0] == ' ' || s[0] == '\t') && p->seen_header)
        return 1;
    while (n < len && (unsigned char)s[n] > ' ' && (unsigned char)s[n] < 0x7f && s[n] != ':')
        n++;
    while (n > 0 && n < len && (s[n] == ' ' || s[n] == '\t'))
        n++;
    if (n > 0 && n < len && s[n] == ':') {
        p->seen_header = 1;
        return 1;
    }
    p->in_header = 0;
    return 0;
}

static void print_content_line(printer *p)
{
    const char *s = vstr_str(&p->line);
    size_t len = vstr_len(&p->line);
    int was_header = p->in_header;
    int is_header = header_line(p, s, len);
    int show;

    if (is_header)
        show = p->what & PRINT_HEADER;
    else if (was_header && len == 0)
        /* The separator belongs to both or to neither section alone. */
        show = (p->what & (PRINT_HEADER | PRINT_BODY)) == (PRINT_HEADER | PRINT_BODY);
    else
        show = p->what & PRINT_BODY;
    if (show) {
        print_offset(p, p->line_offset);
        out_write(p, s, len);
        out_write(p, "\n", 1);
    }
    vstr_reset(&p->line);
}

static void content_heading(printer *p)
{
    int hb = p->what & (PRINT_HEADER | PRINT_BODY);

    if (hb == (PRINT_HEADER | PRINT_BODY))
        heading(p, "MESSAGE CONTENTS");
    else if (hb == PRINT_HEADER)
        heading(p, "PRIMARY MESSAGE HEADER");
    else if (hb == PRINT_BODY)
        heading(p, "MESSAGE BODY");
}

/* Print one file; on damage, print what came before it and exit 1. */
static void postcat_fd(int fd, const char *name, int what, int offsets)
{
    printer p = {0};
    vstream *in = vstream_fdopen(fd, VSTREAM_READ);
    rec_read r = REC_READ_INIT;
    vstr payload = VSTR_INIT, why = VSTR_INIT;
    queue_grammar g;
    long long sizes_offset = 0, sizes_rcpts = 0;
    int have_sizes = 0, damaged;
    size_t rcpts = 0, nrec = 0;

    p.out = vstream_fdopen(dup(1), VSTREAM_WRITE);
    p.name = name;
    p.what = what;
    p.offsets = offsets;
    p.in_header = 1;
    queue_grammar_init(&g, QUEUE_FILE_QUEUE);
    if (what & PRINT_ENVELOPE)
        heading(&p, "ENVELOPE RECORDS");
    for (;;) {
        rec_status st = rec_get(in, REC_PAYLOAD_MAX, &r, &payload);

        if (st == REC_EOF) {
            vstr_set_str(&why, "file ends before the end record");
            break;
        }
        if (st != REC_OK) {
            if (st == REC_ERR_TYPE)
                vstr_set_fmt(&why, "unknown record type 0x%02x", (unsigned)r.type);
            else if (st == REC_ERR_IO)
                vstr_set_fmt(&why, "%s: %s", rec_strerror(st), strerror(vstream_errno(in)));
            else
                vstr_set_str(&why, rec_strerror(st));
            break;
        }
        /* A version record followed by an arrival time: a maildrop file. */
        if (nrec++ == 1 && r.type == REC_TYPE_TIME) {
            queue_grammar_init(&g, QUEUE_FILE_MAILDROP);
            (void)queue_grammar_check(&g, REC_TYPE_VERSION, REC_VERSION, strlen(REC_VERSION),
                                      &why);
        }
        if (queue_grammar_check(&g, r.type, vstr_str(&payload), vstr_len(&payload), &why) < 0)
            break;
        switch (r.type) {
        case REC_TYPE_SIZE:
            have_sizes = 1;
            sizes_offset = strtoll(vstr_str(&payload), NULL, 10);
            sizes_rcpts = strtoll(vstr_str(&payload) + 32, NULL, 10);
            break;
        case REC_TYPE_RCPT:
        case REC_TYPE_DONE:
            rcpts++;
            break;
        }
        if (r.type == REC_TYPE_MESG) {
            if (have_sizes &&
                (sizes_offset != (long long)r.next || sizes_rcpts != (long long)rcpts)) {
                vstr_set_fmt(&why,
                             "size record disagrees with the file (content offset %lld, "
                             "%lld recipients)",
                             sizes_offset, sizes_rcpts);
                break;
            }
            content_heading(&p);
        } else if (r.type == REC_TYPE_NORM || r.type == REC_TYPE_CONT) {
            if (vstr_len(&p.line) == 0)
                p.line_offset = r.offset;
            vstr_append(&p.line, vstr_str(&payload), vstr_len(&payload));
            if (r.type == REC_TYPE_NORM)
                print_content_line(&p);
        } else if (r.type == REC_TYPE_END) {
            heading(&p, "MESSAGE FILE END");
            /* Anything after E is damage too. */
            st = rec_get(in, 0, &r, &payload);
            if (st == REC_EOF)
                break;
            vstr_set_str(&why, "data after the end record");
            break;
        } else {
            print_envelope_record(&p, &r, &payload);
        }
    }
    damaged = !queue_grammar_complete(&g) || vstr_len(&why) > 0;
    /* Pieces of a line that never ended are printed: they are what the
     * file holds. */
    if (damaged && vstr_len(&p.line) > 0)
        print_content_line(&p);
    if (vstream_flush(p.out) < 0)
        msg_fatal("write to standard output: %s", strerror(vstream_errno(p.out)));
    vstream_close(p.out);
    vstream_close(in);
    if (damaged) {
        if (vstr_len(&why) == 0)
            vstr_set_str(&why, "file ends before the end record");
        msg_fatal("%s: offset %lld: %s", name, (long long)r.offset, vstr_str(&why));
    }
    vstr_release(&p.line);
    vstr_release(&payload);
    vstr_release(&why);
}

/* Open a file to print: no symlinks (ELOOP), regular files only, and a
 * FIFO must not hang us. */
static int open_file(const char *path)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

    if (fd < 0) {
        if (errno == ELOOP)
            msg_fatal("%s: is a symbolic link", path);
        msg_fatal("open %s: %s", path, strerror(errno));
    }
    if (fstat(fd, &st) < 0)
        msg_fatal("fstat %s: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        msg_fatal("%s: not a regular file", path);
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0)
        msg_fatal("fcntl %s: %s", path, strerror(errno));
    return fd;
}

static void usage(void)
{
    msg_fatal("usage: postcat [-c DIR] [-e] [-h] [-b] [-o] [-q] FILE|ID ...");
}

int main(int argc, char **argv)
{
    const char *dir = NULL;
    int what = 0, offsets = 0, by_id = 0, status = 0, ch;
    config *cfg = NULL;
    const char *queue_dir = NULL;
    vstr err = VSTR_INIT, path = VSTR_INIT;

    msg_init(argv[0]);
    while ((ch = getopt(argc, argv, "c:ehboqv")) != -1) {
        switch (ch) {
        case 'c':
            dir = optarg;
            break;
        case 'e':
            what |= PRINT_ENVELOPE;
            break;
        case 'h':
            what |= PRINT_HEADER;
            break;
        case 'b':
            what |= PRINT_BODY;
            break;
        case 'o':
            offsets = 1;
            break;
        case 'q':
            by_id = 1;
            break;
        case 'v':
            msg_set_verbose(msg_verbose_level() + 1);
            break;
        default:
            usage();
        }
    }
    if (optind >= argc)
        usage();
    if (what == 0)
        what = PRINT_ENVELOPE | PRINT_HEADER | PRINT_BODY;
    if (by_id) {
        cfg = config_load(config_directory(dir), &err);
        if (cfg == NULL)
            msg_fatal("%s", vstr_str(&err));
        queue_dir = config_str(cfg, "queue_directory");
    }
    for (int i = optind; i < argc; i++) {
        const char *arg = argv[i];
        int fd = -1;

        if (!by_id) {
            postcat_fd(open_file(arg), arg, what, offsets);
            continue;
        }
        if (!queue_id_valid(arg)) {
            msg_warn("%s: not a queue id", arg);
            status = 1;
            continue;
        }
        for (const char *const *q = postcat_queues; *q; q++) {
            vstr_set_fmt(&path, "%s/%s/%s", queue_dir, *q, arg);
            if (access(vstr_str(&path), F_OK) == 0) {
                fd = open_file(vstr_str(&path));
                vstr_set_fmt(&path, "%s/%s", *q, arg);
                break;
            }
        }
        if (fd < 0) {
            msg_warn("%s: no such queue file", arg);
            status = 1;
            continue;
        }
        postcat_fd(fd, vstr_str(&path), what, offsets);
    }
    if (cfg)
        config_free(cfg);
    vstr_release(&err);
    vstr_release(&path);
    return status;
}
