/*
 * postmap - build, query and change lookup tables
 *
 * SYNOPSIS
 *   postmap [-Nfnrvw] [-c DIR] [type:]file ...            build file.db (etc.) from file
 *   postmap [-Nfnv] [-c DIR] -q key [type:]name ...       print key's value
 *   postmap [-Nfnv] [-c DIR] -q - [type:]name ...         keys on stdin, "key\tvalue" out
 *   postmap [-Nfnv] [-c DIR] -s [type:]name ...           print every "key\tvalue"
 *   postmap [-Nfnv] [-c DIR] -d key [type:]name ...       delete key ("-": keys on stdin)
 *   postmap [-Nfnrvw] [-c DIR] -i [type:]name ...         add "key value" lines from stdin
 *
 * DESCRIPTION
 *   A build reads "key value" lines (util/dict_source: continuation lines
 *   start with white space, '#' starts a comment line) and writes a new
 *   table that replaces the old one only once it is complete, so a
 *   server never reads a half-built table and a failed build leaves the
 *   old one as it was. A line without a value and a duplicate key are
 *   warned about with file and line; the first value of a key stays
 *   (-r: the last; -w: no warning). Keys of indexed tables (hash,
 *   btree, lmdb) are folded to lower case unless -f.
 *
 *   -q, -s and -d work on any table type the lookup layer knows (pcre:,
 *   cidr:, texthash:, ... for -q); -q and -d search every table named,
 *   -q stopping at the first that has the key. -N and -n write (and
 *   look up) keys and values with and without a trailing NUL byte; the
 *   default writes the NUL, as Debian's Postfix does, and reads both.
 *
 *   The type defaults to default_database_type from main.cf (hash).
 *   Run as root, a built table gets the owner and group of its source.
 *
 * DIAGNOSTICS
 *   -q and -d exit 0 when a key was found, 1 when none was, 2 when a
 *   table could not be opened or read (a syntax error in a pcre: file,
 *   named with its line). Every other error exits 1 with the reason on
 *   stderr; a build that fails leaves the old table unchanged.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admin/table_cmd.h"
#include "global/config.h"
#include "util/dict.h"
#include "util/dict_source.h"
#include "util/msg.h"
#include "util/vstr.h"

enum { MODE_BUILD, MODE_QUERY, MODE_DUMP, MODE_DELETE, MODE_INCREMENTAL };

static void usage(void)
{
    msg_fatal("usage: postmap [-Nfinrsvw] [-c config_dir] [-q key] [-d key] [type:]file ...");
}

/* Store the "key value" lines of src in d; the reason on failure. */
static const char *fill(dict_source *src, dict *d, int quiet, vstr *why)
{
    long entries;

    if (dict_source_fill(src, d, quiet ? DICT_SOURCE_QUIET : 0, &entries, why) < 0)
        return vstr_str(why);
    if (msg_verbose_level() > 0)
        msg_info("%s:%s: %ld entries", d->type, d->name, entries);
    return NULL;
}

static void build(const char *type, const char *name, int dict_flags, int quiet)
{
    vstr why = VSTR_INIT;
    dict_source src;
    dict *d;

    if (dict_source_load(&src, name, &why) < 0)
        msg_fatal("%s", vstr_str(&why));
    d = table_cmd_build_begin(type, name, dict_flags);
    table_cmd_build_end(d, fill(&src, d, quiet, &why), type, name, &src.st);
    dict_source_free(&src);
    vstr_release(&why);
}

/* Add standard input's lines to a table in place (-i). */
static void incremental(dict *d, int quiet)
{
    vstr why = VSTR_INIT;
    dict_source src;
    const char *failed;

    if (dict_source_load_fd(&src, "stdin", 0, &why) < 0)
        msg_fatal("%s", vstr_str(&why));
    if ((failed = fill(&src, d, quiet, &why)) != NULL)
        msg_fatal("%s", failed);
    dict_source_free(&src);
    vstr_release(&why);
}

/* Remove key from every table: 1 when any had it. */
static int delete_key(dict **tables, int count, const char *key)
{
    int found = 0;

    for (int i = 0; i < count; i++) {
        switch (dict_remove(tables[i], key)) {
        case DICT_FOUND:
            found = 1;
            break;
        case DICT_NOTFOUND:
            break;
        default:
            msg_fatal_status(TABLE_CMD_EXIT_ERROR, "%s", dict_error(tables[i]));
        }
    }
    return found;
}

static int query_one(dict **tables, int count, const char *key)
{
    vstr value = VSTR_INIT;
    int found = table_cmd_query(tables, count, key, &value) == DICT_FOUND;

    if (found)
        printf("%s\n", vstr_str(&value));
    vstr_release(&value);
    return found;
}

static int delete_keys(dict **tables, int count, const char *key)
{
    vstr line = VSTR_INIT;
    int found = 0;

    if (strcmp(key, "-") != 0)
        return delete_key(tables, count, key);
    while (table_cmd_read_key(&line))
        found |= delete_key(tables, count, vstr_str(&line));
    vstr_release(&line);
    return found;
}

int main(int argc, char **argv)
{
    const char *config_dir = NULL, *key = NULL, *default_type;
    int opt, mode = MODE_BUILD, verbose = 0, status = 0, quiet = 0, no_fold = 0;
    int dict_flags = DICT_FLAG_NONE, found = 0, count;
    vstr type = VSTR_INIT, name = VSTR_INIT;
    config *cfg;
    dict **tables;

    msg_init(argv[0]);
    umask(022);
    while ((opt = getopt(argc, argv, "Nc:d:finq:rsvw")) != -1) {
        int new_mode = -1;

        switch (opt) {
        case 'N':
            dict_flags = (dict_flags & ~DICT_FLAG_TRY0NULL) | DICT_FLAG_TRY1NULL;
            break;
        case 'n':
            dict_flags = (dict_flags & ~DICT_FLAG_TRY1NULL) | DICT_FLAG_TRY0NULL;
            break;
        case 'c':
            config_dir = optarg;
            break;
        case 'd':
            new_mode = MODE_DELETE;
            key = optarg;
            break;
        case 'f':
            no_fold = 1;
            break;
        case 'i':
            new_mode = MODE_INCREMENTAL;
            break;
        case 'q':
            new_mode = MODE_QUERY;
            key = optarg;
            break;
        case 'r':
            dict_flags |= DICT_FLAG_DUP_REPLACE;
            break;
        case 's':
            new_mode = MODE_DUMP;
            break;
        case 'v':
            msg_set_verbose(++verbose);
            break;
        case 'w':
            quiet = 1;
            break;
        default:
            usage();
        }
        if (new_mode >= 0) {
            if (mode != MODE_BUILD && mode != new_mode)
                usage();
            mode = new_mode;
        }
    }
    if (optind >= argc)
        usage();
    cfg = table_cmd_config(config_dir, &default_type);
    count = argc - optind;
    if (mode == MODE_INCREMENTAL && count != 1)
        msg_fatal("-i takes one table");

    if (mode == MODE_BUILD) {
        if (no_fold)
            msg_fatal("-f applies to queries only: a built table's keys are always folded");
        for (int i = 0; i < count; i++) {
            table_cmd_spec(argv[optind + i], default_type, &type, &name);
            build(vstr_str(&type), vstr_str(&name), dict_flags, quiet);
        }
    } else {
        int open_flags = (mode == MODE_DELETE || mode == MODE_INCREMENTAL) ? O_RDWR : O_RDONLY;

        if (mode == MODE_INCREMENTAL)
            open_flags |= O_CREAT;
        tables = table_cmd_open_all(count, argv + optind, default_type, open_flags, dict_flags);
        if (no_fold)
            for (int i = 0; i < count; i++)
                tables[i]->flags &= ~DICT_FLAG_FOLD_KEY;
        switch (mode) {
        case MODE_QUERY:
            if (strcmp(key, "-") == 0)
                found = table_cmd_query_stdin(tables, count, "\t");
            else
                found = query_one(tables, count, key);
            status = found ? 0 : TABLE_CMD_EXIT_NOTFOUND;
            break;
        case MODE_DELETE:
            status = delete_keys(tables, count, key) ? 0 : TABLE_CMD_EXIT_NOTFOUND;
            break;
        case MODE_DUMP:
            for (int i = 0; i < count; i++)
                table_cmd_dump(tables[i], "\t");
            break;
        case MODE_INCREMENTAL:
            incremental(tables[0], quiet);
            break;
        }
        table_cmd_close_all(tables, count);
    }
    table_cmd_flush();
    config_free(cfg);
    vstr_release(&type);
    vstr_release(&name);
    return status;
}
