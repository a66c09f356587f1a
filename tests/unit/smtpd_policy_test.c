/* Unit tests for smtpd/smtpd_policy_proto: policy request lines and the
 * parsing of policy server replies, with their bounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "smtpd/smtpd_policy.h"

/* Feed text's lines (LF-separated) to a parser: the last status. */
static int feed(policy_reply *r, const char *text, vstr *why)
{
    int st = 0;

    while (st == 0 && *text) {
        const char *nl = strchr(text, '\n');
        size_t len = nl ? (size_t)(nl - text) : strlen(text);

        st = policy_reply_line(r, text, len, why);
        text += len + (nl != NULL);
    }
    return st;
}

static void expect_action(const char *reply, const char *action)
{
    policy_reply r;
    vstr why = VSTR_INIT;

    policy_reply_init(&r);
    assert_int_equal(feed(&r, reply, &why), 1);
    assert_string_equal(vstr_str(&r.action), action);
    policy_reply_release(&r);
    vstr_release(&why);
}

static void expect_refused(const char *reply, const char *reason)
{
    policy_reply r;
    vstr why = VSTR_INIT;

    policy_reply_init(&r);
    assert_int_equal(feed(&r, reply, &why), -1);
    assert_non_null(strstr(vstr_str(&why), reason));
    policy_reply_release(&r);
    vstr_release(&why);
}

static void replies_parse(void **state)
{
    (void)state;
    expect_action("action=DUNNO\n\n", "DUNNO");
    expect_action("action=REJECT go away = now\n\n", "REJECT go away = now");
    expect_action("foo=bar\naction=OK\nbaz=\n\n", "OK");
    expect_action("action=DEFER_IF_PERMIT later\r\n\r\n", "DEFER_IF_PERMIT later");
}

static void incomplete_reply_wants_more(void **state)
{
    policy_reply r;
    vstr why = VSTR_INIT;

    (void)state;
    policy_reply_init(&r);
    assert_int_equal(feed(&r, "action=OK\n", &why), 0);
    assert_int_equal(policy_reply_line(&r, "", 0, &why), 1);
    policy_reply_release(&r);
    vstr_release(&why);
}

static void bad_replies_are_refused(void **state)
{
    vstr many = VSTR_INIT;
    char *long_line = malloc(POLICY_LINE_MAX + 20);

    (void)state;
    expect_refused("\n", "no action");
    expect_refused("foo=bar\n\n", "no action");
    expect_refused("action=\n\n", "empty");
    expect_refused("action=OK\naction=REJECT\n\n", "two actions");
    expect_refused("hello\n\n", "not name=value");
    for (int i = 0; i <= POLICY_LINES_MAX; i++)
        vstr_append_str(&many, "x=y\n");
    vstr_append_str(&many, "action=OK\n\n");
    expect_refused(vstr_str(&many), "more than");
    memcpy(long_line, "action=", 7);
    memset(long_line + 7, 'a', POLICY_LINE_MAX);
    strcpy(long_line + 7 + POLICY_LINE_MAX, "\n\n");
    expect_refused(long_line, "longer than");
    vstr_release(&many);
    free(long_line);
}

/* A NUL, a CR inside the line (it would reach the SMTP reply) or another
 * control byte makes the reply a failed try; a tab and a final CR do not. */
static void control_bytes_are_refused(void **state)
{
    static const struct {
        const char *line;
        size_t len; /* 0: strlen */
        int result;
    } cases[] = {
        {"action=O\0K", 10, -1},
        {"action=REJECT a\rb", 0, -1},
        {"action=REJECT a\033[2Jb", 0, -1},
        {"action=REJECT a\177", 0, -1},
        {"action=REJECT a\tb", 0, 0},
        {"action=REJECT ab\r", 0, 0},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        policy_reply r;
        vstr why = VSTR_INIT;
        size_t len = cases[i].len ? cases[i].len : strlen(cases[i].line);

        policy_reply_init(&r);
        assert_int_equal(policy_reply_line(&r, cases[i].line, len, &why), cases[i].result);
        if (cases[i].result < 0)
            assert_non_null(strstr(vstr_str(&why), "control byte"));
        policy_reply_release(&r);
        vstr_release(&why);
    }
}

static void request_values_cannot_end_a_line(void **state)
{
    vstr req = VSTR_INIT;

    (void)state;
    policy_request_add(&req, "helo_name", "a.example");
    policy_request_add(&req, "sender", "");
    policy_request_add(&req, "ccert_subject", "x\nrecipient=evil\r\n\x7f\t");
    assert_string_equal(vstr_str(&req),
                        "helo_name=a.example\nsender=\nccert_subject=x?recipient=evil????\n");
    vstr_release(&req);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(replies_parse),
        cmocka_unit_test(incomplete_reply_wants_more),
        cmocka_unit_test(bad_replies_are_refused),
        cmocka_unit_test(control_bytes_are_refused),
        cmocka_unit_test(request_values_cannot_end_a_line),
    };

    return cmocka_run_group_tests_name("smtpd_policy", tests, NULL, NULL);
}
