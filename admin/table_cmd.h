/*
 * table_cmd - what postmap and postalias share: naming, building, querying and dumping tables
 *
 * SYNOPSIS
 *   table_cmd_spec("/etc/postern/virtual", "hash", &type, &name);
 *   dict *d = table_cmd_build_begin(type, name, dict_flags);
 *   ... dict_update(d, ...) ...
 *   table_cmd_build_end(d, NULL, type, name, &source_stat);
 *
 *   dict **tables = table_cmd_open_all(argc, argv, default_type, O_RDONLY, flags);
 *   status = table_cmd_query(tables, count, key, &value);
 *   found = table_cmd_query_stdin(tables, count, "\t");
 *   table_cmd_dump(tables[0], "\t");
 *
 * DESCRIPTION
 *   A table argument is "type:name", or a bare name that takes the
 *   default type (default_database_type): a colon only counts before the
 *   first '/', so "/etc/x:y" is a file. A build writes a new table
 *   beside the old one (util/dict's bulk mode) and replaces it only at
 *   table_cmd_build_end(); a failure leaves the old table as it was.
 *   Run as root, the new table gets the owner and group of its source.
 *
 * DIAGNOSTICS
 *   Every failure is fatal with the reason on stderr. A table that cannot
 *   be opened or read exits TABLE_CMD_EXIT_ERROR, so that "not found"
 *   (exit 1) is never confused with "could not look".
 */
#ifndef ADMIN_TABLE_CMD_H
#define ADMIN_TABLE_CMD_H

#include <sys/stat.h>

#include "global/config.h"
#include "util/dict.h"
#include "util/vstr.h"

#define TABLE_CMD_EXIT_NOTFOUND 1
#define TABLE_CMD_EXIT_ERROR 2
/* Longest key read from standard input by query and delete. */
#define TABLE_CMD_KEY_MAX 4096

/* Load main.cf from config_dir (NULL: MAIL_CONFIG or the default; fatal
 * on error); *default_type is its default_database_type. */
config *table_cmd_config(const char *config_dir, const char **default_type);
/* Split a table argument into type and name. */
void table_cmd_spec(const char *arg, const char *default_type, vstr *type, vstr *name);
/* Open a new table of type:name for a build (fatal on failure). */
dict *table_cmd_build_begin(const char *type, const char *name, int dict_flags);
/* Finish a build: with failed NULL, commit it and give it the owner of the
 * source (st, may be NULL); otherwise discard it and exit with failed as
 * the reason. Either way the old table stays intact until the commit. */
void table_cmd_build_end(dict *d, const char *failed, const char *type, const char *name,
                         const struct stat *st);
/* Open every table argument (fatal, TABLE_CMD_EXIT_ERROR, on failure). */
dict **table_cmd_open_all(int count, char **args, const char *default_type, int open_flags,
                          int dict_flags);
/* Close what table_cmd_open_all opened; fatal when a close fails. */
void table_cmd_close_all(dict **tables, int count);
/* Look key up in each table in turn: DICT_FOUND with the first value, or
 * DICT_NOTFOUND; an error is fatal. */
int table_cmd_query(dict **tables, int count, const char *key, vstr *value);
/* Keys on standard input, one a line; "key<sep>value" out for each one
 * found. Returns 1 when any was found. */
int table_cmd_query_stdin(dict **tables, int count, const char *sep);
/* Print every "key<sep>value" of d. */
void table_cmd_dump(dict *d, const char *sep);
/* Flush standard output; fatal when what was printed did not get out. */
void table_cmd_flush(void);
/* Read one key a line from standard input into key: 1, or 0 at the end. */
int table_cmd_read_key(vstr *key);

#endif
