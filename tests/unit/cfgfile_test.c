/* Unit tests for util/cfgfile: logical lines, comments, continuations,
 * bounds, NUL bytes, name = value splitting, bounded file reading. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "util/cfgfile.h"

/* The reader over a string, with a generous line bound. */
typedef struct lines {
    cfgfile_reader r;
    vstr text, why;
    cfgfile_line at;
} lines;

static void lines_open(lines *l, const char *buf, size_t len, size_t max)
{
    cfgfile_reader_init(&l->r, buf, len, max);
    vstr_init(&l->text);
    vstr_init(&l->why);
}

static void lines_close(lines *l)
{
    vstr_release(&l->text);
    vstr_release(&l->why);
}

/* Expect the next logical line to be text, starting at line lineno. */
static void expect_line(lines *l, const char *text, int lineno)
{
    assert_int_equal(cfgfile_next(&l->r, &l->text, &l->at, &l->why), 1);
    assert_string_equal(vstr_str(&l->text), text);
    assert_int_equal(l->at.lineno, lineno);
}

static void expect_error(lines *l, const char *why, int lineno)
{
    assert_int_equal(cfgfile_next(&l->r, &l->text, &l->at, &l->why), -1);
    assert_non_null(strstr(vstr_str(&l->why), why));
    assert_int_equal(l->at.lineno, lineno);
}

static void expect_end(lines *l)
{
    assert_int_equal(cfgfile_next(&l->r, &l->text, &l->at, &l->why), 0);
}

static void comments_and_blank_lines_are_skipped(void **state)
{
    const char *buf = "# comment\n\n   \n  # indented comment\na = 1\n\t\n#x\nb = 2\n";
    lines l;

    (void)state;
    lines_open(&l, buf, strlen(buf), 1000);
    expect_line(&l, "a = 1", 5);
    expect_line(&l, "b = 2", 8);
    expect_end(&l);
    lines_close(&l);
}

static void hash_inside_a_line_is_data(void **state)
{
    const char *buf = "a = x # not a comment\n";
    lines l;

    (void)state;
    lines_open(&l, buf, strlen(buf), 1000);
    expect_line(&l, "a = x # not a comment", 1);
    lines_close(&l);
}

static void continuation_lines_join_with_one_space(void **state)
{
    const char *buf = "a = one,\n    two,\n\tthree\nb = 2\n";
    lines l;

    (void)state;
    lines_open(&l, buf, strlen(buf), 1000);
    expect_line(&l, "a = one, two, three", 1);
    assert_int_equal(l.at.last_lineno, 3);
    assert_int_equal(l.at.start, 0);
    assert_int_equal(l.at.end, strlen("a = one,\n    two,\n\tthree\n"));
    expect_line(&l, "b = 2", 4);
    assert_int_equal(l.at.start, strlen("a = one,\n    two,\n\tthree\n"));
    expect_end(&l);
    lines_close(&l);
}

static void verbatim_continuations_keep_their_white_space(void **state)
{
    const char *buf = "k a b  \n\t c  \r\n# note\n   d\nnext x\n";
    lines l;

    (void)state;
    lines_open(&l, buf, strlen(buf), 1000);
    l.r.verbatim = 1;
    expect_line(&l, "k a b  \t c     d", 1);
    expect_line(&l, "next x", 5);
    expect_end(&l);
    lines_close(&l);
}

static void continuation_reaches_past_comment_and_blank_lines(void **state)
{
    const char *buf = "a = one\n# note\n\n  two\n# after\nb = 2\n";
    lines l;

    (void)state;
    lines_open(&l, buf, strlen(buf), 1000);
    expect_line(&l, "a = one two", 1);
    assert_int_equal(l.at.last_lineno, 4);
    /* The span stops after the continuation, before "# after". */
    assert_int_equal(l.at.end, strlen("a = one\n# note\n\n  two\n"));
    expect_line(&l, "b = 2", 6);
    lines_close(&l);
}

static void indented_hash_line_is_a_comment_not_a_continuation(void **state)
{
    const char *buf = "a = one\n   # two\nb = 2\n";
    lines l;

    (void)state;
    lines_open(&l, buf, strlen(buf), 1000);
    expect_line(&l, "a = one", 1);
    expect_line(&l, "b = 2", 3);
    lines_close(&l);
}

static void continuation_without_a_line_is_an_error(void **state)
{
    const char *buf = "# head\n  orphan\na = 1\n";
    lines l;

    (void)state;
    lines_open(&l, buf, strlen(buf), 1000);
    expect_error(&l, "no line to continue", 2);
    expect_line(&l, "a = 1", 3);
    lines_close(&l);
}

static void last_line_without_newline_is_read(void **state)
{
    const char *buf = "a = 1\nb = 2";
    lines l;

    (void)state;
    lines_open(&l, buf, strlen(buf), 1000);
    expect_line(&l, "a = 1", 1);
    expect_line(&l, "b = 2", 2);
    assert_int_equal(l.at.end, strlen(buf));
    expect_end(&l);
    lines_close(&l);
}

static void crlf_line_ends_are_dropped(void **state)
{
    const char *buf = "a = 1\r\n  2\r\n";
    vstr name = VSTR_INIT, value = VSTR_INIT, why = VSTR_INIT;
    lines l;

    (void)state;
    lines_open(&l, buf, strlen(buf), 1000);
    expect_line(&l, "a = 1 2", 1);
    assert_int_equal(cfgfile_split(vstr_str(&l.text), vstr_len(&l.text), &name, &value, &why), 0);
    assert_string_equal(vstr_str(&value), "1 2");
    lines_close(&l);
    vstr_release(&name);
    vstr_release(&value);
    vstr_release(&why);
}

static void empty_buffer_has_no_lines(void **state)
{
    lines l;

    (void)state;
    lines_open(&l, "", 0, 1000);
    expect_end(&l);
    lines_close(&l);
}

static void over_long_line_is_refused_naming_its_first_line(void **state)
{
    char buf[200];
    lines l;

    (void)state;
    snprintf(buf, sizeof(buf), "a = 1\nb = %s\n  more\nc = 3\n",
             "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
    lines_open(&l, buf, strlen(buf), 32);
    expect_line(&l, "a = 1", 1);
    expect_error(&l, "longer than 32 bytes", 2);
    /* The whole logical line was consumed: reading goes on after it. */
    expect_line(&l, "c = 3", 4);
    lines_close(&l);
}

static void over_long_by_continuations_is_refused(void **state)
{
    const char *buf = "a = 0123456789\n  0123456789\n  0123456789\n";
    lines l;

    (void)state;
    lines_open(&l, buf, strlen(buf), 30);
    expect_error(&l, "longer than 30 bytes", 1);
    expect_end(&l);
    lines_close(&l);
}

static void line_of_exactly_the_bound_is_accepted(void **state)
{
    const char *buf = "a = 123456\n";
    lines l;

    (void)state;
    lines_open(&l, buf, strlen(buf), 10);
    expect_line(&l, "a = 123456", 1);
    lines_close(&l);
}

static void nul_byte_is_refused_naming_its_line(void **state)
{
    const char buf[] = "a = 1\nb = x\0y\nc = 3\n";
    lines l;

    (void)state;
    lines_open(&l, buf, sizeof(buf) - 1, 1000);
    expect_line(&l, "a = 1", 1);
    expect_error(&l, "NUL byte", 2);
    expect_line(&l, "c = 3", 3);
    lines_close(&l);
}

static void nul_byte_in_a_continuation_names_that_line(void **state)
{
    const char buf[] = "a = 1\n  x\0\nc = 3\n";
    lines l;

    (void)state;
    lines_open(&l, buf, sizeof(buf) - 1, 1000);
    expect_error(&l, "NUL byte", 2);
    expect_line(&l, "c = 3", 3);
    lines_close(&l);
}

static void nul_byte_in_a_comment_is_refused(void **state)
{
    const char buf[] = "# a\0b\nc = 3\n";
    lines l;

    (void)state;
    lines_open(&l, buf, sizeof(buf) - 1, 1000);
    expect_error(&l, "NUL byte", 1);
    expect_line(&l, "c = 3", 2);
    lines_close(&l);
}

/* split */

static int split(const char *line, vstr *name, vstr *value, vstr *why)
{
    return cfgfile_split(line, strlen(line), name, value, why);
}

static void split_trims_name_and_value(void **state)
{
    vstr name = VSTR_INIT, value = VSTR_INIT, why = VSTR_INIT;

    (void)state;
    assert_int_equal(split("  my_name_2  =   some value  ", &name, &value, &why), 0);
    assert_string_equal(vstr_str(&name), "my_name_2");
    assert_string_equal(vstr_str(&value), "some value");
    assert_int_equal(split("a=b=c", &name, &value, &why), 0);
    assert_string_equal(vstr_str(&name), "a");
    assert_string_equal(vstr_str(&value), "b=c");
    vstr_release(&name);
    vstr_release(&value);
    vstr_release(&why);
}

static void split_accepts_an_empty_value(void **state)
{
    vstr name = VSTR_INIT, value = VSTR_INIT, why = VSTR_INIT;

    (void)state;
    assert_int_equal(split("relayhost =", &name, &value, &why), 0);
    assert_string_equal(vstr_str(&name), "relayhost");
    assert_string_equal(vstr_str(&value), "");
    assert_int_equal(split("relayhost =    ", &name, &value, &why), 0);
    assert_string_equal(vstr_str(&value), "");
    vstr_release(&name);
    vstr_release(&value);
    vstr_release(&why);
}

static void split_refuses_bad_names_and_missing_equals(void **state)
{
    vstr name = VSTR_INIT, value = VSTR_INIT, why = VSTR_INIT;

    (void)state;
    assert_int_equal(split("my-host = x", &name, &value, &why), -1);
    assert_string_equal(vstr_str(&why),
                        "bad parameter name \"my-host\": use letters, digits and underscores");
    assert_int_equal(split("= x", &name, &value, &why), -1);
    assert_string_equal(vstr_str(&why), "missing parameter name before '='");
    assert_int_equal(split("name value", &name, &value, &why), -1);
    assert_string_equal(vstr_str(&why), "missing '=' after parameter name \"name\"");
    assert_int_equal(split("name", &name, &value, &why), -1);
    vstr_release(&name);
    vstr_release(&value);
    vstr_release(&why);
}

static void split_error_quotes_at_most_a_short_name(void **state)
{
    vstr name = VSTR_INIT, value = VSTR_INIT, why = VSTR_INIT;
    char line[2000];

    (void)state;
    memset(line, 'x', sizeof(line) - 1);
    line[sizeof(line) - 1] = 0;
    line[10] = '-';
    assert_int_equal(split(line, &name, &value, &why), -1);
    assert_true(vstr_len(&why) < 150);
    vstr_release(&name);
    vstr_release(&value);
    vstr_release(&why);
}

/* read */

static char tmpdir[64];

static int make_tmpdir(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/cfgfile-test-XXXXXX");
    return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int remove_tmpdir(void **state)
{
    char path[128];

    (void)state;
    snprintf(path, sizeof(path), "%s/f", tmpdir);
    unlink(path);
    return rmdir(tmpdir);
}

static void write_file(const char *path, const char *text, size_t len)
{
    FILE *fp = fopen(path, "w");

    assert_non_null(fp);
    assert_int_equal(fwrite(text, 1, len, fp), len);
    assert_int_equal(fclose(fp), 0);
}

static void read_returns_the_whole_file(void **state)
{
    vstr out = VSTR_INIT, err = VSTR_INIT;
    char path[128];

    (void)state;
    snprintf(path, sizeof(path), "%s/f", tmpdir);
    write_file(path, "a = 1\n\0b", 8);
    assert_int_equal(cfgfile_read(path, 100, &out, &err), 0);
    assert_int_equal(vstr_len(&out), 8);
    assert_memory_equal(vstr_str(&out), "a = 1\n\0b", 8);
    vstr_release(&out);
    vstr_release(&err);
}

static void read_refuses_a_file_over_the_bound(void **state)
{
    vstr out = VSTR_INIT, err = VSTR_INIT;
    char path[128], expect[200];

    (void)state;
    snprintf(path, sizeof(path), "%s/f", tmpdir);
    write_file(path, "0123456789", 10);
    assert_int_equal(cfgfile_read(path, 9, &out, &err), -1);
    snprintf(expect, sizeof(expect), "%s: file is larger than 9 bytes", path);
    assert_string_equal(vstr_str(&err), expect);
    assert_int_equal(vstr_len(&out), 0);
    assert_int_equal(cfgfile_read(path, 10, &out, &err), 0);
    vstr_release(&out);
    vstr_release(&err);
}

static void read_of_a_missing_file_names_it_and_keeps_errno(void **state)
{
    vstr out = VSTR_INIT, err = VSTR_INIT;
    char path[128], expect[200];

    (void)state;
    snprintf(path, sizeof(path), "%s/missing", tmpdir);
    assert_int_equal(cfgfile_read(path, 100, &out, &err), -1);
    assert_int_equal(errno, ENOENT);
    snprintf(expect, sizeof(expect), "%s: No such file or directory", path);
    assert_string_equal(vstr_str(&err), expect);
    vstr_release(&out);
    vstr_release(&err);
}

static void read_refuses_a_directory(void **state)
{
    vstr out = VSTR_INIT, err = VSTR_INIT;

    (void)state;
    assert_int_equal(cfgfile_read(tmpdir, 100, &out, &err), -1);
    assert_non_null(strstr(vstr_str(&err), "not a regular file"));
    vstr_release(&out);
    vstr_release(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(comments_and_blank_lines_are_skipped),
        cmocka_unit_test(hash_inside_a_line_is_data),
        cmocka_unit_test(continuation_lines_join_with_one_space),
        cmocka_unit_test(verbatim_continuations_keep_their_white_space),
        cmocka_unit_test(continuation_reaches_past_comment_and_blank_lines),
        cmocka_unit_test(indented_hash_line_is_a_comment_not_a_continuation),
        cmocka_unit_test(continuation_without_a_line_is_an_error),
        cmocka_unit_test(last_line_without_newline_is_read),
        cmocka_unit_test(crlf_line_ends_are_dropped),
        cmocka_unit_test(empty_buffer_has_no_lines),
        cmocka_unit_test(over_long_line_is_refused_naming_its_first_line),
        cmocka_unit_test(over_long_by_continuations_is_refused),
        cmocka_unit_test(line_of_exactly_the_bound_is_accepted),
        cmocka_unit_test(nul_byte_is_refused_naming_its_line),
        cmocka_unit_test(nul_byte_in_a_continuation_names_that_line),
        cmocka_unit_test(nul_byte_in_a_comment_is_refused),
        cmocka_unit_test(split_trims_name_and_value),
        cmocka_unit_test(split_accepts_an_empty_value),
        cmocka_unit_test(split_refuses_bad_names_and_missing_equals),
        cmocka_unit_test(split_error_quotes_at_most_a_short_name),
        cmocka_unit_test(read_returns_the_whole_file),
        cmocka_unit_test(read_refuses_a_file_over_the_bound),
        cmocka_unit_test(read_of_a_missing_file_names_it_and_keeps_errno),
        cmocka_unit_test(read_refuses_a_directory),
    };

    return cmocka_run_group_tests_name("cfgfile", tests, make_tmpdir, remove_tmpdir);
}
