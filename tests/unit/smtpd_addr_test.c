/* Unit tests for smtpd/smtpd_addr: MAIL FROM:/RCPT TO: addresses and ESMTP parameters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "global/rec.h"
#include "smtpd/smtpd_addr.h"

typedef struct fixture {
    smtpd_args a;
    vstr reply;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));

    smtpd_args_init(&f->a);
    vstr_init(&f->reply);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;

    smtpd_args_release(&f->a);
    vstr_release(&f->reply);
    free(f);
    return 0;
}

/* Parse and expect success with this internal-form address. */
static void ok(fixture *f, smtpd_args_kind kind, const char *text, const char *addr)
{
    if (smtpd_args_parse(&f->a, kind, text, &f->reply) != 0)
        fail_msg("\"%s\" refused: %s", text, vstr_str(&f->reply));
    assert_string_equal(vstr_str(&f->a.addr), addr);
}

/* Parse and expect this reply. */
static void bad(fixture *f, smtpd_args_kind kind, const char *text, const char *reply)
{
    if (smtpd_args_parse(&f->a, kind, text, &f->reply) == 0)
        fail_msg("\"%s\" accepted as \"%s\"", text, vstr_str(&f->a.addr));
    assert_string_equal(vstr_str(&f->reply), reply);
}

static void paths_in_their_usual_forms(void **state)
{
    fixture *f = *state;

    ok(f, SMTPD_ARGS_MAIL, "FROM:<user@example.com>", "user@example.com");
    ok(f, SMTPD_ARGS_MAIL, "from: <user@example.com>", "user@example.com");
    ok(f, SMTPD_ARGS_MAIL, "FROM:<>", "");
    ok(f, SMTPD_ARGS_RCPT, "TO:<postmaster>", "postmaster");
    ok(f, SMTPD_ARGS_RCPT, "To:<u.v-w+x@sub.example.com.>", "u.v-w+x@sub.example.com.");
    ok(f, SMTPD_ARGS_RCPT, "TO:<u@[192.0.2.1]>", "u@[192.0.2.1]");
    ok(f, SMTPD_ARGS_RCPT, "TO:<u@[IPv6:2001:db8::1]>", "u@[IPv6:2001:db8::1]");
    /* Old clients without brackets. */
    ok(f, SMTPD_ARGS_MAIL, "FROM:user@example.com SIZE=10", "user@example.com");
    assert_int_equal(f->a.size, 10);
    /* SMTPUTF8 addresses pass as bytes. */
    ok(f, SMTPD_ARGS_RCPT,
       "TO:<j\xc3\xb6rg@b\xc3\xbc"
       "cher.example>",
       "j\xc3\xb6rg@b\xc3\xbc"
       "cher.example");
}

static void quoted_local_parts_come_out_unquoted(void **state)
{
    fixture *f = *state;

    ok(f, SMTPD_ARGS_RCPT, "TO:<\"john doe\"@example.com>", "john doe@example.com");
    ok(f, SMTPD_ARGS_RCPT, "TO:<\"a\\\"b\"@example.com>", "a\"b@example.com");
    /* The routing trick stays visible to the relay check: the local part
     * holds '@'. */
    ok(f, SMTPD_ARGS_RCPT, "TO:<\"user@remote.example\"@here.example>",
       "user@remote.example@here.example");
}

static void source_routes_are_dropped(void **state)
{
    fixture *f = *state;

    ok(f, SMTPD_ARGS_RCPT, "TO:<@here.example:user@remote.example>", "user@remote.example");
    ok(f, SMTPD_ARGS_RCPT, "TO:<@a.example,@b.example:user@c.example>", "user@c.example");
    bad(f, SMTPD_ARGS_RCPT, "TO:<@a.example user@c.example>",
        "501 5.1.3 Bad recipient address syntax");
}

static void malformed_paths_are_refused_with_501(void **state)
{
    fixture *f = *state;
    static const char *const senders[] = {
        "FROM:<user@>",
        "FROM:<@example.com>",
        "FROM:<user@example.com",
        "FROM:<user@exa mple.com>",
        "FROM:<user@example.com>x",
        "FROM:<\"unterminated@x>",
        "FROM:<\"a\x01\"@x>",
        "FROM:<a\tb@x>",
        "FROM:<user@[1.2.3.4>",
        "FROM:<user@[]>",
        "FROM:<\"\"@x>",
        "FROM:<user@a..b>",
    };
    char *long_addr;

    for (size_t i = 0; i < sizeof(senders) / sizeof(senders[0]); i++)
        bad(f, SMTPD_ARGS_MAIL, senders[i], "501 5.1.7 Bad sender address syntax");
    bad(f, SMTPD_ARGS_RCPT, "TO:<>", "501 5.1.3 Bad recipient address syntax");
    bad(f, SMTPD_ARGS_MAIL, "FROM", "501 5.5.4 Syntax: MAIL FROM:<address>");
    bad(f, SMTPD_ARGS_MAIL, "FROM:", "501 5.5.4 Syntax: MAIL FROM:<address>");
    bad(f, SMTPD_ARGS_RCPT, "FROM:<a@b>", "501 5.5.4 Syntax: RCPT TO:<address>");
    /* The bound. */
    long_addr = malloc(SMTPD_ADDR_MAX + 100);
    strcpy(long_addr, "TO:<");
    memset(long_addr + 4, 'a', SMTPD_ADDR_MAX);
    strcpy(long_addr + 4 + SMTPD_ADDR_MAX, "@example.com>");
    bad(f, SMTPD_ARGS_RCPT, long_addr,
        "501 5.1.3 Bad recipient address syntax (longer than 1024 bytes)");
    free(long_addr);
}

static void mail_parameters(void **state)
{
    fixture *f = *state;

    ok(f, SMTPD_ARGS_MAIL,
       "FROM:<a@b.example> SIZE=12345 BODY=8bitmime SMTPUTF8 RET=hdrs ENVID=QQ+2B+3D1",
       "a@b.example");
    assert_int_equal(f->a.size, 12345);
    assert_string_equal(f->a.body, "8BITMIME");
    assert_true(f->a.smtputf8);
    assert_string_equal(f->a.ret, "HDRS");
    assert_true(f->a.has_envid);
    assert_string_equal(vstr_str(&f->a.envid), "QQ+=1");
    /* A second parse starts from nothing. */
    ok(f, SMTPD_ARGS_MAIL, "FROM:<a@b.example>", "a@b.example");
    assert_int_equal(f->a.size, -1);
    assert_null(f->a.body);
    assert_false(f->a.has_envid);

    bad(f, SMTPD_ARGS_MAIL, "FROM:<a@b> SIZE=12x", "501 5.5.4 Bad SIZE parameter syntax");
    bad(f, SMTPD_ARGS_MAIL, "FROM:<a@b> SIZE=9999999999999999999999",
        "501 5.5.4 Bad SIZE parameter syntax");
    bad(f, SMTPD_ARGS_MAIL, "FROM:<a@b> SIZE", "501 5.5.4 Bad SIZE parameter syntax");
    bad(f, SMTPD_ARGS_MAIL, "FROM:<a@b> BODY=BINARYMIME", "501 5.5.4 Bad BODY parameter syntax");
    bad(f, SMTPD_ARGS_MAIL, "FROM:<a@b> RET=ALL", "501 5.5.4 Bad RET parameter syntax");
    bad(f, SMTPD_ARGS_MAIL, "FROM:<a@b> SMTPUTF8=yes", "501 5.5.4 Bad SMTPUTF8 parameter syntax");
    bad(f, SMTPD_ARGS_MAIL, "FROM:<a@b> ENVID=a+0Ab", "501 5.5.4 Bad ENVID parameter syntax");
    bad(f, SMTPD_ARGS_MAIL, "FROM:<a@b> SIZE=1 SIZE=2",
        "501 5.5.4 Bad SIZE parameter syntax (given twice)");
    bad(f, SMTPD_ARGS_MAIL, "FROM:<a@b> NOTIFY=NEVER", "555 5.5.4 Unsupported option: NOTIFY");
    bad(f, SMTPD_ARGS_MAIL, "FROM:<a@b> X-FOO=1", "555 5.5.4 Unsupported option: X-FOO");
    bad(f, SMTPD_ARGS_MAIL, "FROM:<a@b> =1", "501 5.5.4 Bad parameter syntax");
    bad(f, SMTPD_ARGS_MAIL, "FROM:<a@b> SIZE=1 BODY=7BIT RET=FULL SMTPUTF8 A B C D E F G",
        "501 5.5.4 Too many parameters");
}

static void rcpt_parameters(void **state)
{
    fixture *f = *state;

    ok(f, SMTPD_ARGS_RCPT, "TO:<a@b.example> NOTIFY=success,Delay ORCPT=rfc822;x+2By@z.example",
       "a@b.example");
    assert_int_equal(f->a.notify, REC_DSN_NOTIFY_SUCCESS | REC_DSN_NOTIFY_DELAY);
    assert_string_equal(vstr_str(&f->a.orcpt), "rfc822;x+y@z.example");
    ok(f, SMTPD_ARGS_RCPT, "TO:<a@b.example> NOTIFY=NEVER", "a@b.example");
    assert_int_equal(f->a.notify, REC_DSN_NOTIFY_NEVER);
    assert_string_equal(vstr_str(&f->a.orcpt), "");

    bad(f, SMTPD_ARGS_RCPT, "TO:<a@b> NOTIFY=NEVER,SUCCESS",
        "501 5.5.4 Bad NOTIFY parameter syntax");
    bad(f, SMTPD_ARGS_RCPT, "TO:<a@b> NOTIFY=SUCCESS,", "501 5.5.4 Bad NOTIFY parameter syntax");
    bad(f, SMTPD_ARGS_RCPT, "TO:<a@b> NOTIFY=SOMETIMES", "501 5.5.4 Bad NOTIFY parameter syntax");
    bad(f, SMTPD_ARGS_RCPT, "TO:<a@b> ORCPT=x@y", "501 5.5.4 Bad ORCPT parameter syntax");
    bad(f, SMTPD_ARGS_RCPT, "TO:<a@b> ORCPT=rfc822;", "501 5.5.4 Bad ORCPT parameter syntax");
    bad(f, SMTPD_ARGS_RCPT, "TO:<a@b> ORCPT=rfc 822;x", "501 5.5.4 Bad ORCPT parameter syntax");
    /* The address type is bounded too (found by the smtpd_command fuzz target). */
    ok(f, SMTPD_ARGS_RCPT,
       "TO:<a@b> ORCPT=abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijk;x", "a@b");
    bad(f, SMTPD_ARGS_RCPT,
        "TO:<a@b> ORCPT=abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijkl;x",
        "501 5.5.4 Bad ORCPT parameter syntax");
    bad(f, SMTPD_ARGS_RCPT, "TO:<a@b> SIZE=1", "555 5.5.4 Unsupported option: SIZE");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(paths_in_their_usual_forms, setup, teardown),
        cmocka_unit_test_setup_teardown(quoted_local_parts_come_out_unquoted, setup, teardown),
        cmocka_unit_test_setup_teardown(source_routes_are_dropped, setup, teardown),
        cmocka_unit_test_setup_teardown(malformed_paths_are_refused_with_501, setup, teardown),
        cmocka_unit_test_setup_teardown(mail_parameters, setup, teardown),
        cmocka_unit_test_setup_teardown(rcpt_parameters, setup, teardown),
    };

    return cmocka_run_group_tests_name("smtpd_addr", tests, NULL, NULL);
}
