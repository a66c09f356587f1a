/*
 * postern_check - postern check: is this instance fit to run?
 *
 * SYNOPSIS
 *   postern -c DIR check
 *
 * DESCRIPTION
 *   Loads DIR/main.cf and validates every parameter set in it, parses
 *   DIR/master.cf (neither may be writable by group or others), then
 *   looks at the instance on disk: mail_owner and
 *   setgid_group exist and mail_owner is not root; every queue directory
 *   (global/queue_dirs) and data_directory exists with its mode and owner;
 *   the other directories the parameters name exist. It reports and fixes
 *   nothing else: changing modes is init -f's job, or the administrator's.
 *
 *   The rules for owners are in postern_common.c: the queue directory and
 *   pid/ belong to the user running postern (root for a privileged
 *   instance), the rest to mail_owner.
 *
 * DIAGNOSTICS
 *   Every problem is one "postern: error: ..." line on stderr, and the
 *   exit status is then 1. With none, "configuration OK" on stdout and 0.
 *   A missing daemon_directory is only a warning: it matters to start,
 *   and a build tree has none until the first daemon is built.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admin/postern.h"
#include "global/mastercf.h"
#include "global/queue_dirs.h"
#include "util/argv.h"
#include "util/msg.h"

typedef struct check_state {
    config *cfg;
    postern_owners own;
    int owners_ok; /* own is filled in */
    int problems;
} check_state;

static void problem(check_state *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void problem(check_state *st, const char *fmt, ...)
{
    vstr text = VSTR_INIT;
    va_list ap;

    va_start(ap, fmt);
    vstr_append_vfmt(&text, fmt, ap);
    va_end(ap);
    msg_error("%s", vstr_str(&text));
    vstr_release(&text);
    st->problems++;
}

/* Report each line of a multi-line error text as one problem. */
static void problem_lines(check_state *st, const char *text)
{
    argv_t *lines = argv_split(text, "\n");

    for (size_t i = 0; i < lines->argc; i++)
        problem(st, "%s", lines->argv[i]);
    argv_free(lines);
}

/* The expanded value of a path parameter, or NULL when it is empty or
 * cannot be expanded (config_validate has reported that) or is relative
 * (reported here). */
static const char *path_param(check_state *st, const char *name)
{
    vstr err = VSTR_INIT;
    const char *value = config_expand(st->cfg, name, &err);

    vstr_release(&err);
    if (value == NULL || value[0] == 0)
        return NULL;
    if (value[0] != '/') {
        problem(st, "%s = %s: expected an absolute path", name, value);
        return NULL;
    }
    return value;
}

/* Does path exist as a directory? Reports when it does not. */
static int check_is_dir(check_state *st, const char *path, const char *what, int follow)
{
    struct stat sb;

    if ((follow ? stat(path, &sb) : lstat(path, &sb)) < 0) {
        if (errno == ENOENT)
            problem(st, "%s: %s does not exist", path, what);
        else
            problem(st, "%s: %s", path, strerror(errno));
        return 0;
    }
    if (S_ISLNK(sb.st_mode)) {
        problem(st, "%s: is a symbolic link, expected a directory", path);
        return 0;
    }
    if (!S_ISDIR(sb.st_mode)) {
        problem(st, "%s: not a directory", path);
        return 0;
    }
    return 1;
}

/* Check mode, owner and (when want_gid is not -1) group of a directory. */
static void check_dir(check_state *st, const char *path, int follow, mode_t mode, int check_uid,
                      uid_t want_uid, gid_t want_gid)
{
    vstr have = VSTR_INIT, want = VSTR_INIT;
    struct stat sb;

    if (!check_is_dir(st, path, "directory", follow) || stat(path, &sb) < 0)
        return;
    if ((sb.st_mode & 07777) != mode)
        problem(st, "%s: mode %04o, expected %04o", path, (unsigned)(sb.st_mode & 07777),
                (unsigned)mode);
    if (check_uid && sb.st_uid != want_uid)
        problem(st, "%s: owner %s, expected %s", path, postern_user_name(sb.st_uid, &have),
                postern_user_name(want_uid, &want));
    if (want_gid != (gid_t)-1 && sb.st_gid != want_gid)
        problem(st, "%s: group %s, expected %s", path, postern_group_name(sb.st_gid, &have),
                postern_group_name(want_gid, &want));
    vstr_release(&have);
    vstr_release(&want);
}

static void check_owners(check_state *st)
{
    postern_owners *own = &st->own;
    vstr err = VSTR_INIT, me = VSTR_INIT;

    if (postern_owners_lookup(st->cfg, own, &err) < 0) {
        vstr_release(&err);
        return; /* config_validate reported why */
    }
    st->owners_ok = 1;
    if (!own->mail_owner_known)
        problem(st, "mail_owner %s: no such user (create it, or set mail_owner in %s)",
                own->mail_owner, config_file(st->cfg));
    else if (own->mail_uid == 0)
        problem(st, "mail_owner %s: must not be root (uid 0)", own->mail_owner);
    else if (geteuid() != 0 && own->mail_uid != geteuid())
        problem(st,
                "mail_owner %s: an instance run by %s (not root) runs wholly as that user; set "
                "mail_owner = %s",
                own->mail_owner, postern_user_name(geteuid(), &me), vstr_str(&me));
    if (!own->setgid_group_known)
        problem(st, "setgid_group %s: no such group (create it, or set setgid_group in %s)",
                own->setgid_group, config_file(st->cfg));
    vstr_release(&err);
    vstr_release(&me);
}

static void check_queue(check_state *st)
{
    const char *queue = path_param(st, "queue_directory");
    const char *data = path_param(st, "data_directory");
    const postern_owners *own = &st->own;
    int mail_known = st->owners_ok && own->mail_owner_known;
    gid_t setgid_gid = st->owners_ok && own->setgid_group_known ? own->setgid_gid : (gid_t)-1;
    vstr path = VSTR_INIT;

    if (queue != NULL) {
        if (!check_is_dir(st, queue, "queue_directory", 1))
            goto data;
        for (const queue_dir *d = queue_dirs; d->name; d++) {
            int is_mail = d->owner == QUEUE_OWNER_MAIL;

            if (d->name[0])
                vstr_set_fmt(&path, "%s/%s", queue, d->name);
            else
                vstr_set_str(&path, queue);
            /* Without a known mail_owner its directories' owners cannot be
             * judged; that problem is reported once, by check_owners. */
            check_dir(st, vstr_str(&path), d->name[0] == 0, d->mode, is_mail ? mail_known : 1,
                      is_mail ? own->mail_uid : geteuid(),
                      d->setgid_group ? setgid_gid : (gid_t)-1);
        }
    }
data:
    if (data != NULL && check_is_dir(st, data, "data_directory", 1))
        check_dir(st, data, 1, QUEUE_DATA_DIR_MODE, mail_known, own->mail_uid, (gid_t)-1);
    vstr_release(&path);
}

/* Directories and files other parameters name must exist. */
static void check_paths(check_state *st)
{
    const char *value;
    struct stat sb;

    if ((value = path_param(st, "command_directory")) != NULL)
        check_is_dir(st, value, "command_directory", 1);
    if ((value = path_param(st, "mail_spool_directory")) != NULL)
        check_is_dir(st, value, "mail_spool_directory", 1);
    if ((value = path_param(st, "daemon_directory")) != NULL &&
        (stat(value, &sb) < 0 || !S_ISDIR(sb.st_mode)))
        msg_warn("daemon_directory %s does not exist: no daemons are installed there yet", value);
    if ((value = path_param(st, "maillog_file")) != NULL) {
        vstr dir = VSTR_INIT;
        const char *slash = strrchr(value, '/');

        vstr_set(&dir, value, slash == value ? 1 : (size_t)(slash - value));
        if (stat(vstr_str(&dir), &sb) < 0 || !S_ISDIR(sb.st_mode))
            problem(st, "maillog_file %s: directory %s does not exist", value, vstr_str(&dir));
        vstr_release(&dir);
    }
}

/* main.cf and master.cf decide what runs as whom: only their owner may
 * change them. */
static void check_config_files(check_state *st)
{
    static const char *const names[] = {"main.cf", "master.cf", NULL};
    vstr path = VSTR_INIT;
    struct stat sb;

    for (const char *const *n = names; *n; n++) {
        vstr_set_fmt(&path, "%s/%s", config_dir(st->cfg), *n);
        if (stat(vstr_str(&path), &sb) == 0 && (sb.st_mode & 022) != 0)
            problem(st, "%s: mode %04o, writable by group or others", vstr_str(&path),
                    (unsigned)(sb.st_mode & 07777));
    }
    vstr_release(&path);
}

static void check_master_cf(check_state *st)
{
    vstr err = VSTR_INIT;
    mastercf *mcf = mastercf_load(config_dir(st->cfg), &err);

    if (mcf == NULL)
        problem_lines(st, vstr_str(&err));
    else
        mastercf_free(mcf);
    vstr_release(&err);
}

int postern_check(const postern_opts *opts, int argc, char **argv)
{
    check_state st = {NULL, {0}, 0, 0};
    vstr err = VSTR_INIT;

    (void)argv;
    if (argc > 1) {
        postern_usage_verb("check");
        return POSTERN_EXIT_USAGE;
    }
    if ((st.cfg = config_load(opts->config_dir, &err)) == NULL) {
        msg_error("%s", vstr_str(&err));
        vstr_release(&err);
        return 1;
    }
    if (config_validate(st.cfg, &err) > 0)
        problem_lines(&st, vstr_str(&err));
    check_master_cf(&st);
    check_config_files(&st);
    check_owners(&st);
    check_queue(&st);
    check_paths(&st);
    config_free(st.cfg);
    vstr_release(&err);
    if (st.problems > 0)
        return 1;
    printf("configuration OK\n");
    return 0;
}
