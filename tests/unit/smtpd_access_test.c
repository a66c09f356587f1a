/* Unit tests for smtpd/smtpd_access_keys and smtpd_access_action: the
 * order of access(5) lookup keys and the parsing of table values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "smtpd/smtpd_access.h"

/* keys joined as "key|key|..." with "*" after each key pattern tables see. */
static char *joined(const access_keys *k)
{
    vstr out = VSTR_INIT;

    for (size_t i = 0; i < k->keys->argc; i++) {
        if (i)
            vstr_append_char(&out, '|');
        vstr_append_str(&out, k->keys->argv[i]);
        if (k->whole[i])
            vstr_append_char(&out, '*');
    }
    return vstr_steal(&out);
}

static void expect_address(const char *addr, int parent, const char *want)
{
    addr_find_opts o = {.delimiters = "+"};
    access_keys k;
    char *got;

    access_keys_init(&k);
    access_keys_address(&k, addr, &o, parent, "<>");
    got = joined(&k);
    assert_string_equal(got, want);
    free(got);
    access_keys_release(&k);
}

static void address_keys_in_postfix_order(void **state)
{
    (void)state;
    expect_address("user+ext@sub.example.com", 1,
                   "user+ext@sub.example.com*|user@sub.example.com|sub.example.com|"
                   "example.com|com|user+ext@|user@");
    expect_address("user@sub.example.com", 0,
                   "user@sub.example.com*|sub.example.com|.example.com|.com|user@");
    expect_address("user", 1, "user*|user@");
    expect_address("user+ext", 1, "user+ext*|user+ext@|user@");
    /* An address literal is looked up as written, without parents. */
    expect_address("u@[192.0.2.1]", 1, "u@[192.0.2.1]*|[192.0.2.1]|u@");
    /* A leading delimiter is no extension. */
    expect_address("+x@example.com", 1, "+x@example.com*|example.com|com|+x@");
}

static void the_null_sender_is_one_key(void **state)
{
    (void)state;
    expect_address("", 1, "<>*");
}

static void host_and_address_keys(void **state)
{
    access_keys k;
    char *got;

    (void)state;
    access_keys_init(&k);
    access_keys_host(&k, "mail.example.com.", 1);
    access_keys_host(&k, "[192.0.2.1]", 1);
    access_keys_ipaddr(&k, "192.0.2.1");
    access_keys_ipaddr(&k, "2001:db8::1");
    access_keys_ipaddr(&k, "2001:db8:1:2:3:4:5:6");
    got = joined(&k);
    assert_string_equal(got, "mail.example.com*|example.com|com|[192.0.2.1]*|"
                             "192.0.2.1*|192.0.2|192.0|192|"
                             "2001:db8::1*|2001:db8|2001|"
                             "2001:db8:1:2:3:4:5:6*|2001:db8:1:2:3:4:5|2001:db8:1:2:3:4|"
                             "2001:db8:1:2:3|2001:db8:1:2|2001:db8:1|2001:db8|2001");
    free(got);
    access_keys_release(&k);
}

typedef struct expect {
    const char *value;
    access_action_kind kind;
    int code, is_defer;
    const char *dsn, *text;
} expect;

static void actions_parse(void **state)
{
    static const expect cases[] = {
        {"OK", ACCESS_OK, 0, 0, "", ""},
        {"ok", ACCESS_OK, 0, 0, "", ""},
        {"12345", ACCESS_OK, 0, 0, "", ""},
        {"DUNNO", ACCESS_DUNNO, 0, 0, "", ""},
        {"REJECT", ACCESS_REJECT, 0, 0, "", ""},
        {"REJECT  go away now", ACCESS_REJECT, 0, 0, "", "go away now"},
        {"DEFER try later", ACCESS_REJECT, 0, 1, "", "try later"},
        {"550 no such user", ACCESS_REJECT, 550, 0, "", "no such user"},
        {"550 5.1.1 no such user", ACCESS_REJECT, 550, 0, "5.1.1", "no such user"},
        {"421 4.7.0 closing", ACCESS_REJECT, 421, 0, "4.7.0", "closing"},
        {"450", ACCESS_REJECT, 450, 0, "", ""},
        {"DEFER_IF_REJECT", ACCESS_DEFER_IF_REJECT, 0, 0, "", ""},
        {"DEFER_IF_PERMIT blocklist down", ACCESS_DEFER_IF_PERMIT, 0, 0, "", "blocklist down"},
        {"HOLD", ACCESS_HOLD, 0, 0, "", ""},
        {"DISCARD spam", ACCESS_DISCARD, 0, 0, "", "spam"},
        {"PREPEND X-Seen: yes", ACCESS_PREPEND, 0, 0, "", "X-Seen: yes"},
        {"REDIRECT abuse@example.com", ACCESS_REDIRECT, 0, 0, "", "abuse@example.com"},
        {"FILTER smtp:[127.0.0.1]:10025", ACCESS_FILTER, 0, 0, "", "smtp:[127.0.0.1]:10025"},
        {"WARN odd client", ACCESS_WARN, 0, 0, "", "odd client"},
        {"strict_class", ACCESS_RESTRICTIONS, 0, 0, "", "strict_class"},
        {"reject_unauth_destination, permit", ACCESS_RESTRICTIONS, 0, 0, "",
         "reject_unauth_destination, permit"},
    };
    access_action a;
    vstr why = VSTR_INIT;

    (void)state;
    access_action_init(&a);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const expect *e = &cases[i];

        assert_int_equal(access_action_parse(e->value, &a, &why), 0);
        assert_int_equal(a.kind, e->kind);
        assert_int_equal(a.code, e->code);
        assert_int_equal(a.is_defer, e->is_defer);
        assert_string_equal(vstr_str(&a.dsn), e->dsn);
        assert_string_equal(vstr_str(&a.text), e->text);
    }
    access_action_release(&a);
    vstr_release(&why);
}

static void bad_values_are_refused_with_a_reason(void **state)
{
    static const char *const bad[] = {
        "", "   ", "600 too big", "399 too small", "250 fine", "550 4.1.1 wrong class",
        "PREPEND", "REDIRECT", "FILTER ",
    };
    access_action a;
    vstr why = VSTR_INIT;
    char *huge = malloc(ACCESS_ACTION_MAX + 10);

    (void)state;
    access_action_init(&a);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        vstr_reset(&why);
        assert_int_equal(access_action_parse(bad[i], &a, &why), -1);
        assert_true(vstr_len(&why) > 0);
    }
    memset(huge, 'a', ACCESS_ACTION_MAX + 9);
    huge[ACCESS_ACTION_MAX + 9] = 0;
    assert_int_equal(access_action_parse(huge, &a, &why), -1);
    free(huge);
    access_action_release(&a);
    vstr_release(&why);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(address_keys_in_postfix_order),
        cmocka_unit_test(the_null_sender_is_one_key),
        cmocka_unit_test(host_and_address_keys),
        cmocka_unit_test(actions_parse),
        cmocka_unit_test(bad_values_are_refused_with_a_reason),
    };

    return cmocka_run_group_tests_name("smtpd_access", tests, NULL, NULL);
}
