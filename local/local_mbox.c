/*
 * local_mbox - mailboxes: mbox files, and the choice of mailbox
 *
 * A user's mailbox is, in order: the user's command in
 * mailbox_command_maps, or mailbox_command when set; else
 * $home/home_mailbox when set (Maildir when it ends in '/'); else
 * mail_spool_directory/USER (Maildir when mail_spool_directory ends in
 * '/', as in Postfix).
 *
 * An mbox is opened without following links (util/safe_open), owned by
 * the recipient when strict_mailbox_ownership is set, locked with fcntl
 * and a dot-lock (mailbox_delivery_lock), and the message is appended
 * all or nothing (global/mbox: a failed write is truncated away).
 *
 * Rights. Everything happens in a child that has become the recipient,
 * with one exception Postfix makes too: when local runs as root and the
 * spool directory is not world-writable with the sticky bit (Debian's
 * /var/mail is root:mail 2775), a user cannot create a file or a
 * dot-lock there, so the parent, as root, creates the mailbox (owned by
 * the user, mode 0600), takes both locks and hands the open descriptor
 * to the child, which then writes as the user. The same for root's own
 * mailbox, which stays root's while default_privs writes the message.
 *
 * Errors that may pass (a lock held too long, a full disk, a wrong owner
 * an administrator can fix) defer; a mailbox over mailbox_size_limit or
 * the user's quota bounces (5.2.2).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "local/local.h"
#include "util/lock.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/safe_open.h"

typedef struct mbox_job {
    const local_state *state;
    const char *path;
    const char *delivered_to;
    uid_t owner; /* required owner, or SAFE_OPEN_ANY_OWNER */
    int fd;      /* opened and locked by the parent; -1: the child does it */
    int file;    /* /file delivery (dot-lock failures tolerated) */
    long long limit;
    int make_parent; /* create missing parent directories (virtual mailboxes) */
} mbox_job;

/* The status code for an errno of a failed mailbox update. */
static const char *mbox_dsn(int err)
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

/*
 * Waiting for a lock. Other deliveries to the same mailbox hold it for
 * milliseconds, so the wait starts at 5 ms and doubles up to
 * deliver_lock_delay; the whole wait is bounded by deliver_lock_attempts
 * times deliver_lock_delay, as in Postfix (20 s by default). A fixed
 * one-second pause would cap one busy mailbox at a message a second.
 */
typedef struct lock_wait {
    long long deadline_ms;
    unsigned pause_ms;
} lock_wait;

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void lock_wait_init(lock_wait *w)
{
    long attempts = local_cf.lock_attempts < 1 ? 1 : local_cf.lock_attempts;

    w->deadline_ms = now_ms() + (long long)attempts * local_cf.lock_delay_ms;
    w->pause_ms = 5;
}

/* Pause before the next try; 0 when the time is up. */
static int lock_wait_more(lock_wait *w)
{
    long long left = w->deadline_ms - now_ms();

    if (left <= 0)
        return 0;
    usleep((useconds_t)(w->pause_ms < left ? w->pause_ms : left) * 1000);
    if (w->pause_ms < local_cf.lock_delay_ms)
        w->pause_ms *= 2;
    return 1;
}

/* fcntl lock within the wait; 0 or -1 with errno. */
static int lock_mailbox_fd(int fd)
{
    lock_wait w;

    if (!local_cf.lock_fcntl)
        return 0;
    lock_wait_init(&w);
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
 * delivery to the mailbox until stale_lock_time passes. lock_dot() puts
 * "PID HOST" in the lock file as it creates it (never an empty file, even
 * when the process is killed at once), and local removes such a lock at
 * once when it names this host and a process that no longer exists. Lock files of
 * other programs (empty, as procmail and mutt make them) age out as
 * before.
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
static int dot_lock(const char *path, vstr *err)
{
    lock_wait w;

    lock_wait_init(&w);
    break_dead_dot_lock(path);
    for (;;) {
        if (lock_dot(path, 1, 0, local_cf.stale_lock_time, err) == 0)
            return 0;
        if (errno != EAGAIN || !lock_wait_more(&w))
            return -1;
        break_dead_dot_lock(path);
    }
}

/* Open (or create) and lock path: both locks. Returns the descriptor, or
 * -1 with dsn and reason set. *dotlocked says whether to release the
 * dot-lock. */
static int open_and_lock(const char *path, uid_t owner, uid_t chown_uid, gid_t chown_gid,
                         int dot_optional, int *dotlocked, vstr *dsn, vstr *reason)
{
    vstr err = VSTR_INIT;
    int fd;

    *dotlocked = 0;
    if (!local_cf.lock_dotlock) {
        /* mailbox_delivery_lock without dotlock */
    } else if (dot_lock(path, &err) == 0) {
        *dotlocked = 1;
    } else if (!(dot_optional && (errno == EACCES || errno == EPERM || errno == EROFS))) {
        vstr_set_str(dsn, errno == EAGAIN ? "4.2.0" : mbox_dsn(errno));
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
        vstr_set_str(dsn, mbox_dsn(errno));
        vstr_set_fmt(reason, "cannot open mailbox %s: %s", path, vstr_str(&err));
    } else if (lock_mailbox_fd(fd) < 0) {
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

/* Append the message to fd (locked). */
static void append_message(const mbox_job *job, int fd, vstr *dsn, vstr *reason)
{
    const local_state *state = job->state;
    mbox_writer *w = mbox_begin(fd, MBOX_FLAG_MBOX, (off_t)job->limit);
    vstr line = VSTR_INIT, err = VSTR_INIT;

    mbox_from_line(&line, state->sender, time(NULL));
    mbox_put_unquoted(w, vstr_str(&line), vstr_len(&line));
    if (local_copy(state, w, job->delivered_to, &err) < 0) {
        mbox_abort(w);
        vstr_set_str(dsn, "4.3.0");
        vstr_set_str(reason, vstr_str(&err));
    } else if (mbox_finish(w, &err) < 0) {
        vstr_set_str(dsn, mbox_dsn(errno));
        vstr_set_fmt(reason, "cannot update mailbox %s: %s", job->path, vstr_str(&err));
    } else {
        vstr_set_str(dsn, "2.0.0");
        if (job->file)
            vstr_set_fmt(reason, "delivered to file: %s", job->path);
        else
            vstr_set_str(reason, "delivered to mailbox");
    }
    vstr_release(&line);
    vstr_release(&err);
}

/* mkdir -p of path's directory, mode 0700. */
static int make_parent_dirs(const char *path, vstr *reason)
{
    char *copy = mem_strdup(path);
    int status = 0;

    for (char *p = copy + 1; (p = strchr(p, '/')) != NULL; p++) {
        *p = 0;
        if (mkdir(copy, 0700) < 0 && errno != EEXIST) {
            vstr_set_fmt(reason, "cannot create directory %s: %s", copy, strerror(errno));
            status = -1;
            break;
        }
        *p = '/';
    }
    mem_free(copy);
    return status;
}

/* In the child (or inline): open, lock and append, or only append. */
static void mbox_deliver(void *arg, vstr *dsn, vstr *reason)
{
    mbox_job *job = arg;
    int fd = job->fd, dotlocked = 0;

    if (fd < 0 && job->make_parent && make_parent_dirs(job->path, reason) < 0) {
        vstr_set_str(dsn, mbox_dsn(errno));
        return;
    }
    if (fd < 0) {
        fd = open_and_lock(job->path, job->owner, (uid_t)-1, (gid_t)-1, job->file, &dotlocked, dsn,
                           reason);
        if (fd < 0)
            return;
    }
    append_message(job, fd, dsn, reason);
    if (job->fd < 0) {
        close(fd);
        if (dotlocked)
            (void)lock_dot_release(job->path);
    }
}

/* True when users can create files in dir themselves (world-writable and
 * sticky, like /tmp). */
static int spool_open_to_users(const char *dir)
{
    struct stat st;

    return stat(dir, &st) == 0 && (st.st_mode & S_IWOTH) && (st.st_mode & S_ISVTX);
}

static void deliver_spool_mbox(const local_state *state, local_outcome *out,
                               const local_user *user, const char *path)
{
    mbox_job job = {.state = state,
                    .path = path,
                    .delivered_to = state->address,
                    .owner = local_cf.strict_ownership ? user->uid : SAFE_OPEN_ANY_OWNER,
                    .fd = -1,
                    .limit = local_cf.mailbox_size_limit};
    vstr dsn = VSTR_INIT, reason = VSTR_INIT;
    local_priv priv;
    int dotlocked = 0;

    local_priv_for_user(user, &priv);
    /* root's own mailbox is opened by root too, and stays root's; the
     * writing is still done as default_privs. */
    if (local_cf.privileged &&
        (user->uid == 0 || !spool_open_to_users(local_cf.mail_spool_directory))) {
        job.fd =
            open_and_lock(path, job.owner, user->uid, user->gid, 0, &dotlocked, &dsn, &reason);
        if (job.fd < 0) {
            local_result(state, out, vstr_str(&dsn), "%s", vstr_str(&reason));
            goto done;
        }
    }
    local_as(&priv, mbox_deliver, &job, &dsn, &reason);
    local_result(state, out, vstr_str(&dsn), "%s", vstr_str(&reason));
    if (job.fd >= 0) {
        close(job.fd);
        if (dotlocked)
            (void)lock_dot_release(path);
    }

done:
    vstr_release(&dsn);
    vstr_release(&reason);
}

void local_mbox_path(const local_state *state, local_outcome *out, const char *path,
                     const local_priv *priv, uid_t owner, long long limit, int make_parent)
{
    mbox_job job = {.state = state,
                    .path = path,
                    .delivered_to = state->address,
                    .owner = owner,
                    .fd = -1,
                    .limit = limit,
                    .make_parent = make_parent};
    vstr dsn = VSTR_INIT, reason = VSTR_INIT;

    local_as(priv, mbox_deliver, &job, &dsn, &reason);
    local_result(state, out, vstr_str(&dsn), "%s", vstr_str(&reason));
    vstr_release(&dsn);
    vstr_release(&reason);
}

void local_mailbox(const local_state *state, local_outcome *out, const local_user *user)
{
    vstr path = VSTR_INIT, err = VSTR_INIT, command = VSTR_INIT;
    local_priv priv;

    local_priv_for_user(user, &priv);
    /* mailbox_command_maps (by user name) before mailbox_command. */
    switch (maps_find(local_cf.mailbox_command_maps, user->name, &command, NULL)) {
    case DICT_ERROR:
        local_result(state, out, "4.3.0", "%s", maps_error(local_cf.mailbox_command_maps));
        goto done;
    case DICT_NOTFOUND:
        vstr_set_str(&command, local_cf.mailbox_command);
        break;
    }
    if (vstr_len(&command) > 0) {
        if (local_expand(state, user, vstr_str(&command), local_cf.command_expansion_filter, &path,
                         &err) < 0)
            local_result(state, out, "4.3.5", "mailbox_command: %s", vstr_str(&err));
        else
            local_command(state, out, vstr_str(&path), &priv, user);
    } else if (*local_cf.home_mailbox) {
        vstr_set_fmt(&path, "%s/%s", user->home, local_cf.home_mailbox);
        if (vstr_str(&path)[vstr_len(&path) - 1] == '/')
            local_maildir(state, out, vstr_str(&path), &priv, 0, local_cf.mailbox_size_limit);
        else
            local_mbox_path(state, out, vstr_str(&path), &priv,
                            local_cf.strict_ownership ? user->uid : SAFE_OPEN_ANY_OWNER,
                            local_cf.mailbox_size_limit, 0);
    } else {
        const char *spool = local_cf.mail_spool_directory;
        size_t len = strlen(spool);

        if (len > 0 && spool[len - 1] == '/') {
            vstr_set_fmt(&path, "%s%s/", spool, user->name);
            local_maildir(state, out, vstr_str(&path), &priv, 0, local_cf.mailbox_size_limit);
        } else {
            vstr_set_fmt(&path, "%s/%s", spool, user->name);
            deliver_spool_mbox(state, out, user, vstr_str(&path));
        }
    }

done:
    vstr_release(&path);
    vstr_release(&err);
    vstr_release(&command);
}

void local_file(const local_state *state, local_outcome *out, const char *path,
                const local_priv *priv)
{
    size_t len = strlen(path);
    mbox_job job = {state, path, NULL, SAFE_OPEN_ANY_OWNER, -1, 1, local_cf.mailbox_size_limit, 0};
    vstr dsn = VSTR_INIT, reason = VSTR_INIT;

    if (len > 0 && path[len - 1] == '/') {
        local_maildir(state, out, path, priv, 1, local_cf.mailbox_size_limit);
        return;
    }
    if (local_cf.delivered_header & LOCAL_CLASS_FILE)
        job.delivered_to = state->address;
    local_as(priv, mbox_deliver, &job, &dsn, &reason);
    local_result(state, out, vstr_str(&dsn), "%s", vstr_str(&reason));
    vstr_release(&dsn);
    vstr_release(&reason);
}
