/*
 * fileio - whole reads and writes, fsync of files and directories
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/fileio.h"
#include "util/mem.h"
#include "util/msg.h"

/* After EAGAIN on a non-blocking descriptor: wait, then the caller retries. */
static int wait_for(int fd, short events)
{
    struct pollfd pfd = {fd, events, 0};

    while (poll(&pfd, 1, -1) < 0)
        if (errno != EINTR)
            return -1;
    return 0;
}

int fileio_write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;

    while (len > 0) {
        ssize_t n = write(fd, p, len);

        if (n > 0) {
            p += n;
            len -= (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (wait_for(fd, POLLOUT) < 0)
                return -1;
        } else {
            if (n == 0)
                errno = EIO;
            return -1;
        }
    }
    return 0;
}

ssize_t fileio_read_all(int fd, void *buf, size_t len)
{
    char *p = buf;
    size_t done = 0;

    while (done < len) {
        ssize_t n = read(fd, p + done, len - done);

        if (n > 0) {
            done += (size_t)n;
        } else if (n == 0) {
            break;
        } else if (errno == EINTR) {
            continue;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            if (wait_for(fd, POLLIN) < 0)
                return -1;
        } else {
            return -1;
        }
    }
    return (ssize_t)done;
}

int fileio_read_fd(int fd, size_t max, vstr *out)
{
    char buf[8192];
    size_t total = 0;

    for (;;) {
        /* Ask for one byte beyond max, to tell "exactly max" from "more". */
        size_t left = max - total;
        size_t want = left >= sizeof(buf) ? sizeof(buf) : left + 1;
        ssize_t n = fileio_read_all(fd, buf, want);

        if (n < 0)
            return -1;
        if (total + (size_t)n > max) {
            vstr_append(out, buf, max - total);
            errno = EFBIG;
            return -1;
        }
        vstr_append(out, buf, (size_t)n);
        total += (size_t)n;
        if ((size_t)n < want)
            return 0;
    }
}

int fileio_fsync(int fd)
{
    int rc;

    do
        rc = fsync(fd);
    while (rc < 0 && errno == EINTR);
    return rc;
}

int fileio_fsync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc, saved;

    if (fd < 0)
        return -1;
    rc = fileio_fsync(fd);
    saved = errno;
    close(fd);
    errno = saved;
    return rc;
}

/* The directory part of path, in a new string ("." or "/" at the ends). */
static char *parent_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    size_t len;
    char *dir;

    if (slash == NULL)
        return mem_strdup(".");
    while (slash > path && slash[-1] == '/')
        slash--;
    len = slash == path ? 1 : (size_t)(slash - path);
    dir = mem_alloc(len + 1);
    memcpy(dir, path, len);
    dir[len] = 0;
    return dir;
}

int fileio_fsync_parent(const char *path)
{
    char *dir = parent_of(path);
    int rc, saved;

    rc = fileio_fsync_dir(dir);
    saved = errno;
    mem_free(dir);
    errno = saved;
    return rc;
}

int fileio_rename_durable(const char *from, const char *to)
{
    char *from_dir, *to_dir;
    int rc, saved;

    if (rename(from, to) < 0)
        return -1;
    from_dir = parent_of(from);
    to_dir = parent_of(to);
    rc = fileio_fsync_dir(to_dir);
    if (rc == 0 && strcmp(from_dir, to_dir) != 0)
        rc = fileio_fsync_dir(from_dir);
    saved = errno;
    mem_free(from_dir);
    mem_free(to_dir);
    errno = saved;
    return rc;
}

int fileio_write_atomic(const char *path, const void *data, size_t len, mode_t mode, vstr *err)
{
    vstr tmp = VSTR_INIT;
    const char *step;
    int fd, saved;

    vstr_set_fmt(&tmp, "%s.tmpXXXXXX", path);
    if ((fd = mkostemp(tmp.data, O_CLOEXEC)) < 0) {
        step = "create temporary file";
        goto fail;
    }
    if (fchmod(fd, mode) < 0) {
        step = "set mode";
        goto fail_file;
    }
    if (fileio_write_all(fd, data, len) < 0) {
        step = "write";
        goto fail_file;
    }
    if (fileio_fsync(fd) < 0) {
        step = "fsync";
        goto fail_file;
    }
    if (close(fd) < 0) {
        fd = -1;
        step = "close";
        goto fail_file;
    }
    fd = -1;
    if (rename(vstr_str(&tmp), path) < 0) {
        step = "rename";
        goto fail_file;
    }
    if (fileio_fsync_parent(path) < 0) {
        step = "fsync directory";
        goto fail; /* the new file is in place; only durability is in doubt */
    }
    vstr_release(&tmp);
    return 0;

fail_file:
    saved = errno;
    if (fd >= 0)
        close(fd);
    unlink(vstr_str(&tmp));
    errno = saved;
fail:
    saved = errno;
    if (err)
        vstr_set_fmt(err, "%s: %s: %s", path, step, strerror(saved));
    vstr_release(&tmp);
    errno = saved;
    return -1;
}

int fileio_rename_noreplace(int from_dir, const char *from, int to_dir, const char *to)
{
    if (renameat2(from_dir, from, to_dir, to, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS)
        return -1;
    if (linkat(from_dir, from, to_dir, to, 0) < 0)
        return -1;
    if (unlinkat(from_dir, from, 0) < 0)
        msg_warn("%s is now also %s, but the old name stays: %s", from, to, strerror(errno));
    return 0;
}
