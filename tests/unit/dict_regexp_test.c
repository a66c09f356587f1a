/* Unit tests for util/dict_regexp: POSIX rules with pcre:'s file syntax. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/dict_file_test.h"

static void test_extended_caseless_by_default_with_groups(void **state)
{
    vstr err = VSTR_INIT;
    dict *d = open_table("regexp",
                         "/^([^@]+)@(.+)\\.example$/ $2 has $1\n"
                         "/^exact$/i exact\n"
                         "/^a+(b)?$/x basic\n"
                         "if !/^x/\n"
                         "/y$/ not x, ends y\n"
                         "endif\n"
                         "/^x/ x $$\n",
                         &err);

    (void)state;
    assert_non_null(d);
    expect(d, "Joe@Mail.EXAMPLE", DICT_FOUND, "Mail has Joe");
    expect(d, "exact", DICT_FOUND, "exact");
    expect(d, "EXACT", DICT_NOTFOUND, NULL);
    /* Basic syntax (x toggled off): + and ( ) are literal. */
    expect(d, "a+(b)?", DICT_FOUND, "basic");
    expect(d, "aab", DICT_NOTFOUND, NULL);
    expect(d, "ay", DICT_FOUND, "not x, ends y");
    expect(d, "xy", DICT_FOUND, "x $");
    dict_close(d, NULL);
    vstr_release(&err);
}

static void test_multiline_flag(void **state)
{
    vstr err = VSTR_INIT;
    dict *d = open_table("regexp", "/^b$/m line\n", &err);

    (void)state;
    assert_non_null(d);
    expect(d, "a\nb\nc", DICT_FOUND, "line");
    dict_close(d, NULL);
    d = open_table("regexp", "/^b$/ line\n", &err);
    assert_non_null(d);
    expect(d, "a\nb\nc", DICT_NOTFOUND, NULL);
    dict_close(d, NULL);
    vstr_release(&err);
}

static void test_errors_name_file_and_line(void **state)
{
    (void)state;
    expect_error("regexp", "/a/ ok\n/a(/ bad\n", 2, "regexp /a(/");
    expect_error("regexp", "/a/s no such flag\n", 1, "unknown regexp flag 's'");
    expect_error("regexp", "/(a)(b)/ $3\n", 1, "the pattern has 2 groups");
    expect_error("regexp", "if /a/\nif /b/\nendif\n", 1, "\"if\" without \"endif\"");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_extended_caseless_by_default_with_groups),
        cmocka_unit_test(test_multiline_flag),
        cmocka_unit_test(test_errors_name_file_and_line),
    };

    return cmocka_run_group_tests(tests, make_table_file, remove_table_file);
}
