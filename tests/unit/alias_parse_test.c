/* Unit tests for global/alias_parse: the aliases format and target lists. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "global/alias_parse.h"
#include "util/mem.h"

/* What a parse produced: "name=value@line" per entry, warnings apart. */
typedef struct result {
    argv_t *entries;
    argv_t *warnings;
} result;

static void on_entry(void *ctx, const char *name, const char *value, long line)
{
    result *r = ctx;
    vstr v = VSTR_INIT;

    vstr_set_fmt(&v, "%s=%s@%ld", name, value, line);
    argv_add(r->entries, vstr_str(&v));
    vstr_release(&v);
}

static void on_warn(void *ctx, const char *text)
{
    argv_add(((result *)ctx)->warnings, text);
}

static const alias_parse_ops ops = {on_entry, on_warn};

static int parse(const char *text, result *r, vstr *err)
{
    r->entries = argv_new();
    r->warnings = argv_new();
    return alias_parse(text, strlen(text), "aliases", &ops, r, err);
}

static void result_free(result *r)
{
    argv_free(r->entries);
    argv_free(r->warnings);
}

static void simple_entries_and_comments(void **state)
{
    result r;
    vstr err = VSTR_INIT;

    (void)state;
    assert_int_equal(
        parse("# comment\n\npostmaster: root\nAbuse:\tpostmaster # not a comment\n", &r, &err), 0);
    assert_int_equal(r.entries->argc, 2);
    assert_string_equal(r.entries->argv[0], "postmaster=root@3");
    assert_string_equal(r.entries->argv[1], "abuse=postmaster # not a comment@4");
    assert_int_equal(r.warnings->argc, 0);
    result_free(&r);
    vstr_release(&err);
}

static void continuation_lines_join_with_comments_and_blanks_between(void **state)
{
    result r;
    vstr err = VSTR_INIT;

    (void)state;
    assert_int_equal(parse("list: a,   \n\t   b,\n\n  # inner comment\n   c\nnext: d\n", &r, &err),
                     0);
    assert_int_equal(r.entries->argc, 2);
    assert_string_equal(r.entries->argv[0], "list=a, b, c@1");
    assert_string_equal(r.entries->argv[1], "next=d@6");
    result_free(&r);
    vstr_release(&err);
}

static void value_normalised_like_postfix(void **state)
{
    result r;
    vstr err = VSTR_INIT;

    (void)state;
    assert_int_equal(parse("a: b,,c\nc: \"quoted, x\" , y  # z\nd: /var/x   y\ny: b,\n"
                           "f: \"|cmd  arg\" , \"/file name\"\n",
                           &r, &err),
                     0);
    assert_string_equal(r.entries->argv[0], "a=b, , c@1");
    assert_string_equal(r.entries->argv[1], "c=\"quoted, x\", y # z@2");
    assert_string_equal(r.entries->argv[2], "d=/var/x y@3");
    assert_string_equal(r.entries->argv[3], "y=b, @4");
    assert_string_equal(r.entries->argv[4], "f=\"|cmd  arg\", \"/file name\"@5");
    result_free(&r);
    vstr_release(&err);
}

static void quoted_names_unquoted_and_folded(void **state)
{
    result r;
    vstr err = VSTR_INIT;

    (void)state;
    assert_int_equal(
        parse("\"John Smith\": john\n\"e:f\" : g\n\"q\\\"x\": h\nd  :  e\n", &r, &err), 0);
    assert_int_equal(r.entries->argc, 4);
    assert_string_equal(r.entries->argv[0], "john smith=john@1");
    assert_string_equal(r.entries->argv[1], "e:f=g@2");
    assert_string_equal(r.entries->argv[2], "q\"x=h@3");
    assert_string_equal(r.entries->argv[3], "d=e@4");
    result_free(&r);
    vstr_release(&err);
}

static void bad_entries_warned_with_file_and_line_and_skipped(void **state)
{
    result r;
    vstr err = VSTR_INIT;

    (void)state;
    assert_int_equal(
        parse("  orphan\nno colon here\nempty:\nx@y: z\n\"open: a\nok: fine\n", &r, &err), 0);
    assert_int_equal(r.entries->argc, 1);
    assert_string_equal(r.entries->argv[0], "ok=fine@6");
    assert_int_equal(r.warnings->argc, 5);
    assert_string_equal(r.warnings->argv[0],
                        "aliases, line 1: continuation line without an entry before it");
    assert_string_equal(r.warnings->argv[1], "aliases, line 2: need name:value pair");
    assert_string_equal(r.warnings->argv[2], "aliases, line 3: need name:value pair");
    assert_string_equal(r.warnings->argv[3], "aliases, line 4: name must be local: \"x@y\"");
    assert_string_equal(r.warnings->argv[4], "aliases, line 5: unterminated quoted name");
    result_free(&r);
    vstr_release(&err);
}

static void duplicates_keep_first_and_name_both_lines(void **state)
{
    result r;
    vstr err = VSTR_INIT;

    (void)state;
    assert_int_equal(parse("b: first\nother: x\nB: second\n", &r, &err), 0);
    assert_int_equal(r.entries->argc, 2);
    assert_string_equal(r.entries->argv[0], "b=first@1");
    assert_int_equal(r.warnings->argc, 1);
    assert_string_equal(r.warnings->argv[0],
                        "aliases, line 3: duplicate entry \"b\" ignored (first at line 1)");
    result_free(&r);
    vstr_release(&err);
}

static void overlong_entry_stops_the_parse(void **state)
{
    size_t n = ALIAS_LINE_MAX + 10;
    char *text = mem_alloc(n + 64);
    result r;
    vstr err = VSTR_INIT;

    (void)state;
    strcpy(text, "ok: a\nbig: ");
    memset(text + strlen(text), 'x', n);
    text[11 + n] = 0;
    assert_int_equal(parse(text, &r, &err), -1);
    assert_string_equal(vstr_str(&err), "aliases, line 2: entry longer than 262144 bytes");
    result_free(&r);
    /* Also when the length comes from many continuation lines. */
    strcpy(text, "big: a\n");
    for (size_t len = strlen(text); len + 10 < n;) {
        memcpy(text + len, "  b, c, d\n", 10);
        len += 10;
        text[len] = 0;
    }
    assert_int_equal(parse(text, &r, &err), -1);
    assert_string_equal(vstr_str(&err), "aliases, line 1: entry longer than 262144 bytes");
    result_free(&r);
    mem_free(text);
    vstr_release(&err);
}

static void nul_byte_stops_the_parse(void **state)
{
    static const char text[] = "a: b\nc: d\0e\n";
    result r = {argv_new(), argv_new()};
    vstr err = VSTR_INIT;

    (void)state;
    assert_int_equal(alias_parse(text, sizeof(text) - 1, "aliases", &ops, &r, &err), -1);
    assert_string_equal(vstr_str(&err), "aliases, line 2: NUL byte: not a text file");
    result_free(&r);
    vstr_release(&err);
}

static void crlf_line_ends_are_white_space(void **state)
{
    result r;
    vstr err = VSTR_INIT;

    (void)state;
    assert_int_equal(parse("a: b,\r\n c\r\n", &r, &err), 0);
    assert_string_equal(r.entries->argv[0], "a=b, c@1");
    result_free(&r);
    vstr_release(&err);
}

static void targets_split_and_classified(void **state)
{
    argv_t *t = argv_new();
    vstr err = VSTR_INIT;

    (void)state;
    assert_int_equal(alias_targets("bob, \"|/usr/bin/prog -a, b\", /var/log/x, "
                                   ":include:/etc/list, \\alice, Joe Q <joe@example.com>, "
                                   "d (comment, more), \"john smith\", \"a b\"@x, , ",
                                   t, &err),
                     0);
    assert_int_equal(t->argc, 9);
    assert_string_equal(t->argv[0], "bob");
    assert_string_equal(t->argv[1], "|/usr/bin/prog -a, b");
    assert_string_equal(t->argv[2], "/var/log/x");
    assert_string_equal(t->argv[3], ":include:/etc/list");
    assert_string_equal(t->argv[4], "\\alice");
    assert_string_equal(t->argv[5], "joe@example.com");
    assert_string_equal(t->argv[6], "d");
    assert_string_equal(t->argv[7], "john smith");
    assert_string_equal(t->argv[8], "a b@x");
    assert_int_equal(alias_target_type(t->argv[0]), ALIAS_TARGET_ADDRESS);
    assert_int_equal(alias_target_type(t->argv[1]), ALIAS_TARGET_COMMAND);
    assert_int_equal(alias_target_type(t->argv[2]), ALIAS_TARGET_FILE);
    assert_int_equal(alias_target_type(t->argv[3]), ALIAS_TARGET_INCLUDE);
    assert_int_equal(alias_target_type(":INCLUDE:/x"), ALIAS_TARGET_INCLUDE);
    assert_int_equal(alias_target_type(t->argv[4]), ALIAS_TARGET_ADDRESS);
    argv_free(t);
    vstr_release(&err);
}

static void unterminated_quote_runs_to_the_end(void **state)
{
    argv_t *t = argv_new();
    vstr err = VSTR_INIT;

    (void)state;
    assert_int_equal(alias_targets("a, \"|cmd, b", t, &err), 0);
    assert_int_equal(t->argc, 2);
    assert_string_equal(t->argv[0], "a");
    assert_string_equal(t->argv[1], "|cmd, b");
    argv_free(t);
    vstr_release(&err);
}

static void forward_file_lines_and_comments(void **state)
{
    static const char text[] = "# my forward\n\\me, \"|/usr/bin/vacation me\"\n\n"
                               "  other@example.org\n";
    argv_t *t = argv_new();
    vstr err = VSTR_INIT;

    (void)state;
    assert_int_equal(alias_list_parse(text, sizeof(text) - 1, t, &err), 0);
    assert_int_equal(t->argc, 3);
    assert_string_equal(t->argv[0], "\\me");
    assert_string_equal(t->argv[1], "|/usr/bin/vacation me");
    assert_string_equal(t->argv[2], "other@example.org");
    argv_free(t);
    vstr_release(&err);
}

static void list_bounds_and_nul_are_errors(void **state)
{
    static const char nul[] = "a\nb\0c\n";
    size_t n = (ALIAS_TARGETS_MAX + 1) * 2;
    char *many = mem_alloc(n + 1);
    argv_t *t = argv_new();
    vstr err = VSTR_INIT;

    (void)state;
    assert_int_equal(alias_list_parse(nul, sizeof(nul) - 1, t, &err), -1);
    assert_string_equal(vstr_str(&err), "line 2: NUL byte");
    for (size_t i = 0; i < n; i += 2)
        memcpy(many + i, "x\n", 2);
    many[n] = 0;
    argv_truncate(t, 0);
    assert_int_equal(alias_list_parse(many, n, t, &err), -1);
    assert_string_equal(vstr_str(&err), "line 10001: more than 10000 targets");
    assert_int_equal(t->argc, ALIAS_TARGETS_MAX);
    mem_free(many);
    argv_free(t);
    vstr_release(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(simple_entries_and_comments),
        cmocka_unit_test(continuation_lines_join_with_comments_and_blanks_between),
        cmocka_unit_test(value_normalised_like_postfix),
        cmocka_unit_test(quoted_names_unquoted_and_folded),
        cmocka_unit_test(bad_entries_warned_with_file_and_line_and_skipped),
        cmocka_unit_test(duplicates_keep_first_and_name_both_lines),
        cmocka_unit_test(overlong_entry_stops_the_parse),
        cmocka_unit_test(nul_byte_stops_the_parse),
        cmocka_unit_test(crlf_line_ends_are_white_space),
        cmocka_unit_test(targets_split_and_classified),
        cmocka_unit_test(unterminated_quote_runs_to_the_end),
        cmocka_unit_test(forward_file_lines_and_comments),
        cmocka_unit_test(list_bounds_and_nul_are_errors),
    };
    return cmocka_run_group_tests_name("alias_parse", tests, NULL, NULL);
}
