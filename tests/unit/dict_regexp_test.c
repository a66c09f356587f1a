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

/* glibc's regcomp copies what + and {n,m} repeat: these would take
 * gigabytes before failing, so they are refused as too complex first. */
static void test_exponential_repetition_refused(void **state)
{
    vstr err = VSTR_INIT;
    dict *d;

    (void)state;
    expect_error("regexp", "/^p+++++++++++++++++++++++++++++++++++++++++++++/ x\n", 1,
                 "too complex");
    expect_error("regexp", "/ok/ y\n/((a{99}){99}){99}/ x\n", 2, "too complex");
    expect_error("regexp", "/\\(\\(a\\{99\\}\\)\\{99\\}\\)\\{99\\}/x x\n", 1, "too complex");
    expect_error("regexp", "/((((((e*)+)+)+)+)+)+/ x\n", 1, "nested deeper than 5");
    {
        vstr text = VSTR_INIT, words = VSTR_INIT;

        /* Size: "(e*)+" 400 times would take regcomp seconds. */
        vstr_append_str(&text, "/");
        for (int i = 0; i < 400; i++)
            vstr_append_str(&text, "(e*)+");
        vstr_append_str(&text, "/ x\n");
        expect_error("regexp", vstr_str(&text), 1, "more than 2000 nodes");
        /* A long word list is an ordinary body_checks rule. */
        for (int i = 0; i < 150; i++)
            vstr_append_fmt(&words, "%sword%04d", i ? "|" : "/^(", i);
        vstr_append_str(&words, ")$/ listed\n");
        d = open_table("regexp", vstr_str(&words), &err);
        assert_non_null(d);
        expect(d, "WORD0149", DICT_FOUND, "listed");
        dict_close(d, NULL);
        vstr_release(&text);
        vstr_release(&words);
    }
    /* Ordinary repetition is fine, and brackets are one atom. */
    d = open_table("regexp", "/^[a-z{}+]{1,64}(\\.[a-z]+){0,9}@([a-z0-9-]+\\.)+[a-z]{2,}$/ ok\n",
                   &err);
    assert_non_null(d);
    expect(d, "joe.x@mail.example.com", DICT_FOUND, "ok");
    dict_close(d, NULL);
    vstr_release(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_extended_caseless_by_default_with_groups),
        cmocka_unit_test(test_multiline_flag),
        cmocka_unit_test(test_errors_name_file_and_line),
        cmocka_unit_test(test_exponential_repetition_refused),
    };

    return cmocka_run_group_tests(tests, make_table_file, remove_table_file);
}
