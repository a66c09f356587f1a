/* Unit tests for util/json_write: JSON string literals from any bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "util/json_write.h"

static void check(const char *in, size_t len, const char *want)
{
    vstr v = VSTR_INIT;

    json_write_string(&v, in, len);
    assert_string_equal(vstr_str(&v), want);
    vstr_release(&v);
}

static void plain_ascii_is_quoted_as_is(void **state)
{
    (void)state;
    check("user@example.com", 16, "\"user@example.com\"");
    check("", 0, "\"\"");
}

static void quotes_and_backslashes_are_escaped(void **state)
{
    (void)state;
    check("a\"b\\c", 5, "\"a\\\"b\\\\c\"");
}

static void control_characters_are_escaped(void **state)
{
    (void)state;
    check("\b\f\n\r\t", 5, "\"\\b\\f\\n\\r\\t\"");
    check("\x01\x1f\x7f", 3, "\"\\u0001\\u001f\\u007f\"");
    check("a\0b", 3, "\"a\\u0000b\"");
}

static void valid_utf8_is_copied(void **state)
{
    (void)state;
    /* é (2 bytes), € (3 bytes), U+1F600 (4 bytes), U+10FFFF. */
    check("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf", 13,
          "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf\"");
}

static void invalid_utf8_bytes_are_escaped_one_by_one(void **state)
{
    (void)state;
    /* Latin-1 é, a stray continuation byte, a truncated sequence at the end. */
    check("caf\xe9", 4, "\"caf\\u00e9\"");
    check("\x80x", 2, "\"\\u0080x\"");
    check("a\xe2\x82", 3, "\"a\\u00e2\\u0082\"");
    /* Overlong '/' (C0 AF), an overlong 3-byte form, a surrogate, above U+10FFFF. */
    check("\xc0\xaf", 2, "\"\\u00c0\\u00af\"");
    check("\xe0\x80\xaf", 3, "\"\\u00e0\\u0080\\u00af\"");
    check("\xed\xa0\x80", 3, "\"\\u00ed\\u00a0\\u0080\"");
    check("\xf4\x90\x80\x80", 4, "\"\\u00f4\\u0090\\u0080\\u0080\"");
    check("\xff\xfe", 2, "\"\\u00ff\\u00fe\"");
    /* A broken sequence does not swallow the valid byte after it. */
    check("\xc3(", 2, "\"\\u00c3(\"");
}

static void utf8_length_reports_sequences(void **state)
{
    (void)state;
    assert_int_equal(json_utf8_length((const unsigned char *)"a", 1), 1);
    assert_int_equal(json_utf8_length((const unsigned char *)"\xc3\xa9", 2), 2);
    assert_int_equal(json_utf8_length((const unsigned char *)"\xc3\xa9", 1), 0);
    assert_int_equal(json_utf8_length((const unsigned char *)"\xef\xbf\xbf", 3), 3);
    assert_int_equal(json_utf8_length((const unsigned char *)"\xf5\x80\x80\x80", 4), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(plain_ascii_is_quoted_as_is),
        cmocka_unit_test(quotes_and_backslashes_are_escaped),
        cmocka_unit_test(control_characters_are_escaped),
        cmocka_unit_test(valid_utf8_is_copied),
        cmocka_unit_test(invalid_utf8_bytes_are_escaped_one_by_one),
        cmocka_unit_test(utf8_length_reports_sequences),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
