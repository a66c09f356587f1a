/* Unit tests for global/xtext (RFC 3461 xtext) and global/smtputf8. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "global/smtputf8.h"
#include "global/xtext.h"

static void encode_escapes_plus_equals_and_non_printables(void **state)
{
    vstr out = VSTR_INIT;

    (void)state;
    xtext_encode(&out, "a+b=c d\x7f\xc3\xa9~!");
    assert_string_equal(vstr_str(&out), "a+2Bb+3Dc+20d+7F+C3+A9~!");
    xtext_encode(&out, "x"); /* appends */
    assert_string_equal(vstr_str(&out), "a+2Bb+3Dc+20d+7F+C3+A9~!x");
    vstr_release(&out);
}

static void round_trip_of_every_printable_byte(void **state)
{
    vstr enc = VSTR_INIT, dec = VSTR_INIT;
    char text[256];
    size_t n = 0;

    (void)state;
    for (int c = 0x20; c < 0x7f; c++)
        text[n++] = (char)c;
    for (int c = 0x80; c < 0x100; c++)
        text[n++] = (char)c;
    text[n] = 0;
    xtext_encode(&enc, text);
    assert_int_equal(xtext_decode(vstr_str(&enc), vstr_len(&enc), XTEXT_MAX, &dec), 0);
    assert_int_equal(vstr_len(&dec), n);
    assert_memory_equal(vstr_str(&dec), text, n);
    vstr_release(&enc);
    vstr_release(&dec);
}

static void decode_refuses_bad_hex(void **state)
{
    vstr out = VSTR_INIT;

    (void)state;
    assert_int_equal(xtext_decode("a+2Bb", 5, 100, &out), 0);
    assert_string_equal(vstr_str(&out), "a+b");
    assert_int_equal(xtext_decode("a+2bb", 5, 100, &out), -1); /* hex is upper case */
    assert_int_equal(xtext_decode("a+G0", 4, 100, &out), -1);
    assert_int_equal(xtext_decode("a+2", 3, 100, &out), -1);
    assert_int_equal(xtext_decode("a+", 2, 100, &out), -1);
    assert_int_equal(xtext_decode("a+0D", 4, 100, &out), -1); /* no control characters */
    assert_int_equal(xtext_decode("a+7F", 4, 100, &out), -1);
    assert_int_equal(xtext_decode("a=b", 3, 100, &out), -1);
    assert_int_equal(xtext_decode("a b", 3, 100, &out), -1);
    assert_int_equal(xtext_decode("a\0b", 3, 100, &out), -1); /* a NUL within len */
    vstr_release(&out);
}

static void decode_bounds_input_and_output(void **state)
{
    vstr out = VSTR_INIT;

    (void)state;
    assert_int_equal(xtext_decode("abcd", 4, 3, &out), -1);
    assert_int_equal(xtext_decode("abc", 3, 3, &out), 0);
    assert_int_equal(xtext_decode("+41+42+43", 9, 3, &out), 0);
    assert_string_equal(vstr_str(&out), "ABC");
    /* len bounds the input even when more follows, a "+XX" cut short too. */
    assert_int_equal(xtext_decode("ab+41", 2, 100, &out), 0);
    assert_string_equal(vstr_str(&out), "ab");
    assert_int_equal(xtext_decode("ab+41", 4, 100, &out), -1);
    assert_int_equal(xtext_decode("", 0, 100, &out), 0);
    assert_int_equal(vstr_len(&out), 0);
    vstr_release(&out);
}

static void eight_bit_addresses_need_smtputf8(void **state)
{
    (void)state;
    assert_false(smtputf8_address("user@example.com"));
    assert_false(smtputf8_address(""));
    assert_true(smtputf8_address("j\xc3\xb6rg@example.com"));
    assert_true(smtputf8_address("user@\x80"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(encode_escapes_plus_equals_and_non_printables),
        cmocka_unit_test(round_trip_of_every_printable_byte),
        cmocka_unit_test(decode_refuses_bad_hex),
        cmocka_unit_test(decode_bounds_input_and_output),
        cmocka_unit_test(eight_bit_addresses_need_smtputf8),
    };

    return cmocka_run_group_tests_name("xtext", tests, NULL, NULL);
}
