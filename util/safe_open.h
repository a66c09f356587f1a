/*
 * NAME
 *   safe_open - open files without being fooled by links
 *
 * SYNOPSIS
 *   #include "util/safe_open.h"
 *
 *   fd = safe_open_existing(path, O_RDWR | O_APPEND, user_uid, 0600, err);
 *   fd = safe_open_create(path, O_WRONLY, 0600, err);
 *   fd = safe_open_or_create(path, O_WRONLY | O_APPEND, 0600, user_uid, 0600, err);
 *
 * DESCRIPTION
 *   A privileged program writing where users can write (a mailbox
 *   directory, a maildrop) must not be redirected to another file through a
 *   symbolic or hard link. An existing file is accepted only when it is the
 *   very file named (O_NOFOLLOW, and lstat before and fstat after agree on
 *   device and inode), a regular file, with one link, and, when asked, with
 *   the expected owner and no permission bits beyond a maximum.
 *
 *   Opening is done with O_NONBLOCK so that a FIFO planted under the name
 *   cannot hang the caller; the flag is cleared again unless the caller
 *   asked for it. Every descriptor is close-on-exec.
 *
 *   Only the last path component is checked: the directories above it are
 *   the caller's to trust.
 *
 * DIAGNOSTICS
 *   -1 with errno set (ELOOP for a symlink, EMLINK for extra hard links,
 *   EPERM for a wrong owner or mode, EINVAL for a non-regular file) and a
 *   sentence naming path and the reason in err (may be NULL).
 */
#ifndef UTIL_SAFE_OPEN_H
#define UTIL_SAFE_OPEN_H

#include <sys/types.h>

#include "util/vstr.h"

/* Pass as owner to accept any owner. */
#define SAFE_OPEN_ANY_OWNER ((uid_t)-1)
/* Pass as max_mode to accept any permission bits. */
#define SAFE_OPEN_ANY_MODE ((mode_t)07777)

/* Open an existing file with flags (O_CREAT and O_EXCL not allowed); refuse
 * a symlink, a non-regular file, a file with more than one link, an owner
 * other than owner, or permission bits outside max_mode. */
int safe_open_existing(const char *path, int flags, uid_t owner, mode_t max_mode, vstr *err);
/* Create a new file exclusively (never through a link) with exactly mode
 * (the umask does not apply). */
int safe_open_create(const char *path, int flags, mode_t mode, vstr *err);
/* Open path as safe_open_existing, or create it as safe_open_create when
 * it does not exist (losing a race with another creator is handled). */
int safe_open_or_create(const char *path, int flags, mode_t create_mode, uid_t owner,
                        mode_t max_mode, vstr *err);

#endif
