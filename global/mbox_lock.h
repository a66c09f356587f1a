/*
 * mbox_lock - open an mbox file for appending, with the locks mail readers expect
 *
 * SYNOPSIS
 *   mbox_lock_policy pol = {.fcntl = 1, .dotlock = 1, .attempts = 20,
 *                           .delay_ms = 1000, .stale_secs = 500};
 *   int dotlocked;
 *   int fd = mbox_lock_open(path, &pol, owner, (uid_t)-1, (gid_t)-1, 0, &dotlocked, &dsn, &why);
 *   ... append (global/mbox) ...
 *   mbox_lock_close(path, fd, dotlocked);
 *
 * DESCRIPTION
 *   Used by every agent that appends to an mbox (local, virtual). Takes
 *   the dot-lock PATH.lock first (when the policy has dotlock), then opens
 *   the file without following links (util/safe_open; created mode 0600
 *   and, when chown_uid is not -1, given to chown_uid:chown_gid), then an
 *   fcntl lock (when the policy has fcntl).
 *
 *   Waiting: other deliveries hold a lock for milliseconds, so the wait
 *   starts at 5 ms and doubles up to delay_ms; the whole wait is bounded
 *   by attempts times delay_ms, as in Postfix (deliver_lock_attempts,
 *   deliver_lock_delay). A dot-lock that names this host and a process
 *   that no longer exists is removed at once (util/lock writes "PID HOST"
 *   into it); other programs' locks age out after stale_secs.
 *
 * DIAGNOSTICS
 *   mbox_lock_open: -1 with a status code in dsn (mbox_lock_dsn) and a
 *   reason. dot_optional: a dot-lock refused for lack of rights (EACCES,
 *   EPERM, EROFS) is done without, as for /file deliveries.
 */
#ifndef GLOBAL_MBOX_LOCK_H
#define GLOBAL_MBOX_LOCK_H

#include <sys/types.h>

#include "util/vstr.h"

typedef struct mbox_lock_policy {
    int fcntl;           /* take an fcntl lock on the open file */
    int dotlock;         /* take PATH.lock */
    long attempts;       /* deliver_lock_attempts */
    unsigned delay_ms;   /* deliver_lock_delay */
    unsigned stale_secs; /* stale_lock_time */
} mbox_lock_policy;

/* Parse a list such as "fcntl, dotlock" (mailbox_delivery_lock,
 * virtual_mailbox_lock) into pol's methods; unknown words are warned
 * about, naming param. */
void mbox_lock_methods(mbox_lock_policy *pol, const char *param, const char *value);
/* The status code for the errno of a failed mailbox update: 5.2.2 for the
 * size limit or a quota, 4.3.1 for a full disk, else 4.2.0. */
const char *mbox_lock_dsn(int err);
/* Open (or create) and lock path; the descriptor, or -1 with dsn and
 * reason set. *dotlocked says whether mbox_lock_close must remove the
 * dot-lock. */
int mbox_lock_open(const char *path, const mbox_lock_policy *pol, uid_t owner, uid_t chown_uid,
                   gid_t chown_gid, int dot_optional, int *dotlocked, vstr *dsn, vstr *reason);
/* Close fd (releasing the fcntl lock) and remove the dot-lock if taken. */
void mbox_lock_close(const char *path, int fd, int dotlocked);
/* mkdir -p of the directory path is in, mode 0700; 0, or -1 with errno and
 * a reason. */
int mbox_lock_make_parents(const char *path, vstr *reason);

#endif
