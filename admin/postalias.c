/*
 * postalias - build and query alias databases
 *
 * SYNOPSIS
 *   postalias [-sv] [-c DIR] [type:]file ...          build file.db from file
 *   postalias [-v] [-c DIR] -q key [type:]file ...    print key's value
 *   postalias [-v] [-c DIR] -q - [type:]file ...      keys on stdin, "key:\tvalue" out
 *   postalias [-v] [-c DIR] -s [type:]file ...        print every "name:\tvalue"
 *
 * DESCRIPTION
 *   Builds a table from an aliases(5) file: the source is parsed (global/
 *   alias_parse), written to a temporary file and renamed over the old
 *   table (util/dict_db), so mail delivery sees the old aliases or the
 *   new ones, never a mix, and a source with a fatal error leaves the old
 *   table in place. Entries the parser cannot use, and duplicate names,
 *   are warned about with file and line; the first of duplicate names
 *   wins. Like Postfix, the table also gets the entry "@: @" that
 *   sendmail-compatible readers take as "the build completed".
 *
 *   The type defaults to default_database_type (hash). Run as root, the
 *   new table gets the owner and group of its source file, because
 *   local(8) runs commands and file deliveries of an alias as the owner
 *   of the table it came from (root: default_privs).
 *
 * DIAGNOSTICS
 *   Exit 0 on success; -q exits 0 when the key was found, 1 when it was
 *   not, 2 when a table could not be read; 1 for every other error,
 *   with the reason on stderr.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "global/alias_parse.h"
#include "global/config.h"
#include "util/dict.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/vstr.h"

/* Largest aliases source file accepted (it is read into memory). */
#define POSTALIAS_SOURCE_MAX (512LL * 1024 * 1024)
/* Longest key read by -q -. */
#define POSTALIAS_KEY_MAX 4096

#define EXIT_NOTFOUND 1
#define EXIT_TABLE_ERROR 2

static void usage(void)
{
    msg_fatal("usage: postalias [-sv] [-c config_dir] [-q key] [type:]file ...");
}

/* "type:name" with the default type filled in: a colon before any '/'
 * ends the type ("hash:/etc/aliases"); "/etc/aliases" has none. */
static void table_spec(const char *arg, const char *default_type, vstr *type, vstr *name)
{
    const char *colon = strchr(arg, ':'), *slash = strchr(arg, '/');

    if (colon != NULL && colon != arg && (slash == NULL || colon < slash)) {
        vstr_set(type, arg, (size_t)(colon - arg));
        vstr_set_str(name, colon + 1);
    } else {
        vstr_set_str(type, default_type);
        vstr_set_str(name, arg);
    }
}

static char *read_source(const char *path, struct stat *st, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    char *buf;
    size_t got = 0;

    if (fd < 0)
        msg_fatal("open %s: %s", path, strerror(errno));
    if (fstat(fd, st) < 0)
        msg_fatal("fstat %s: %s", path, strerror(errno));
    if (!S_ISREG(st->st_mode))
        msg_fatal("%s: not a regular file", path);
    if (st->st_size > POSTALIAS_SOURCE_MAX)
        msg_fatal("%s: larger than %lld bytes", path, POSTALIAS_SOURCE_MAX);
    buf = mem_alloc((size_t)st->st_size + 1);
    while (got < (size_t)st->st_size) {
        ssize_t n = read(fd, buf + got, (size_t)st->st_size - got);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            msg_fatal("read %s: %s", path, strerror(errno));
        if (n == 0)
            break; /* shrank while we read: take what is there */
        got += (size_t)n;
    }
    close(fd);
    buf[got] = 0;
    *len = got;
    return buf;
}

typedef struct build_state {
    dict *table;
    const char *source;
    long entries;
    int failed;
    vstr reason;
} build_state;

static void build_entry(void *ctx, const char *name, const char *value, long line)
{
    build_state *b = ctx;

    if (b->failed)
        return;
    switch (dict_update(b->table, name, value)) {
    case DICT_FOUND:
        b->entries++;
        break;
    case DICT_DUPLICATE: /* the parser reports duplicates; this is "@" */
        msg_warn("%s, line %ld: duplicate entry \"%s\" ignored", b->source, line, name);
        break;
    default:
        vstr_set_str(&b->reason, dict_error(b->table));
        b->failed = 1;
        break;
    }
}

static void build_warn(void *ctx, const char *text)
{
    (void)ctx;
    msg_warn("%s", text);
}

static void build(const char *type, const char *name)
{
    static const alias_parse_ops ops = {build_entry, build_warn};
    build_state b = {NULL, name, 0, 0, VSTR_INIT};
    vstr err = VSTR_INIT, spec = VSTR_INIT;
    struct stat st;
    size_t len;
    char *text = read_source(name, &st, &len);

    vstr_set_fmt(&spec, "%s:%s", type, name);
    b.table = dict_open(vstr_str(&spec), O_RDWR | O_CREAT | O_TRUNC, DICT_FLAG_NONE, &err);
    if (b.table == NULL)
        msg_fatal("%s", vstr_str(&err));
    if (alias_parse(text, len, name, &ops, &b, &err) < 0) {
        dict_discard(b.table);
        msg_fatal("%s; %s:%s not changed", vstr_str(&err), type, name);
    }
    if (!b.failed && dict_update(b.table, "@", "@") == DICT_ERROR) {
        vstr_set_str(&b.reason, dict_error(b.table));
        b.failed = 1;
    }
    if (b.failed) {
        dict_discard(b.table);
        msg_fatal("%s; %s:%s not changed", vstr_str(&b.reason), type, name);
    }
    if (dict_close(b.table, &err) < 0)
        msg_fatal("%s; %s:%s not changed", vstr_str(&err), type, name);
    if (geteuid() == 0 && st.st_uid != 0) {
        vstr db = VSTR_INIT;

        vstr_set_fmt(&db, "%s.db", name);
        if (chown(vstr_str(&db), st.st_uid, st.st_gid) < 0)
            msg_warn("chown %s: %s", vstr_str(&db), strerror(errno));
        vstr_release(&db);
    }
    if (msg_verbose_level() > 0)
        msg_info("%s:%s: %ld entries", type, name, b.entries);
    mem_free(text);
    vstr_release(&err);
    vstr_release(&spec);
    vstr_release(&b.reason);
}

static dict *open_for_reading(const char *type, const char *name)
{
    vstr err = VSTR_INIT, spec = VSTR_INIT;
    dict *d;

    vstr_set_fmt(&spec, "%s:%s", type, name);
    d = dict_open(vstr_str(&spec), O_RDONLY, DICT_FLAG_NONE, &err);
    if (d == NULL)
        msg_fatal_status(EXIT_TABLE_ERROR, "%s", vstr_str(&err));
    vstr_release(&err);
    vstr_release(&spec);
    return d;
}

/* Look key up in each table in turn: DICT_FOUND with the first value. */
static int query(dict **tables, int count, const char *key, vstr *value)
{
    for (int i = 0; i < count; i++) {
        int status = dict_lookup(tables[i], key, value);

        if (status == DICT_ERROR)
            msg_fatal_status(EXIT_TABLE_ERROR, "%s", dict_error(tables[i]));
        if (status == DICT_FOUND)
            return DICT_FOUND;
    }
    return DICT_NOTFOUND;
}

static int query_stdin(dict **tables, int count)
{
    vstr value = VSTR_INIT;
    char line[POSTALIAS_KEY_MAX + 2];
    int found = 0;

    while (fgets(line, sizeof(line), stdin) != NULL) {
        size_t len = strlen(line);

        if (len > 0 && line[len - 1] == '\n')
            line[--len] = 0;
        else if (!feof(stdin))
            msg_fatal("stdin: key longer than %d bytes", POSTALIAS_KEY_MAX);
        if (query(tables, count, line, &value) == DICT_FOUND) {
            printf("%s:\t%s\n", line, vstr_str(&value));
            found = 1;
        }
    }
    vstr_release(&value);
    return found;
}

static void dump(dict *d)
{
    vstr key = VSTR_INIT, value = VSTR_INIT;
    int status;

    for (status = dict_sequence(d, DICT_SEQ_FIRST, &key, &value); status == DICT_FOUND;
         status = dict_sequence(d, DICT_SEQ_NEXT, &key, &value))
        printf("%s:\t%s\n", vstr_str(&key), vstr_str(&value));
    if (status == DICT_ERROR)
        msg_fatal_status(EXIT_TABLE_ERROR, "%s", dict_error(d));
    vstr_release(&key);
    vstr_release(&value);
}

int main(int argc, char **argv)
{
    const char *config_dir = NULL, *query_key = NULL, *default_type = "hash";
    int opt, sequence = 0, verbose = 0, status = 0;
    vstr err = VSTR_INIT, type = VSTR_INIT, name = VSTR_INIT;
    config *cfg;
    dict **tables;
    int count;

    msg_init(argv[0]);
    umask(022);
    while ((opt = getopt(argc, argv, "c:q:sv")) != -1) {
        switch (opt) {
        case 'c':
            config_dir = optarg;
            break;
        case 'q':
            query_key = optarg;
            break;
        case 's':
            sequence = 1;
            break;
        case 'v':
            msg_set_verbose(++verbose);
            break;
        default:
            usage();
        }
    }
    if (optind >= argc || (query_key && sequence))
        usage();
    cfg = config_load(config_directory(config_dir), &err);
    if (cfg == NULL)
        msg_fatal("%s", vstr_str(&err));
    default_type = config_str(cfg, "default_database_type");

    count = argc - optind;
    if (query_key == NULL && !sequence) {
        for (int i = 0; i < count; i++) {
            table_spec(argv[optind + i], default_type, &type, &name);
            build(vstr_str(&type), vstr_str(&name));
        }
    } else {
        tables = mem_calloc((size_t)count, sizeof(dict *));
        for (int i = 0; i < count; i++) {
            table_spec(argv[optind + i], default_type, &type, &name);
            tables[i] = open_for_reading(vstr_str(&type), vstr_str(&name));
        }
        if (sequence) {
            for (int i = 0; i < count; i++)
                dump(tables[i]);
        } else if (strcmp(query_key, "-") == 0) {
            status = query_stdin(tables, count) ? 0 : EXIT_NOTFOUND;
        } else {
            vstr value = VSTR_INIT;

            if (query(tables, count, query_key, &value) == DICT_FOUND)
                printf("%s\n", vstr_str(&value));
            else
                status = EXIT_NOTFOUND;
            vstr_release(&value);
        }
        for (int i = 0; i < count; i++)
            dict_close(tables[i], NULL);
        mem_free(tables);
    }
    if (fflush(stdout) != 0 || ferror(stdout))
        msg_fatal("write to standard output: %s", strerror(errno));
    config_free(cfg);
    vstr_release(&err);
    vstr_release(&type);
    vstr_release(&name);
    return status;
}
