/*
 * maildir - deliver one file into a Maildir: write in tmp/, move to new/
 *
 * SYNOPSIS
 *   maildir_file *m = maildir_create("/home/u/Maildir/", myhostname, &err);
 *   mbox_writer *w = mbox_begin(maildir_fd(m), 0, limit);
 *   ... mbox_put ...
 *   if (mbox_finish(w, &err) < 0 || maildir_commit(m, &err) < 0)
 *       ... nothing was delivered ...
 *   (on any earlier failure: maildir_abort(m))
 *
 * DESCRIPTION
 *   maildir_create() creates tmp/NAME exclusively, mode 0600; when tmp/
 *   is missing it first makes the Maildir and its tmp, new and cur
 *   directories (mode 0700, parents too), and maildir_commit makes new/
 *   when only it is missing. NAME is "SECONDS.PPID_N.HOST" (N
 *   counts deliveries in this process; '/' and ':' in HOST are written
 *   \057 and \072, as the Maildir convention asks), unique on this host
 *   while pids are; an existing name is never overwritten, another is
 *   tried. maildir_commit() closes the (already fsynced) file, links it
 *   into new/ (rename only where the file system has no hard links),
 *   removes the tmp/ name and fsyncs new/, so the message is either
 *   durably in new/ or not delivered.
 *
 * DIAGNOSTICS
 *   NULL or -1 with a one-line reason in err; maildir_commit and
 *   maildir_abort free m whatever happens.
 */
#ifndef GLOBAL_MAILDIR_H
#define GLOBAL_MAILDIR_H

#include <sys/types.h>
#include <time.h>

#include "util/vstr.h"

typedef struct maildir_file maildir_file;

/* The unique file name for (time, pid, counter, host). */
void maildir_unique_name(vstr *out, time_t t, pid_t pid, unsigned long n, const char *host);

/* Create DIR/tmp/NAME (dir with or without its trailing '/'). */
maildir_file *maildir_create(const char *dir, const char *host, vstr *err);
/* The descriptor to write the message to. */
int maildir_fd(const maildir_file *m);
/* The file's path under tmp/ (before commit) or new/ (after). */
const char *maildir_path(const maildir_file *m);
/* Move the written and fsynced file into new/; frees m. */
int maildir_commit(maildir_file *m, vstr *err);
/* Remove the tmp/ file; frees m. */
void maildir_abort(maildir_file *m);

#endif
