/*
 * NAME
 *   vstream - buffered streams over file descriptors, with deadlines
 *
 * SYNOPSIS
 *   #include "util/vstream.h"
 *
 *   vstream *s = vstream_fdopen(fd, VSTREAM_READ | VSTREAM_WRITE);
 *   vstream_set_timeout(s, 300000);
 *   switch (vstream_get_line(s, line, 1000)) { ... }
 *   vstream_printf(s, "250 %s\r\n", text);
 *   vstream_flush(s);
 *   vstream_close(s);
 *
 * DESCRIPTION
 *   A vstream buffers reads and writes on one descriptor: an SMTP session,
 *   an IPC connection, a queue file. Separate read and write buffers, so a
 *   socket can be read and written independently.
 *
 *   Deadlines. With a timeout of T ms (0 = none), each call of this
 *   interface that has to wait for the descriptor waits at most T ms in
 *   total: a whole vstream_get_line, vstream_read_exact or vstream_flush is
 *   one operation, so a peer that trickles one byte at a time cannot
 *   stretch it; vstream_begin_deadline extends this to a sequence of
 *   calls. Waiting is done with poll(); blocking and non-blocking
 *   descriptors both work (sockets are read and written with MSG_DONTWAIT,
 *   pipes are polled before each read or write and written at most
 *   PIPE_BUF bytes at a time). On expiry the stream is "timed out".
 *
 *   Errors are sticky: after an I/O error or a timeout every further
 *   operation fails at once until vstream_clear_error. End of input is
 *   sticky too. vstream_errno says what went wrong (ETIMEDOUT for a
 *   timeout).
 *
 *   Before a read has to refill its buffer, pending output is flushed, so
 *   a client that queues commands and then reads replies (PIPELINING)
 *   never deadlocks with its peer. A server batches replies by flushing
 *   only when vstream_read_pending() is zero.
 *
 *   Regular files: a stream opened for reading and writing may switch
 *   between the two; vstream_seek and vstream_tell account for buffered
 *   data, so a queue file can be read back and patched in place.
 *
 *   Layering (TLS): vstream_set_io replaces the read and write system
 *   calls with the caller's functions; callers of the stream see no
 *   difference. Such functions must not block: use a non-blocking
 *   descriptor, and report "would block" as described at vstream_read_fn.
 *
 *   Writes to a pipe whose reader is gone raise SIGPIPE unless the program
 *   ignores it (daemons do); sockets never raise it.
 *
 * DIAGNOSTICS
 *   Calling a read function on a stream not opened for reading (or write
 *   on one not opened for writing) is a caller bug: msg_panic.
 */
#ifndef UTIL_VSTREAM_H
#define UTIL_VSTREAM_H

#include <stdarg.h>
#include <stddef.h>
#include <sys/types.h>

#include "util/vstr.h"

typedef struct vstream vstream;

/* Open modes for vstream_fdopen, combined with |. */
#define VSTREAM_READ 1
#define VSTREAM_WRITE 2

/* Default size of each buffer. */
#define VSTREAM_BUFSIZE 8192

/* Outcome of a read operation. */
typedef enum vstream_status {
    VSTREAM_OK = 0,  /* the request was met */
    VSTREAM_EOF,     /* input ended first; what was read before is kept */
    VSTREAM_TOOLONG, /* a line hit the length bound; the rest is still unread */
    VSTREAM_TIMEOUT, /* the deadline passed; the stream is now timed out */
    VSTREAM_ERROR,   /* an I/O error; vstream_errno says which */
} vstream_status;

/*
 * Low-level I/O for vstream_set_io. Move up to len bytes; return the count
 * (> 0), 0 at end of input (read only), or -1 with errno set. When the
 * operation would block, return -1 with errno EAGAIN and set *want to
 * POLLIN or POLLOUT: what the descriptor must become before a retry (it is
 * preset to POLLIN for reads, POLLOUT for writes; TLS may need the other).
 */
typedef ssize_t (*vstream_read_fn)(void *context, int fd, void *buf, size_t len, int *want);
typedef ssize_t (*vstream_write_fn)(void *context, int fd, const void *buf, size_t len, int *want);

/* ---- Opening and closing ---- */

/* A stream on fd for VSTREAM_READ and/or VSTREAM_WRITE; the stream owns fd. */
vstream *vstream_fdopen(int fd, int mode);
/* open(2) path and wrap it (mode from oflags' access mode); NULL with errno. */
vstream *vstream_open(const char *path, int oflags, mode_t perm);
/* A read-only stream over len bytes at data (not copied; must outlive it). */
vstream *vstream_open_memory(const void *data, size_t len);
/* Flush, close the descriptor, free. 0, or -1 with errno when the flush or
 * close failed or the stream of a writer was already in error (so a writer
 * may check only this). */
int vstream_close(vstream *s);
/* As vstream_close, but leave the descriptor open. */
int vstream_release(vstream *s);

/* ---- Settings and state ---- */

/* The descriptor (-1 for a memory stream). */
int vstream_fd(const vstream *s);
/* Deadline per operation in milliseconds; 0 waits without limit. */
void vstream_set_timeout(vstream *s, int timeout_ms);
int vstream_timeout(const vstream *s);
/* From now until vstream_end_deadline, every operation shares one deadline
 * timeout_ms from now (0: the stream's timeout), so a sequence of calls (a
 * whole request, read a byte at a time) is bounded as one. Returns 1 if it
 * started one; 0 if one was already running (it stays) or there is no
 * timeout to apply. */
int vstream_begin_deadline(vstream *s, int timeout_ms);
/* Back to a deadline per operation. */
void vstream_end_deadline(vstream *s);
/* Use read_fn/write_fn (either may be NULL for the plain system call) on
 * context instead of the system calls; buffered data is untouched. */
void vstream_set_io(vstream *s, vstream_read_fn read_fn, vstream_write_fn write_fn, void *context);
/* True once input has ended. */
int vstream_eof(const vstream *s);
/* True after an I/O error or a timeout. */
int vstream_error(const vstream *s);
/* True after a timeout. */
int vstream_timed_out(const vstream *s);
/* errno of the failure that set the error state (ETIMEDOUT), else 0. */
int vstream_errno(const vstream *s);
/* Forget end-of-input, error and timeout, so the stream can be used again. */
void vstream_clear_error(vstream *s);

/* ---- Reading ---- */

/* The next byte (0..255), or -1 at end of input, on error or timeout. */
int vstream_getc(vstream *s);
/* Read exactly len bytes; *got (may be NULL) gets the count actually read.
 * VSTREAM_EOF when input ended before len bytes. */
vstream_status vstream_read_exact(vstream *s, void *buf, size_t len, size_t *got);
/* Read what is available, 1 to len bytes (waiting if nothing is); 0 at end
 * of input, -1 on error or timeout. */
ssize_t vstream_read_some(vstream *s, void *buf, size_t len);
/* Read one line into line (replacing its contents), the terminating LF
 * (and any CR before it) KEPT, at most max bytes (max > 0) counting the
 * LF. VSTREAM_OK: line ends in LF. VSTREAM_TOOLONG: no LF within max
 * bytes; line holds those max bytes and the rest of the line is still
 * unread. VSTREAM_EOF: input ended before an LF; line holds the bytes
 * received (empty at a clean end between lines). */
vstream_status vstream_get_line(vstream *s, vstr *line, size_t max);
/* Bytes received and buffered but not yet consumed (no system call). */
size_t vstream_read_pending(const vstream *s);
/* Drop the buffered input (e.g. plaintext after STARTTLS); returns how much. */
size_t vstream_discard_input(vstream *s);

/* ---- Writing: 0 on success, -1 on error or timeout ---- */

/* Buffer len bytes, writing out when the buffer fills. */
int vstream_write(vstream *s, const void *buf, size_t len);
/* Write a NUL-terminated string (without the NUL). */
int vstream_puts(vstream *s, const char *str);
/* Write one byte. */
int vstream_putc(vstream *s, int c);
/* Write formatted text. */
int vstream_printf(vstream *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int vstream_vprintf(vstream *s, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Write out everything buffered. */
int vstream_flush(vstream *s);
/* Bytes buffered for writing, not yet handed to the system. */
size_t vstream_write_pending(const vstream *s);

/* ---- Regular files ---- */

/* Flush output, drop buffered input and move the file offset like lseek;
 * SEEK_CUR counts from the logical position. New offset, or -1 with errno
 * (ESPIPE when the descriptor is not seekable). Clears end-of-input. */
off_t vstream_seek(vstream *s, off_t offset, int whence);
/* The logical position (where the next byte read or written goes), or -1. */
off_t vstream_tell(vstream *s);

#endif
