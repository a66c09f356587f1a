/*
 * mbox - write one message into a mailbox file, all of it or none of it
 *
 * SYNOPSIS
 *   mbox_writer *w = mbox_begin(fd, MBOX_FLAG_MBOX, limit);
 *   mbox_from_line(&line, sender, time(NULL));
 *   mbox_put_unquoted(w, vstr_str(&line), vstr_len(&line));
 *   mbox_put(w, "Return-Path: <a@b>", 18, 1);
 *   while (... content ...)
 *       mbox_put(w, data, len, line_complete);
 *   if (mbox_finish(w, &err) < 0)
 *       ... nothing of the message is left in the file; err says why ...
 *
 * DESCRIPTION
 *   The writer appends to an open, locked file (locking is the caller's:
 *   fcntl and dot-lock for an mbox, nothing for a fresh Maildir file). It
 *   notes the file's size first; any failure (a write error, the size
 *   limit, a failed fsync) truncates the file back to that size, so no
 *   half message is ever left for a mail reader to choke on.
 *
 *   Lines are given without their terminator; the writer adds LF. A long
 *   line may come in pieces (line_complete 0 for all but the last).
 *   With MBOX_FLAG_QUOTE a line that starts with "From " is written as
 *   ">From " (mboxo quoting, as Postfix and Python's mailbox module do),
 *   so it cannot be taken for the start of a new message. With
 *   MBOX_FLAG_BLANK_END an empty line follows the message, separating it
 *   from the next one's From_ line. mbox_finish() fsyncs unless
 *   MBOX_FLAG_NO_SYNC.
 *
 *   Output is buffered; nothing is guaranteed on disk before
 *   mbox_finish() returns 0. A message of up to 4 MiB goes to the file in
 *   one write() at mbox_finish, so even a writer killed with SIGKILL
 *   leaves all of it or none of it.
 *
 * DIAGNOSTICS
 *   The first error sticks; later puts are dropped. mbox_finish reports
 *   it: -1, errno set (EFBIG for the size limit), and a reason in err.
 */
#ifndef GLOBAL_MBOX_H
#define GLOBAL_MBOX_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "util/vstr.h"

#define MBOX_FLAG_QUOTE 1     /* ">From " quoting of body lines */
#define MBOX_FLAG_BLANK_END 2 /* an empty line after the message */
#define MBOX_FLAG_NO_SYNC 4   /* no fsync in mbox_finish (pipes, memory files) */
#define MBOX_FLAG_MBOX (MBOX_FLAG_QUOTE | MBOX_FLAG_BLANK_END)

typedef struct mbox_writer mbox_writer;

/* Start appending to fd at its end; limit is the most the file may hold
 * after the message (0: no limit). Never fails: an error (fstat) is kept
 * for mbox_finish. */
mbox_writer *mbox_begin(int fd, int flags, off_t limit);
/* Write data; line_complete adds the line end. 0, or -1 once any error
 * happened. */
int mbox_put(mbox_writer *w, const char *data, size_t len, int line_complete);
/* Write one complete line as it is, never quoted (the From_ line). */
int mbox_put_unquoted(mbox_writer *w, const char *data, size_t len);
/* Flush, fsync, free w. 0 on success; -1 with errno and err set on failure,
 * after truncating the file back to where it was. */
int mbox_finish(mbox_writer *w, vstr *err);
/* Give up: truncate the file back and free w (e.g. the source failed). */
void mbox_abort(mbox_writer *w);
/* Bytes written so far (the message as it will be in the file). */
off_t mbox_written(const mbox_writer *w);

/* The From_ line for sender at time t, without the line end:
 * "From sender  Tue Nov 22 17:16:00 2022"; MAILER-DAEMON for "". */
void mbox_from_line(vstr *out, const char *sender, time_t t);

#endif
