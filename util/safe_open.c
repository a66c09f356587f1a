/*
 * safe_open - open files without being fooled by links
 *
 * Why both lstat and fstat: O_NOFOLLOW refuses a symlink at open time, but
 * the name could be swapped between a check and the open. Comparing the
 * lstat of the name with the fstat of what was opened proves the
 * descriptor is the file the name pointed to when it was checked.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/msg.h"
#include "util/safe_open.h"

static int refuse(int fd, vstr *err, int saved_errno, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Close fd (if open), record the reason and return -1 with errno. */
static int refuse(int fd, vstr *err, int saved_errno, const char *fmt, ...)
{
    if (fd >= 0)
        close(fd);
    if (err) {
        va_list ap;

        va_start(ap, fmt);
        vstr_reset(err);
        vstr_append_vfmt(err, fmt, ap);
        va_end(ap);
    }
    errno = saved_errno;
    return -1;
}

/* Clear O_NONBLOCK again if the caller did not ask for it. */
static int restore_blocking(int fd, int flags)
{
    int fl;

    if (flags & O_NONBLOCK)
        return 0;
    if ((fl = fcntl(fd, F_GETFL)) < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0)
        return -1;
    return 0;
}

/* The checks common to existing and new files, on an open fd. */
static int check_opened(int fd, const char *path, const struct stat *lst, uid_t owner,
                        mode_t max_mode, int flags, vstr *err)
{
    struct stat fst;

    if (fstat(fd, &fst) < 0)
        return refuse(fd, err, errno, "%s: fstat: %s", path, strerror(errno));
    if (lst && (lst->st_dev != fst.st_dev || lst->st_ino != fst.st_ino))
        return refuse(fd, err, EPERM, "%s: file was replaced while being opened", path);
    if (!S_ISREG(fst.st_mode))
        return refuse(fd, err, EINVAL, "%s: not a regular file", path);
    if (fst.st_nlink != 1)
        return refuse(fd, err, EMLINK, "%s: has %lu links, expected 1", path,
                      (unsigned long)fst.st_nlink);
    if (owner != SAFE_OPEN_ANY_OWNER && fst.st_uid != owner)
        return refuse(fd, err, EPERM, "%s: owned by uid %lu, expected %lu", path,
                      (unsigned long)fst.st_uid, (unsigned long)owner);
    if ((fst.st_mode & 07777 & ~max_mode) != 0)
        return refuse(fd, err, EPERM, "%s: mode %04o allows more than %04o", path,
                      (unsigned)(fst.st_mode & 07777), (unsigned)max_mode);
    if (restore_blocking(fd, flags) < 0)
        return refuse(fd, err, errno, "%s: fcntl: %s", path, strerror(errno));
    return fd;
}

int safe_open_existing(const char *path, int flags, uid_t owner, mode_t max_mode, vstr *err)
{
    struct stat lst;
    int fd;

    if (flags & (O_CREAT | O_EXCL))
        msg_panic("safe_open_existing: O_CREAT or O_EXCL in flags for %s", path);
    if (lstat(path, &lst) < 0)
        return refuse(-1, err, errno, "%s: %s", path, strerror(errno));
    if (S_ISLNK(lst.st_mode))
        return refuse(-1, err, ELOOP, "%s: is a symbolic link", path);
    if (!S_ISREG(lst.st_mode))
        return refuse(-1, err, EINVAL, "%s: not a regular file", path);
    /* O_TRUNC would act before the checks: truncate only what passed them. */
    fd = open(path, (flags & ~O_TRUNC) | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return refuse(-1, err, errno, "%s: %s", path,
                      errno == ELOOP ? "is a symbolic link" : strerror(errno));
    if ((fd = check_opened(fd, path, &lst, owner, max_mode, flags, err)) < 0)
        return -1;
    if ((flags & O_TRUNC) && ftruncate(fd, 0) < 0)
        return refuse(fd, err, errno, "%s: truncate: %s", path, strerror(errno));
    return fd;
}

int safe_open_create(const char *path, int flags, mode_t mode, vstr *err)
{
    int fd;

    fd = open(path, flags | O_CREAT | O_EXCL | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, mode & 07777);
    if (fd < 0)
        return refuse(-1, err, errno, "%s: create: %s", path, strerror(errno));
    if (fchmod(fd, mode & 07777) < 0) {
        int saved = errno;

        unlink(path);
        return refuse(fd, err, saved, "%s: set mode: %s", path, strerror(saved));
    }
    return check_opened(fd, path, NULL, SAFE_OPEN_ANY_OWNER, SAFE_OPEN_ANY_MODE, flags, err);
}

int safe_open_or_create(const char *path, int flags, mode_t create_mode, uid_t owner,
                        mode_t max_mode, vstr *err)
{
    /* A few rounds: the file may vanish between attempts, or appear. */
    for (int round = 0; round < 3; round++) {
        int fd = safe_open_existing(path, flags & ~(O_CREAT | O_EXCL), owner, max_mode, err);

        if (fd >= 0 || errno != ENOENT)
            return fd;
        fd = safe_open_create(path, flags & ~(O_CREAT | O_EXCL), create_mode, err);
        if (fd >= 0 || errno != EEXIST)
            return fd;
    }
    return refuse(-1, err, EAGAIN, "%s: appears and disappears while being opened", path);
}
