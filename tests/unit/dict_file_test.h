/*
 * Helpers for the unit tests of table types read from a file (pcre:,
 * regexp:, cidr:, texthash:): write the text as the table's file, open
 * it, check lookups and open errors. Included by one test file each, so
 * everything is static (inline: a test need not use every helper).
 */
#ifndef TESTS_UNIT_DICT_FILE_TEST_H
#define TESTS_UNIT_DICT_FILE_TEST_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/dict.h"

static char table_path[] = "/tmp/dict_file_test.XXXXXX";

/* Write text as the table file and open type:FILE; NULL with err set. */
static inline dict *open_table(const char *type, const char *text, vstr *err)
{
    vstr spec = VSTR_INIT;
    FILE *fp = fopen(table_path, "w");
    dict *d;

    assert_non_null(fp);
    fputs(text, fp);
    assert_int_equal(fclose(fp), 0);
    vstr_set_fmt(&spec, "%s:%s", type, table_path);
    d = dict_open(vstr_str(&spec), O_RDONLY, DICT_FLAG_NONE, err);
    vstr_release(&spec);
    return d;
}

static inline void expect(dict *d, const char *key, int status, const char *value)
{
    vstr v = VSTR_INIT;

    assert_int_equal(dict_lookup(d, key, &v), status);
    if (value != NULL)
        assert_string_equal(vstr_str(&v), value);
    vstr_release(&v);
}

/* The open fails, and the reason names the file, the line and reason. */
static inline void expect_error(const char *type, const char *text, int line, const char *reason)
{
    vstr err = VSTR_INIT, where = VSTR_INIT;

    assert_null(open_table(type, text, &err));
    vstr_set_fmt(&where, "%s, line %d: ", table_path, line);
    if (strstr(vstr_str(&err), vstr_str(&where)) == NULL || strstr(vstr_str(&err), reason) == NULL)
        fail_msg("error \"%s\" lacks \"%s\" or \"%s\"", vstr_str(&err), vstr_str(&where), reason);
    vstr_release(&err);
    vstr_release(&where);
}

static inline int make_table_file(void **state)
{
    int fd = mkstemp(table_path);

    (void)state;
    return fd < 0 ? -1 : close(fd);
}

static inline int remove_table_file(void **state)
{
    (void)state;
    return unlink(table_path);
}

#endif
