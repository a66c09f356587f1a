/* Unit tests for global/tls_client: security level names, policy table
 * entries (level and attributes, bad ones refused), the trust names, and
 * which TLSA records DANE for SMTP can use. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "global/tls_client.h"

static void levels_parse_case_blind_and_order_by_strength(void **state)
{
    tls_level l;

    (void)state;
    assert_int_equal(tls_level_parse("VERIFY", &l), 0);
    assert_int_equal(l, TLS_LEV_VERIFY);
    assert_int_equal(tls_level_parse("dane-only", &l), 0);
    assert_string_equal(tls_level_name(l), "dane-only");
    assert_int_equal(tls_level_parse("maybe", &l), -1);
    assert_false(tls_level_required(TLS_LEV_MAY));
    assert_false(tls_level_required(TLS_LEV_DANE));
    assert_true(tls_level_required(TLS_LEV_ENCRYPT));
    assert_true(tls_level_required(TLS_LEV_SECURE));
    assert_true(TLS_LEV_SECURE > TLS_LEV_VERIFY && TLS_LEV_VERIFY > TLS_LEV_ENCRYPT);
}

static void a_policy_entry_has_a_level_and_its_attributes(void **state)
{
    tls_policy p;
    vstr err = VSTR_INIT;

    (void)state;
    tls_policy_init(&p);
    assert_int_equal(tls_policy_parse("secure match=mx.example.com:.example.com "
                                      "protocols=>=TLSv1.3 ciphers=HIGH",
                                      &p, &err),
                     0);
    assert_int_equal(p.level, TLS_LEV_SECURE);
    assert_string_equal(vstr_str(&p.match), "mx.example.com:.example.com");
    assert_string_equal(vstr_str(&p.protocols), ">=TLSv1.3");
    assert_string_equal(vstr_str(&p.ciphers), "high");
    /* A second parse starts afresh. */
    assert_int_equal(tls_policy_parse("  may\t", &p, &err), 0);
    assert_int_equal(p.level, TLS_LEV_MAY);
    assert_int_equal(vstr_len(&p.match), 0);
    assert_int_equal(vstr_len(&p.ciphers), 0);
    tls_policy_release(&p);
    vstr_release(&err);
}

static void bad_entries_are_refused_with_a_reason(void **state)
{
    tls_policy p;
    vstr err = VSTR_INIT;
    char big[TLS_POLICY_MAX + 10];

    (void)state;
    tls_policy_init(&p);
    assert_int_equal(tls_policy_parse("", &p, &err), -1);
    assert_string_equal(vstr_str(&err), "unknown TLS security level \"\"");
    assert_int_equal(tls_policy_parse("strict", &p, &err), -1);
    assert_string_equal(vstr_str(&err), "unknown TLS security level \"strict\"");
    assert_int_equal(tls_policy_parse("verify tafile=/x", &p, &err), -1);
    assert_string_equal(vstr_str(&err), "unknown TLS policy attribute \"tafile=/x\"");
    assert_int_equal(tls_policy_parse("verify match", &p, &err), -1);
    assert_int_equal(tls_policy_parse("encrypt ciphers=strong", &p, &err), -1);
    assert_string_equal(vstr_str(&err), "unknown cipher grade \"strong\"");
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    memcpy(big, "may ", 4);
    assert_int_equal(tls_policy_parse(big, &p, &err), -1);
    tls_policy_release(&p);
    vstr_release(&err);
}

static void trust_names_are_postfix_words(void **state)
{
    (void)state;
    assert_string_equal(tls_trust_name(TLS_TRUST_ANONYMOUS), "Anonymous");
    assert_string_equal(tls_trust_name(TLS_TRUST_UNTRUSTED), "Untrusted");
    assert_string_equal(tls_trust_name(TLS_TRUST_TRUSTED), "Trusted");
    assert_string_equal(tls_trust_name(TLS_TRUST_VERIFIED), "Verified");
}

static void tlsa_records_dane_for_smtp_cannot_use_are_refused(void **state)
{
    unsigned char rd[3 + 64];
    tls_tlsa t;

    (void)state;
    memset(rd, 0xab, sizeof(rd));
    rd[0] = 3, rd[1] = 1, rd[2] = 1;
    assert_int_equal(tls_tlsa_parse(rd, 3 + 32, &t), 0);
    assert_int_equal(t.usage, 3);
    assert_int_equal(t.selector, 1);
    assert_int_equal(t.mtype, 1);
    assert_int_equal(t.len, 32);
    assert_ptr_equal(t.data, rd + 3);
    /* SHA2-256 data must be 32 bytes, SHA2-512 64. */
    assert_int_equal(tls_tlsa_parse(rd, 3 + 31, &t), -1);
    rd[2] = 2;
    assert_int_equal(tls_tlsa_parse(rd, 3 + 64, &t), 0);
    /* Exact match (0): any length of data; DANE-TA with a certificate. */
    rd[0] = 2, rd[1] = 0, rd[2] = 0;
    assert_int_equal(tls_tlsa_parse(rd, 3 + 5, &t), 0);
    /* PKIX usages (0, 1) are not for SMTP (RFC 7672 3.1.3); nor are
     * unknown selectors or matching types, or no data at all. */
    rd[0] = 1;
    assert_int_equal(tls_tlsa_parse(rd, 3 + 32, &t), -1);
    rd[0] = 3, rd[1] = 2;
    assert_int_equal(tls_tlsa_parse(rd, 3 + 32, &t), -1);
    rd[1] = 1, rd[2] = 3;
    assert_int_equal(tls_tlsa_parse(rd, 3 + 32, &t), -1);
    assert_int_equal(tls_tlsa_parse(rd, 3, &t), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(levels_parse_case_blind_and_order_by_strength),
        cmocka_unit_test(a_policy_entry_has_a_level_and_its_attributes),
        cmocka_unit_test(bad_entries_are_refused_with_a_reason),
        cmocka_unit_test(trust_names_are_postfix_words),
        cmocka_unit_test(tlsa_records_dane_for_smtp_cannot_use_are_refused),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
