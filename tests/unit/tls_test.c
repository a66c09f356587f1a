/* Unit tests for global/tls: Postfix's protocol syntax, cipher grades and
 * exclusions, and contexts made from them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/ssl.h>

#include "global/tls.h"

/* Parse spec and expect this mask and range. */
static void protocols_ok(const char *spec, int mask, int min, int max)
{
    vstr err = VSTR_INIT;
    tls_protocols p;

    if (tls_protocols_parse(spec, &p, &err) != 0)
        fail_msg("\"%s\": %s", spec, vstr_str(&err));
    assert_int_equal(p.mask, mask);
    assert_int_equal(p.min_version, min);
    assert_int_equal(p.max_version, max);
    vstr_release(&err);
}

/* Parse spec and expect a failure whose reason contains why. */
static void protocols_bad(const char *spec, const char *why)
{
    vstr err = VSTR_INIT;
    tls_protocols p;

    assert_int_equal(tls_protocols_parse(spec, &p, &err), -1);
    if (strstr(vstr_str(&err), why) == NULL)
        fail_msg("\"%s\": reason \"%s\" lacks \"%s\"", spec, vstr_str(&err), why);
    vstr_release(&err);
}

#define T12_13 (TLS_PROTO_TLSv1_2 | TLS_PROTO_TLSv1_3)
#define ALL_TLS (TLS_PROTO_TLSv1 | TLS_PROTO_TLSv1_1 | T12_13)

static void test_protocols_lower_bound(void **state)
{
    (void)state;
    protocols_ok(">=TLSv1.2", T12_13, TLS1_2_VERSION, TLS1_3_VERSION);
    protocols_ok(">=TLSv1.3", TLS_PROTO_TLSv1_3, TLS1_3_VERSION, TLS1_3_VERSION);
    protocols_ok(">=TLSv1, <=TLSv1.2", TLS_PROTO_TLSv1 | TLS_PROTO_TLSv1_1 | TLS_PROTO_TLSv1_2,
                 TLS1_VERSION, TLS1_2_VERSION);
}

static void test_protocols_exclusions(void **state)
{
    (void)state;
    protocols_ok("!SSLv2, !SSLv3, !TLSv1, !TLSv1.1", T12_13, TLS1_2_VERSION, TLS1_3_VERSION);
    protocols_ok("!SSLv2:!SSLv3", ALL_TLS, TLS1_VERSION, TLS1_3_VERSION);
    /* A gap: the range stays, the mask says what is out. */
    protocols_ok("!TLSv1.2", ALL_TLS & ~TLS_PROTO_TLSv1_2, TLS1_VERSION, TLS1_3_VERSION);
}

static void test_protocols_inclusions(void **state)
{
    (void)state;
    protocols_ok("TLSv1.2 TLSv1.3", T12_13, TLS1_2_VERSION, TLS1_3_VERSION);
    protocols_ok("TLSv1.3", TLS_PROTO_TLSv1_3, TLS1_3_VERSION, TLS1_3_VERSION);
    /* SSLv3 is accepted in the syntax, never enabled. */
    protocols_ok("SSLv3, TLSv1.2", TLS_PROTO_TLSv1_2, TLS1_2_VERSION, TLS1_2_VERSION);
    protocols_ok("", ALL_TLS, TLS1_VERSION, TLS1_3_VERSION);
    protocols_ok(" \t,", ALL_TLS, TLS1_VERSION, TLS1_3_VERSION);
}

static void test_protocols_junk(void **state)
{
    (void)state;
    protocols_bad("TLSv1.4", "unknown TLS protocol \"TLSv1.4\"");
    protocols_bad("tlsv1.2", "unknown TLS protocol");
    protocols_bad(">TLSv1.2", "unknown TLS protocol \">TLSv1.2\"");
    protocols_bad("=>TLSv1.2", "unknown TLS protocol");
    protocols_bad("!", "unknown TLS protocol \"!\"");
    protocols_bad(">=", "unknown TLS protocol");
    protocols_bad("SSLv2 SSLv3", "leaves no TLS protocol enabled");
    protocols_bad(">=TLSv1.3 <=TLSv1.2", "leaves no TLS protocol enabled");
    protocols_bad("!TLSv1 !TLSv1.1 !TLSv1.2 !TLSv1.3", "leaves no TLS protocol enabled");
}

static void test_protocols_overlong(void **state)
{
    char *spec = malloc(TLS_SPEC_MAX + 2);

    (void)state;
    memset(spec, ' ', TLS_SPEC_MAX + 1);
    spec[TLS_SPEC_MAX + 1] = 0;
    protocols_bad(spec, "longer than");
    free(spec);
}

static void test_cipher_exclusions(void **state)
{
    vstr out = VSTR_INIT, err = VSTR_INIT;

    (void)state;
    assert_int_equal(tls_cipher_list("HIGH:@STRENGTH", "", &out, &err), 0);
    assert_string_equal(vstr_str(&out), "HIGH:@STRENGTH");
    assert_int_equal(tls_cipher_list("HIGH", "aNULL, RC4 DES-CBC3-SHA:kRSA", &out, &err), 0);
    assert_string_equal(vstr_str(&out), "HIGH:!aNULL:!RC4:!DES-CBC3-SHA:!kRSA");
    assert_int_equal(tls_cipher_list("HIGH", "@SECLEVEL=0", &out, &err), -1);
    assert_string_equal(vstr_str(&err), "bad cipher exclusion \"@SECLEVEL=0\"");
    assert_int_equal(tls_cipher_list("HIGH", "!RC4", &out, &err), -1);
    assert_int_equal(tls_cipher_list("HIGH", "-ALL", &out, &err), -1);
    vstr_release(&out);
    vstr_release(&err);
}

static tls_params params(const char *protocols, const char *grade, const char *exclude)
{
    tls_params p;

    memset(&p, 0, sizeof(p));
    p.protocols = protocols;
    p.grade_list = grade;
    p.exclude = exclude;
    p.fingerprint_digest = "sha256";
    return p;
}

static void test_ctx_settings(void **state)
{
    vstr err = VSTR_INIT;
    tls_params p = params(">=TLSv1.2", "aNULL:-aNULL:HIGH:MEDIUM:+RC4:@STRENGTH", "");
    tls_ctx *ctx;

    (void)state;
    ctx = tls_ctx_new(TLS_ROLE_SERVER, &p, &err);
    assert_non_null(ctx);
    assert_int_equal(SSL_CTX_get_min_proto_version(tls_ctx_ssl_ctx(ctx)), TLS1_2_VERSION);
    assert_int_equal(SSL_CTX_get_max_proto_version(tls_ctx_ssl_ctx(ctx)), TLS1_3_VERSION);
    assert_false(tls_ctx_has_key(ctx));
    /* No file to load is not an error; a missing one names itself. */
    assert_int_equal(tls_ctx_load_keys(ctx, "", "", "", "", "", &err), 0);
    assert_int_equal(tls_ctx_load_keys(ctx, "", "/nonexistent/cert.pem", "", "", "", &err), -1);
    assert_non_null(
        strstr(vstr_str(&err), "cannot load certificate chain from /nonexistent/cert.pem"));
    assert_int_equal(tls_ctx_load_CA(ctx, "/nonexistent/ca.pem", "", &err), -1);
    assert_non_null(strstr(vstr_str(&err), "/nonexistent/ca.pem"));
    tls_ctx_free(ctx);

    p = params("TLSv1.5", "HIGH", "");
    assert_null(tls_ctx_new(TLS_ROLE_CLIENT, &p, &err));
    assert_non_null(strstr(vstr_str(&err), "TLS protocols: unknown TLS protocol"));
    p = params("", "NOSUCHCIPHER", "");
    assert_null(tls_ctx_new(TLS_ROLE_CLIENT, &p, &err));
    assert_non_null(strstr(vstr_str(&err), "no usable cipher in \"NOSUCHCIPHER\""));
    p = params("", "HIGH", "");
    p.fingerprint_digest = "sha3000";
    assert_null(tls_ctx_new(TLS_ROLE_CLIENT, &p, &err));
    assert_string_equal(vstr_str(&err), "unknown fingerprint digest \"sha3000\"");
    vstr_release(&err);
}

/* A gap inside the range: the per-version switches, on the context too. */
static void test_protocol_gap_options(void **state)
{
    vstr err = VSTR_INIT;
    tls_protocols pr;
    tls_params p = params("TLSv1 TLSv1.2", "HIGH", "");
    tls_ctx *ctx;

    (void)state;
    assert_int_equal(tls_protocols_parse("TLSv1 TLSv1.2", &pr, &err), 0);
    assert_true(tls_protocols_gap_options(&pr) == SSL_OP_NO_TLSv1_1);
    assert_int_equal(tls_protocols_parse("TLSv1 TLSv1.3", &pr, &err), 0);
    assert_true(tls_protocols_gap_options(&pr) == (SSL_OP_NO_TLSv1_1 | SSL_OP_NO_TLSv1_2));
    assert_int_equal(tls_protocols_parse(">=TLSv1.2", &pr, &err), 0);
    assert_true(tls_protocols_gap_options(&pr) == 0);
    assert_int_equal(tls_protocols_parse("!TLSv1.1", &pr, &err), 0);
    assert_true(tls_protocols_gap_options(&pr) == SSL_OP_NO_TLSv1_1);
    ctx = tls_ctx_new(TLS_ROLE_CLIENT, &p, &err);
    assert_non_null(ctx);
    assert_true((SSL_CTX_get_options(tls_ctx_ssl_ctx(ctx)) & SSL_OP_NO_TLSv1_1) != 0);
    assert_true((SSL_CTX_get_options(tls_ctx_ssl_ctx(ctx)) & SSL_OP_NO_TLSv1_2) == 0);
    tls_ctx_free(ctx);
    vstr_release(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_protocols_lower_bound), cmocka_unit_test(test_protocols_exclusions),
        cmocka_unit_test(test_protocols_inclusions),  cmocka_unit_test(test_protocols_junk),
        cmocka_unit_test(test_protocols_overlong),    cmocka_unit_test(test_cipher_exclusions),
        cmocka_unit_test(test_ctx_settings),          cmocka_unit_test(test_protocol_gap_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
