/* Unit tests for global/dsn: RFC 3464 structure, fields per kind, RET, hostile text, and a
 * check of the result with Python's email parser (the reader people's tools use). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "global/dsn.h"

/* The original message, as lines. */
static const char *orig_lines[] = {
    "Received: by mx.example.com (Postern) id 4XbAAA; Sat, 22 Nov 2025 18:16:00 +0100",
    "From: Alice <alice@example.com>",
    "To: nosuch@mx.example.com",
    "Subject: hello there",
    "",
    "first body line",
    "",
    "last body line",
    NULL,
};

typedef struct source {
    const char **lines;
    size_t next;
    int fail_at; /* -1: never */
} source;

static dsn_line next_line(void *ctx, vstr *line)
{
    source *s = ctx;

    if (s->fail_at >= 0 && (size_t)s->fail_at == s->next)
        return DSN_LINE_ERROR;
    if (s->lines[s->next] == NULL)
        return DSN_LINE_END;
    vstr_set_str(line, s->lines[s->next++]);
    return DSN_LINE;
}

/* Lines joined with LF; pieces joined to their line. */
static void put(void *ctx, const char *data, size_t len, int partial)
{
    vstr *out = ctx;

    vstr_append(out, data, len);
    if (!partial)
        vstr_append_char(out, '\n');
}

static const dsn_rcpt unknown_user = {
    .address = "nosuch@mx.example.com",
    .orig_rcpt = "nosuch@mx.example.com",
    .status = "5.1.1",
    .action = "failed",
    .reason = "unknown user: \"nosuch\"",
    .time = 1763831760,
};

static dsn_report failure_report(const dsn_rcpt *rcpts, size_t n)
{
    dsn_report rep = {
        .kind = DSN_KIND_FAILURE,
        .myhostname = "mx.example.com",
        .queue_id = "4XbAAA",
        .sender = "alice@example.com",
        .recipient = "alice@example.com",
        .arrival = 1763831700,
        .now = 1763831760,
        .ret = DSN_RET_FULL,
        .rcpts = rcpts,
        .rcpt_count = n,
    };
    return rep;
}

static void compose(const dsn_report *rep, vstr *out)
{
    source src = {orig_lines, 0, -1};
    dsn_content orig = {next_line, &src};

    vstr_reset(out);
    assert_int_equal(dsn_compose(rep, &orig, put, out), 0);
}

static int contains(const vstr *v, const char *s)
{
    return strstr(vstr_str(v), s) != NULL;
}

static void failure_report_has_the_three_parts(void **state)
{
    dsn_report rep = failure_report(&unknown_user, 1);
    vstr out = VSTR_INIT;

    (void)state;
    compose(&rep, &out);
    assert_true(contains(&out, "From: MAILER-DAEMON@mx.example.com (Mail Delivery System)\n"));
    assert_true(contains(&out, "To: <alice@example.com>\n"));
    assert_true(contains(&out, "Subject: Undelivered Mail Returned to Sender\n"));
    assert_true(contains(&out, "Content-Type: multipart/report; report-type=delivery-status;\n"
                               "\tboundary=\"4XbAAA.1763831760/mx.example.com\"\n"));
    assert_true(contains(&out, "<nosuch@mx.example.com>: unknown user: \"nosuch\"\n"));
    assert_true(contains(&out, "Content-Type: message/delivery-status\n\n"
                               "Reporting-MTA: dns; mx.example.com\n"));
    assert_true(contains(&out, "Arrival-Date: "));
    assert_true(contains(&out, "\nFinal-Recipient: rfc822; nosuch@mx.example.com\n"
                               "Action: failed\nStatus: 5.1.1\n"));
    /* A local reason is not a remote server's diagnostic. */
    assert_false(contains(&out, "Diagnostic-Code:"));
    assert_false(contains(&out, "Original-Recipient:"));
    assert_true(contains(&out, "Content-Type: message/rfc822\n"));
    assert_true(contains(&out, "\nfirst body line\n\nlast body line\n"));
    assert_true(contains(&out, "--4XbAAA.1763831760/mx.example.com--\n"));
    vstr_release(&out);
}

static void headers_only_stops_at_the_blank_line(void **state)
{
    dsn_report rep = failure_report(&unknown_user, 1);
    vstr out = VSTR_INIT;

    (void)state;
    rep.ret = DSN_RET_HDRS;
    compose(&rep, &out);
    assert_true(contains(&out, "Content-Type: text/rfc822-headers\n"));
    assert_true(contains(&out, "Subject: hello there\n"));
    assert_false(contains(&out, "body line"));
    assert_false(contains(&out, "message/rfc822"));
    vstr_release(&out);
}

static void remote_diagnostic_and_original_recipient(void **state)
{
    dsn_rcpt r[2] = {
        {
            .address = "bob@remote.example",
            .orig_rcpt = "bobby@mx.example.com",
            .status = "5.1.1",
            .action = "failed",
            .reason = "host mx.remote.example said: 550 5.1.1 no such user",
            .diag_type = "smtp",
            .diag_text = "550 5.1.1 no such user",
            .mta = "mx.remote.example",
        },
        {
            .address = "carol@remote.example",
            .dsn_orcpt = "rfc822;carol@old.example",
            .status = "5.7.1",
            .reason = "rejected",
        },
    };
    dsn_report rep = failure_report(r, 2);
    vstr out = VSTR_INIT;

    (void)state;
    compose(&rep, &out);
    assert_true(contains(&out, "<bob@remote.example> (expanded from <bobby@mx.example.com>): "
                               "host mx.remote.example said: 550 5.1.1 no such user\n"));
    assert_true(contains(&out, "Final-Recipient: rfc822; bob@remote.example\n"
                               "Original-Recipient: rfc822; bobby@mx.example.com\n"
                               "Action: failed\nStatus: 5.1.1\n"
                               "Remote-MTA: dns; mx.remote.example\n"
                               "Diagnostic-Code: smtp; 550 5.1.1 no such user\n"));
    assert_true(contains(&out, "Final-Recipient: rfc822; carol@remote.example\n"
                               "Original-Recipient: rfc822;carol@old.example\n"
                               "Action: failed\nStatus: 5.7.1\n"));
    vstr_release(&out);
}

static void delay_and_success_kinds(void **state)
{
    dsn_rcpt d = {.address = "slow@remote.example",
                  .status = "4.4.1",
                  .action = "delayed",
                  .reason = "connection timed out"};
    dsn_rcpt s = {.address = "ok@mx.example.com", .status = "2.0.0", .reason = "delivered"};
    dsn_report rep = failure_report(&d, 1);
    vstr out = VSTR_INIT;

    (void)state;
    rep.kind = DSN_KIND_DELAY;
    rep.ret = DSN_RET_HDRS;
    rep.now = rep.arrival + 4 * 3600;
    rep.retry_until = rep.arrival + 5 * 86400;
    compose(&rep, &out);
    assert_true(contains(&out, "Subject: Delayed Mail (still being retried)\n"));
    assert_true(contains(&out, "THIS IS A WARNING ONLY"));
    assert_true(contains(&out, "after 4 hour(s)"));
    assert_true(contains(&out, "Action: delayed\nStatus: 4.4.1\n"));
    assert_true(contains(&out, "Will-Retry-Until: "));

    rep.kind = DSN_KIND_SUCCESS;
    rep.rcpts = &s;
    compose(&rep, &out);
    assert_true(contains(&out, "Subject: Successful Mail Delivery Report\n"));
    /* No action given: the kind's. */
    assert_true(contains(&out, "Action: delivered\nStatus: 2.0.0\n"));
    assert_false(contains(&out, "Will-Retry-Until: "));

    rep.kind = DSN_KIND_POSTMASTER;
    rep.sender = "";
    rep.recipient = "postmaster";
    rep.rcpts = &d;
    compose(&rep, &out);
    assert_true(contains(&out, "Subject: Postmaster Copy: Undelivered Mail\n"));
    assert_true(contains(&out, "To: <postmaster>\n"));
    assert_true(contains(&out, "Original sender: <>\n"));
    assert_true(contains(&out, "X-Postern-Sender: rfc822; \n"));
    vstr_release(&out);
}

static void hostile_text_cannot_add_headers_or_lines(void **state)
{
    dsn_rcpt r = {
        .address = "x@y",
        .status = "5.1.1\nX-Evil: 1",
        .reason = "bad\r\nX-Injected: yes\n--4XbAAA.1763831760/mx.example.com--",
        .diag_type = "smtp",
        .diag_text = "550\rsneaky\nline",
        .mta = "mx\nX-Mta: 1",
    };
    dsn_report rep = failure_report(&r, 1);
    vstr out = VSTR_INIT;
    const char *p;

    (void)state;
    compose(&rep, &out);
    assert_false(contains(&out, "\nX-Injected"));
    assert_false(contains(&out, "\nX-Evil"));
    assert_false(contains(&out, "\nX-Mta"));
    assert_false(contains(&out, "\nsneaky"));
    /* An invalid status becomes one of the right kind. */
    assert_true(contains(&out, "Status: 5.0.0\n"));
    /* The closing boundary occurs once, at the end. */
    p = strstr(vstr_str(&out), "\n--4XbAAA.1763831760/mx.example.com--");
    assert_non_null(p);
    assert_null(strstr(p + 1, "\n--4XbAAA.1763831760/mx.example.com--"));
    vstr_release(&out);
}

static void long_reasons_are_cut(void **state)
{
    char *big = malloc(5000);
    dsn_rcpt r = {.address = "x@y", .status = "5.1.1"};
    dsn_report rep = failure_report(&r, 1);
    vstr out = VSTR_INIT;

    (void)state;
    memset(big, 'a', 4999);
    big[4999] = 0;
    r.reason = big;
    compose(&rep, &out);
    for (const char *p = vstr_str(&out), *nl; *p; p = nl + 1) {
        nl = strchr(p, '\n');
        assert_non_null(nl);
        assert_true(nl - p < 998);
    }
    assert_true(contains(&out, "aaa...\n"));
    free(big);
    vstr_release(&out);
}

static void read_error_is_reported(void **state)
{
    dsn_report rep = failure_report(&unknown_user, 1);
    source src = {orig_lines, 0, 3};
    dsn_content orig = {next_line, &src};
    vstr out = VSTR_INIT;

    (void)state;
    assert_int_equal(dsn_compose(&rep, &orig, put, &out), -1);
    /* Without an original, the third part says so. */
    vstr_reset(&out);
    assert_int_equal(dsn_compose(&rep, NULL, put, &out), 0);
    assert_true(contains(&out, "The original message could not be read."));
    vstr_release(&out);
}

static void status_codes(void **state)
{
    (void)state;
    assert_true(dsn_status_valid("5.1.1"));
    assert_true(dsn_status_valid("4.999.999"));
    assert_true(dsn_status_valid("2.0.0"));
    assert_false(dsn_status_valid("3.0.0"));
    assert_false(dsn_status_valid("5.1"));
    assert_false(dsn_status_valid("5.1.1 "));
    assert_false(dsn_status_valid("5.1000.1"));
    assert_false(dsn_status_valid(""));
}

/* The report as Python's email package sees it: multipart/report with a
 * message/delivery-status part naming the recipient and 5.1.1. */
static const char python_check[] =
    "import email, sys\n"
    "m = email.message_from_bytes(sys.stdin.buffer.read())\n"
    "assert m.get_content_type() == 'multipart/report', m.get_content_type()\n"
    "assert m.get_param('report-type') == 'delivery-status'\n"
    "parts = m.get_payload()\n"
    "assert [p.get_content_type() for p in parts] == "
    "['text/plain', 'message/delivery-status', 'message/rfc822'], parts\n"
    "blocks = parts[1].get_payload()\n"
    "assert blocks[0]['Reporting-MTA'] == 'dns; mx.example.com'\n"
    "assert blocks[1]['Final-Recipient'] == 'rfc822; nosuch@mx.example.com'\n"
    "assert blocks[1]['Status'] == '5.1.1'\n"
    "assert blocks[1]['Action'] == 'failed'\n"
    "inner = parts[2].get_payload()[0]\n"
    "assert inner['Subject'] == 'hello there', inner['Subject']\n"
    "print('python email: ok')\n";

static void python_email_parses_the_report(void **state)
{
    dsn_report rep = failure_report(&unknown_user, 1);
    vstr out = VSTR_INIT;
    char script[] = "/tmp/dsn_test_XXXXXX";
    vstr cmd = VSTR_INIT;
    FILE *fp;
    int fd, st;

    (void)state;
    if (access("/usr/bin/python3", X_OK) != 0)
        skip();
    compose(&rep, &out);
    fd = mkstemp(script);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, python_check, sizeof(python_check) - 1),
                     (ssize_t)(sizeof(python_check) - 1));
    close(fd);
    vstr_set_fmt(&cmd, "/usr/bin/python3 %s", script);
    fp = popen(vstr_str(&cmd), "w");
    assert_non_null(fp);
    fwrite(vstr_str(&out), 1, vstr_len(&out), fp);
    st = pclose(fp);
    unlink(script);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    vstr_release(&cmd);
    vstr_release(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(failure_report_has_the_three_parts),
        cmocka_unit_test(headers_only_stops_at_the_blank_line),
        cmocka_unit_test(remote_diagnostic_and_original_recipient),
        cmocka_unit_test(delay_and_success_kinds),
        cmocka_unit_test(hostile_text_cannot_add_headers_or_lines),
        cmocka_unit_test(long_reasons_are_cut),
        cmocka_unit_test(read_error_is_reported),
        cmocka_unit_test(status_codes),
        cmocka_unit_test(python_email_parses_the_report),
    };

    return cmocka_run_group_tests_name("dsn", tests, NULL, NULL);
}
