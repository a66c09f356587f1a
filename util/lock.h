/*
 * NAME
 *   lock - fcntl whole-file locks and dot-lock files
 *
 * SYNOPSIS
 *   #include "util/lock.h"
 *
 *   lock_fcntl(fd, LOCK_EXCLUSIVE | LOCK_NOWAIT);
 *   lock_dot("/var/mail/alice", 5, 1000, 600, err);  ...  lock_dot_release("/var/mail/alice");
 *
 * DESCRIPTION
 *   Mailbox delivery uses both kinds, as mail readers expect: an fcntl
 *   lock on the open mailbox and a dot-lock file PATH.lock beside it.
 *
 *   fcntl locks belong to the process and vanish when it closes ANY
 *   descriptor of the file or exits; they never outlive a crash. Dot-locks
 *   are files and do outlive a crash, so one older than a given age is
 *   taken to be stale and removed.
 *
 * DIAGNOSTICS
 *   -1 with errno set; EAGAIN means "held by someone else".
 */
#ifndef UTIL_LOCK_H
#define UTIL_LOCK_H

#include "util/vstr.h"

/* Modes for lock_fcntl: one of the first three, optionally | LOCK_NOWAIT. */
#define LOCK_SHARED 1    /* F_RDLCK: fd must be open for reading */
#define LOCK_EXCLUSIVE 2 /* F_WRLCK: fd must be open for writing */
#define LOCK_UNLOCK 3
#define LOCK_NOWAIT 4 /* fail with EAGAIN instead of waiting */

/* Lock, or unlock, all of fd's file (present and future bytes); waits
 * (retrying after signals) unless LOCK_NOWAIT. 0, or -1 with errno. */
int lock_fcntl(int fd, int mode);

/* Create PATH.lock exclusively, holding "PID HOST\n" of the caller from the
 * moment it exists (never empty, even if the caller is killed), trying up to tries times (at least
 * once) delay_ms apart; a lock file older than stale_secs (0 = never stale) is removed first. 0,
 * or -1 with EAGAIN (still held after the last try) or another errno, and a reason in err (may be
 * NULL). */
int lock_dot(const char *path, unsigned tries, unsigned delay_ms, unsigned stale_secs, vstr *err);
/* Remove PATH.lock; 0, or -1 with errno. */
int lock_dot_release(const char *path);

#endif
