/* Unit tests for util/dict_texthash: a postmap source file as an in-memory table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sys/stat.h>
#include <time.h>

#include "tests/unit/dict_file_test.h"

static void test_keys_folded_first_duplicate_kept(void **state)
{
    vstr err = VSTR_INIT, key = VSTR_INIT, value = VSTR_INIT;
    dict *d = open_table("texthash",
                         "# virtual\n"
                         "Joe@Example.COM   joe@local, \n"
                         "  jim@local\n"
                         "\n"
                         "joe@example.com  second, ignored\n"
                         "keyonly\n"
                         "@example.com catchall\n",
                         &err);
    int n = 0;

    (void)state;
    assert_non_null(d);
    expect(d, "JOE@example.com", DICT_FOUND, "joe@local,   jim@local");
    expect(d, "@EXAMPLE.COM", DICT_FOUND, "catchall");
    expect(d, "keyonly", DICT_NOTFOUND, NULL);
    for (int st = dict_sequence(d, DICT_SEQ_FIRST, &key, &value); st == DICT_FOUND;
         st = dict_sequence(d, DICT_SEQ_NEXT, &key, &value))
        n++;
    assert_int_equal(n, 2);
    assert_int_equal(dict_update(d, "a", "b"), DICT_ERROR);
    assert_false(dict_changed(d));
    dict_close(d, NULL);
    vstr_release(&err);
    vstr_release(&key);
    vstr_release(&value);
}

static void test_change_noticed_and_errors(void **state)
{
    vstr err = VSTR_INIT, text = VSTR_INIT;
    dict *d = open_table("texthash", "a b\n", &err);

    (void)state;
    assert_non_null(d);
    assert_int_equal(unlink(table_path), 0);
    assert_true(dict_changed(d));
    dict_close(d, NULL);
    /* A NUL byte or an over-long line is a refused file, named with its line. */
    vstr_set(&text, "a b\nc d\0e\n", 10);
    {
        FILE *fp = fopen(table_path, "w");

        assert_non_null(fp);
        assert_int_equal(fwrite(vstr_str(&text), 1, vstr_len(&text), fp), vstr_len(&text));
        assert_int_equal(fclose(fp), 0);
    }
    vstr_set_fmt(&text, "texthash:%s", table_path);
    assert_null(dict_open(vstr_str(&text), O_RDONLY, DICT_FLAG_NONE, &err));
    assert_non_null(strstr(vstr_str(&err), ", line 2: NUL byte"));
    vstr_reset(&text);
    vstr_append_str(&text, "k ");
    for (int i = 0; i < 70000; i++)
        vstr_append_char(&text, 'v');
    expect_error("texthash", vstr_str(&text), 1, "longer than");
    assert_null(dict_open("texthash:/nonexistent/x", O_RDONLY, DICT_FLAG_NONE, &err));
    vstr_release(&err);
    vstr_release(&text);
}

/* Rewrite the table file in place (same inode) and give it mtime. */
static void rewrite_in_place(const char *text, const struct timespec *mtime)
{
    struct timespec times[2] = {*mtime, *mtime};
    FILE *fp = fopen(table_path, "r+");

    assert_non_null(fp);
    assert_int_equal(ftruncate(fileno(fp), 0), 0);
    fputs(text, fp);
    assert_int_equal(fclose(fp), 0);
    assert_int_equal(utimensat(AT_FDCWD, table_path, times, 0), 0);
}

/* A table rewritten in place within the same second is still a change:
 * the mtime is compared to the nanosecond, and the size too. */
static void test_same_second_rewrite_noticed(void **state)
{
    vstr err = VSTR_INIT, spec = VSTR_INIT;
    struct timespec t = {.tv_sec = 1700000000, .tv_nsec = 100};
    dict *d;

    (void)state;
    vstr_set_fmt(&spec, "texthash:%s", table_path);
    d = open_table("texthash", "a b\n", &err);
    assert_non_null(d);
    rewrite_in_place("a b\n", &t);
    dict_close(d, NULL);
    d = dict_open(vstr_str(&spec), O_RDONLY, DICT_FLAG_NONE, &err);
    assert_non_null(d);
    assert_false(dict_changed(d));
    t.tv_nsec = 200; /* same second, same size, same inode */
    rewrite_in_place("a c\n", &t);
    assert_true(dict_changed(d));
    dict_close(d, NULL);
    t.tv_nsec = 100;
    rewrite_in_place("a b\n", &t);
    d = dict_open(vstr_str(&spec), O_RDONLY, DICT_FLAG_NONE, &err);
    assert_non_null(d);
    rewrite_in_place("a bc\n", &t); /* same mtime to the nanosecond, longer */
    assert_true(dict_changed(d));
    dict_close(d, NULL);
    vstr_release(&err);
    vstr_release(&spec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys_folded_first_duplicate_kept),
        cmocka_unit_test(test_change_noticed_and_errors),
        cmocka_unit_test(test_same_second_rewrite_noticed),
    };

    return cmocka_run_group_tests(tests, make_table_file, remove_table_file);
}
