/*
 * table_cmd - what postmap and postalias share: naming, building, querying and dumping tables
 *
 * Both commands are thin: parse options, then call these. Keeping the
 * build protocol (bulk open, discard on any failure, commit, chown) in
 * one place means the two cannot drift apart on what "the old table
 * stays usable" means.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "admin/table_cmd.h"
#include "util/mem.h"
#include "util/msg.h"

config *table_cmd_config(const char *config_dir, const char **default_type)
{
    vstr err = VSTR_INIT;
    config *cfg = config_load(config_directory(config_dir), &err);

    if (cfg == NULL)
        msg_fatal("%s", vstr_str(&err));
    *default_type = config_str(cfg, "default_database_type");
    vstr_release(&err);
    return cfg;
}

void table_cmd_spec(const char *arg, const char *default_type, vstr *type, vstr *name)
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

dict *table_cmd_build_begin(const char *type, const char *name, int dict_flags)
{
    vstr err = VSTR_INIT;
    dict *d = dict_open3(type, name, O_RDWR | O_CREAT | O_TRUNC, dict_flags, &err);

    if (d == NULL)
        msg_fatal("%s", vstr_str(&err));
    vstr_release(&err);
    return d;
}

void table_cmd_build_end(dict *d, const char *failed, const char *type, const char *name,
                         const struct stat *st)
{
    vstr err = VSTR_INIT;
    char *file;

    if (failed != NULL) {
        dict_discard(d);
        msg_fatal("%s; %s:%s not changed", failed, type, name);
    }
    file = d->file ? mem_strdup(d->file) : NULL;
    if (dict_close(d, &err) < 0)
        msg_fatal("%s; %s:%s not changed", vstr_str(&err), type, name);
    if (file != NULL && st != NULL && geteuid() == 0 && st->st_uid != 0 &&
        chown(file, st->st_uid, st->st_gid) < 0)
        msg_warn("chown %s: %s", file, strerror(errno));
    mem_free(file);
    vstr_release(&err);
}

dict **table_cmd_open_all(int count, char **args, const char *default_type, int open_flags,
                          int dict_flags)
{
    vstr err = VSTR_INIT, type = VSTR_INIT, name = VSTR_INIT;
    dict **tables = mem_calloc((size_t)count, sizeof(dict *));

    for (int i = 0; i < count; i++) {
        table_cmd_spec(args[i], default_type, &type, &name);
        tables[i] = dict_open3(vstr_str(&type), vstr_str(&name), open_flags, dict_flags, &err);
        if (tables[i] == NULL)
            msg_fatal_status(TABLE_CMD_EXIT_ERROR, "%s", vstr_str(&err));
    }
    vstr_release(&err);
    vstr_release(&type);
    vstr_release(&name);
    return tables;
}

void table_cmd_close_all(dict **tables, int count)
{
    vstr err = VSTR_INIT;

    for (int i = 0; i < count; i++)
        if (dict_close(tables[i], &err) < 0)
            msg_fatal_status(TABLE_CMD_EXIT_ERROR, "%s", vstr_str(&err));
    mem_free(tables);
    vstr_release(&err);
}

int table_cmd_query(dict **tables, int count, const char *key, vstr *value)
{
    for (int i = 0; i < count; i++) {
        int status = dict_lookup(tables[i], key, value);

        if (status == DICT_ERROR)
            msg_fatal_status(TABLE_CMD_EXIT_ERROR, "%s", dict_error(tables[i]));
        if (status == DICT_FOUND)
            return DICT_FOUND;
    }
    return DICT_NOTFOUND;
}

/* A line at a time (fgets), not a byte at a time: with -q - reading took
 * a third of a lookup's instructions. */
int table_cmd_read_key(vstr *key)
{
    char buf[TABLE_CMD_KEY_MAX + 2]; /* the longest key, '\n' and NUL */
    size_t len;

    vstr_reset(key);
    if (fgets(buf, sizeof(buf), stdin) == NULL) {
        if (ferror(stdin))
            msg_fatal("read standard input: %s", strerror(errno));
        return 0;
    }
    len = strlen(buf);
    if (len > 0 && buf[len - 1] == '\n')
        len--;
    else if (len > TABLE_CMD_KEY_MAX)
        msg_fatal("stdin: key longer than %d bytes", TABLE_CMD_KEY_MAX);
    vstr_set(key, buf, len);
    return 1;
}

/* "key SEP value\n" on standard output. */
static void table_cmd_print(const char *key, const char *sep, const char *value)
{
    fputs(key, stdout);
    fputs(sep, stdout);
    fputs(value, stdout);
    putchar('\n');
}

int table_cmd_query_stdin(dict **tables, int count, const char *sep)
{
    vstr key = VSTR_INIT, value = VSTR_INIT;
    int found = 0;

    while (table_cmd_read_key(&key)) {
        if (table_cmd_query(tables, count, vstr_str(&key), &value) == DICT_FOUND) {
            table_cmd_print(vstr_str(&key), sep, vstr_str(&value));
            found = 1;
        }
    }
    vstr_release(&key);
    vstr_release(&value);
    return found;
}

void table_cmd_dump(dict *d, const char *sep)
{
    vstr key = VSTR_INIT, value = VSTR_INIT;
    int status;

    for (status = dict_sequence(d, DICT_SEQ_FIRST, &key, &value); status == DICT_FOUND;
         status = dict_sequence(d, DICT_SEQ_NEXT, &key, &value))
        table_cmd_print(vstr_str(&key), sep, vstr_str(&value));
    if (status == DICT_ERROR)
        msg_fatal_status(TABLE_CMD_EXIT_ERROR, "%s", dict_error(d));
    vstr_release(&key);
    vstr_release(&value);
}

void table_cmd_flush(void)
{
    if (fflush(stdout) != 0 || ferror(stdout))
        msg_fatal("write to standard output: %s", strerror(errno));
}
