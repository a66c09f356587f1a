/*
 * NAME
 *   postsuper - queue maintenance: delete, hold, release, requeue, expire, repair
 *
 * SYNOPSIS
 *   postsuper [-psv] [-c DIR] [-d ID] [-h ID] [-H ID] [-r ID] [-e ID] [queue ...]
 *
 * DESCRIPTION
 *   The administrator's side of the queue, with Postfix's options. Each
 *   of -d, -h, -H, -r and -e takes a queue id, ALL, or "-" (ids from
 *   standard input, one a line), and may be repeated. Queue names after
 *   the options restrict those operations to the named queues; otherwise
 *   each uses its defaults (the ops table below).
 *
 *   Operations run in a fixed order: -s, -p, -d, -h, -H, -r, -e. Each
 *   message acted on is logged ("ID: removed", "ID: placed on hold",
 *   "ID: released from hold", "ID: requeued", "ID: forced to expire") and
 *   each operation ends with a count ("Deleted: 3 messages").
 *
 *   How this squares with "after commit only qmgr changes a queue file"
 *   (docs/PROTOCOLS.md, "postsuper"): postsuper never writes a record.
 *   It renames and removes whole files (never over an existing name),
 *   and changes inode metadata only: the mode (-e sets the owner-execute
 *   bit that asks qmgr to expire the message; -s repairs modes and
 *   owners) and the mtime (the retry time, so that released and expired
 *   mail is due at once). qmgr tolerates a file that moves or vanishes
 *   while it holds it: its updates fail harmlessly, and a scan never
 *   takes in a second copy of a message still in memory. Then qmgr is
 *   woken with a trigger: 'D' after -H and -e, 'A' after -r.
 *
 *   -s checks the queue: temporary files are left to -p; other names
 *   that are not queue ids, and anything but regular files, are
 *   reported; a queue file whose name does not match its inode is
 *   renamed (with its logs); a maildrop file found among queue files, or
 *   a queue file in maildrop, goes where it belongs; a wrong owner or
 *   mode is repaired (the owner only by root); a file that cannot be
 *   read to its end record goes to corrupt with the offset of the damage.
 *
 *   -p removes temporary files (".t...") older than a minute, which only
 *   a crash leaves behind, and defer/bounce logs older than a minute
 *   whose message no longer exists.
 *
 *   Only root and mail_owner may run postsuper. Root works with
 *   mail_owner's effective ids and takes root back only to change an
 *   owner (-s).
 *
 * DIAGNOSTICS
 *   Exit 0; 1 when an action failed (logged); EX_USAGE (64) for a bad
 *   command line; EX_NOPERM (77) for a user other than root and
 *   mail_owner; EX_CONFIG (78) for a bad main.cf.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "global/cmd_param.h"
#include "global/config.h"
#include "global/dsn_log.h"
#include "global/master_proto.h"
#include "global/queue_file.h"
#include "global/queue_id.h"
#include "global/trigger.h"
#include "util/fileio.h"
#include "util/argv.h"
#include "util/msg.h"
#include "util/vstream.h"

/* Temporary files and logs younger than this may still be in use. */
#define POSTSUPER_PURGE_AGE 60
/* How long a trigger to qmgr may take. */
#define POSTSUPER_TRIGGER_TIMEOUT_MS 5000
/* Longest line read with -d - and friends. */
#define POSTSUPER_LINE_MAX 256

/* Queues of queue files (not maildrop) in Postfix's listing order. */
#define QUEUE_MASK(q) (1u << (q))
enum { Q_MAILDROP, Q_INCOMING, Q_ACTIVE, Q_DEFERRED, Q_HOLD, Q_CORRUPT, Q_COUNT };
static const char *const queue_names[Q_COUNT] = {"maildrop", "incoming", "active",
                                                 "deferred", "hold",     "corrupt"};

typedef struct postsuper postsuper;

/* One message operation: its option, the queues it works on by default
 * and may work on at all, what it does to one file, its words. */
typedef struct op {
    int option;
    unsigned defaults;
    unsigned allowed;
    int (*act)(postsuper *ps, int queue, const char *id);
    const char *done;  /* "ID: %s" in the log */
    const char *total; /* "%s: N messages" on stderr */
    char trigger;      /* sent to qmgr after the operation; 0: none */
} op;

struct postsuper {
    const char *queue_dir;
    uid_t owner_uid; /* mail_owner */
    gid_t owner_gid;
    int root;        /* started as root: may take it back to chown */
    unsigned queues; /* queue names given after the options; 0: none */
    int failed;      /* an action failed: exit 1 */
    int stdin_used;  /* "-" was read already */
};

static int do_delete(postsuper *ps, int queue, const char *id);
static int do_hold(postsuper *ps, int queue, const char *id);
static int do_release(postsuper *ps, int queue, const char *id);
static int do_requeue(postsuper *ps, int queue, const char *id);
static int do_expire(postsuper *ps, int queue, const char *id);

#define MOVABLE (QUEUE_MASK(Q_INCOMING) | QUEUE_MASK(Q_ACTIVE) | QUEUE_MASK(Q_DEFERRED))
static const op ops[] = {
    {'d', MOVABLE | QUEUE_MASK(Q_HOLD),
     MOVABLE | QUEUE_MASK(Q_HOLD) | QUEUE_MASK(Q_MAILDROP) | QUEUE_MASK(Q_CORRUPT), do_delete,
     "removed", "Deleted", 0},
    {'h', MOVABLE, MOVABLE, do_hold, "placed on hold", "Placed on hold", 0},
    {'H', QUEUE_MASK(Q_HOLD), QUEUE_MASK(Q_HOLD), do_release, "released from hold",
     "Released from hold", TRIGGER_SCAN_DEFERRED},
    {'r', QUEUE_MASK(Q_ACTIVE) | QUEUE_MASK(Q_DEFERRED) | QUEUE_MASK(Q_HOLD),
     QUEUE_MASK(Q_ACTIVE) | QUEUE_MASK(Q_DEFERRED) | QUEUE_MASK(Q_HOLD), do_requeue, "requeued",
     "Requeued", TRIGGER_NEW},
    {'e', MOVABLE | QUEUE_MASK(Q_HOLD), MOVABLE | QUEUE_MASK(Q_HOLD), do_expire,
     "forced to expire", "Forced to expire", TRIGGER_SCAN_DEFERRED},
};
#define OP_COUNT (sizeof(ops) / sizeof(ops[0]))

__attribute__((noreturn)) static void usage(void)
{
    msg_fatal_status(EX_USAGE, "usage: postsuper [-psv] [-c config_dir] [-d queue_id] "
                               "[-h queue_id] [-H queue_id] [-r queue_id] [-e queue_id] "
                               "[queue ...]");
}

static void path_of(const postsuper *ps, int queue, const char *name, vstr *out)
{
    vstr_set_fmt(out, "%s/%s/%s", ps->queue_dir, queue_names[queue], name);
}

/* Move queue/ID to queue to/ID; 1 moved, 0 not there, -1 failed (logged). */
static int move_file(postsuper *ps, int queue, int to, const char *id)
{
    vstr from = VSTR_INIT, dest = VSTR_INIT;
    int ret = 1;

    path_of(ps, queue, id, &from);
    path_of(ps, to, id, &dest);
    if (fileio_rename_noreplace(AT_FDCWD, vstr_str(&from), AT_FDCWD, vstr_str(&dest)) < 0) {
        ret = errno == ENOENT ? 0 : -1;
        if (ret < 0)
            msg_warn("%s: cannot move %s to %s: %s", id, queue_names[queue], queue_names[to],
                     strerror(errno));
    }
    vstr_release(&from);
    vstr_release(&dest);
    return ret;
}

/* Remove defer/ID and bounce/ID, if there. */
static void remove_logs(postsuper *ps, const char *id)
{
    vstr err = VSTR_INIT;

    if (dsn_log_remove(ps->queue_dir, DSN_LOG_DEFER, id, &err) < 0 ||
        dsn_log_remove(ps->queue_dir, DSN_LOG_BOUNCE, id, &err) < 0)
        msg_warn("%s: %s", id, vstr_str(&err));
    vstr_release(&err);
}

/* Set the mtime (a deferred file's retry time) to now; -1 when it failed. */
static int make_due(postsuper *ps, int queue, const char *id)
{
    vstr path = VSTR_INIT;
    int ret;

    path_of(ps, queue, id, &path);
    ret = utimes(vstr_str(&path), NULL);
    vstr_release(&path);
    return ret;
}

static int do_delete(postsuper *ps, int queue, const char *id)
{
    vstr path = VSTR_INIT;
    int ret = 1;

    path_of(ps, queue, id, &path);
    if (unlink(vstr_str(&path)) < 0) {
        ret = errno == ENOENT ? 0 : -1;
        if (ret < 0)
            msg_warn("%s: cannot remove %s: %s", id, vstr_str(&path), strerror(errno));
    } else if (queue != Q_MAILDROP) {
        remove_logs(ps, id);
    }
    vstr_release(&path);
    return ret;
}

static int do_hold(postsuper *ps, int queue, const char *id)
{
    return move_file(ps, queue, Q_HOLD, id);
}

static int do_release(postsuper *ps, int queue, const char *id)
{
    /* Due now, before the move: a scan never sees it with an old time. */
    if (make_due(ps, queue, id) < 0)
        return errno == ENOENT ? 0 : (msg_warn("%s: %s", id, strerror(errno)), -1);
    return move_file(ps, queue, Q_DEFERRED, id);
}

static int do_requeue(postsuper *ps, int queue, const char *id)
{
    return move_file(ps, queue, Q_INCOMING, id);
}

static int do_expire(postsuper *ps, int queue, const char *id)
{
    vstr path = VSTR_INIT;
    struct stat st;
    int ret = 1;

    path_of(ps, queue, id, &path);
    if (lstat(vstr_str(&path), &st) < 0 || !S_ISREG(st.st_mode)) {
        ret = 0;
    } else if (chmod(vstr_str(&path), (st.st_mode & 07777) | S_IXUSR) < 0 ||
               (queue == Q_DEFERRED && utimes(vstr_str(&path), NULL) < 0)) {
        ret = errno == ENOENT ? 0 : -1;
        if (ret < 0)
            msg_warn("%s: cannot mark %s for expiry: %s", id, vstr_str(&path), strerror(errno));
    }
    vstr_release(&path);
    return ret;
}

/* The queue ids in a queue, or NULL with a warning when it cannot be read. */
static argv_t *list_queue(postsuper *ps, int queue, int ids_only)
{
    vstr path = VSTR_INIT;
    argv_t *names;
    struct dirent *d;
    DIR *dir;

    vstr_set_fmt(&path, "%s/%s", ps->queue_dir, queue_names[queue]);
    if ((dir = opendir(vstr_str(&path))) == NULL) {
        if (errno != ENOENT) {
            msg_warn("cannot read %s: %s", vstr_str(&path), strerror(errno));
            ps->failed = 1;
        }
        vstr_release(&path);
        return NULL;
    }
    names = argv_new();
    while ((d = readdir(dir)) != NULL)
        if (ids_only ? queue_id_valid(d->d_name)
                     : strcmp(d->d_name, ".") != 0 && strcmp(d->d_name, "..") != 0)
            argv_add(names, d->d_name);
    closedir(dir);
    vstr_release(&path);
    return names;
}

static void report_total(const char *what, long long n, const char *unit)
{
    msg_info("%s: %lld %s%s", what, n, unit, n == 1 ? "" : "s");
}

static void run_op(postsuper *ps, const op *o, const argv_t *ids)
{
    unsigned queues = ps->queues ? ps->queues & o->allowed : o->defaults;
    long long count = 0;

    for (size_t i = 0; i < ids->argc; i++) {
        int all = strcmp(ids->argv[i], "ALL") == 0;

        for (int q = 0; q < Q_COUNT; q++) {
            argv_t *names;

            if (!(queues & QUEUE_MASK(q)))
                continue;
            if (!all) {
                int r = o->act(ps, q, ids->argv[i]);

                if (r > 0) {
                    msg_info("%s: %s", ids->argv[i], o->done);
                    count++;
                }
                ps->failed |= r < 0;
                continue;
            }
            if ((names = list_queue(ps, q, 1)) == NULL)
                continue;
            for (size_t j = 0; j < names->argc; j++) {
                int r = o->act(ps, q, names->argv[j]);

                if (r > 0) {
                    msg_info("%s: %s", names->argv[j], o->done);
                    count++;
                }
                ps->failed |= r < 0;
            }
            argv_free(names);
        }
    }
    report_total(o->total, count, "message");
    if (count > 0 && o->trigger) {
        vstr err = VSTR_INIT;

        /* Not fatal: qmgr also looks on its own timer. */
        if (trigger_send(ps->queue_dir, "qmgr", o->trigger, POSTSUPER_TRIGGER_TIMEOUT_MS, &err) <
                0 &&
            msg_verbose_level())
            msg_debug("qmgr not told: %s", vstr_str(&err));
        vstr_release(&err);
    }
}

/* ---- -p ---- */

/* Remove NAME in dir when it is older than the purge age; 1 when removed. */
static int purge_old(const char *dir, const char *name, time_t now)
{
    vstr path = VSTR_INIT;
    struct stat st;
    int ret = 0;

    vstr_set_fmt(&path, "%s/%s", dir, name);
    if (lstat(vstr_str(&path), &st) == 0 && S_ISREG(st.st_mode) &&
        st.st_mtime + POSTSUPER_PURGE_AGE < now) {
        if (unlink(vstr_str(&path)) == 0) {
            msg_info("%s: removed", vstr_str(&path));
            ret = 1;
        } else if (errno != ENOENT) {
            msg_warn("cannot remove %s: %s", vstr_str(&path), strerror(errno));
        }
    }
    vstr_release(&path);
    return ret;
}

/* True when a queue file called id exists in any queue. */
static int message_exists(postsuper *ps, const char *id)
{
    vstr path = VSTR_INIT;
    int found = 0;

    for (int q = 0; q < Q_COUNT && !found; q++) {
        path_of(ps, q, id, &path);
        found = access(vstr_str(&path), F_OK) == 0;
    }
    vstr_release(&path);
    return found;
}

static void purge(postsuper *ps)
{
    static const char *const logs[] = {DSN_LOG_DEFER, DSN_LOG_BOUNCE};
    time_t now = time(NULL);
    long long temps = 0, stale = 0;
    vstr dir = VSTR_INIT;

    for (int q = 0; q < Q_COUNT; q++) {
        argv_t *names = list_queue(ps, q, 0);

        if (names == NULL)
            continue;
        vstr_set_fmt(&dir, "%s/%s", ps->queue_dir, queue_names[q]);
        for (size_t i = 0; i < names->argc; i++)
            if (strncmp(names->argv[i], ".t", 2) == 0)
                temps += purge_old(vstr_str(&dir), names->argv[i], now);
        argv_free(names);
    }
    for (size_t l = 0; l < sizeof(logs) / sizeof(logs[0]); l++) {
        vstr_set_fmt(&dir, "%s/%s", ps->queue_dir, logs[l]);
        argv_t *names = NULL;
        DIR *d = opendir(vstr_str(&dir));
        struct dirent *e;

        if (d == NULL)
            continue;
        names = argv_new();
        while ((e = readdir(d)) != NULL)
            if (queue_id_valid(e->d_name) || strncmp(e->d_name, ".t", 2) == 0)
                argv_add(names, e->d_name);
        closedir(d);
        for (size_t i = 0; i < names->argc; i++)
            if (!queue_id_valid(names->argv[i]) || !message_exists(ps, names->argv[i]))
                stale += purge_old(vstr_str(&dir), names->argv[i], now);
        argv_free(names);
    }
    report_total("Deleted", temps, "temporary file");
    report_total("Deleted", stale, "stale log file");
    vstr_release(&dir);
}

/* ---- -s ---- */

typedef struct check_counts {
    long long renamed, moved, corrupt, repaired;
} check_counts;

/* chown for root in a directory mail_owner can write: the name could be
 * swapped for a symlink or a hard link to some other file meanwhile, so
 * only the file that lstat saw, with no other name, is changed. */
static int chown_as_root(const char *path, const struct stat *seen, uid_t uid, gid_t gid)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC), ret = -1;

    if (fd < 0)
        return -1;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_nlink == 1 &&
        st.st_ino == seen->st_ino && st.st_dev == seen->st_dev)
        ret = fchown(fd, uid, gid);
    close(fd);
    return ret;
}

/* Owner and mode of a queue file: mail_owner, 0600 (0700 when -e marked it). */
static void check_owner_mode(postsuper *ps, const char *path, const struct stat *st, int maildrop,
                             check_counts *c)
{
    mode_t want = maildrop ? (st->st_mode & 07777) : (0600 | (st->st_mode & S_IXUSR));
    int fixed = 0;

    if (!maildrop && st->st_uid != ps->owner_uid) {
        if (ps->root && seteuid(0) == 0) {
            fixed = chown_as_root(path, st, ps->owner_uid, ps->owner_gid) == 0;
            if (seteuid(ps->owner_uid) < 0)
                msg_fatal("cannot drop privileges again: %s", strerror(errno));
        }
        if (fixed)
            msg_info("%s: owner was uid %ld; set to mail_owner", path, (long)st->st_uid);
        else
            msg_warn("%s: owned by uid %ld, not mail_owner; not changed (%s)", path,
                     (long)st->st_uid, ps->root ? "it has another name" : "only root may");
    }
    if ((st->st_mode & 07777) != want || (maildrop && (st->st_mode & 0133) != 0)) {
        if (maildrop)
            want = 0644;
        if (chmod(path, want) == 0) {
            msg_info("%s: mode was %04o; set to %04o", path, (unsigned)(st->st_mode & 07777),
                     (unsigned)want);
            fixed = 1;
        } else {
            msg_warn("%s: bad mode %04o: %s", path, (unsigned)(st->st_mode & 07777),
                     strerror(errno));
        }
    }
    c->repaired += fixed;
}

/* Read the whole file; 0 when it is sound, -1 with the damage in why, -2
 * with the reason in why when it cannot be opened (not damage: a file
 * mail_owner may not read, or one gone meanwhile). *kind says what it
 * turned out to be. */
static int read_whole(const char *path, queue_file_kind *kind, vstr *why)
{
    queue_reader *r = queue_file_open_path(path, QUEUE_FILE_AUTO, why);
    queue_line_status st = QUEUE_ERROR;
    vstr line = VSTR_INIT;
    const queue_envelope *env;

    if (r == NULL)
        return -2;
    if ((env = queue_file_read_envelope(r)) != NULL) {
        *kind = env->kind;
        while ((st = queue_file_read_line(r, &line, 65536)) == QUEUE_LINE || st == QUEUE_PIECE)
            ;
    }
    if (st != QUEUE_END)
        vstr_set_str(why, queue_file_error(r));
    queue_file_close(r);
    vstr_release(&line);
    return st == QUEUE_END ? 0 : -1;
}

/* Give a file whose name does not match its inode the name that does. */
static void rename_to_inode(postsuper *ps, int queue, const char *id, const struct stat *st,
                            check_counts *c)
{
    long long sec = (long long)st->st_mtime;
    long usec = 0;
    char new_id[QUEUE_ID_SIZE];
    vstr from = VSTR_INIT, to = VSTR_INIT, err = VSTR_INIT;

    (void)queue_id_parse(id, &sec, &usec, NULL);
    if (sec < 0)
        sec = 0;
    queue_id_make(new_id, sec, usec, (uint64_t)st->st_ino);
    path_of(ps, queue, id, &from);
    path_of(ps, queue, new_id, &to);
    if (fileio_rename_noreplace(AT_FDCWD, vstr_str(&from), AT_FDCWD, vstr_str(&to)) < 0) {
        msg_warn("%s: cannot rename to %s: %s", id, new_id, strerror(errno));
        ps->failed = 1;
    } else {
        static const char *const logs[] = {DSN_LOG_DEFER, DSN_LOG_BOUNCE};

        for (size_t l = 0; l < 2; l++) {
            vstr_set_fmt(&from, "%s/%s/%s", ps->queue_dir, logs[l], id);
            vstr_set_fmt(&to, "%s/%s/%s", ps->queue_dir, logs[l], new_id);
            if (fileio_rename_noreplace(AT_FDCWD, vstr_str(&from), AT_FDCWD, vstr_str(&to)) < 0 &&
                errno != ENOENT)
                msg_warn("%s: cannot rename %s: %s", id, vstr_str(&from), strerror(errno));
        }
        msg_info("%s: renamed to %s (the name did not match the inode number)", id, new_id);
        c->renamed++;
    }
    vstr_release(&from);
    vstr_release(&to);
    vstr_release(&err);
}

static void check_file(postsuper *ps, int queue, const char *name, check_counts *c)
{
    vstr path = VSTR_INIT, why = VSTR_INIT;
    queue_file_kind kind = QUEUE_FILE_AUTO;
    uint64_t inode;
    struct stat st;
    int maildrop = queue == Q_MAILDROP, sound;

    path_of(ps, queue, name, &path);
    if (lstat(vstr_str(&path), &st) < 0)
        goto out; /* gone meanwhile */
    if (!queue_id_valid(name)) {
        if (strncmp(name, ".t", 2) != 0)
            msg_warn("%s: not a queue file name; left alone", vstr_str(&path));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        msg_warn("%s: not a regular file; left alone", vstr_str(&path));
        goto out;
    }
    check_owner_mode(ps, vstr_str(&path), &st, maildrop, c);
    if ((sound = read_whole(vstr_str(&path), &kind, &why)) == -2) {
        if (lstat(vstr_str(&path), &st) == 0) /* else gone meanwhile */
            msg_warn("%s: cannot check: %s", vstr_str(&path), vstr_str(&why));
        goto out;
    }
    if (sound < 0) {
        if (queue == Q_CORRUPT)
            goto out;
        if (maildrop) {
            /* pickup moves broken maildrop files to corrupt itself. */
            msg_warn("%s: damaged maildrop file (%s); left to pickup", vstr_str(&path),
                     vstr_str(&why));
            goto out;
        }
        if (move_file(ps, queue, Q_CORRUPT, name) > 0) {
            msg_warn("%s: damaged queue file in %s (%s); moved to corrupt", name,
                     queue_names[queue], vstr_str(&why));
            c->corrupt++;
        }
        goto out;
    }
    if (queue != Q_CORRUPT && maildrop != (kind == QUEUE_FILE_MAILDROP)) {
        int to = maildrop ? Q_INCOMING : Q_MAILDROP;

        if (move_file(ps, queue, to, name) > 0) {
            msg_warn("%s: %s file in %s; moved to %s", name, maildrop ? "queue" : "maildrop",
                     queue_names[queue], queue_names[to]);
            c->moved++;
        }
        goto out;
    }
    if (queue_id_parse(name, NULL, NULL, &inode) < 0 || inode != (uint64_t)st.st_ino)
        rename_to_inode(ps, queue, name, &st, c);
out:
    vstr_release(&path);
    vstr_release(&why);
}

static void structure_check(postsuper *ps)
{
    check_counts c = {0, 0, 0, 0};

    for (int q = 0; q < Q_COUNT; q++) {
        argv_t *names = list_queue(ps, q, 0);

        if (names == NULL)
            continue;
        for (size_t i = 0; i < names->argc; i++)
            check_file(ps, q, names->argv[i], &c);
        argv_free(names);
    }
    report_total("Renamed to match inode number", c.renamed, "message");
    report_total("Moved to the right queue", c.moved, "message");
    report_total("Moved to corrupt", c.corrupt, "message");
    report_total("Repaired owner or mode of", c.repaired, "file");
}

/* ---- start-up ---- */

/*
 * Sanitizer builds only. Root that took mail_owner's effective ids is no
 * longer dumpable, and LeakSanitizer cannot inspect such a process at
 * exit (a fatal error, exit 1). Taking root back and making the process
 * dumpable just before it exits lets the leak check run.
 */
#if defined(__SANITIZE_ADDRESS__)
#define POSTSUPER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define POSTSUPER_ASAN 1
#endif
#endif
#ifdef POSTSUPER_ASAN
#include <sys/prctl.h>

static void dumpable_again(void)
{
    if (geteuid() != 0 && getuid() == 0 && seteuid(0) == 0)
        (void)prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
}
#endif

/* Root or mail_owner, else exit; root keeps mail_owner's effective ids. */
static void check_user(postsuper *ps, config *cfg)
{
    const char *owner = cmd_param_str(cfg, "mail_owner");
    struct passwd *pw = getpwnam(owner);
    uid_t uid = getuid();

    if (pw == NULL)
        msg_fatal_status(EX_CONFIG, "mail_owner %s: no such user", owner);
    ps->owner_uid = pw->pw_uid;
    ps->owner_gid = pw->pw_gid;
    if (uid != 0 && uid != pw->pw_uid)
        msg_fatal_status(EX_NOPERM, "use of this command is reserved for root and mail_owner (%s)",
                         owner);
    if (uid == 0 && pw->pw_uid != 0) {
        ps->root = 1;
#ifdef POSTSUPER_ASAN
        atexit(dumpable_again);
#endif
        if (setegid(pw->pw_gid) < 0 || seteuid(pw->pw_uid) < 0)
            msg_fatal("cannot take the ids of mail_owner %s: %s", owner, strerror(errno));
    }
}

static int queue_index(const char *name)
{
    for (int q = 0; q < Q_COUNT; q++)
        if (strcmp(queue_names[q], name) == 0)
            return q;
    return -1;
}

/* An id argument: ALL, "-" (ids from standard input) or a queue id. */
static void add_ids(postsuper *ps, argv_t *ids, const char *arg)
{
    vstream *in;
    vstr line = VSTR_INIT;

    if (strcmp(arg, "-") != 0) {
        if (strcmp(arg, "ALL") != 0 && !queue_id_valid(arg))
            msg_fatal_status(EX_USAGE, "invalid queue id: %s", arg);
        argv_add(ids, arg);
        return;
    }
    if (ps->stdin_used++)
        msg_fatal_status(EX_USAGE, "standard input can be read only once");
    in = vstream_fdopen(0, VSTREAM_READ);
    while (vstream_get_line(in, &line, POSTSUPER_LINE_MAX) == VSTREAM_OK) {
        vstr_trim(&line);
        if (vstr_len(&line) == 0)
            continue;
        if (queue_id_valid(vstr_str(&line)))
            argv_add(ids, vstr_str(&line));
        else
            msg_warn("invalid queue id on standard input: %.100s", vstr_str(&line));
    }
    (void)vstream_release(in);
    vstr_release(&line);
}

/* The parsed main.cf, at file scope so that a fatal exit (which skips
 * config_free) leaves it reachable for a sanitizer's leak check. */
static config *cfg;

int main(int argc, char **argv)
{
    postsuper ps;
    const char *dir = NULL;
    argv_t *id_args[OP_COUNT], *ids[OP_COUNT];
    int check = 0, purge_temps = 0, any = 0, ch;
    vstr err = VSTR_INIT;

    msg_init(argc > 0 && argv[0] ? argv[0] : "postsuper");
    memset(&ps, 0, sizeof(ps));
    for (size_t i = 0; i < OP_COUNT; i++)
        id_args[i] = argv_new();
    while ((ch = getopt(argc, argv, "c:d:h:H:r:e:psv")) != -1) {
        size_t i;

        for (i = 0; i < OP_COUNT && ops[i].option != ch; i++)
            ;
        if (i < OP_COUNT) {
            argv_add(id_args[i], optarg);
            any = 1;
            continue;
        }
        switch (ch) {
        case 'c':
            dir = optarg;
            break;
        case 'p':
            purge_temps = any = 1;
            break;
        case 's':
            check = any = 1;
            break;
        case 'v':
            msg_set_verbose(msg_verbose_level() + 1);
            break;
        default:
            usage();
        }
    }
    for (int i = optind; i < argc; i++) {
        int q = queue_index(argv[i]);

        if (q < 0)
            msg_fatal_status(EX_USAGE, "invalid queue name: %s", argv[i]);
        ps.queues |= QUEUE_MASK(q);
    }
    if (!any)
        usage();
    if ((cfg = config_load(config_directory(dir), &err)) == NULL)
        msg_fatal_status(EX_CONFIG, "%s", vstr_str(&err));
    msg_set_syslog_name(cmd_param_str(cfg, "syslog_name"));
    check_user(&ps, cfg);
    if (*cmd_param_str(cfg, "maillog_file"))
        (void)msg_use_file(cmd_param_str(cfg, "maillog_file"));
    ps.queue_dir = cmd_param_str(cfg, "queue_directory");
    for (size_t i = 0; i < OP_COUNT; i++) {
        ids[i] = argv_new();
        for (size_t j = 0; j < id_args[i]->argc; j++)
            add_ids(&ps, ids[i], id_args[i]->argv[j]);
    }
    if (check)
        structure_check(&ps);
    if (purge_temps)
        purge(&ps);
    for (size_t i = 0; i < OP_COUNT; i++) {
        if (id_args[i]->argc > 0)
            run_op(&ps, &ops[i], ids[i]);
        argv_free(ids[i]);
        argv_free(id_args[i]);
    }
    config_free(cfg);
    vstr_release(&err);
    return ps.failed ? 1 : 0;
}
