/*
 * local_priv - do a piece of delivery work with a user's rights, never root's
 *
 * Started as root, local forks for every write, file read and command on
 * a user's behalf; the child sets its groups, group and user for good
 * (setgroups, setgid, setuid), checks that root cannot come back, does
 * the work and sends its result (status code and reason) to the parent
 * through a pipe. A fork per delivery costs about a millisecond and
 * leaves nothing to restore: no code path can forget to switch back, and
 * whatever a delivery does to its process (a command's rlimits, a crash
 * on a hostile file) dies with the child. Started by anyone else, local
 * already is the only user it can act as, and does the work in-process.
 *
 * A child that dies without answering defers the mail.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "local/local.h"
#include "util/fileio.h"
#include "util/mem.h"
#include "util/msg.h"

/* Largest answer from a child: status, reason and (file reads) contents. */
#define LOCAL_AS_REPLY_MAX (LOCAL_LIST_FILE_MAX + 8192)

/* Become priv's user for good. In the child only. */
static int become(const local_priv *priv, vstr *reason)
{
    if (priv->uid == 0) {
        vstr_set_str(reason, "refusing to deliver as root");
        return -1;
    }
    if (setgroups(1, &priv->gid) < 0 || setgid(priv->gid) < 0 || setuid(priv->uid) < 0) {
        vstr_set_fmt(reason, "cannot become uid %ld: %s", (long)priv->uid, strerror(errno));
        return -1;
    }
    if (setuid(0) == 0 || geteuid() == 0 || getegid() != priv->gid) {
        vstr_set_str(reason, "privileges not dropped");
        return -1;
    }
    return 0;
}

/* Child -> parent: u32 length, then the bytes, for each of the parts. */
static int send_part(int fd, const vstr *v)
{
    uint32_t len = (uint32_t)vstr_len(v);

    if (fileio_write_all(fd, &len, sizeof(len)) < 0)
        return -1;
    return fileio_write_all(fd, vstr_str(v), len);
}

static int recv_part(int fd, vstr *v, size_t *budget)
{
    uint32_t len;

    if (fileio_read_all(fd, &len, sizeof(len)) != (ssize_t)sizeof(len) || len > *budget)
        return -1;
    *budget -= len;
    vstr_reset(v);
    vstr_reserve(v, len);
    if (len > 0) {
        char *buf = mem_alloc(len);

        if (fileio_read_all(fd, buf, len) != (ssize_t)len) {
            mem_free(buf);
            return -1;
        }
        vstr_set(v, buf, len);
        mem_free(buf);
    }
    return 0;
}

/*
 * Run fn in a child as priv; nparts vstrs travel back (the first two are
 * the dsn and the reason).
 */
static void run_as(const local_priv *priv, local_as_fn fn, void *arg, vstr **parts, int nparts)
{
    int fds[2], status;
    size_t budget = LOCAL_AS_REPLY_MAX;
    pid_t pid;

    if (pipe2(fds, O_CLOEXEC) < 0 || (pid = fork()) < 0) {
        vstr_set_str(parts[0], "4.3.0");
        vstr_set_fmt(parts[1], "cannot fork a delivery process: %s", strerror(errno));
        return;
    }
    if (pid == 0) {
        close(fds[0]);
        signal(SIGPIPE, SIG_DFL);
        if (become(priv, parts[1]) < 0)
            vstr_set_str(parts[0], "4.3.0");
        else
            fn(arg, parts[0], parts[1]);
        for (int i = 0; i < nparts; i++)
            if (send_part(fds[1], parts[i]) < 0)
                _exit(1);
        _exit(0);
    }
    close(fds[1]);
    for (int i = 0; i < nparts; i++) {
        if (recv_part(fds[0], parts[i], &budget) < 0) {
            vstr_set_str(parts[0], "4.3.0");
            vstr_set_str(parts[1], "delivery process ended without a result");
            break;
        }
    }
    close(fds[0]);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (WIFSIGNALED(status)) {
        vstr_set_str(parts[0], "4.3.0");
        vstr_set_fmt(parts[1], "delivery process killed by signal %d", WTERMSIG(status));
    }
}

void local_as(const local_priv *priv, local_as_fn fn, void *arg, vstr *dsn, vstr *reason)
{
    vstr *parts[2] = {dsn, reason};

    vstr_reset(dsn);
    vstr_reset(reason);
    if (!local_cf.privileged) {
        fn(arg, dsn, reason);
        return;
    }
    run_as(priv, fn, arg, parts, 2);
}

/*
 * Reading a file as a user: the child opens it with the user's rights
 * (so a .forward cannot name a file only root may read), refuses
 * anything but a regular file, and returns the contents with the owner
 * and mode. The "dsn" part carries errno as text when the open failed.
 */
typedef struct read_job {
    const char *path;
    size_t max;
    vstr *contents;
    vstr *meta; /* "uid mode" */
} read_job;

static void read_file(void *arg, vstr *dsn, vstr *reason)
{
    read_job *job = arg;
    struct stat st;
    int fd = open(job->path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    char buf[8192];
    ssize_t n;

    vstr_reset(job->contents);
    if (fd < 0) {
        vstr_set_fmt(dsn, "%d", errno);
        vstr_set_fmt(reason, "cannot open %s: %s", job->path, strerror(errno));
        return;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        vstr_set_fmt(dsn, "%d", EINVAL);
        vstr_set_fmt(reason, "%s: not a regular file", job->path);
        close(fd);
        return;
    }
    while ((n = read(fd, buf, sizeof(buf))) > 0) {
        if (vstr_len(job->contents) + (size_t)n > job->max) {
            vstr_set_fmt(dsn, "%d", EFBIG);
            vstr_set_fmt(reason, "%s: larger than %zu bytes", job->path, job->max);
            close(fd);
            return;
        }
        vstr_append(job->contents, buf, (size_t)n);
    }
    if (n < 0) {
        vstr_set_fmt(dsn, "%d", errno);
        vstr_set_fmt(reason, "read %s: %s", job->path, strerror(errno));
        close(fd);
        return;
    }
    close(fd);
    vstr_set_str(dsn, "0");
    vstr_set_fmt(job->meta, "%ld %lo", (long)st.st_uid, (unsigned long)st.st_mode);
}

int local_read_file_as(const local_priv *priv, const char *path, size_t max, vstr *contents,
                       uid_t *owner, mode_t *mode, int *err_no, vstr *reason)
{
    vstr code = VSTR_INIT, meta = VSTR_INIT;
    read_job job = {path, max, contents, &meta};
    vstr *parts[4] = {&code, reason, contents, &meta};
    long uid = -1;
    unsigned long m = 0;
    int status = -1;

    vstr_reset(reason);
    if (!local_cf.privileged)
        read_file(&job, &code, reason);
    else
        run_as(priv, read_file, &job, parts, 4);
    if (strcmp(vstr_str(&code), "0") == 0 && sscanf(vstr_str(&meta), "%ld %lo", &uid, &m) == 2) {
        *owner = (uid_t)uid;
        *mode = (mode_t)m;
        *err_no = 0;
        status = 0;
    } else {
        /* A number: errno from the child; "4.3.0": the child failed. */
        *err_no = (int)strtol(vstr_str(&code), NULL, 10);
        if (*err_no <= 0 || strchr(vstr_str(&code), '.') != NULL)
            *err_no = EIO;
    }
    vstr_release(&code);
    vstr_release(&meta);
    return status;
}
