/* Unit tests for postdrop/sendmail_smtp: the sendmail -bs session, with
 * the hand-over to postdrop replaced by a recorder. The files under test
 * are included (sendmail's objects are not in the libraries). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "postdrop/sendmail_input.c"
#include "postdrop/sendmail_opts.c"
#include "postdrop/sendmail_smtp.c"

/* What the session handed over, as text: "<sender>rcpt,rcpt:L:line|P:piece|" per message. */
typedef struct recorder {
    vstr log;
    int begins;
    int finish_status; /* what finish answers for a complete message */
    int aborted;
} recorder;

static void *rec_begin(void *context, const sendmail_envelope *env, vstr *err)
{
    recorder *r = context;

    (void)err;
    r->begins++;
    vstr_append_fmt(&r->log, "<%s>", env->sender);
    for (size_t i = 0; i < env->rcpts->argc; i++) {
        vstr_append_fmt(&r->log, "%s%s", i ? "," : "", env->rcpts->argv[i]);
        if (env->rcpt_notify && env->rcpt_notify[i])
            vstr_append_fmt(&r->log, "/%d", env->rcpt_notify[i]);
    }
    if (env->body_type)
        vstr_append_fmt(&r->log, " %s", env->body_type);
    if (env->dsn_ret)
        vstr_append_fmt(&r->log, " RET=%s", env->dsn_ret);
    if (env->dsn_envid)
        vstr_append_fmt(&r->log, " ENVID=%s", env->dsn_envid);
    vstr_append_char(&r->log, ':');
    return r;
}

static int rec_record(void *handle, int type, const char *data, size_t len)
{
    recorder *r = handle;

    vstr_append_fmt(&r->log, "%c:", type);
    vstr_append(&r->log, data, len);
    vstr_append_char(&r->log, '|');
    return 0;
}

static int rec_finish(void *handle, int complete, vstr *why)
{
    recorder *r = handle;

    (void)why;
    vstr_append_str(&r->log, complete ? "#\n" : "ABORT\n");
    if (!complete) {
        r->aborted++;
        return EX_TEMPFAIL;
    }
    return r->finish_status;
}

/* Run a session on input; replies go to replies (CR LF kept). */
static int session(const char *input, recorder *r, long long size_limit, vstr *replies)
{
    sendmail_smtp_config cfg = {"mx.test", "mx.test ESMTP Postern", size_limit, 3, 0};
    sendmail_smtp_ops ops = {r, rec_begin, rec_record, rec_finish};
    vstream *in = vstream_open_memory(input, strlen(input));
    int fd = memfd_create("replies", 0);
    vstream *out = vstream_fdopen(fd, VSTREAM_WRITE);
    char buf[8192];
    ssize_t n;
    int status;

    assert_true(fd >= 0);
    status = sendmail_smtp_session(in, out, &cfg, &ops);
    vstream_flush(out);
    n = pread(fd, buf, sizeof(buf), 0);
    assert_true(n >= 0);
    vstr_set(replies, buf, (size_t)n);
    vstream_close(out);
    vstream_close(in);
    return status;
}

static void a_whole_transaction(void **state)
{
    recorder r = {VSTR_INIT, 0, 0, 0};
    vstr replies = VSTR_INIT;

    (void)state;
    assert_int_equal(session("EHLO client\r\n"
                             "MAIL FROM:<a@x> BODY=8BITMIME\r\n"
                             "RCPT TO:<b@y>\r\n"
                             "RCPT TO: \"c d\"@z\r\n"
                             "DATA\r\n"
                             "Subject: s\r\n\r\n..dot\r\n.\r\n"
                             "QUIT\r\n",
                             &r, 0, &replies),
                     0);
    assert_string_equal(vstr_str(&replies), "220 mx.test ESMTP Postern\r\n"
                                            "250-mx.test\r\n"
                                            "250-PIPELINING\r\n"
                                            "250-SIZE\r\n"
                                            "250-8BITMIME\r\n"
                                            "250-DSN\r\n"
                                            "250 ENHANCEDSTATUSCODES\r\n"
                                            "250 2.1.0 Ok\r\n"
                                            "250 2.1.5 Ok\r\n"
                                            "250 2.1.5 Ok\r\n"
                                            "354 End data with <CR><LF>.<CR><LF>\r\n"
                                            "250 2.0.0 Ok: queued\r\n"
                                            "221 2.0.0 Bye\r\n");
    assert_string_equal(vstr_str(&r.log), "<a@x>b@y,c d@z 8BITMIME:L:Subject: s|L:|L:.dot|#\n");
    vstr_release(&r.log);
    vstr_release(&replies);
}

static void dsn_parameters_reach_the_envelope(void **state)
{
    recorder r = {VSTR_INIT, 0, 0, 0};
    vstr replies = VSTR_INIT;

    (void)state;
    session("MAIL FROM:<a@x> RET=hdrs ENVID=id+2Bone\r\n"
            "RCPT TO:<b@y> NOTIFY=SUCCESS,DELAY ORCPT=rfc822;b+40y\r\n"
            "RCPT TO:<c@y>\r\nRCPT TO:<d@y> NOTIFY=NEVER\r\nDATA\r\nx\r\n.\r\n"
            "MAIL FROM:<a@x> ENVID=bad+zz\r\nMAIL FROM:<a@x> ENVID=sp ace\r\n"
            "RCPT TO:<e@y> ORCPT=noseparator\r\n",
            &r, 0, &replies);
    assert_string_equal(vstr_str(&r.log), "<a@x>b@y/10,c@y,d@y/1 RET=HDRS ENVID=id+one:L:x|#\n");
    assert_non_null(strstr(vstr_str(&replies), "501 5.5.4 Bad ENVID parameter syntax\r\n"
                                               "555 5.5.4 Unsupported option: ace\r\n"));
    assert_non_null(strstr(vstr_str(&replies), "503 5.5.1 Error: need MAIL command\r\n"));
    vstr_release(&r.log);
    vstr_release(&replies);
}

static void commands_out_of_order_are_refused(void **state)
{
    recorder r = {VSTR_INIT, 0, 0, 0};
    vstr replies = VSTR_INIT;

    (void)state;
    session(
        "RCPT TO:<a@x>\r\nDATA\r\nMAIL FROM:<>\r\nMAIL FROM:<>\r\nDATA\r\n"
        "RCPT TO:<>\r\nRCPT TO:<a@x> NOTIFY=SOMETIMES\r\nHELO\r\nVRFY x\r\n\r\nmail from:<>\r\n",
        &r, 0, &replies);
    assert_string_equal(vstr_str(&replies), "220 mx.test ESMTP Postern\r\n"
                                            "503 5.5.1 Error: need MAIL command\r\n"
                                            "503 5.5.1 Error: need RCPT command\r\n"
                                            "250 2.1.0 Ok\r\n"
                                            "503 5.5.1 Error: nested MAIL command\r\n"
                                            "503 5.5.1 Error: need RCPT command\r\n"
                                            "501 5.1.3 Bad recipient address syntax\r\n"
                                            "501 5.5.4 Bad NOTIFY parameter syntax\r\n"
                                            "501 5.5.4 Syntax: HELO hostname\r\n"
                                            "502 5.5.1 VRFY command is disabled\r\n"
                                            "500 5.5.2 Error: bad syntax\r\n"
                                            "503 5.5.1 Error: nested MAIL command\r\n");
    assert_int_equal(r.begins, 0);
    vstr_release(&r.log);
    vstr_release(&replies);
}

static void recipient_limit_and_size_limit(void **state)
{
    recorder r = {VSTR_INIT, 0, 0, 0};
    vstr replies = VSTR_INIT;

    (void)state;
    session("MAIL FROM:<a@x> SIZE=99\r\nRSET\r\nMAIL FROM:<a@x> SIZE=5\r\n"
            "RCPT TO:<1@x>\r\nRCPT TO:<2@x>\r\nRCPT TO:<3@x>\r\nRCPT TO:<4@x>\r\n"
            "DATA\r\n0123456789\r\n.\r\n",
            &r, 10, &replies);
    assert_string_equal(vstr_str(&replies), "220 mx.test ESMTP Postern\r\n"
                                            "552 5.3.4 Message size exceeds fixed limit\r\n"
                                            "250 2.0.0 Ok\r\n"
                                            "250 2.1.0 Ok\r\n"
                                            "250 2.1.5 Ok\r\n"
                                            "250 2.1.5 Ok\r\n"
                                            "250 2.1.5 Ok\r\n"
                                            "452 4.5.3 Error: too many recipients\r\n"
                                            "354 End data with <CR><LF>.<CR><LF>\r\n"
                                            "552 5.3.4 Error: message file too big\r\n");
    assert_int_equal(r.aborted, 1);
    vstr_release(&r.log);
    vstr_release(&replies);
}

static void postdrop_refusal_and_end_of_input_in_data(void **state)
{
    recorder r = {VSTR_INIT, 0, EX_TEMPFAIL, 0};
    vstr replies = VSTR_INIT;

    (void)state;
    session("MAIL FROM:<a@x>\r\nRCPT TO:<b@x>\r\nDATA\r\nx\r\n.\r\n"
            "MAIL FROM:<a@x>\r\nRCPT TO:<b@x>\r\nDATA\r\npartial",
            &r, 0, &replies);
    assert_non_null(strstr(vstr_str(&replies), "451 4.3.0 Error: queue file write error\r\n"));
    assert_string_equal(vstr_str(&r.log), "<a@x>b@x:L:x|#\n<a@x>b@x:L:partial|ABORT\n");
    vstr_release(&r.log);
    vstr_release(&replies);
}

static void overlong_lines_and_too_many_errors(void **state)
{
    recorder r = {VSTR_INIT, 0, 0, 0};
    vstr input = VSTR_INIT, replies = VSTR_INIT;

    (void)state;
    for (int i = 0; i < 3 * SENDMAIL_SMTP_LINE_MAX; i++)
        vstr_append_char(&input, 'x');
    vstr_append_str(&input, "\r\nNOOP\r\n");
    for (int i = 0; i < 30; i++)
        vstr_append_str(&input, "BOGUS\r\n");
    session(vstr_str(&input), &r, 0, &replies);
    assert_non_null(strstr(vstr_str(&replies), "500 5.5.0 Error: line too long\r\n"
                                               "250 2.0.0 Ok\r\n"));
    assert_non_null(strstr(vstr_str(&replies), "421 4.7.0 mx.test Error: too many errors\r\n"));
    /* Nothing after the 421. */
    assert_string_equal(strstr(vstr_str(&replies), "421"),
                        "421 4.7.0 mx.test Error: too many errors\r\n");
    vstr_release(&input);
    vstr_release(&r.log);
    vstr_release(&replies);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_whole_transaction),
        cmocka_unit_test(dsn_parameters_reach_the_envelope),
        cmocka_unit_test(commands_out_of_order_are_refused),
        cmocka_unit_test(recipient_limit_and_size_limit),
        cmocka_unit_test(postdrop_refusal_and_end_of_input_in_data),
        cmocka_unit_test(overlong_lines_and_too_many_errors),
    };
    return cmocka_run_group_tests_name("sendmail_smtp", tests, NULL, NULL);
}
