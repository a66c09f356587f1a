/* Unit tests for util/dict: hash/btree round trips, static, inline, fail, errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <db.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/dict.h"
#include "util/mem.h"

static char tmpdir[64];

static int make_tmpdir(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/dict_test.XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmpdir(void **state)
{
    char cmd[128];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static char *tmp_name(const char *base)
{
    char *path = mem_alloc(strlen(tmpdir) + strlen(base) + 2);

    sprintf(path, "%s/%s", tmpdir, base);
    return path;
}

static void build(const char *spec, const char *const *pairs)
{
    vstr err = VSTR_INIT;
    dict *d = dict_open(spec, O_RDWR | O_CREAT | O_TRUNC, DICT_FLAG_NONE, &err);

    assert_non_null(d);
    for (; *pairs; pairs += 2)
        assert_int_equal(dict_update(d, pairs[0], pairs[1]), DICT_FOUND);
    assert_int_equal(dict_close(d, &err), 0);
    vstr_release(&err);
}

static void round_trip(const char *type)
{
    static const char *const pairs[] = {"postmaster", "root",           "Mixed.Case",
                                        "Value Kept", "empty",          "",
                                        "list",       "a, b, \"|cmd\"", NULL};
    char *name = tmp_name(type), *spec = mem_alloc(strlen(name) + 16);
    vstr err = VSTR_INIT, value = VSTR_INIT;
    dict *d;

    sprintf(spec, "%s:%s", type, name);
    build(spec, pairs);
    d = dict_open(spec, O_RDONLY, DICT_FLAG_NONE, &err);
    assert_non_null(d);
    assert_int_equal(dict_lookup(d, "postmaster", &value), DICT_FOUND);
    assert_string_equal(vstr_str(&value), "root");
    assert_int_equal(dict_lookup(d, "MIXED.case", &value), DICT_FOUND);
    assert_string_equal(vstr_str(&value), "Value Kept");
    assert_int_equal(dict_lookup(d, "empty", &value), DICT_FOUND);
    assert_string_equal(vstr_str(&value), "");
    assert_int_equal(dict_lookup(d, "list", &value), DICT_FOUND);
    assert_string_equal(vstr_str(&value), "a, b, \"|cmd\"");
    assert_int_equal(dict_lookup(d, "nobody", &value), DICT_NOTFOUND);
    assert_false(dict_changed(d));
    assert_int_equal(dict_close(d, NULL), 0);
    vstr_release(&err);
    vstr_release(&value);
    mem_free(spec);
    mem_free(name);
}

static void hash_build_and_lookup_round_trip(void **state)
{
    (void)state;
    round_trip("hash");
}

static void btree_build_and_lookup_round_trip(void **state)
{
    (void)state;
    round_trip("btree");
}

/* The file holds keys and values with a trailing NUL, as Postfix's do. */
static void db_file_keys_carry_trailing_nul(void **state)
{
    static const char *const pairs[] = {"Key", "value", NULL};
    char *name = tmp_name("nul"), *path = tmp_name("nul.db"), spec[128];
    DB *db;
    DBT k, v;

    (void)state;
    snprintf(spec, sizeof(spec), "hash:%s", name);
    build(spec, pairs);
    assert_int_equal(db_create(&db, NULL, 0), 0);
    assert_int_equal(db->open(db, NULL, path, NULL, DB_HASH, DB_RDONLY, 0), 0);
    memset(&k, 0, sizeof(k));
    memset(&v, 0, sizeof(v));
    k.data = "key";
    k.size = 4;
    assert_int_equal(db->get(db, NULL, &k, &v, 0), 0);
    assert_int_equal(v.size, 6);
    assert_memory_equal(v.data, "value", 6);
    db->close(db, 0);
    mem_free(name);
    mem_free(path);
}

/* A file written by someone else without NULs still answers. */
static void db_file_without_nul_is_read(void **state)
{
    char *name = tmp_name("nonul"), *path = tmp_name("nonul.db"), spec[128];
    vstr err = VSTR_INIT, value = VSTR_INIT;
    DB *db;
    DBT k, v;
    dict *d;

    (void)state;
    assert_int_equal(db_create(&db, NULL, 0), 0);
    assert_int_equal(db->open(db, NULL, path, NULL, DB_HASH, DB_CREATE, 0644), 0);
    memset(&k, 0, sizeof(k));
    memset(&v, 0, sizeof(v));
    k.data = "alias";
    k.size = 5;
    v.data = "target";
    v.size = 6;
    assert_int_equal(db->put(db, NULL, &k, &v, 0), 0);
    db->close(db, 0);
    snprintf(spec, sizeof(spec), "hash:%s", name);
    d = dict_open(spec, O_RDONLY, DICT_FLAG_NONE, &err);
    assert_non_null(d);
    assert_int_equal(dict_lookup(d, "ALIAS", &value), DICT_FOUND);
    assert_string_equal(vstr_str(&value), "target");
    assert_int_equal(dict_lookup(d, "other", &value), DICT_NOTFOUND);
    dict_close(d, NULL);
    vstr_release(&err);
    vstr_release(&value);
    mem_free(name);
    mem_free(path);
}

static void duplicate_key_keeps_first_value(void **state)
{
    char *name = tmp_name("dup"), spec[128];
    vstr err = VSTR_INIT, value = VSTR_INIT;
    dict *d;

    (void)state;
    snprintf(spec, sizeof(spec), "hash:%s", name);
    d = dict_open(spec, O_RDWR | O_CREAT | O_TRUNC, DICT_FLAG_NONE, &err);
    assert_non_null(d);
    assert_int_equal(dict_update(d, "a", "first"), DICT_FOUND);
    assert_int_equal(dict_update(d, "A", "second"), DICT_DUPLICATE);
    assert_int_equal(dict_lookup(d, "a", &value), DICT_FOUND);
    assert_string_equal(vstr_str(&value), "first");
    assert_int_equal(dict_close(d, &err), 0);
    vstr_release(&err);
    vstr_release(&value);
    mem_free(name);
}

static void sequence_visits_every_entry(void **state)
{
    static const char *const pairs[] = {"one", "1", "two", "2", "three", "3", NULL};
    char *name = tmp_name("seq"), spec[128];
    vstr err = VSTR_INIT, key = VSTR_INIT, value = VSTR_INIT;
    int seen = 0, status;
    dict *d;

    (void)state;
    snprintf(spec, sizeof(spec), "btree:%s", name);
    build(spec, pairs);
    d = dict_open(spec, O_RDONLY, DICT_FLAG_NONE, &err);
    assert_non_null(d);
    for (status = dict_sequence(d, DICT_SEQ_FIRST, &key, &value); status == DICT_FOUND;
         status = dict_sequence(d, DICT_SEQ_NEXT, &key, &value)) {
        if (vstr_equals(&key, "one"))
            assert_string_equal(vstr_str(&value), "1"), seen |= 1;
        else if (vstr_equals(&key, "two"))
            assert_string_equal(vstr_str(&value), "2"), seen |= 2;
        else if (vstr_equals(&key, "three"))
            assert_string_equal(vstr_str(&value), "3"), seen |= 4;
        else
            fail_msg("unexpected key %s", vstr_str(&key));
    }
    assert_int_equal(status, DICT_NOTFOUND);
    assert_int_equal(seen, 7);
    dict_close(d, NULL);
    vstr_release(&err);
    vstr_release(&key);
    vstr_release(&value);
    mem_free(name);
}

static void missing_file_is_an_error_not_notfound(void **state)
{
    char *name = tmp_name("missing"), spec[128];
    vstr err = VSTR_INIT, value = VSTR_INIT;
    dict *d;

    (void)state;
    snprintf(spec, sizeof(spec), "hash:%s", name);
    d = dict_open(spec, O_RDONLY, DICT_FLAG_NONE, &err);
    assert_null(d);
    assert_non_null(strstr(vstr_str(&err), "missing.db"));
    assert_non_null(strstr(vstr_str(&err), "No such file"));
    /* What a daemon uses instead: every lookup is an error with the reason. */
    d = dict_surrogate(spec, vstr_str(&err));
    assert_int_equal(dict_lookup(d, "anything", &value), DICT_ERROR);
    assert_non_null(strstr(dict_error(d), "No such file"));
    dict_close(d, NULL);
    vstr_release(&err);
    vstr_release(&value);
    mem_free(name);
}

static void unreadable_garbage_file_is_an_error(void **state)
{
    char *name = tmp_name("garbage"), *path = tmp_name("garbage.db"), spec[128];
    vstr err = VSTR_INIT;
    FILE *fp = fopen(path, "w");

    (void)state;
    assert_non_null(fp);
    for (int i = 0; i < 1000; i++)
        fputs("this is not a database\n", fp);
    fclose(fp);
    snprintf(spec, sizeof(spec), "hash:%s", name);
    assert_null(dict_open(spec, O_RDONLY, DICT_FLAG_NONE, &err));
    assert_true(vstr_len(&err) > 0);
    vstr_release(&err);
    mem_free(name);
    mem_free(path);
}

static void discarded_build_leaves_old_table(void **state)
{
    static const char *const pairs[] = {"k", "old", NULL};
    char *name = tmp_name("keep"), spec[128];
    vstr err = VSTR_INIT, value = VSTR_INIT;
    dict *d;

    (void)state;
    snprintf(spec, sizeof(spec), "hash:%s", name);
    build(spec, pairs);
    d = dict_open(spec, O_RDWR | O_CREAT | O_TRUNC, DICT_FLAG_NONE, &err);
    assert_non_null(d);
    dict_update(d, "k", "new");
    dict_discard(d);
    d = dict_open(spec, O_RDONLY, DICT_FLAG_NONE, &err);
    assert_non_null(d);
    assert_int_equal(dict_lookup(d, "k", &value), DICT_FOUND);
    assert_string_equal(vstr_str(&value), "old");
    dict_close(d, NULL);
    vstr_release(&err);
    vstr_release(&value);
    mem_free(name);
}

static void rebuilt_file_is_noticed_as_changed(void **state)
{
    static const char *const pairs[] = {"k", "v", NULL};
    char *name = tmp_name("changed"), spec[128];
    vstr err = VSTR_INIT;
    dict *d;

    (void)state;
    snprintf(spec, sizeof(spec), "hash:%s", name);
    build(spec, pairs);
    d = dict_open(spec, O_RDONLY, DICT_FLAG_NONE, &err);
    assert_non_null(d);
    assert_false(dict_changed(d));
    build(spec, pairs);
    assert_true(dict_changed(d));
    dict_close(d, NULL);
    vstr_release(&err);
    mem_free(name);
}

static void static_returns_its_value_for_any_key(void **state)
{
    vstr err = VSTR_INIT, value = VSTR_INIT;
    dict *d = dict_open("static:1000", O_RDONLY, DICT_FLAG_NONE, &err);

    (void)state;
    assert_non_null(d);
    assert_int_equal(dict_lookup(d, "whatever", &value), DICT_FOUND);
    assert_string_equal(vstr_str(&value), "1000");
    dict_close(d, NULL);
    d = dict_open("static:{ text with spaces }", O_RDONLY, DICT_FLAG_NONE, &err);
    assert_non_null(d);
    assert_int_equal(dict_lookup(d, "x", &value), DICT_FOUND);
    assert_string_equal(vstr_str(&value), "text with spaces");
    dict_close(d, NULL);
    assert_null(dict_open("static:{unclosed", O_RDONLY, DICT_FLAG_NONE, &err));
    vstr_release(&err);
    vstr_release(&value);
}

static void inline_table_parses_pairs_and_braces(void **state)
{
    vstr err = VSTR_INIT, value = VSTR_INIT;
    dict *d = dict_open("inline:{ Alice=1, bob=2 ,{ carol = text, with comma } dave=4}", O_RDONLY,
                        DICT_FLAG_NONE, &err);

    (void)state;
    assert_non_null(d);
    assert_int_equal(dict_lookup(d, "alice", &value), DICT_FOUND);
    assert_string_equal(vstr_str(&value), "1");
    assert_int_equal(dict_lookup(d, "CAROL", &value), DICT_FOUND);
    assert_string_equal(vstr_str(&value), "text, with comma");
    assert_int_equal(dict_lookup(d, "dave", &value), DICT_FOUND);
    assert_string_equal(vstr_str(&value), "4");
    assert_int_equal(dict_lookup(d, "bob", &value), DICT_FOUND);
    assert_string_equal(vstr_str(&value), "2");
    assert_int_equal(dict_lookup(d, "eve", &value), DICT_NOTFOUND);
    dict_close(d, NULL);
    d = dict_open("inline:{}", O_RDONLY, DICT_FLAG_NONE, &err);
    assert_non_null(d);
    assert_int_equal(dict_lookup(d, "a", &value), DICT_NOTFOUND);
    dict_close(d, NULL);
    vstr_release(&err);
    vstr_release(&value);
}

static void inline_table_rejects_bad_syntax(void **state)
{
    static const char *const bad[] = {
        "inline:a=b",          "inline:{a=b",   "inline:{ a }",    "inline:{ {a=b }",
        "inline:{ a=b, A=c }", "inline:{ =b }", "inline:{ a}=b }", "inline:{ a = b }",
    };
    vstr err = VSTR_INIT;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        vstr_reset(&err);
        assert_null(dict_open(bad[i], O_RDONLY, DICT_FLAG_NONE, &err));
        assert_true(vstr_len(&err) > 0);
    }
    vstr_release(&err);
}

static void fail_table_fails_every_lookup(void **state)
{
    vstr err = VSTR_INIT, value = VSTR_INIT;
    dict *d = dict_open("fail:broken", O_RDONLY, DICT_FLAG_NONE, &err);

    (void)state;
    assert_non_null(d);
    assert_int_equal(dict_lookup(d, "x", &value), DICT_ERROR);
    assert_non_null(strstr(dict_error(d), "fail:broken"));
    dict_close(d, NULL);
    vstr_release(&err);
    vstr_release(&value);
}

static void unknown_type_and_bad_spec_are_errors(void **state)
{
    vstr err = VSTR_INIT;

    (void)state;
    assert_null(dict_open("nosuch:/x", O_RDONLY, DICT_FLAG_NONE, &err));
    assert_non_null(strstr(vstr_str(&err), "unsupported dictionary type: nosuch"));
    assert_null(dict_open("/etc/aliases", O_RDONLY, DICT_FLAG_NONE, &err));
    assert_null(dict_open("hash:", O_RDONLY, DICT_FLAG_NONE, &err));
    assert_true(dict_type_known("hash"));
    assert_false(dict_type_known("nosuch"));
    vstr_release(&err);
}

static void update_on_read_only_type_is_an_error(void **state)
{
    vstr err = VSTR_INIT;
    dict *d = dict_open("static:x", O_RDONLY, DICT_FLAG_NONE, &err);

    (void)state;
    assert_int_equal(dict_update(d, "a", "b"), DICT_ERROR);
    assert_non_null(strstr(dict_error(d), "does not support updates"));
    dict_close(d, NULL);
    vstr_release(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hash_build_and_lookup_round_trip),
        cmocka_unit_test(btree_build_and_lookup_round_trip),
        cmocka_unit_test(db_file_keys_carry_trailing_nul),
        cmocka_unit_test(db_file_without_nul_is_read),
        cmocka_unit_test(duplicate_key_keeps_first_value),
        cmocka_unit_test(sequence_visits_every_entry),
        cmocka_unit_test(missing_file_is_an_error_not_notfound),
        cmocka_unit_test(unreadable_garbage_file_is_an_error),
        cmocka_unit_test(discarded_build_leaves_old_table),
        cmocka_unit_test(rebuilt_file_is_noticed_as_changed),
        cmocka_unit_test(static_returns_its_value_for_any_key),
        cmocka_unit_test(inline_table_parses_pairs_and_braces),
        cmocka_unit_test(inline_table_rejects_bad_syntax),
        cmocka_unit_test(fail_table_fails_every_lookup),
        cmocka_unit_test(unknown_type_and_bad_spec_are_errors),
        cmocka_unit_test(update_on_read_only_type_is_an_error),
    };
    return cmocka_run_group_tests_name("dict", tests, make_tmpdir, remove_tmpdir);
}
