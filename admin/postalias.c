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

#include "admin/table_cmd.h"
#include "global/alias_parse.h"
#include "global/config.h"
#include "util/dict.h"
#include "util/dict_source.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/vstr.h"

static void usage(void)
{
    msg_fatal("usage: postalias [-sv] [-c config_dir] [-q key] [type:]file ...");
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
    vstr err = VSTR_INIT;
    dict_source src;

    if (dict_source_load(&src, name, &err) < 0)
        msg_fatal("%s", vstr_str(&err));
    b.table = table_cmd_build_begin(type, name, DICT_FLAG_NONE);
    if (alias_parse(vstr_str(&src.text), vstr_len(&src.text), name, &ops, &b, &err) < 0)
        table_cmd_build_end(b.table, vstr_str(&err), type, name, NULL);
    if (!b.failed && dict_update(b.table, "@", "@") == DICT_ERROR) {
        vstr_set_str(&b.reason, dict_error(b.table));
        b.failed = 1;
    }
    table_cmd_build_end(b.table, b.failed ? vstr_str(&b.reason) : NULL, type, name, &src.st);
    if (msg_verbose_level() > 0)
        msg_info("%s:%s: %ld entries", type, name, b.entries);
    dict_source_free(&src);
    vstr_release(&err);
    vstr_release(&b.reason);
}

int main(int argc, char **argv)
{
    const char *config_dir = NULL, *query_key = NULL, *default_type;
    int opt, sequence = 0, verbose = 0, status = 0;
    vstr type = VSTR_INIT, name = VSTR_INIT;
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
    cfg = table_cmd_config(config_dir, &default_type);

    count = argc - optind;
    if (query_key == NULL && !sequence) {
        for (int i = 0; i < count; i++) {
            table_cmd_spec(argv[optind + i], default_type, &type, &name);
            build(vstr_str(&type), vstr_str(&name));
        }
    } else {
        tables = table_cmd_open_all(count, argv + optind, default_type, O_RDONLY, DICT_FLAG_NONE);
        if (sequence) {
            for (int i = 0; i < count; i++)
                table_cmd_dump(tables[i], ":\t");
        } else if (strcmp(query_key, "-") == 0) {
            status = table_cmd_query_stdin(tables, count, ":\t") ? 0 : TABLE_CMD_EXIT_NOTFOUND;
        } else {
            vstr value = VSTR_INIT;

            if (table_cmd_query(tables, count, query_key, &value) == DICT_FOUND)
                printf("%s\n", vstr_str(&value));
            else
                status = TABLE_CMD_EXIT_NOTFOUND;
            vstr_release(&value);
        }
        table_cmd_close_all(tables, count);
    }
    table_cmd_flush();
    config_free(cfg);
    vstr_release(&type);
    vstr_release(&name);
    return status;
}
