/*
 * postern_init - postern init: create a self-contained instance
 *
 * SYNOPSIS
 *   postern -c DIR init [-f] [name=value ...]
 *
 * DESCRIPTION
 *   Writes DIR/main.cf, DIR/master.cf and DIR/aliases from the stock files
 *   compiled into postern, with every path under DIR and the programs
 *   directories pointing at the binaries that ran init; then the name=value
 *   arguments, which win over init's own choices. Run by an ordinary user,
 *   the instance is unprivileged: mail_owner and setgid_group become that
 *   user and their primary group. Then it makes the queue tree
 *   (global/queue_dirs), data_directory and mail_spool_directory with their
 *   modes and owners, and prints what it made.
 *
 *   Nothing is written until every argument has been checked: a bad
 *   name=value or a value the configuration rejects stops init with no
 *   file touched. An existing main.cf or master.cf is kept unless -f; with
 *   -f both are rewritten and existing directories get their modes and
 *   owners set again.
 *
 * DIAGNOSTICS
 *   Unknown parameter names are warnings (the setting is still written, as
 *   postconf -e does); malformed arguments, invalid values and file system
 *   errors are fatal (exit 1; usage mistakes exit 2).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "admin/postern.h"
#include "global/queue_dirs.h"
#include "util/argv.h"
#include "util/mem.h"
#include "util/msg.h"

/* The parameter settings init writes, in order; a later set of a name
 * replaces the value in place. */
typedef struct settings {
    argv_t *names;
    argv_t *values;
} settings;

static void settings_set(settings *s, const char *name, const char *value)
{
    for (size_t i = 0; i < s->names->argc; i++) {
        if (strcmp(s->names->argv[i], name) == 0) {
            mem_free(s->values->argv[i]);
            s->values->argv[i] = mem_strdup(value);
            return;
        }
    }
    argv_add(s->names, name);
    argv_add(s->values, value);
}

static int valid_param_name(const char *name, size_t len)
{
    if (len == 0)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!isalnum((unsigned char)name[i]) && name[i] != '_')
            return 0;
    return 1;
}

/* Split "name = value" from the command line; white space around either is
 * dropped. A control character would let one argument write several
 * main.cf lines, so it is refused. Returns -1 with a reason. */
static int parse_assignment(const char *arg, vstr *name, vstr *value, vstr *why)
{
    const char *eq = strchr(arg, '=');

    for (const unsigned char *p = (const unsigned char *)arg; *p; p++) {
        if (*p < 0x20 && *p != '\t') {
            vstr_set_str(why, "control character in setting");
            return -1;
        }
    }
    if (eq == NULL) {
        vstr_set_str(why, "expected name=value");
        return -1;
    }
    vstr_set(name, arg, (size_t)(eq - arg));
    vstr_trim(name);
    if (!valid_param_name(vstr_str(name), vstr_len(name))) {
        vstr_set_str(why, "a parameter name is letters, digits and underscores");
        return -1;
    }
    vstr_set_str(value, eq + 1);
    vstr_trim(value);
    return 0;
}

/* Is the logical line starting at line an active "name = ..." setting?
 * Returns the name length, 0 when not. */
static size_t setting_name_len(const char *line, size_t len)
{
    size_t n = 0;

    while (n < len && (isalnum((unsigned char)line[n]) || line[n] == '_'))
        n++;
    if (n == 0)
        return 0;
    for (size_t i = n; i < len; i++) {
        if (line[i] == '=')
            return n;
        if (line[i] != ' ' && line[i] != '\t')
            return 0;
    }
    return 0;
}

/* Write main.cf: the stock text with each setting replacing the stock's own
 * line for that name (continuation lines included), and the settings the
 * stock does not have appended at the end, as postconf -e would. Blank and
 * comment lines never end a logical line (util/cfgfile), so they are kept
 * even between a replaced line and its continuations. */
static void apply_settings(const char *stock, const settings *s, vstr *out)
{
    char *done = mem_calloc(s->names->argc + 1, 1);
    const char *p = stock;
    int skipping = 0; /* inside a replaced setting's continuation lines */
    int appended = 0;

    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        size_t blank = 0, name_len;
        int keep = 1;

        while (blank < len && (p[blank] == ' ' || p[blank] == '\t'))
            blank++;
        if (blank == len || p[blank] == '#') {
            /* blank or comment: kept, and a continuation may follow */
        } else if (blank > 0) {
            keep = !skipping; /* a continuation line */
        } else {
            skipping = 0;
            name_len = setting_name_len(p, len);
            for (size_t i = 0; name_len > 0 && i < s->names->argc; i++) {
                if (strlen(s->names->argv[i]) == name_len &&
                    memcmp(s->names->argv[i], p, name_len) == 0) {
                    if (!done[i])
                        vstr_append_fmt(out, "%s = %s\n", s->names->argv[i], s->values->argv[i]);
                    done[i] = 1;
                    skipping = 1;
                    keep = 0;
                    break;
                }
            }
        }
        if (keep) {
            vstr_append(out, p, len);
            vstr_append_char(out, '\n');
        }
        p += len + (nl != NULL);
    }
    for (size_t i = 0; i < s->names->argc; i++) {
        if (done[i])
            continue;
        if (!appended)
            vstr_append_str(
                out, "\n# This instance, as made by postern init (postconf -e edits it).\n");
        appended = 1;
        vstr_append_fmt(out, "%s = %s\n", s->names->argv[i], s->values->argv[i]);
    }
    mem_free(done);
}

/* Replace path with text atomically: a temporary file in the same
 * directory, fsynced, renamed over path, then the directory fsynced. */
static void write_file(const char *dir, const char *name, const char *text, size_t len)
{
    vstr path = VSTR_INIT;
    vstr tmp = VSTR_INIT;
    int fd, dfd;

    vstr_set_fmt(&path, "%s/%s", dir, name);
    vstr_set_fmt(&tmp, "%s/.%s.XXXXXX", dir, name);
    if ((fd = mkstemp(tmp.data)) < 0)
        msg_fatal("create %s: %s", vstr_str(&tmp), strerror(errno));
    for (size_t off = 0; off < len;) {
        ssize_t n = write(fd, text + off, len - off);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            unlink(vstr_str(&tmp));
            msg_fatal("write %s: %s", vstr_str(&tmp), strerror(errno));
        }
        off += (size_t)n;
    }
    if (fchmod(fd, 0644) < 0 || fsync(fd) < 0 || close(fd) < 0) {
        unlink(vstr_str(&tmp));
        msg_fatal("write %s: %s", vstr_str(&tmp), strerror(errno));
    }
    if (rename(vstr_str(&tmp), vstr_str(&path)) < 0) {
        unlink(vstr_str(&tmp));
        msg_fatal("rename %s to %s: %s", vstr_str(&tmp), vstr_str(&path), strerror(errno));
    }
    if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
    printf("created %s\n", vstr_str(&path));
    vstr_release(&path);
    vstr_release(&tmp);
}

/* mkdir -p for the parents of an absolute path, mode 0755. */
static void make_parents(const char *path)
{
    vstr dir = VSTR_INIT;

    vstr_set_str(&dir, path);
    for (size_t i = 1; i < vstr_len(&dir); i++) {
        if (dir.data[i] != '/')
            continue;
        dir.data[i] = 0;
        if (mkdir(dir.data, 0755) < 0 && errno != EEXIST)
            msg_fatal("create %s: %s", dir.data, strerror(errno));
        dir.data[i] = '/';
    }
    vstr_release(&dir);
}

/* Make a directory (or take the one there) and give it mode, owner and
 * group; uid or gid (uid_t)-1 / (gid_t)-1 leaves that alone. The directory
 * is opened without following symlinks and changed through the descriptor,
 * so a symlink planted at path cannot redirect the chown. */
static void make_dir(const char *path, mode_t mode, uid_t uid, gid_t gid)
{
    vstr owner = VSTR_INIT;
    vstr group = VSTR_INIT;
    const char *what = "created";
    struct stat st;
    int fd;

    make_parents(path);
    if (mkdir(path, 0700) < 0) {
        if (errno != EEXIST)
            msg_fatal("create %s: %s", path, strerror(errno));
        what = "updated";
    }
    if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
        msg_fatal("open %s: %s", path,
                  errno == ELOOP ? "is a symbolic link, expected a directory" : strerror(errno));
    if ((uid != (uid_t)-1 || gid != (gid_t)-1) && fchown(fd, uid, gid) < 0)
        msg_fatal("set owner of %s: %s", path, strerror(errno));
    if (fchmod(fd, mode) < 0 || fstat(fd, &st) < 0)
        msg_fatal("set mode of %s: %s", path, strerror(errno));
    close(fd);
    printf("%s %s mode %04o owner %s group %s\n", what, path, (unsigned)(st.st_mode & 07777),
           postern_user_name(st.st_uid, &owner), postern_group_name(st.st_gid, &group));
    vstr_release(&owner);
    vstr_release(&group);
}

/* The expanded value of a path parameter; fatal unless absolute. */
static const char *path_param(config *cfg, const char *name)
{
    vstr err = VSTR_INIT;
    const char *value = config_expand(cfg, name, &err);

    if (value == NULL)
        msg_fatal("%s", vstr_str(&err));
    if (value[0] != '/')
        msg_fatal("%s = %s: expected an absolute path", name, value);
    vstr_release(&err);
    return value;
}

/* mkdir -p DIR and return its absolute, symlink-free name (caller frees). */
static char *make_config_dir(const char *dir)
{
    char *abs;

    if (dir[0] == '/') {
        make_parents(dir);
    } else {
        vstr rel = VSTR_INIT;

        vstr_set_fmt(&rel, "./%s", dir);
        make_parents(vstr_str(&rel));
        vstr_release(&rel);
    }
    if (mkdir(dir, 0755) < 0 && errno != EEXIST)
        msg_fatal("create %s: %s", dir, strerror(errno));
    if ((abs = realpath(dir, NULL)) == NULL)
        msg_fatal("%s: %s", dir, strerror(errno));
    return abs;
}

static int file_exists(const char *dir, const char *name)
{
    vstr path = VSTR_INIT;
    struct stat st;
    int exists;

    vstr_set_fmt(&path, "%s/%s", dir, name);
    exists = lstat(vstr_str(&path), &st) == 0;
    vstr_release(&path);
    return exists;
}

/* The settings init writes: its own choices, then the arguments. */
static void choose_settings(settings *s, const char *dir, int argc, char **argv)
{
    vstr command_dir = VSTR_INIT, daemon_dir = VSTR_INIT, path = VSTR_INIT;
    vstr name = VSTR_INIT, value = VSTR_INIT, why = VSTR_INIT;

    postern_program_dirs(&command_dir, &daemon_dir);
#define SET_PATH(param, fmt, arg)                                                                 \
    do {                                                                                          \
        vstr_set_fmt(&path, fmt, arg);                                                            \
        settings_set(s, param, vstr_str(&path));                                                  \
    } while (0)
    SET_PATH("queue_directory", "%s/spool", dir);
    SET_PATH("data_directory", "%s/data", dir);
    SET_PATH("command_directory", "%s", vstr_str(&command_dir));
    SET_PATH("daemon_directory", "%s", vstr_str(&daemon_dir));
    SET_PATH("mail_spool_directory", "%s/mail", dir);
    SET_PATH("maillog_file", "%s/maillog", dir);
    SET_PATH("alias_maps", "hash:%s/aliases", dir);
    SET_PATH("alias_database", "hash:%s/aliases", dir);
#undef SET_PATH
    settings_set(s, "inet_interfaces", "127.0.0.1");
    if (geteuid() != 0) {
        struct passwd *pw = getpwuid(geteuid());
        struct group *gr;

        if (pw == NULL)
            msg_fatal("uid %lu has no name in the password database", (unsigned long)geteuid());
        settings_set(s, "mail_owner", pw->pw_name);
        if ((gr = getgrgid(pw->pw_gid)) == NULL)
            msg_fatal("group %lu of %s has no name in the group database",
                      (unsigned long)pw->pw_gid, pw->pw_name);
        settings_set(s, "setgid_group", gr->gr_name);
    }
    for (int i = 0; i < argc; i++) {
        if (parse_assignment(argv[i], &name, &value, &why) < 0)
            msg_panic("init: setting \"%s\" passed the check but does not parse", argv[i]);
        if (config_default_text(vstr_str(&name)) == NULL)
            msg_warn("init: unknown parameter name \"%s\" (set anyway)", vstr_str(&name));
        settings_set(s, vstr_str(&name), vstr_str(&value));
    }
    vstr_release(&command_dir);
    vstr_release(&daemon_dir);
    vstr_release(&path);
    vstr_release(&name);
    vstr_release(&value);
    vstr_release(&why);
}

/* Validate the settings as the daemons will see them: fatal, with nothing
 * written, on a problem. Returns the configuration they make. */
static config *validate_settings(const char *dir, const settings *s)
{
    config *cfg = config_new_defaults(dir);
    vstr errs = VSTR_INIT;

    for (size_t i = 0; i < s->names->argc; i++)
        config_override(cfg, s->names->argv[i], s->values->argv[i]);
    if (config_validate(cfg, &errs) > 0) {
        argv_t *lines = argv_split(vstr_str(&errs), "\n");

        for (size_t i = 0; i < lines->argc; i++)
            msg_error("init: %s", lines->argv[i]);
        argv_free(lines);
        msg_fatal("init: nothing written to %s", dir);
    }
    vstr_release(&errs);
    return cfg;
}

/* Make the queue tree, data_directory and mail_spool_directory. */
static void make_directories(config *cfg)
{
    int unprivileged = geteuid() != 0;
    const char *queue_path = path_param(cfg, "queue_directory");
    const char *data_path = path_param(cfg, "data_directory");
    const char *spool_path = path_param(cfg, "mail_spool_directory");
    uid_t mail_uid = (uid_t)-1;
    gid_t setgid_gid = (gid_t)-1;
    vstr err = VSTR_INIT, path = VSTR_INIT;
    postern_owners own;

    if (postern_owners_lookup(cfg, &own, &err) < 0)
        msg_fatal("init: %s", vstr_str(&err));
    /* Only root can give files away; otherwise everything is the caller's,
     * and check says so if mail_owner disagrees. */
    if (!unprivileged) {
        if (own.mail_owner_known)
            mail_uid = own.mail_uid;
        else
            msg_warn("init: mail_owner %s: no such user; its directories stay owned by root "
                     "until it exists (create it, then run init -f)",
                     own.mail_owner);
        if (own.setgid_group_known)
            setgid_gid = own.setgid_gid;
        else
            msg_warn("init: setgid_group %s: no such group; maildrop and public keep root's "
                     "group until it exists",
                     own.setgid_group);
    } else if (!own.mail_owner_known || own.mail_uid != geteuid()) {
        msg_warn("init: mail_owner %s is not the user running init; an unprivileged instance "
                 "runs as that user (postern check will report this)",
                 own.mail_owner);
    }
    for (const queue_dir *d = queue_dirs; d->name; d++) {
        if (d->name[0])
            vstr_set_fmt(&path, "%s/%s", queue_path, d->name);
        else
            vstr_set_str(&path, queue_path);
        make_dir(vstr_str(&path), d->mode, d->owner == QUEUE_OWNER_MAIL ? mail_uid : (uid_t)-1,
                 d->setgid_group ? setgid_gid : (gid_t)-1);
    }
    make_dir(data_path, QUEUE_DATA_DIR_MODE, mail_uid, (gid_t)-1);
    /* Mailboxes: local delivers as the recipient when privileged, so the
     * spool is shared like /tmp; an unprivileged instance keeps it private. */
    make_dir(spool_path, unprivileged ? 0700 : 01777, (uid_t)-1, (gid_t)-1);
    vstr_release(&err);
    vstr_release(&path);
}

/* Build the alias_database tables with the postalias next to this postern,
 * so that local delivery finds them; without one (not built yet) the
 * administrator runs postalias later. */
static void build_aliases(config *cfg, const char *dir)
{
    const char *command_dir = path_param(cfg, "command_directory");
    argv_t *tables = config_list(cfg, "alias_database");
    argv_t *args = argv_new();
    vstr prog = VSTR_INIT;
    int status;
    pid_t pid;

    vstr_set_fmt(&prog, "%s/postalias", command_dir);
    if (tables->argc == 0) {
        /* alias_database is empty: nothing to build */
    } else if (access(vstr_str(&prog), X_OK) < 0) {
        msg_warn("init: %s: %s; build the alias table later with postalias -c %s", vstr_str(&prog),
                 strerror(errno), dir);
    } else {
        argv_add(args, vstr_str(&prog));
        argv_add(args, "-c");
        argv_add(args, dir);
        for (size_t i = 0; i < tables->argc; i++)
            argv_add(args, tables->argv[i]);
        fflush(stdout);
        if ((pid = fork()) < 0)
            msg_fatal("init: fork: %s", strerror(errno));
        if (pid == 0) {
            execv(args->argv[0], args->argv);
            msg_error("init: exec %s: %s", args->argv[0], strerror(errno));
            _exit(127);
        }
        while (waitpid(pid, &status, 0) < 0)
            if (errno != EINTR)
                msg_fatal("init: wait for postalias: %s", strerror(errno));
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
            for (size_t i = 0; i < tables->argc; i++)
                printf("built %s\n", tables->argv[i]);
        } else {
            msg_warn("init: postalias failed; build the alias table later with postalias -c %s",
                     dir);
        }
    }
    vstr_release(&prog);
    argv_free(args);
    argv_free(tables);
}

int postern_init(const postern_opts *opts, int argc, char **argv)
{
    vstr name = VSTR_INIT, value = VSTR_INIT, why = VSTR_INIT, text = VSTR_INIT;
    int force = opts->force;
    int bad = 0;
    settings s;
    config *cfg;
    char *dir;
    int i;

    for (i = 1; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        }
        if (strcmp(argv[i], "-f") != 0) {
            msg_error("init: unknown option \"%s\"", argv[i]);
            postern_usage_verb("init");
            return POSTERN_EXIT_USAGE;
        }
        force = 1;
    }
    /* Check every argument before anything is made. */
    for (int j = i; j < argc && !bad; j++) {
        if (parse_assignment(argv[j], &name, &value, &why) < 0) {
            msg_error("init: bad setting \"%s\": %s", argv[j], vstr_str(&why));
            bad = 1;
        }
    }
    vstr_release(&name);
    vstr_release(&value);
    vstr_release(&why);
    if (bad) {
        postern_usage_verb("init");
        return POSTERN_EXIT_USAGE;
    }
    if (file_exists(opts->config_dir, "main.cf") && !force)
        msg_fatal("%s/main.cf exists; use postern -c %s init -f to replace it", opts->config_dir,
                  opts->config_dir);
    if (file_exists(opts->config_dir, "master.cf") && !force)
        msg_fatal("%s/master.cf exists; use postern -c %s init -f to replace it", opts->config_dir,
                  opts->config_dir);

    dir = make_config_dir(opts->config_dir);
    s.names = argv_new();
    s.values = argv_new();
    choose_settings(&s, dir, argc - i, argv + i);
    cfg = validate_settings(dir, &s);

    apply_settings(postern_stock_main_cf(), &s, &text);
    write_file(dir, "main.cf", vstr_str(&text), vstr_len(&text));
    write_file(dir, "master.cf", postern_stock_master_cf(), strlen(postern_stock_master_cf()));
    if (!file_exists(dir, "aliases") || force)
        write_file(dir, "aliases", postern_stock_aliases(), strlen(postern_stock_aliases()));
    make_directories(cfg);
    build_aliases(cfg, dir);
    printf("instance ready in %s; verify it with: postern -c %s check\n", dir, dir);

    config_free(cfg);
    argv_free(s.names);
    argv_free(s.values);
    vstr_release(&text);
    free(dir);
    return 0;
}
