/*
 * mbox_lock - open an mbox file for appending, with the locks mail readers
 * expect (see mbox_lock.h)
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "global/mbox_lock.h"
#include "util/argv.h"
#include "util/lock.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/safe_open.h"

void mbox_lock_methods(mbox_lock_policy *pol, const char *param, const char *value)
{
    argv_t *words = argv_split(value, ", \t\r\n");

    pol->fcntl = pol->dotlock = 0;
    for (size_t i = 0; i < words->argc; i++) {
        if (strcasecmp(words->argv[i], "fcntl") == 0)
            pol->fcntl = 1;
        else if (strcasecmp(words->argv[i], "dotlock") == 0)
            pol->dotlock = 1;
        else
            msg_warn("%s: unsupported method \"%s\" ignored", param, words->argv[i]);
    }
    argv_free(words);
}

const char *mbox_lock_dsn(int err)
{
    switch (err) {
    case EFBIG:
    case EDQUOT:
        return "5.2.2";
    case ENOSPC:
        return "4.3.1";
    default:
        return "4.2.0";
    }
}

typedef struct lock_wait {
    const mbox_lock_policy *pol;
    long long deadline_ms;
    unsigned pause_ms;
} lock_wait;

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void lock_wait_init(lock_wait *w, const mbox_lock_policy *pol)
{
    long attempts = pol->attempts < 1 ? 1 : pol->attempts;

    w->pol = pol;
    w->deadline_ms = now_ms() + (long long)attempts * pol->delay_ms;
    w->pause_ms = 5;
}

/* Pause before the next try; 0 when the time is up. */
static int lock_wait_more(lock_wait *w)
{
    long long left = w->deadline_ms - now_ms();

    if (left <= 0)
        return 0;
    usleep((useconds_t)(w->pause_ms < left ? w->pause_ms : left) * 1000);
    if (w->pause_ms < w->pol->delay_ms)
        w->pause_ms *= 2;
    return 1;
}

/* fcntl lock within the wait; 0 or -1 with errno. */
static int lock_fd(int fd, const mbox_lock_policy *pol)
{
    lock_wait w;

    if (!pol->fcntl)
        return 0;
    lock_wait_init(&w, pol);
    for (;;) {
        if (lock_fcntl(fd, LOCK_EXCLUSIVE | LOCK_NOWAIT) == 0)
            return 0;
        if (errno != EAGAIN && errno != EACCES)
            return -1;
        if (!lock_wait_more(&w)) {
            errno = EAGAIN;
            return -1;
        }
    }
}

/*
 * Dot-locks left by a delivery process that was killed would stop every
 * delivery to the mailbox until stale_lock_time passes. Ours hold "PID
 * HOST" from the moment they exist; one that names this host and a
 * process that no longer exists is removed at once. Lock files of other
 * programs (empty, as procmail and mutt make them) age out as before.
 */
static void break_dead_dot_lock(const char *path)
{
    vstr lock = VSTR_INIT;
    char buf[300], host[256], lock_host[256];
    struct stat before, after;
    long pid;
    ssize_t n;
    int fd;

    vstr_set_fmt(&lock, "%s.lock", path);
    fd = open(vstr_str(&lock), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        goto done;
    n = read(fd, buf, sizeof(buf) - 1);
    if (n > 0 && fstat(fd, &before) == 0 && gethostname(host, sizeof(host)) == 0) {
        buf[n] = 0;
        host[sizeof(host) - 1] = 0;
        if (sscanf(buf, "%ld %255s", &pid, lock_host) == 2 && pid > 1 &&
            strcmp(lock_host, host) == 0 && kill((pid_t)pid, 0) < 0 && errno == ESRCH &&
            lstat(vstr_str(&lock), &after) == 0 && after.st_ino == before.st_ino &&
            after.st_dev == before.st_dev && unlink(vstr_str(&lock)) == 0)
            msg_warn("%s: removed the lock of process %ld, which no longer exists",
                     vstr_str(&lock), pid);
    }
    close(fd);

done:
    vstr_release(&lock);
}

/* The dot-lock within the wait; 0, or -1 with errno and err set. */
static int dot_lock(const char *path, const mbox_lock_policy *pol, vstr *err)
{
    lock_wait w;

    lock_wait_init(&w, pol);
    break_dead_dot_lock(path);
    for (;;) {
        if (lock_dot(path, 1, 0, pol->stale_secs, err) == 0)
            return 0;
        if (errno != EAGAIN || !lock_wait_more(&w))
            return -1;
        break_dead_dot_lock(path);
    }
}

int mbox_lock_open(const char *path, const mbox_lock_policy *pol, uid_t owner, uid_t chown_uid,
                   gid_t chown_gid, int dot_optional, int *dotlocked, vstr *dsn, vstr *reason)
{
    vstr err = VSTR_INIT;
    int fd;

    *dotlocked = 0;
    if (!pol->dotlock) {
        /* fcntl only */
    } else if (dot_lock(path, pol, &err) == 0) {
        *dotlocked = 1;
    } else if (!(dot_optional && (errno == EACCES || errno == EPERM || errno == EROFS))) {
        vstr_set_str(dsn, errno == EAGAIN ? "4.2.0" : mbox_lock_dsn(errno));
        vstr_set_fmt(reason, "cannot lock mailbox %s: %s", path, vstr_str(&err));
        vstr_release(&err);
        return -1;
    }
    fd = safe_open_existing(path, O_WRONLY | O_APPEND, owner, SAFE_OPEN_ANY_MODE, &err);
    if (fd < 0 && errno == ENOENT) {
        fd = safe_open_create(path, O_WRONLY | O_APPEND, 0600, &err);
        if (fd >= 0 && chown_uid != (uid_t)-1 && fchown(fd, chown_uid, chown_gid) < 0) {
            vstr_set_fmt(&err, "chown %s: %s", path, strerror(errno));
            close(fd);
            (void)unlink(path);
            fd = -1;
        }
    }
    if (fd < 0) {
        vstr_set_str(dsn, mbox_lock_dsn(errno));
        vstr_set_fmt(reason, "cannot open mailbox %s: %s", path, vstr_str(&err));
    } else if (lock_fd(fd, pol) < 0) {
        vstr_set_str(dsn, "4.2.0");
        vstr_set_fmt(reason, "cannot lock mailbox %s: %s", path, strerror(errno));
        close(fd);
        fd = -1;
    }
    if (fd < 0 && *dotlocked) {
        (void)lock_dot_release(path);
        *dotlocked = 0;
    }
    vstr_release(&err);
    return fd;
}

void mbox_lock_close(const char *path, int fd, int dotlocked)
{
    close(fd);
    if (dotlocked)
        (void)lock_dot_release(path);
}

int mbox_lock_make_parents(const char *path, vstr *reason)
{
    char *copy = mem_strdup(path);
    int status = 0, saved = 0;

    for (char *p = copy + 1; (p = strchr(p, '/')) != NULL; p++) {
        *p = 0;
        if (mkdir(copy, 0700) < 0 && errno != EEXIST) {
            saved = errno;
            vstr_set_fmt(reason, "cannot create directory %s: %s", copy, strerror(errno));
            status = -1;
            break;
        }
        *p = '/';
    }
    mem_free(copy);
    if (status < 0)
        errno = saved;
    return status;
}
