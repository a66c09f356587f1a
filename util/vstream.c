/*
 * vstream - buffered streams over file descriptors, with deadlines
 *
 * Invariants worth knowing before changing this file:
 *
 * - A seekable stream never holds unread input and unwritten output at
 *   once: a write first gives back unread input (lseek backwards), a read
 *   first flushes output. So the descriptor's offset is always the logical
 *   position minus buffered input plus buffered output, which is what
 *   vstream_tell and vstream_seek rely on.
 * - Each public operation sets s->deadline once (op_begin); everything it
 *   does underneath (several refills, a flush before a refill) waits
 *   against that one deadline. Between vstream_begin_deadline and
 *   vstream_end_deadline, op_begin takes the shared deadline instead.
 * - The descriptor's O_NONBLOCK flag is never changed here: it may be
 *   shared with other processes (an inherited listening socket, a pipe).
 *   Sockets get MSG_DONTWAIT per call instead; pipes and terminals are
 *   polled first when a deadline is set.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/vstream.h"

enum fd_kind {
    KIND_REGULAR, /* regular file or block device: never blocks, seekable */
    KIND_SOCKET,  /* use recv/send with MSG_DONTWAIT */
    KIND_OTHER,   /* pipe, FIFO, terminal: poll first when a deadline is set */
    KIND_MEMORY,  /* vstream_open_memory: no descriptor at all */
};

#define STATE_EOF 1
#define STATE_ERR 2
#define STATE_TIMEOUT 4

struct vstream {
    int fd;
    int mode; /* VSTREAM_READ | VSTREAM_WRITE */
    enum fd_kind kind;
    int state;       /* STATE_* bits */
    int saved_errno; /* why STATE_ERR / STATE_TIMEOUT was set */
    int timeout_ms;
    int64_t deadline;        /* monotonic ms for the current operation; 0 = none */
    int64_t shared_deadline; /* from vstream_begin_deadline; 0 = none */

    const unsigned char *rbuf; /* unread input is rbuf[rpos..rlen) */
    unsigned char *rbuf_own;   /* our read buffer (rbuf points here unless memory) */
    size_t rpos, rlen, rcap;

    unsigned char *wbuf; /* output not yet written is wbuf[0..wlen) */
    size_t wlen, wcap;

    vstream_read_fn read_fn; /* NULL: the system call */
    vstream_write_fn write_fn;
    void *io_context;
};

static vstream *vstream_alloc(int fd, int mode, enum fd_kind kind)
{
    vstream *s = mem_calloc(1, sizeof(*s));

    s->fd = fd;
    s->mode = mode;
    s->kind = kind;
    if ((mode & VSTREAM_READ) && kind != KIND_MEMORY) {
        s->rcap = VSTREAM_BUFSIZE;
        s->rbuf_own = mem_alloc(s->rcap);
        s->rbuf = s->rbuf_own;
    }
    if (mode & VSTREAM_WRITE) {
        s->wcap = VSTREAM_BUFSIZE;
        s->wbuf = mem_alloc(s->wcap);
    }
    return s;
}

vstream *vstream_fdopen(int fd, int mode)
{
    struct stat st;
    enum fd_kind kind = KIND_OTHER;

    if (fd < 0 || (mode & ~(VSTREAM_READ | VSTREAM_WRITE)) != 0 || mode == 0)
        msg_panic("vstream_fdopen: bad fd %d or mode %d", fd, mode);
    if (fstat(fd, &st) == 0) {
        if (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))
            kind = KIND_REGULAR;
        else if (S_ISSOCK(st.st_mode))
            kind = KIND_SOCKET;
    }
    return vstream_alloc(fd, mode, kind);
}

vstream *vstream_open(const char *path, int oflags, mode_t perm)
{
    int fd = open(path, oflags | O_CLOEXEC, perm);
    int mode;

    if (fd < 0)
        return NULL;
    switch (oflags & O_ACCMODE) {
    case O_RDONLY:
        mode = VSTREAM_READ;
        break;
    case O_WRONLY:
        mode = VSTREAM_WRITE;
        break;
    default:
        mode = VSTREAM_READ | VSTREAM_WRITE;
        break;
    }
    return vstream_fdopen(fd, mode);
}

vstream *vstream_open_memory(const void *data, size_t len)
{
    vstream *s = vstream_alloc(-1, VSTREAM_READ, KIND_MEMORY);

    s->rbuf = data;
    s->rlen = len;
    return s;
}

static void vstream_free(vstream *s)
{
    mem_free(s->rbuf_own);
    mem_free(s->wbuf);
    mem_free(s);
}

int vstream_release(vstream *s)
{
    int status = 0, err = 0;

    /* A writer that lost output earlier must not see success now. */
    if ((s->mode & VSTREAM_WRITE) && (vstream_flush(s) < 0 || vstream_error(s))) {
        status = -1;
        err = s->saved_errno;
    }
    vstream_free(s);
    errno = err;
    return status;
}

int vstream_close(vstream *s)
{
    int fd = s->fd;
    int status = vstream_release(s);
    int err = errno;

    /* No retry on EINTR: on Linux the descriptor is gone either way. */
    if (fd >= 0 && close(fd) < 0 && status == 0) {
        status = -1;
        err = errno;
    }
    errno = err;
    return status;
}

/* ---- Settings and state ---- */

int vstream_fd(const vstream *s)
{
    return s->fd;
}

void vstream_set_timeout(vstream *s, int timeout_ms)
{
    s->timeout_ms = timeout_ms > 0 ? timeout_ms : 0;
}

int vstream_timeout(const vstream *s)
{
    return s->timeout_ms;
}

void vstream_set_io(vstream *s, vstream_read_fn read_fn, vstream_write_fn write_fn, void *context)
{
    if (s->kind == KIND_MEMORY)
        msg_panic("vstream_set_io: memory stream");
    s->read_fn = read_fn;
    s->write_fn = write_fn;
    s->io_context = context;
}

int vstream_eof(const vstream *s)
{
    return (s->state & STATE_EOF) != 0;
}

int vstream_error(const vstream *s)
{
    return (s->state & (STATE_ERR | STATE_TIMEOUT)) != 0;
}

int vstream_timed_out(const vstream *s)
{
    return (s->state & STATE_TIMEOUT) != 0;
}

int vstream_errno(const vstream *s)
{
    return s->saved_errno;
}

void vstream_clear_error(vstream *s)
{
    s->state = 0;
    s->saved_errno = 0;
}

/* ---- Waiting and the low-level calls ---- */

static void op_begin(vstream *s)
{
    if (s->shared_deadline)
        s->deadline = s->shared_deadline;
    else
        s->deadline = s->timeout_ms ? clock_mono_ms() + s->timeout_ms : 0;
}

int vstream_begin_deadline(vstream *s, int timeout_ms)
{
    if (s->shared_deadline)
        return 0;
    if (timeout_ms <= 0)
        timeout_ms = s->timeout_ms;
    if (timeout_ms <= 0)
        return 0;
    s->shared_deadline = clock_mono_ms() + timeout_ms;
    return 1;
}

void vstream_end_deadline(vstream *s)
{
    s->shared_deadline = 0;
}

static int set_failed(vstream *s, int err)
{
    s->state |= err == ETIMEDOUT ? STATE_TIMEOUT : STATE_ERR;
    s->saved_errno = err;
    errno = err;
    return -1;
}

/* 0 when the stream is usable, else -1 with errno from the sticky failure. */
static int check_usable(vstream *s)
{
    if (s->state & (STATE_ERR | STATE_TIMEOUT)) {
        errno = s->saved_errno;
        return -1;
    }
    return 0;
}

/* Wait until fd is ready for events or the operation's deadline passes. */
static int wait_ready(vstream *s, int events)
{
    struct pollfd pfd;
    int wait_ms, n;

    if (s->fd < 0)
        return set_failed(s, EAGAIN); /* custom I/O without a descriptor */
    for (;;) {
        wait_ms = -1;
        if (s->deadline) {
            int64_t left = s->deadline - clock_mono_ms();

            if (left <= 0)
                return set_failed(s, ETIMEDOUT);
            wait_ms = left > INT_MAX ? INT_MAX : (int)left;
        }
        pfd.fd = s->fd;
        pfd.events = (short)events;
        pfd.revents = 0;
        n = poll(&pfd, 1, wait_ms);
        if (n > 0)
            return 0; /* ready, or POLLERR/POLLHUP: the next call reports it */
        if (n < 0 && errno != EINTR)
            return set_failed(s, errno);
        /* n == 0 may be early by rounding; the loop checks the clock again. */
    }
}

static int would_block(int err)
{
    return err == EAGAIN || err == EWOULDBLOCK;
}

/* One read of up to len bytes: > 0, 0 at end of input, -1 on failure. */
static ssize_t raw_read(vstream *s, void *buf, size_t len)
{
    for (;;) {
        int want = POLLIN;
        ssize_t n;

        if (s->read_fn) {
            n = s->read_fn(s->io_context, s->fd, buf, len, &want);
        } else if (s->kind == KIND_SOCKET) {
            n = recv(s->fd, buf, len, MSG_DONTWAIT);
        } else {
            if (s->kind == KIND_OTHER && s->deadline && wait_ready(s, POLLIN) < 0)
                return -1;
            n = read(s->fd, buf, len);
        }
        if (n >= 0)
            return n;
        if (errno == EINTR)
            continue;
        if (!would_block(errno))
            return set_failed(s, errno);
        if (wait_ready(s, want) < 0)
            return -1;
    }
}

/* One write of up to len bytes: > 0 or -1 on failure. */
static ssize_t raw_write(vstream *s, const void *buf, size_t len)
{
    for (;;) {
        int want = POLLOUT;
        ssize_t n;

        if (s->write_fn) {
            n = s->write_fn(s->io_context, s->fd, buf, len, &want);
        } else if (s->kind == KIND_SOCKET) {
            n = send(s->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
        } else if (s->kind == KIND_OTHER && s->deadline) {
            /* POLLOUT on a pipe promises room for PIPE_BUF bytes, no more. */
            if (wait_ready(s, POLLOUT) < 0)
                return -1;
            n = write(s->fd, buf, len > PIPE_BUF ? PIPE_BUF : len);
        } else {
            n = write(s->fd, buf, len);
        }
        if (n > 0)
            return n;
        if (n == 0) /* a write function that moved nothing: treat as an error */
            return set_failed(s, EIO);
        if (errno == EINTR)
            continue;
        if (!would_block(errno))
            return set_failed(s, errno);
        if (wait_ready(s, want) < 0)
            return -1;
    }
}

static int write_all(vstream *s, const unsigned char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = raw_write(s, buf, len);

        if (n < 0)
            return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

static int flush_buffer(vstream *s)
{
    int status;

    if (s->wlen == 0)
        return 0;
    if (check_usable(s) < 0)
        return -1;
    status = write_all(s, s->wbuf, s->wlen);
    if (status == 0)
        s->wlen = 0;
    return status;
}

/* Refill an empty read buffer: bytes read, 0 at end of input, -1 on failure. */
static ssize_t fill(vstream *s)
{
    ssize_t n;

    if (check_usable(s) < 0)
        return -1;
    if (s->state & STATE_EOF)
        return 0;
    if (s->kind == KIND_MEMORY) {
        s->state |= STATE_EOF;
        return 0;
    }
    /* Seekable: position. Otherwise: the peer may be waiting for our output. */
    if (flush_buffer(s) < 0)
        return -1;
    s->rpos = s->rlen = 0;
    n = raw_read(s, s->rbuf_own, s->rcap);
    if (n == 0)
        s->state |= STATE_EOF;
    else if (n > 0)
        s->rlen = (size_t)n;
    return n;
}

static void need_mode(const vstream *s, int mode, const char *func)
{
    if (!(s->mode & mode))
        msg_panic("%s: stream not open for %s", func,
                  mode == VSTREAM_READ ? "reading" : "writing");
}

static vstream_status failure_status(const vstream *s)
{
    return (s->state & STATE_TIMEOUT) ? VSTREAM_TIMEOUT : VSTREAM_ERROR;
}

/* ---- Reading ---- */

int vstream_getc(vstream *s)
{
    need_mode(s, VSTREAM_READ, "vstream_getc");
    if (s->rpos == s->rlen) {
        op_begin(s);
        if (fill(s) <= 0)
            return -1;
    }
    return s->rbuf[s->rpos++];
}

vstream_status vstream_read_exact(vstream *s, void *buf, size_t len, size_t *got)
{
    unsigned char *out = buf;
    size_t done = 0;
    vstream_status status = VSTREAM_OK;

    need_mode(s, VSTREAM_READ, "vstream_read_exact");
    op_begin(s);
    while (done < len) {
        size_t avail = s->rlen - s->rpos;
        ssize_t n;

        if (avail > 0) {
            size_t take = len - done < avail ? len - done : avail;

            memcpy(out + done, s->rbuf + s->rpos, take);
            s->rpos += take;
            done += take;
            continue;
        }
        if (len - done >= s->rcap && s->kind != KIND_MEMORY && !(s->state & STATE_EOF)) {
            /* Large request: read straight into the caller's buffer. */
            if (check_usable(s) < 0 || flush_buffer(s) < 0) {
                status = failure_status(s);
                break;
            }
            n = raw_read(s, out + done, len - done);
            if (n == 0)
                s->state |= STATE_EOF;
            else if (n > 0)
                done += (size_t)n;
        } else {
            n = fill(s);
        }
        if (n == 0) {
            status = VSTREAM_EOF;
            break;
        }
        if (n < 0) {
            status = failure_status(s);
            break;
        }
    }
    if (got)
        *got = done;
    return status;
}

ssize_t vstream_read_some(vstream *s, void *buf, size_t len)
{
    size_t avail, take;
    ssize_t n;

    need_mode(s, VSTREAM_READ, "vstream_read_some");
    if (len == 0)
        return 0;
    if (s->rpos == s->rlen) {
        op_begin(s);
        if ((n = fill(s)) <= 0)
            return n;
    }
    avail = s->rlen - s->rpos;
    take = len < avail ? len : avail;
    memcpy(buf, s->rbuf + s->rpos, take);
    s->rpos += take;
    return (ssize_t)take;
}

vstream_status vstream_get_line(vstream *s, vstr *line, size_t max)
{
    need_mode(s, VSTREAM_READ, "vstream_get_line");
    if (max == 0)
        msg_panic("vstream_get_line: zero length bound");
    vstr_reset(line);
    op_begin(s);
    for (;;) {
        size_t avail, room, scan;
        const unsigned char *start, *nl;
        ssize_t n;

        if (s->rpos == s->rlen) {
            n = fill(s);
            if (n == 0)
                return VSTREAM_EOF;
            if (n < 0)
                return failure_status(s);
        }
        avail = s->rlen - s->rpos;
        room = max - vstr_len(line);
        scan = avail < room ? avail : room;
        start = s->rbuf + s->rpos;
        nl = memchr(start, '\n', scan);
        if (nl) {
            size_t take = (size_t)(nl - start) + 1;

            vstr_append(line, start, take);
            s->rpos += take;
            return VSTREAM_OK;
        }
        vstr_append(line, start, scan);
        s->rpos += scan;
        if (vstr_len(line) == max)
            return VSTREAM_TOOLONG;
    }
}

size_t vstream_read_pending(const vstream *s)
{
    return s->rlen - s->rpos;
}

size_t vstream_discard_input(vstream *s)
{
    size_t n = s->rlen - s->rpos;

    s->rpos = s->rlen;
    return n;
}

/* ---- Writing ---- */

/* Before writing to a seekable stream, give back input read ahead. */
static int write_begin(vstream *s)
{
    if (check_usable(s) < 0)
        return -1;
    if (s->kind == KIND_REGULAR && s->rpos < s->rlen) {
        off_t back = (off_t)(s->rlen - s->rpos);

        if (lseek(s->fd, -back, SEEK_CUR) < 0)
            return set_failed(s, errno);
    }
    if (s->kind == KIND_REGULAR)
        s->rpos = s->rlen = 0;
    return 0;
}

int vstream_write(vstream *s, const void *buf, size_t len)
{
    need_mode(s, VSTREAM_WRITE, "vstream_write");
    if (write_begin(s) < 0)
        return -1;
    if (len <= s->wcap - s->wlen) {
        memcpy(s->wbuf + s->wlen, buf, len);
        s->wlen += len;
        return 0;
    }
    op_begin(s);
    if (flush_buffer(s) < 0)
        return -1;
    if (len >= s->wcap)
        return write_all(s, buf, len);
    memcpy(s->wbuf, buf, len);
    s->wlen = len;
    return 0;
}

int vstream_puts(vstream *s, const char *str)
{
    return vstream_write(s, str, strlen(str));
}

int vstream_putc(vstream *s, int c)
{
    unsigned char byte = (unsigned char)c;

    return vstream_write(s, &byte, 1);
}

int vstream_vprintf(vstream *s, const char *fmt, va_list ap)
{
    char small[512];
    va_list ap2;
    int n, status;

    va_copy(ap2, ap);
    n = vsnprintf(small, sizeof(small), fmt, ap2);
    va_end(ap2);
    if (n < 0)
        msg_panic("vstream_vprintf: bad format \"%s\"", fmt);
    if ((size_t)n < sizeof(small))
        return vstream_write(s, small, (size_t)n);

    vstr big = VSTR_INIT;

    vstr_append_vfmt(&big, fmt, ap);
    status = vstream_write(s, vstr_str(&big), vstr_len(&big));
    vstr_release(&big);
    return status;
}

int vstream_printf(vstream *s, const char *fmt, ...)
{
    va_list ap;
    int status;

    va_start(ap, fmt);
    status = vstream_vprintf(s, fmt, ap);
    va_end(ap);
    return status;
}

int vstream_flush(vstream *s)
{
    need_mode(s, VSTREAM_WRITE, "vstream_flush");
    if (check_usable(s) < 0)
        return -1;
    op_begin(s);
    return flush_buffer(s);
}

size_t vstream_write_pending(const vstream *s)
{
    return s->wlen;
}

/* ---- Regular files ---- */

off_t vstream_seek(vstream *s, off_t offset, int whence)
{
    off_t pos;

    if (s->kind != KIND_REGULAR) {
        errno = ESPIPE;
        return -1;
    }
    op_begin(s);
    if (flush_buffer(s) < 0)
        return -1;
    if (whence == SEEK_CUR)
        offset -= (off_t)(s->rlen - s->rpos);
    pos = lseek(s->fd, offset, whence);
    if (pos < 0)
        return -1; /* a bad offset is the caller's; the stream stays usable */
    s->rpos = s->rlen = 0;
    s->state &= ~STATE_EOF;
    return pos;
}

off_t vstream_tell(vstream *s)
{
    off_t pos;

    if (s->kind != KIND_REGULAR) {
        errno = ESPIPE;
        return -1;
    }
    if ((pos = lseek(s->fd, 0, SEEK_CUR)) < 0)
        return -1;
    return pos - (off_t)(s->rlen - s->rpos) + (off_t)s->wlen;
}
