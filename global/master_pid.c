/*
 * master_pid - the lock that says "this instance is running"
 *
 * fcntl locks (util/lock) rather than flock: they are what Postfix uses
 * for pid files, and F_GETLK names the holder, which is how postern status
 * learns the pid without trusting the file's contents. A lock
 * belongs to a process and is not inherited by fork, so master takes it
 * after it has become the daemon.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "global/master_pid.h"
#include "util/lock.h"

void master_pid_path(config *cfg, vstr *out)
{
    const char *queue_dir = config_str(cfg, "queue_directory");
    const char *pid_dir = config_str(cfg, "process_id_directory");

    if (pid_dir[0] == '/')
        vstr_set_fmt(out, "%s/master.pid", pid_dir);
    else
        vstr_set_fmt(out, "%s/%s/master.pid", queue_dir, pid_dir);
}

static pid_t lock_holder(int fd)
{
    struct flock fl;

    memset(&fl, 0, sizeof(fl));
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    if (fcntl(fd, F_GETLK, &fl) < 0)
        return -1;
    return fl.l_type == F_UNLCK ? 0 : fl.l_pid;
}

int master_pid_lock(const char *path, pid_t *holder, vstr *err)
{
    char text[32];
    int fd, len;

    *holder = 0;
    if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644)) < 0) {
        vstr_set_fmt(err, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    if (lock_fcntl(fd, LOCK_EXCLUSIVE | LOCK_NOWAIT) < 0) {
        int saved = errno;

        if (saved == EAGAIN || saved == EACCES) {
            *holder = lock_holder(fd);
            vstr_set_fmt(err, "the Postern mail system is already running (PID %ld, lock %s)",
                         (long)*holder, path);
        } else {
            vstr_set_fmt(err, "cannot lock %s: %s", path, strerror(saved));
        }
        close(fd);
        errno = saved;
        return -1;
    }
    /* Postfix's format: the pid right-aligned in 10 columns. */
    len = snprintf(text, sizeof(text), "%10ld\n", (long)getpid());
    if (ftruncate(fd, 0) < 0 || pwrite(fd, text, (size_t)len, 0) != len) {
        vstr_set_fmt(err, "cannot write %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

pid_t master_pid_running(const char *path)
{
    pid_t pid;
    int fd;

    if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
        return errno == ENOENT ? 0 : -1;
    /* F_GETLK wants a descriptor open for the lock's kind; a read lock
     * conflicts with master's write lock just the same. */
    {
        struct flock fl;

        memset(&fl, 0, sizeof(fl));
        fl.l_type = F_RDLCK;
        fl.l_whence = SEEK_SET;
        if (fcntl(fd, F_GETLK, &fl) < 0)
            pid = -1;
        else
            pid = fl.l_type == F_UNLCK ? 0 : fl.l_pid;
    }
    close(fd);
    return pid;
}

void master_pid_release(const char *path, int fd)
{
    /* A failure is harmless: the lock, not the file, says whether master
     * runs. Unlink first, so that nobody locks the file we are leaving. */
    (void)unlink(path);
    close(fd);
}
