/* Unit tests for smtp/smtp_reply: multi-line replies, enhanced codes,
 * malformed and truncated replies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "smtp/smtp.h"

/* Read one reply from text; the status, with r and why filled. */
static int parse(const char *text, smtp_reply *r, vstr *why)
{
    vstream *s = vstream_open_memory(text, strlen(text));
    int status = smtp_reply_read(s, 1000, r, why);

    vstream_close(s);
    return status;
}

static void multi_line_reply_joins_its_text_and_keeps_the_lines(void **state)
{
    smtp_reply r;
    vstr why = VSTR_INIT;

    (void)state;
    smtp_reply_init(&r);
    assert_int_equal(parse("250-mx.test\r\n250-PIPELINING\r\n250 SIZE 1000\r\nNEXT", &r, &why), 0);
    assert_int_equal(r.code, 250);
    assert_string_equal(r.dsn, "2.0.0");
    assert_string_equal(vstr_str(&r.text), "250 mx.test PIPELINING SIZE 1000");
    assert_string_equal(vstr_str(&r.lines), "mx.test\nPIPELINING\nSIZE 1000\n");
    smtp_reply_release(&r);
    vstr_release(&why);
}

static void enhanced_code_is_taken_only_when_its_class_matches(void **state)
{
    smtp_reply r;
    vstr why = VSTR_INIT;

    (void)state;
    smtp_reply_init(&r);
    assert_int_equal(parse("550 5.1.1 <x@y>: no such user\r\n", &r, &why), 0);
    assert_string_equal(r.dsn, "5.1.1");
    assert_string_equal(vstr_str(&r.text), "550 5.1.1 <x@y>: no such user");
    assert_int_equal(parse("450 5.1.1 mismatched\r\n", &r, &why), 0);
    assert_string_equal(r.dsn, "4.0.0");
    assert_int_equal(parse("421\n", &r, &why), 0);
    assert_int_equal(r.code, 421);
    assert_string_equal(r.dsn, "4.0.0");
    assert_string_equal(vstr_str(&r.text), "421");
    smtp_reply_release(&r);
    vstr_release(&why);
}

static void garbage_mixed_codes_and_a_cut_reply_fail(void **state)
{
    smtp_reply r;
    vstr why = VSTR_INIT;

    (void)state;
    smtp_reply_init(&r);
    assert_int_equal(parse("hello\r\n", &r, &why), -1);
    assert_non_null(strstr(vstr_str(&why), "malformed reply"));
    assert_int_equal(parse("199 too low\r\n", &r, &why), -1);
    assert_int_equal(parse("250x\r\n", &r, &why), -1);
    assert_int_equal(parse("250-a\r\n550 b\r\n", &r, &why), -1);
    assert_string_equal(vstr_str(&why), "reply lines with different codes");
    assert_int_equal(parse("250-a\r\n250-b\r\n", &r, &why), -1);
    assert_string_equal(vstr_str(&why), "lost connection");
    smtp_reply_release(&r);
    vstr_release(&why);
}

static void an_overlong_line_is_cut_and_the_reply_still_read(void **state)
{
    smtp_reply r;
    vstr why = VSTR_INIT, text = VSTR_INIT;

    (void)state;
    smtp_reply_init(&r);
    vstr_append_str(&text, "250 ");
    for (int i = 0; i < 3 * SMTP_REPLY_LINE_MAX; i++)
        vstr_append_char(&text, 'x');
    vstr_append_str(&text, "\r\n");
    assert_int_equal(parse(vstr_str(&text), &r, &why), 0);
    assert_int_equal(r.code, 250);
    assert_true(vstr_len(&r.text) <= SMTP_REPLY_LINE_MAX);
    smtp_reply_release(&r);
    vstr_release(&why);
    vstr_release(&text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(multi_line_reply_joins_its_text_and_keeps_the_lines),
        cmocka_unit_test(enhanced_code_is_taken_only_when_its_class_matches),
        cmocka_unit_test(garbage_mixed_codes_and_a_cut_reply_fail),
        cmocka_unit_test(an_overlong_line_is_cut_and_the_reply_still_read),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
