/* Unit tests for global/sasl_cyrus: strict base64 and security options. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "global/sasl_cyrus.h"
#include "util/vstr.h"

static void decodes(const char *text, const char *want, size_t want_len)
{
    vstr out = VSTR_INIT;

    assert_int_equal(sasl_base64_decode(text, strlen(text), &out), 0);
    assert_int_equal(vstr_len(&out), want_len);
    assert_memory_equal(vstr_str(&out), want, want_len);
    vstr_release(&out);
}

static void refuses(const char *text)
{
    vstr out = VSTR_INIT;

    assert_int_equal(sasl_base64_decode(text, strlen(text), &out), -1);
    vstr_release(&out);
}

static void base64_decodes_canonical_text(void **state)
{
    (void)state;
    decodes("", "", 0);
    decodes("YQ==", "a", 1);
    decodes("YWI=", "ab", 2);
    decodes("YWJj", "abc", 3);
    decodes("AGFsaWNlAHB3", "\0alice\0pw", 9);
    decodes("+/+/", "\xfb\xff\xbf", 3);
}

static void base64_refuses_anything_else(void **state)
{
    (void)state;
    refuses("YQ");       /* no padding */
    refuses("YQ=");      /* short */
    refuses("Y===");     /* too much padding */
    refuses("=YQ=");     /* padding first */
    refuses("YQ==YQ=="); /* padding inside */
    refuses("YR==");     /* unused bits set: not canonical */
    refuses("YWJ=");     /* ditto */
    refuses("YW J");     /* white space */
    refuses("YWJ*");
    refuses("*");
    {
        vstr out = VSTR_INIT;

        assert_int_equal(sasl_base64_decode("YQ\0=", 4, &out), -1); /* NUL */
        vstr_release(&out);
    }
}

static void base64_round_trips_every_length(void **state)
{
    vstr enc = VSTR_INIT, dec = VSTR_INIT;
    char data[70];

    (void)state;
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (char)(i * 37 + 11);
    for (size_t n = 0; n <= sizeof(data); n++) {
        sasl_base64_encode(data, n, &enc);
        assert_int_equal(vstr_len(&enc), (n + 2) / 3 * 4);
        assert_int_equal(sasl_base64_decode(vstr_str(&enc), vstr_len(&enc), &dec), 0);
        assert_int_equal(vstr_len(&dec), n);
        assert_memory_equal(vstr_str(&dec), data, n);
    }
    sasl_base64_encode("ab", 2, &enc);
    assert_string_equal(vstr_str(&enc), "YWI=");
    vstr_release(&enc);
    vstr_release(&dec);
}

static void security_options_map_to_cyrus_flags(void **state)
{
    vstr err = VSTR_INIT;
    unsigned flags = 99;

    (void)state;
    assert_int_equal(sasl_security_flags("", &flags, &err), 0);
    assert_int_equal(flags, 0);
    assert_int_equal(sasl_security_flags("noplaintext, noanonymous", &flags, &err), 0);
    assert_int_equal(flags, SASL_SEC_NOPLAINTEXT | SASL_SEC_NOANONYMOUS);
    assert_int_equal(
        sasl_security_flags("noactive nodictionary,mutual_auth forward_secrecy", &flags, &err), 0);
    assert_int_equal(flags, SASL_SEC_NOACTIVE | SASL_SEC_NODICTIONARY | SASL_SEC_MUTUAL_AUTH |
                                SASL_SEC_FORWARD_SECRECY);
    assert_int_equal(sasl_security_flags("noanonymous, nosuch", &flags, &err), -1);
    assert_string_equal(vstr_str(&err), "unknown SASL security option \"nosuch\"");
    vstr_release(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(base64_decodes_canonical_text),
        cmocka_unit_test(base64_refuses_anything_else),
        cmocka_unit_test(base64_round_trips_every_length),
        cmocka_unit_test(security_options_map_to_cyrus_flags),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
