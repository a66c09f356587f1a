/* Unit tests for util/dict_pcre (and the rule engine util/dict_rules under it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <fcntl.h>

#include "util/dict.h"
#include "util/dict_rules.h"
#include "util/mem.h"

#include "global/maps.h"
#include "tests/unit/dict_file_test.h"

static void test_substitution_and_first_match_wins(void **state)
{
    vstr err = VSTR_INIT;
    dict *d = open_table("pcre",
                         "# comment\n"
                         "/^(.*)@(example)\\.com$/  user=$1 dom=${2} cost $$5\n"
                         "/@example\\.com$/ never reached\n"
                         "/^(a)|(b)$/ [$1][$2]\n"
                         "/^long/\n  continued result\n",
                         &err);

    (void)state;
    assert_non_null(d);
    expect(d, "Joe@Example.COM", DICT_FOUND, "user=Joe dom=Example cost $5");
    expect(d, "b", DICT_FOUND, "[][b]");
    expect(d, "longer", DICT_FOUND, "continued result");
    expect(d, "nobody@elsewhere", DICT_NOTFOUND, NULL);
    dict_close(d, NULL);
    vstr_release(&err);
}

static void test_flags_toggle(void **state)
{
    vstr err = VSTR_INIT;
    dict *d = open_table("pcre",
                         "/^abc$/i exact-case\n"
                         "/^x.y$/s dotall\n"
                         "/^ q  r $/x extended\n"
                         "/^u(a+)/U lazy $1\n"
                         "/^m$/m multi\n"
                         "/zz$/EX endonly\n",
                         &err);

    (void)state;
    assert_non_null(d);
    expect(d, "abc", DICT_FOUND, "exact-case");
    expect(d, "ABC", DICT_NOTFOUND, NULL);
    expect(d, "X\nY", DICT_FOUND, "dotall");
    expect(d, "qr", DICT_FOUND, "extended");
    expect(d, "uaaa", DICT_FOUND, "lazy a");
    expect(d, "first\nm\nlast", DICT_FOUND, "multi");
    expect(d, "aazz\n", DICT_NOTFOUND, NULL);
    dict_close(d, NULL);
    vstr_release(&err);
}

static void test_negation_and_if_blocks(void **state)
{
    vstr err = VSTR_INIT;
    dict *d = open_table("pcre",
                         "if /@example\\.com$/\n"
                         "if !/^postmaster@/\n"
                         "/^spam/ REJECT spam\n"
                         "endif\n"
                         "/^post/ OK post\n"
                         "endif\n"
                         "!/@/ local\n"
                         "/^spam/ outside\n",
                         &err);

    (void)state;
    assert_non_null(d);
    expect(d, "spammer@example.com", DICT_FOUND, "REJECT spam");
    expect(d, "postmaster@example.com", DICT_FOUND, "OK post");
    expect(d, "spam@other.org", DICT_FOUND, "outside");
    expect(d, "joe", DICT_FOUND, "local");
    expect(d, "joe@example.com", DICT_NOTFOUND, NULL);
    dict_close(d, NULL);
    vstr_release(&err);
}

static void test_errors_name_file_and_line(void **state)
{
    (void)state;
    expect_error("pcre", "/a/ ok\n/b/q bad flag\n", 2, "unknown pcre flag 'q'");
    expect_error("pcre", "/a/ ok\n\n/(unclosed/ x\n", 3, "pcre pattern");
    expect_error("pcre", "/(a)/ $2\n", 1, "the pattern has 1 groups");
    expect_error("pcre", "!/(a)/ $1\n", 1, "negated");
    expect_error("pcre", "/a/ $name\n", 1, "bad $");
    expect_error("pcre", "/a/\n", 1, "missing result");
    expect_error("pcre", "/a/ x\nendif\n", 2, "\"endif\" without \"if\"");
    expect_error("pcre", "if /a/\n/b/ x\n", 1, "\"if\" without \"endif\"");
    expect_error("pcre", "if /a/ text\nendif\n", 1, "text after the pattern");
    expect_error("pcre", "/unterminated x\n", 1, "missing closing '/'");
    expect_error("pcre", "abc x\n", 1, "delimiter");
}

static void test_bounds(void **state)
{
    vstr text = VSTR_INIT, err = VSTR_INIT, key = VSTR_INIT;
    dict *d;

    (void)state;
    for (int i = 0; i <= DICT_RULES_DEPTH_MAX; i++)
        vstr_append_str(&text, "if /a/\n");
    expect_error("pcre", vstr_str(&text), DICT_RULES_DEPTH_MAX + 1, "nested deeper");

    /* A result that substitution makes too long is an error of the lookup. */
    d = open_table("pcre", "/^(.*)$/ $1$1$1$1$1$1$1$1$1$1\n", &err);
    assert_non_null(d);
    for (int i = 0; i < DICT_RULES_RESULT_MAX / 8; i++)
        vstr_append_char(&key, 'k');
    expect(d, vstr_str(&key), DICT_ERROR, NULL);
    assert_non_null(strstr(dict_error(d), "line 1: result longer than"));
    dict_close(d, NULL);

    /* Catastrophic backtracking hits the match limit: an error, not "no match". */
    d = open_table("pcre", "/^(a|a?)+$/ never\n", &err);
    assert_non_null(d);
    vstr_reset(&key);
    for (int i = 0; i < 40; i++)
        vstr_append_char(&key, 'a');
    vstr_append_char(&key, 'b');
    expect(d, vstr_str(&key), DICT_ERROR, NULL);
    dict_close(d, NULL);
    vstr_release(&text);
    vstr_release(&err);
    vstr_release(&key);
}

/* What a daemon sees: a table list with a broken pcre: file answers every
 * lookup with an error naming the file and line (mail is deferred), never
 * "not found", and notices when the file is fixed. */
static void test_broken_table_in_maps_is_an_error_not_a_miss(void **state)
{
    vstr err = VSTR_INIT, spec = VSTR_INIT, value = VSTR_INIT;
    dict *d = open_table("pcre", "/^a/ A\n/b(/ broken\n", &err);
    maps *m;

    (void)state;
    assert_null(d);
    vstr_set_fmt(&spec, "pcre:%s", table_path);
    m = maps_open("header_checks", vstr_str(&spec), O_RDONLY, DICT_FLAG_NONE);
    assert_int_equal(maps_find(m, "abc", &value, NULL), DICT_ERROR);
    vstr_set_fmt(&err, "%s, line 2: ", table_path);
    assert_non_null(strstr(maps_error(m), vstr_str(&err)));
    assert_true(maps_changed(m));
    maps_free(m);
    vstr_release(&err);
    vstr_release(&spec);
    vstr_release(&value);
}

static void test_read_only_and_missing_file(void **state)
{
    vstr err = VSTR_INIT;

    (void)state;
    assert_null(dict_open("pcre:/nonexistent/table", O_RDONLY, DICT_FLAG_NONE, &err));
    assert_non_null(strstr(vstr_str(&err), "/nonexistent/table"));
    assert_null(
        dict_open("pcre:/nonexistent/table", O_RDWR | O_CREAT | O_TRUNC, DICT_FLAG_NONE, &err));
    assert_non_null(strstr(vstr_str(&err), "read-only"));
    vstr_release(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_substitution_and_first_match_wins),
        cmocka_unit_test(test_flags_toggle),
        cmocka_unit_test(test_negation_and_if_blocks),
        cmocka_unit_test(test_errors_name_file_and_line),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_broken_table_in_maps_is_an_error_not_a_miss),
        cmocka_unit_test(test_read_only_and_missing_file),
    };

    return cmocka_run_group_tests(tests, make_table_file, remove_table_file);
}
