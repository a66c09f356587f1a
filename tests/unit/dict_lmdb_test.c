/* Unit tests for util/dict_lmdb: builds, atomic replacement, updates, NUL conventions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/unit/dict_file_test.h"
#include "util/dict.h"

static char dir[] = "/tmp/dict_lmdb_test.XXXXXX";
static char spec[128], file[128];

static dict *build(const char *const *pairs, int dict_flags)
{
    vstr err = VSTR_INIT;
    dict *d = dict_open(spec, O_RDWR | O_CREAT | O_TRUNC, dict_flags, &err);

    assert_non_null(d);
    for (; *pairs; pairs += 2)
        assert_int_equal(dict_update(d, pairs[0], pairs[1]), DICT_FOUND);
    vstr_release(&err);
    return d;
}

static dict *reopen(int open_flags, int dict_flags)
{
    vstr err = VSTR_INIT;
    dict *d = dict_open(spec, open_flags, dict_flags, &err);

    if (d == NULL)
        fail_msg("%s", vstr_str(&err));
    vstr_release(&err);
    return d;
}

static void test_build_lookup_sequence(void **state)
{
    static const char *const pairs[] = {"Postmaster", "root", "b", "Value Kept",
                                        "empty",      "",     NULL};
    vstr key = VSTR_INIT, value = VSTR_INIT;
    dict *d = build(pairs, DICT_FLAG_NONE);
    int n = 0;

    (void)state;
    assert_int_equal(dict_update(d, "POSTMASTER", "second"), DICT_DUPLICATE);
    assert_int_equal(access(file, F_OK), -1); /* not there before the commit */
    assert_int_equal(dict_close(d, NULL), 0);
    d = reopen(O_RDONLY, DICT_FLAG_NONE);
    expect(d, "postMASTER", DICT_FOUND, "root");
    expect(d, "b", DICT_FOUND, "Value Kept");
    expect(d, "empty", DICT_FOUND, "");
    expect(d, "nobody", DICT_NOTFOUND, NULL);
    for (int st = dict_sequence(d, DICT_SEQ_FIRST, &key, &value); st == DICT_FOUND;
         st = dict_sequence(d, DICT_SEQ_NEXT, &key, &value)) {
        if (n++ == 0) {
            assert_string_equal(vstr_str(&key), "b"); /* sorted, NUL stripped */
            assert_string_equal(vstr_str(&value), "Value Kept");
        }
    }
    assert_int_equal(n, 3);
    assert_int_equal(dict_update(d, "x", "y"), DICT_ERROR); /* read-only */
    assert_false(dict_changed(d));
    dict_close(d, NULL);
    vstr_release(&key);
    vstr_release(&value);
}

static void test_discarded_build_keeps_old_table(void **state)
{
    static const char *const old[] = {"k", "old", NULL};
    static const char *const new[] = {"k", "new", NULL};
    dict *reader, *d;

    (void)state;
    assert_int_equal(dict_close(build(old, DICT_FLAG_NONE), NULL), 0);
    reader = reopen(O_RDONLY, DICT_FLAG_NONE);
    dict_discard(build(new, DICT_FLAG_NONE));
    d = reopen(O_RDONLY, DICT_FLAG_NONE);
    expect(d, "k", DICT_FOUND, "old");
    dict_close(d, NULL);
    assert_int_equal(dict_close(build(new, DICT_FLAG_NONE), NULL), 0);
    /* The open reader keeps its table; a new open sees the new one. */
    expect(reader, "k", DICT_FOUND, "old");
    assert_true(dict_changed(reader));
    dict_close(reader, NULL);
    d = reopen(O_RDONLY, DICT_FLAG_NONE);
    expect(d, "k", DICT_FOUND, "new");
    dict_close(d, NULL);
}

static void test_update_replace_remove_in_place(void **state)
{
    static const char *const pairs[] = {"a", "1", NULL};
    vstr big = VSTR_INIT;
    dict *d;

    (void)state;
    assert_int_equal(dict_close(build(pairs, DICT_FLAG_NONE), NULL), 0);
    d = reopen(O_RDWR, DICT_FLAG_NONE);
    assert_int_equal(dict_update(d, "a", "2"), DICT_DUPLICATE);
    assert_int_equal(dict_update(d, "b", "3"), DICT_FOUND);
    assert_int_equal(dict_remove(d, "A"), DICT_FOUND);
    assert_int_equal(dict_remove(d, "a"), DICT_NOTFOUND);
    /* Values larger than a page go to overflow pages. */
    for (int i = 0; i < 100000; i++)
        vstr_append_char(&big, 'x');
    assert_int_equal(dict_update(d, "big", vstr_str(&big)), DICT_FOUND);
    assert_int_equal(dict_close(d, NULL), 0);
    d = reopen(O_RDWR, DICT_FLAG_DUP_REPLACE);
    assert_int_equal(dict_update(d, "b", "4"), DICT_FOUND);
    expect(d, "b", DICT_FOUND, "4");
    expect(d, "a", DICT_NOTFOUND, NULL);
    expect(d, "big", DICT_FOUND, vstr_str(&big));
    assert_int_equal(dict_close(d, NULL), 0);
    vstr_release(&big);
}

/* A table made in place starts with LMDB's small default map (10 MiB);
 * updates beyond it grow the map instead of failing. */
static void test_in_place_updates_grow_the_map(void **state)
{
    vstr big = VSTR_INIT, key = VSTR_INIT;
    dict *d;

    (void)state;
    assert_int_equal(unlink(file), 0);
    d = reopen(O_RDWR | O_CREAT, DICT_FLAG_NONE);
    for (int i = 0; i < 100000; i++)
        vstr_append_char(&big, 'v');
    for (int i = 0; i < 300; i++) {
        vstr_set_fmt(&key, "key%d", i);
        assert_int_equal(dict_update(d, vstr_str(&key), vstr_str(&big)), DICT_FOUND);
    }
    assert_int_equal(dict_close(d, NULL), 0);
    d = reopen(O_RDONLY, DICT_FLAG_NONE);
    expect(d, "key299", DICT_FOUND, vstr_str(&big));
    dict_close(d, NULL);
    vstr_release(&big);
    vstr_release(&key);
}

static void test_keys_without_nul(void **state)
{
    static const char *const pairs[] = {"k", "v", NULL};
    dict *d;

    (void)state;
    assert_int_equal(dict_close(build(pairs, DICT_FLAG_TRY0NULL), NULL), 0);
    d = reopen(O_RDONLY, DICT_FLAG_TRY1NULL);
    expect(d, "k", DICT_NOTFOUND, NULL);
    dict_close(d, NULL);
    d = reopen(O_RDONLY, DICT_FLAG_NONE);
    expect(d, "k", DICT_FOUND, "v");
    dict_close(d, NULL);
}

static void test_open_errors(void **state)
{
    vstr err = VSTR_INIT;

    (void)state;
    assert_null(dict_open("lmdb:/nonexistent/dir/t", O_RDONLY, DICT_FLAG_NONE, &err));
    assert_non_null(strstr(vstr_str(&err), "/nonexistent/dir/t.lmdb"));
    assert_null(dict_open("lmdb:", O_RDONLY, DICT_FLAG_NONE, &err));
    vstr_release(&err);
}

static int setup(void **state)
{
    (void)state;
    if (mkdtemp(dir) == NULL)
        return -1;
    snprintf(spec, sizeof(spec), "lmdb:%s/t", dir);
    snprintf(file, sizeof(file), "%s/t.lmdb", dir);
    return 0;
}

static int teardown(void **state)
{
    char cmd[160];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_build_lookup_sequence),
        cmocka_unit_test(test_discarded_build_keeps_old_table),
        cmocka_unit_test(test_update_replace_remove_in_place),
        cmocka_unit_test(test_in_place_updates_grow_the_map),
        cmocka_unit_test(test_keys_without_nul),
        cmocka_unit_test(test_open_errors),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
