/*
 * postconf - print and edit main.cf, list master.cf services
 *
 * SYNOPSIS
 *   postconf [-c DIR] [-d | -n] [-h] [-x] [name ...]
 *   postconf [-c DIR] -e name=value ...      (also: postconf name=value ...)
 *   postconf [-c DIR] -X name ...
 *   postconf [-c DIR] -M [service[/type] ...]
 *
 * DESCRIPTION
 *   Without options, every parameter with the text in effect, sorted by
 *   name, as "name = value": what main.cf sets, else the default. -n
 *   prints only what main.cf sets, -d only the defaults (main.cf is not
 *   read), -h the values alone, -x the values expanded. Names on the
 *   command line are printed in their order.
 *
 *   -e sets parameters in main.cf and -X removes them (with their
 *   continuation lines), leaving every other line, comment and blank line
 *   as it was; a new parameter goes at the end. The new file is written
 *   beside the old one, fsynced and renamed over it, under a lock on the
 *   temporary file (as Postfix does), so that two editors never lose each
 *   other's change and a crash leaves the old file or the new one.
 *
 *   -M prints master.cf services, one per line with normalized columns,
 *   all or those named (service, service/type; * matches any).
 *
 *   --man-params prints the parameter list of postconf(5) in roff, made
 *   from the parameter table (man/update-postconf5 puts it in the page).
 *
 * DIAGNOSTICS
 *   Exit 0, or 1 with "postconf: fatal: ..." on stderr. A name on the
 *   command line that is no parameter is a warning ("NAME: unknown
 *   parameter"), as are unknown names set in main.cf (with file and line).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "global/config.h"
#include "global/mastercf.h"
#include "global/param_table.h"
#include "util/argv.h"
#include "util/cfgfile.h"
#include "util/htable.h"
#include "util/mem.h"
#include "util/msg.h"

#define MODE_SHOW 0
#define MODE_EDIT 1
#define MODE_REMOVE 2
#define MODE_MASTER 3

typedef struct options {
    const char *dir;
    int mode;
    int defaults; /* -d */
    int set_only; /* -n */
    int values;   /* -h */
    int expand;   /* -x */
} options;

static void usage(void)
{
    fprintf(stderr, "usage: postconf [-c DIR] [-d | -n] [-h] [-x] [name ...]\n"
                    "       postconf [-c DIR] -e name=value ...\n"
                    "       postconf [-c DIR] -X name ...\n"
                    "       postconf [-c DIR] -M [service[/type] ...]\n");
    exit(1);
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void sort_argv(argv_t *a)
{
    qsort(a->argv, a->argc, sizeof(char *), compare_strings);
}

/* ------------------------------------------------------------------ */
/* Printing parameters                                                  */

static void print_param(const options *o, config *cfg, const char *name)
{
    vstr err = VSTR_INIT;
    const char *value;

    if (o->expand)
        value = config_expand(cfg, name, &err);
    else if (o->defaults)
        value = config_default_text(name);
    else
        value = config_text(cfg, name, &err);
    if (value == NULL)
        msg_fatal("%s", vstr_str(&err));
    if (o->values)
        printf("%s\n", value);
    else
        printf("%s = %s\n", name, value);
    vstr_release(&err);
}

/* Every parameter: the table, and user-defined ones that are used. */
static argv_t *all_names(config *cfg, int defaults_only)
{
    argv_t *names = argv_new(), *set = config_names_set(cfg);

    for (size_t i = 0; i < param_count(); i++)
        argv_add(names, param_at(i)->name);
    for (size_t i = 0; !defaults_only && i < set->argc; i++)
        if (param_lookup(set->argv[i]) == NULL && config_name_known(cfg, set->argv[i]))
            argv_add(names, set->argv[i]);
    argv_free(set);
    sort_argv(names);
    return names;
}

static int show(const options *o, int argc, char **argv)
{
    vstr err = VSTR_INIT;
    config *cfg;
    argv_t *names;

    if (o->defaults) {
        cfg = config_new_defaults(o->dir);
    } else if ((cfg = config_load(o->dir, &err)) == NULL) {
        msg_fatal("%s", vstr_str(&err));
    }
    if (argc > 0) {
        for (int i = 0; i < argc; i++) {
            if (param_lookup(argv[i]) == NULL &&
                (o->defaults || config_raw(cfg, argv[i]) == NULL)) {
                msg_warn("%s: unknown parameter", argv[i]);
                continue;
            }
            print_param(o, cfg, argv[i]);
        }
    } else {
        if (o->set_only) {
            names = config_names_set(cfg);
            sort_argv(names);
        } else {
            names = all_names(cfg, o->defaults);
        }
        for (size_t i = 0; i < names->argc; i++)
            print_param(o, cfg, names->argv[i]);
        argv_free(names);
    }
    config_free(cfg);
    vstr_release(&err);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Editing main.cf                                                      */

/* The temporary file of an edit in progress, removed by a fatal error. */
static char *edit_tmp_path;

static void remove_edit_tmp(void)
{
    if (edit_tmp_path != NULL)
        unlink(edit_tmp_path);
}

/* Open and lock DIR/main.cf.tmp, the lock that serializes editors. A
 * file that was renamed away while we waited for its lock is stale: open
 * the new one. */
static int lock_edit_tmp(const char *path)
{
    for (int attempt = 0; attempt < 100; attempt++) {
        struct stat fst, pst;
        int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);

        if (fd < 0)
            msg_fatal("open %s: %s", path, strerror(errno));
        if (flock(fd, LOCK_EX) < 0)
            msg_fatal("lock %s: %s", path, strerror(errno));
        if (fstat(fd, &fst) == 0 && lstat(path, &pst) == 0 && fst.st_dev == pst.st_dev &&
            fst.st_ino == pst.st_ino && S_ISREG(fst.st_mode)) {
            if (ftruncate(fd, 0) < 0)
                msg_fatal("truncate %s: %s", path, strerror(errno));
            return fd;
        }
        close(fd);
    }
    msg_fatal("%s: cannot lock: it keeps being replaced", path);
}

static void write_all(int fd, const char *path, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            msg_fatal("write %s: %s", path, strerror(errno));
        buf += n;
        len -= (size_t)n;
    }
}

/* The value of a -e argument, checked: one line, within bounds. */
static void parse_setting(const char *arg, vstr *name, vstr *value)
{
    vstr why = VSTR_INIT;

    if (cfgfile_split(arg, strlen(arg), name, value, &why) < 0)
        msg_fatal("bad setting \"%.100s\": %s", arg, vstr_str(&why));
    for (const char *p = vstr_str(value); *p; p++)
        if ((unsigned char)*p < 0x20 && *p != '\t')
            msg_fatal("bad setting \"%.100s\": control character in value", arg);
    if (vstr_len(value) + vstr_len(name) + 3 > CONFIG_LINE_MAX)
        msg_fatal("bad setting for %s: longer than %d bytes", vstr_str(name), CONFIG_LINE_MAX);
    vstr_release(&why);
}

/* "name = value", or "name =" for an empty value (no trailing blank). */
static void append_setting(vstr *out, const char *name, const char *value)
{
    vstr_append_fmt(out, *value ? "%s = %s\n" : "%s =\n", name, value);
}

/* Rewrite main.cf: set the names in edits (name -> value; NULL value:
 * remove). order lists the names to append when main.cf lacks them. */
static void edit_main_cf(const char *dir, htable *edits, const argv_t *order)
{
    vstr path = VSTR_INIT, tmp = VSTR_INIT, text = VSTR_INIT, out = VSTR_INIT;
    vstr err = VSTR_INIT, line = VSTR_INIT, name = VSTR_INIT, value = VSTR_INIT;
    htable *written = htable_new(16);
    struct stat st;
    cfgfile_reader r;
    cfgfile_line at;
    size_t pos = 0;
    int fd, dfd, exists, status;

    vstr_set_fmt(&path, "%s/main.cf", dir);
    vstr_set_fmt(&tmp, "%s/main.cf.tmp", dir);
    fd = lock_edit_tmp(vstr_str(&tmp));
    edit_tmp_path = mem_strdup(vstr_str(&tmp));
    msg_set_fatal_hook(remove_edit_tmp);

    exists = cfgfile_read(vstr_str(&path), CONFIG_FILE_MAX, &text, &err) == 0;
    if (!exists && errno != ENOENT)
        msg_fatal("%s", vstr_str(&err));

    /* Lines up to the whole file's size: an over-long line must not stop
     * the administrator from removing or replacing it. */
    cfgfile_reader_init(&r, vstr_str(&text), vstr_len(&text), CONFIG_FILE_MAX);
    while ((status = cfgfile_next(&r, &line, &at, &err)) != 0) {
        htable_entry *e;

        if (status < 0 && strstr(vstr_str(&err), "NUL") != NULL)
            msg_fatal("%s, line %d: %s: not editing a file with NUL bytes", vstr_str(&path),
                      at.lineno, vstr_str(&err));
        if (status < 0 ||
            cfgfile_split(vstr_str(&line), vstr_len(&line), &name, &value, &err) < 0 ||
            (e = htable_locate(edits, vstr_str(&name))) == NULL)
            continue; /* kept as it is */
        vstr_append(&out, vstr_str(&text) + pos, at.start - pos);
        pos = at.end;
        if (e->value != NULL && htable_enter(written, e->key, NULL) != NULL)
            append_setting(&out, e->key, e->value);
    }
    vstr_append(&out, vstr_str(&text) + pos, vstr_len(&text) - pos);
    for (size_t i = 0; i < order->argc; i++) {
        const char *v = htable_find(edits, order->argv[i]);

        if (v == NULL || htable_locate(written, order->argv[i]) != NULL)
            continue;
        if (vstr_len(&out) > 0 && vstr_str(&out)[vstr_len(&out) - 1] != '\n')
            vstr_append_char(&out, '\n');
        append_setting(&out, order->argv[i], v);
        htable_enter(written, order->argv[i], NULL);
    }

    /* Same mode and owner as the file it replaces. */
    if (exists && stat(vstr_str(&path), &st) == 0) {
        if (fchmod(fd, st.st_mode & 07777) < 0)
            msg_fatal("chmod %s: %s", vstr_str(&tmp), strerror(errno));
        if (geteuid() == 0 && fchown(fd, st.st_uid, st.st_gid) < 0)
            msg_fatal("chown %s: %s", vstr_str(&tmp), strerror(errno));
    } else if (fchmod(fd, 0644) < 0) {
        msg_fatal("chmod %s: %s", vstr_str(&tmp), strerror(errno));
    }
    write_all(fd, vstr_str(&tmp), vstr_str(&out), vstr_len(&out));
    if (fsync(fd) < 0)
        msg_fatal("fsync %s: %s", vstr_str(&tmp), strerror(errno));
    if (rename(vstr_str(&tmp), vstr_str(&path)) < 0)
        msg_fatal("rename %s to %s: %s", vstr_str(&tmp), vstr_str(&path), strerror(errno));
    msg_set_fatal_hook(NULL);
    mem_free(edit_tmp_path);
    edit_tmp_path = NULL;
    if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 || fsync(dfd) < 0)
        msg_fatal("fsync %s: %s", dir, strerror(errno));
    close(dfd);
    close(fd); /* releases the lock */

    htable_free(written, NULL);
    vstr_release(&path);
    vstr_release(&tmp);
    vstr_release(&text);
    vstr_release(&out);
    vstr_release(&err);
    vstr_release(&line);
    vstr_release(&name);
    vstr_release(&value);
}

static int edit(const options *o, int argc, char **argv)
{
    htable *edits = htable_new(16);
    argv_t *order = argv_new();
    vstr name = VSTR_INIT, value = VSTR_INIT, why = VSTR_INIT;

    if (argc == 0)
        usage();
    for (int i = 0; i < argc; i++) {
        htable_entry *e;

        if (o->mode == MODE_EDIT) {
            parse_setting(argv[i], &name, &value);
        } else {
            vstr_set_str(&name, argv[i]);
            vstr_reset(&value);
            for (const char *p = argv[i]; *p; p++)
                if (!cfgfile_name_char((unsigned char)*p))
                    msg_fatal("bad parameter name \"%.100s\"", argv[i]);
            if (argv[i][0] == 0)
                msg_fatal("empty parameter name");
        }
        /* The last setting of a name wins. */
        if ((e = htable_locate(edits, vstr_str(&name))) != NULL) {
            mem_free(e->value);
            e->value = NULL;
        } else {
            e = htable_enter(edits, vstr_str(&name), NULL);
            argv_add(order, vstr_str(&name));
        }
        if (o->mode == MODE_EDIT)
            e->value = mem_strdup(vstr_str(&value));
    }
    edit_main_cf(o->dir, edits, order);
    htable_free(edits, mem_free);
    argv_free(order);
    vstr_release(&name);
    vstr_release(&value);
    vstr_release(&why);
    return 0;
}

/* ------------------------------------------------------------------ */
/* master.cf                                                            */

static int pattern_match(const char *pattern, size_t len, const char *text)
{
    return (len == 1 && pattern[0] == '*') ||
           (strlen(text) == len && memcmp(pattern, text, len) == 0);
}

static int service_matches(const mastercf_service *svc, const char *filter)
{
    const char *slash = strchr(filter, '/');
    size_t name_len = slash ? (size_t)(slash - filter) : strlen(filter);

    return pattern_match(filter, name_len, svc->name) &&
           (slash == NULL || pattern_match(slash + 1, strlen(slash + 1), svc->type_name));
}

static int master(const options *o, int argc, char **argv)
{
    vstr err = VSTR_INIT, out = VSTR_INIT;
    mastercf *mcf = mastercf_load(o->dir, &err);

    if (mcf == NULL) {
        argv_t *lines = argv_split(vstr_str(&err), "\n");

        for (size_t i = 0; i + 1 < lines->argc; i++)
            msg_error("%s", lines->argv[i]);
        msg_fatal("%s", lines->argc ? lines->argv[lines->argc - 1] : "cannot read master.cf");
    }
    for (int i = 0; i < argc; i++) {
        int found = 0;

        for (size_t j = 0; j < mcf->count && !found; j++)
            found = service_matches(mcf->services[j], argv[i]);
        if (!found)
            msg_warn("%s: no such service in %s", argv[i], mcf->path);
    }
    for (size_t j = 0; j < mcf->count; j++) {
        int wanted = argc == 0;

        for (int i = 0; i < argc && !wanted; i++)
            wanted = service_matches(mcf->services[j], argv[i]);
        if (!wanted)
            continue;
        vstr_reset(&out);
        mastercf_format(mcf->services[j], &out);
        printf("%s\n", vstr_str(&out));
    }
    mastercf_free(mcf);
    vstr_release(&err);
    vstr_release(&out);
    return 0;
}

/* ------------------------------------------------------------------ */

static void set_mode(options *o, int mode)
{
    if (o->mode != MODE_SHOW && o->mode != mode)
        usage();
    o->mode = mode;
}

int main(int argc, char **argv)
{
    options o = {NULL, MODE_SHOW, 0, 0, 0, 0};
    const char *cmdline_dir = NULL;
    int c, status;

    msg_init("postconf");
    if (argc == 2 && strcmp(argv[1], "--man-params") == 0) {
        vstr roff = VSTR_INIT;

        param_table_roff(&roff);
        fwrite(vstr_str(&roff), 1, vstr_len(&roff), stdout);
        vstr_release(&roff);
        return fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1;
    }
    while ((c = getopt(argc, argv, "c:dehMnvxX")) != -1) {
        switch (c) {
        case 'c':
            cmdline_dir = optarg;
            break;
        case 'd':
            o.defaults = 1;
            break;
        case 'e':
            set_mode(&o, MODE_EDIT);
            break;
        case 'h':
            o.values = 1;
            break;
        case 'M':
            set_mode(&o, MODE_MASTER);
            break;
        case 'n':
            o.set_only = 1;
            break;
        case 'v':
            msg_set_verbose(msg_verbose_level() + 1);
            break;
        case 'x':
            o.expand = 1;
            break;
        case 'X':
            set_mode(&o, MODE_REMOVE);
            break;
        default:
            usage();
        }
    }
    argc -= optind;
    argv += optind;
    o.dir = config_directory(cmdline_dir);
    if (o.defaults && o.set_only)
        usage();
    /* As in Postfix, "postconf name=value" is an edit. */
    if (o.mode == MODE_SHOW && argc > 0 && strchr(argv[0], '=') != NULL)
        o.mode = MODE_EDIT;
    if (o.mode != MODE_SHOW && (o.defaults || o.set_only || o.values || o.expand))
        usage();
    switch (o.mode) {
    case MODE_EDIT:
    case MODE_REMOVE:
        status = edit(&o, argc, argv);
        break;
    case MODE_MASTER:
        status = master(&o, argc, argv);
        break;
    default:
        status = show(&o, argc, argv);
        break;
    }
    if (fflush(stdout) != 0 || ferror(stdout))
        msg_fatal("write to standard output: %s", strerror(errno));
    return status;
}
