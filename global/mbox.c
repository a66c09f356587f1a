/*
 * mbox - write one message into a mailbox file, all of it or none of it
 *
 * Quoting must see the first five bytes of every line, and a line may
 * arrive in pieces of any size, so up to four bytes at the start of a
 * line are held back until they can be told apart from "From ".
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "global/addr_list.h"
#include "global/mbox.h"
#include "util/mem.h"

/* Output is held until this much is pending (the buffer grows to it): a
 * message up to this size reaches the file in one write(), so a delivery
 * process killed part way leaves all of it or none of it in the mailbox
 * (mbox_finish and mbox_abort handle every other failure). */
#define MBOX_BUF_MAX (4 * 1024 * 1024)
#define MBOX_BUF_START (64 * 1024)

static const char mbox_limit_text[] = "mailbox size limit exceeded";

struct mbox_writer {
    int fd;
    int flags;
    off_t limit;
    off_t orig_size; /* the file's size before the message */
    off_t written;   /* bytes accepted so far */
    int error;       /* errno of the first error, 0 while all is well */
    const char *what;
    int at_line_start;
    char head[5]; /* the start of a line held back for quoting */
    size_t head_len;
    size_t buf_len;
    size_t buf_cap;
    char *buf;
};

mbox_writer *mbox_begin(int fd, int flags, off_t limit)
{
    mbox_writer *w = mem_alloc(sizeof(*w));
    off_t end;

    w->fd = fd;
    w->flags = flags;
    w->limit = limit;
    w->orig_size = 0;
    w->written = 0;
    w->error = 0;
    w->what = NULL;
    w->at_line_start = 1;
    w->head_len = 0;
    w->buf_len = 0;
    w->buf_cap = MBOX_BUF_START;
    w->buf = mem_alloc(w->buf_cap);
    end = (flags & MBOX_FLAG_NO_SYNC) ? 0 : lseek(fd, 0, SEEK_END);
    if (end < 0) {
        w->error = errno;
        w->what = "seek to end of file";
    } else {
        w->orig_size = end;
    }
    return w;
}

static int flush(mbox_writer *w)
{
    const char *p = w->buf;

    while (w->error == 0 && w->buf_len > 0) {
        ssize_t n = write(w->fd, p, w->buf_len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            w->error = n < 0 ? errno : EIO;
            w->what = "write";
            break;
        }
        p += n;
        w->buf_len -= (size_t)n;
    }
    w->buf_len = 0;
    return w->error ? -1 : 0;
}

static void emit(mbox_writer *w, const char *data, size_t len)
{
    if (w->error)
        return;
    if (w->limit > 0 && w->orig_size + w->written + (off_t)len > w->limit) {
        w->error = EFBIG;
        w->what = mbox_limit_text;
        return;
    }
    w->written += (off_t)len;
    while (len > 0 && w->error == 0) {
        size_t room, n;

        while (w->buf_cap - w->buf_len < len && w->buf_cap < MBOX_BUF_MAX) {
            w->buf_cap *= 2;
            w->buf = mem_realloc(w->buf, w->buf_cap);
        }
        room = w->buf_cap - w->buf_len;
        n = len < room ? len : room;
        memcpy(w->buf + w->buf_len, data, n);
        w->buf_len += n;
        data += n;
        len -= n;
        if (w->buf_len == w->buf_cap)
            (void)flush(w);
    }
}

/* Write the held-back start of a line, quoted if it is "From ". */
static void release_head(mbox_writer *w)
{
    if (w->head_len == 5 && memcmp(w->head, "From ", 5) == 0)
        emit(w, ">", 1);
    emit(w, w->head, w->head_len);
    w->head_len = 0;
    w->at_line_start = 0;
}

int mbox_put(mbox_writer *w, const char *data, size_t len, int line_complete)
{
    if (w->error)
        return -1;
    if ((w->flags & MBOX_FLAG_QUOTE) && w->at_line_start) {
        while (len > 0 && w->head_len < 5) {
            w->head[w->head_len++] = *data++;
            len--;
        }
        if (w->head_len == 5 || line_complete)
            release_head(w);
    } else {
        w->at_line_start = 0;
    }
    emit(w, data, len);
    if (line_complete) {
        emit(w, "\n", 1);
        w->at_line_start = 1;
    }
    return w->error ? -1 : 0;
}

int mbox_put_unquoted(mbox_writer *w, const char *data, size_t len)
{
    if (w->head_len > 0)
        release_head(w);
    emit(w, data, len);
    emit(w, "\n", 1);
    w->at_line_start = 1;
    return w->error ? -1 : 0;
}

off_t mbox_written(const mbox_writer *w)
{
    return w->written;
}

static void truncate_back(mbox_writer *w)
{
    /* Nothing more can be done if this fails too; the caller reports the
     * first error, which is why the message was not delivered. */
    if (!(w->flags & MBOX_FLAG_NO_SYNC) && ftruncate(w->fd, w->orig_size) < 0)
        return;
}

int mbox_finish(mbox_writer *w, vstr *err)
{
    int status;

    if (w->head_len > 0)
        release_head(w);
    if (w->flags & MBOX_FLAG_BLANK_END) {
        if (!w->at_line_start)
            emit(w, "\n", 1);
        emit(w, "\n", 1);
    }
    (void)flush(w);
    if (w->error == 0 && !(w->flags & MBOX_FLAG_NO_SYNC) && fsync(w->fd) < 0) {
        w->error = errno;
        w->what = "fsync";
    }
    status = w->error ? -1 : 0;
    if (status < 0) {
        truncate_back(w);
        if (err != NULL) {
            if (w->what == mbox_limit_text)
                vstr_set_str(err, w->what);
            else
                vstr_set_fmt(err, "%s: %s", w->what, strerror(w->error));
        }
        errno = w->error;
    }
    mem_free(w->buf);
    mem_free(w);
    return status;
}

void mbox_abort(mbox_writer *w)
{
    w->buf_len = 0;
    truncate_back(w);
    mem_free(w->buf);
    mem_free(w);
}

void mbox_from_line(vstr *out, const char *sender, time_t t)
{
    struct tm tm;
    char date[64];

    localtime_r(&t, &tm);
    strftime(date, sizeof(date), "%a %b %e %H:%M:%S %Y", &tm);
    vstr_set_str(out, "From ");
    if (*sender)
        addr_list_quote(out, sender); /* "john doe"@x: no white space unquoted */
    else
        vstr_append_str(out, "MAILER-DAEMON");
    vstr_append_fmt(out, "  %s", date);
}
