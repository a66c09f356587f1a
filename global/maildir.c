/*
 * maildir - deliver one file into a Maildir: write in tmp/, move to new/
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "global/maildir.h"
#include "util/mem.h"

/* Tries at a fresh name before giving up (each collision needs a pid
 * reused within the same second). */
#define MAILDIR_NAME_TRIES 20

struct maildir_file {
    int fd;
    char *dir;      /* without the trailing '/' */
    char *name;     /* the unique name */
    char *tmp_path; /* DIR/tmp/NAME */
    char *new_path; /* DIR/new/NAME, once committed */
    const char *host;
};

/* Deliveries made by this process: the N in the file name. */
static unsigned long maildir_counter;

void maildir_unique_name(vstr *out, time_t t, pid_t pid, unsigned long n, const char *host)
{
    vstr_set_fmt(out, "%lld.P%ld_%lu.", (long long)t, (long)pid, n);
    for (const char *p = host; *p; p++) {
        if (*p == '/')
            vstr_append_str(out, "\\057");
        else if (*p == ':')
            vstr_append_str(out, "\\072");
        else
            vstr_append_char(out, *p);
    }
}

/* mkdir -p, mode 0700 for what is made. */
static int make_dirs(const char *path, vstr *err)
{
    char *copy = mem_strdup(path);
    int status = 0;

    for (char *p = copy + 1;; p++) {
        if (*p == '/' || *p == 0) {
            char saved = *p;

            *p = 0;
            if (mkdir(copy, 0700) < 0 && errno != EEXIST) {
                vstr_set_fmt(err, "create directory %s: %s", copy, strerror(errno));
                status = -1;
                break;
            }
            *p = saved;
            if (saved == 0)
                break;
        }
    }
    mem_free(copy);
    return status;
}

static char *join(const char *dir, const char *sub, const char *name)
{
    vstr v = VSTR_INIT;

    vstr_set_fmt(&v, "%s/%s%s%s", dir, sub, name ? "/" : "", name ? name : "");
    return vstr_steal(&v);
}

static void maildir_free(maildir_file *m)
{
    if (m->fd >= 0)
        (void)close(m->fd);
    mem_free(m->dir);
    mem_free(m->name);
    mem_free(m->tmp_path);
    mem_free(m->new_path);
    mem_free(m);
}

maildir_file *maildir_create(const char *dir, const char *host, vstr *err)
{
    static const char *const subdirs[] = {"tmp", "new", "cur"};
    maildir_file *m = mem_calloc(1, sizeof(*m));
    size_t len = strlen(dir);
    vstr name = VSTR_INIT;

    while (len > 1 && dir[len - 1] == '/')
        len--;
    m->fd = -1;
    m->host = host;
    m->dir = mem_strndup(dir, len);
    for (int tries = 0, made = 0; tries < MAILDIR_NAME_TRIES; tries++) {
        maildir_unique_name(&name, time(NULL), getpid(), ++maildir_counter, host);
        mem_free(m->tmp_path);
        m->tmp_path = join(m->dir, "tmp", vstr_str(&name));
        m->fd = open(m->tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (m->fd < 0 && errno == ENOENT && !made) {
            /* The directories are made only when tmp/ is missing, not at
             * every delivery (each level of each would be a failing
             * mkdir). */
            made = 1;
            for (size_t i = 0; i < 3; i++) {
                char *sub = join(m->dir, subdirs[i], NULL);
                int status = make_dirs(sub, err);

                mem_free(sub);
                if (status < 0)
                    goto fail;
            }
            tries--;
            continue;
        }
        if (m->fd >= 0 || errno != EEXIST)
            break;
    }
    if (m->fd < 0) {
        vstr_set_fmt(err, "create maildir file %s: %s", m->tmp_path, strerror(errno));
        goto fail;
    }
    m->name = vstr_steal(&name);
    return m;

fail:
    vstr_release(&name);
    maildir_free(m);
    return NULL;
}

int maildir_fd(const maildir_file *m)
{
    return m->fd;
}

const char *maildir_path(const maildir_file *m)
{
    return m->new_path ? m->new_path : m->tmp_path;
}

static int fsync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int status;

    if (fd < 0)
        return -1;
    status = fsync(fd);
    (void)close(fd);
    return status;
}

int maildir_commit(maildir_file *m, vstr *err)
{
    vstr name = VSTR_INIT;
    char *new_dir = join(m->dir, "new", NULL);
    int status = -1, made_new = 0;

    if (close(m->fd) < 0) {
        m->fd = -1;
        vstr_set_fmt(err, "close %s: %s", m->tmp_path, strerror(errno));
        goto done;
    }
    m->fd = -1;
    vstr_set_str(&name, m->name);
    for (int tries = 0; tries < MAILDIR_NAME_TRIES && status < 0; tries++) {
        int e;

        mem_free(m->new_path);
        m->new_path = join(m->dir, "new", vstr_str(&name));
        if (link(m->tmp_path, m->new_path) == 0) {
            (void)unlink(m->tmp_path);
            status = 0;
            break;
        }
        e = errno;
        if (e == ENOENT && !made_new && make_dirs(new_dir, err) == 0) {
            /* tmp/ was there but new/ was not (a Maildir made by hand). */
            made_new = 1;
            tries--;
            continue;
        }
        if (e == EPERM || e == ENOTSUP || e == ENOSYS) {
            /* No hard links here: rename, but never over an existing file. */
            if (access(m->new_path, F_OK) == 0) {
                e = EEXIST;
            } else if (rename(m->tmp_path, m->new_path) == 0) {
                status = 0;
                break;
            } else {
                e = errno;
            }
        }
        if (e != EEXIST) {
            vstr_set_fmt(err, "link %s to %s: %s", m->tmp_path, m->new_path, strerror(e));
            goto done;
        }
        maildir_unique_name(&name, time(NULL), getpid(), ++maildir_counter, m->host);
    }
    if (status < 0) {
        vstr_set_fmt(err, "no unique name for %s in %s", m->tmp_path, new_dir);
    } else if (fsync_dir(new_dir) < 0) {
        vstr_set_fmt(err, "fsync %s: %s", new_dir, strerror(errno));
        status = -1;
        (void)unlink(m->new_path);
    }

done:
    if (status < 0)
        (void)unlink(m->tmp_path);
    vstr_release(&name);
    mem_free(new_dir);
    maildir_free(m);
    return status;
}

void maildir_abort(maildir_file *m)
{
    (void)unlink(m->tmp_path);
    maildir_free(m);
}
