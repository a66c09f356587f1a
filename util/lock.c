/*
 * lock - fcntl whole-file locks and dot-lock files
 *
 * Stale dot-lock removal compares the inode it judged stale with the one it
 * is about to remove only as far as lstat allows: between the check and
 * unlink another process could replace the lock. Every dot-lock user
 * (procmail, mutt, Postfix) lives with the same window; it only matters
 * for a lock already older than stale_secs.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/fileio.h"
#include "util/lock.h"
#include "util/msg.h"

int lock_fcntl(int fd, int mode)
{
    struct flock fl;
    int cmd = (mode & LOCK_NOWAIT) ? F_SETLK : F_SETLKW;
    int rc;

    memset(&fl, 0, sizeof(fl));
    switch (mode & ~LOCK_NOWAIT) {
    case LOCK_SHARED:
        fl.l_type = F_RDLCK;
        break;
    case LOCK_EXCLUSIVE:
        fl.l_type = F_WRLCK;
        break;
    case LOCK_UNLOCK:
        fl.l_type = F_UNLCK;
        break;
    default:
        msg_panic("lock_fcntl: bad mode %d", mode);
    }
    fl.l_whence = SEEK_SET;
    fl.l_start = 0;
    fl.l_len = 0; /* to the end, however far the file grows */
    do
        rc = fcntl(fd, cmd, &fl);
    while (rc < 0 && errno == EINTR && cmd == F_SETLKW);
    if (rc < 0 && errno == EACCES)
        errno = EAGAIN; /* POSIX allows either for "held elsewhere" */
    return rc;
}

static void dot_name(vstr *lock_path, const char *path)
{
    vstr_set_fmt(lock_path, "%s.lock", path);
}

/* "PID HOST\n": who holds a lock, so a later process can tell when the
 * holder was killed (local removes such locks at once). */
static void lock_owner_text(char *buf, size_t size)
{
    char host[256];

    if (gethostname(host, sizeof(host)) < 0)
        host[0] = 0;
    host[sizeof(host) - 1] = 0;
    snprintf(buf, size, "%ld %s\n", (long)getpid(), host);
}

/*
 * Create lock_path exclusively with the owner text already in it. The
 * text is written to an unnamed file (O_TMPFILE) that link() then names,
 * so a process killed at any moment leaves no lock or a complete one,
 * never an empty file nobody can judge until it goes stale. Where the
 * file system has no O_TMPFILE (or /proc is missing), the lock is
 * created and then written, as other dot-lock users do. 0, or -1 with
 * errno (EEXIST: held).
 */
static int create_lock_file(const char *lock_path)
{
    char text[300], dir[4096], proc_path[64];
    const char *slash = strrchr(lock_path, '/');
    size_t len;
    int fd, rc, saved;

    lock_owner_text(text, sizeof(text));
    len = strlen(text);
    if (slash == NULL)
        snprintf(dir, sizeof(dir), ".");
    else if (slash == lock_path)
        snprintf(dir, sizeof(dir), "/");
    else if ((size_t)(slash - lock_path) < sizeof(dir))
        snprintf(dir, sizeof(dir), "%.*s", (int)(slash - lock_path), lock_path);
    else
        dir[0] = 0;
    if (dir[0] && (fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600)) >= 0) {
        if (fileio_write_all(fd, text, len) == 0) {
            snprintf(proc_path, sizeof(proc_path), "/proc/self/fd/%d", fd);
            rc = linkat(AT_FDCWD, proc_path, AT_FDCWD, lock_path, AT_SYMLINK_FOLLOW);
            saved = errno;
            close(fd);
            if (rc == 0 || saved == EEXIST) {
                errno = saved;
                return rc;
            }
        } else {
            close(fd);
        }
    }
    fd = open(lock_path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    if (fileio_write_all(fd, text, len) < 0)
        msg_warn("write %s: %s", lock_path, strerror(errno));
    close(fd);
    return 0;
}

/* Remove the lock file if it is older than stale_secs; 1 if removed. */
static int remove_if_stale(const char *lock_path, unsigned stale_secs)
{
    struct stat st;

    if (stale_secs == 0 || lstat(lock_path, &st) < 0)
        return 0;
    if (time(NULL) - st.st_mtime < (time_t)stale_secs)
        return 0;
    if (!S_ISREG(st.st_mode))
        return 0; /* not ours to judge: a directory or symlink stays */
    if (unlink(lock_path) < 0)
        return 0;
    msg_warn("removed stale lock file %s (age %lld s)", lock_path,
             (long long)(time(NULL) - st.st_mtime));
    return 1;
}

int lock_dot(const char *path, unsigned tries, unsigned delay_ms, unsigned stale_secs, vstr *err)
{
    vstr lock_path = VSTR_INIT;
    int rc = -1, saved = 0;

    dot_name(&lock_path, path);
    if (tries == 0)
        tries = 1;
    for (unsigned i = 0; i < tries; i++) {
        if (i > 0)
            poll(NULL, 0, (int)(delay_ms > 3600000 ? 3600000 : delay_ms));
        if ((rc = create_lock_file(vstr_str(&lock_path))) == 0)
            break;
        saved = errno;
        if (saved != EEXIST)
            break;
        /* Stale: remove and try again at once, without using up a try. */
        if (remove_if_stale(vstr_str(&lock_path), stale_secs)) {
            if ((rc = create_lock_file(vstr_str(&lock_path))) == 0)
                break;
            saved = errno;
            if (saved != EEXIST)
                break;
        }
    }
    if (rc == 0) {
        vstr_release(&lock_path);
        return 0;
    }
    if (saved == EEXIST)
        saved = EAGAIN;
    if (err)
        vstr_set_fmt(err, "cannot create lock file %s: %s", vstr_str(&lock_path),
                     saved == EAGAIN ? "held by another process" : strerror(saved));
    vstr_release(&lock_path);
    errno = saved;
    return -1;
}

int lock_dot_release(const char *path)
{
    vstr lock_path = VSTR_INIT;
    int rc, saved;

    dot_name(&lock_path, path);
    rc = unlink(vstr_str(&lock_path));
    saved = errno;
    vstr_release(&lock_path);
    errno = saved;
    return rc;
}
