/* Unit tests for global/bounce: a real queue (cleanup in, queue files out) under a temporary
 * directory; the notifications are read back and parsed with Python's email package. */
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "util/msg.h"
#include "global/bounce.h"
#include "global/cleanup.h"
#include "global/dsn_log.h"
#include "global/queue_file.h"
#include "global/queue_id.h"
#include "global/rec.h"

typedef struct fixture {
    char dir[64];
    config *cfg;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    static const char *subdirs[] = {"incoming", "active", "bounce", "defer"};
    vstr text = VSTR_INIT, err = VSTR_INIT, path = VSTR_INIT;

    snprintf(f->dir, sizeof(f->dir), "/tmp/bounce_test_XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    for (size_t i = 0; i < 4; i++) {
        vstr_set_fmt(&path, "%s/%s", f->dir, subdirs[i]);
        if (mkdir(vstr_str(&path), 0700) < 0)
            return -1;
    }
    vstr_set_fmt(&text,
                 "queue_directory = %s\nmyhostname = mx.example.com\nmydomain = example.com\n"
                 "bounce_size_limit = 2000\n",
                 f->dir);
    f->cfg = config_load_text(f->dir, vstr_str(&text), vstr_len(&text), &err);
    if (f->cfg == NULL) {
        fprintf(stderr, "config: %s\n", vstr_str(&err));
        return -1;
    }
    vstr_release(&text);
    vstr_release(&err);
    vstr_release(&path);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    char cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
    if (system(cmd) != 0)
        return -1;
    config_free(f->cfg);
    free(f);
    return 0;
}

/* Queue a message with cleanup; its id goes to id. */
static void queue_message(fixture *f, const char *sender, const char *rcpt, int notify,
                          const char *ret, int body_lines, char id[QUEUE_ID_SIZE])
{
    vstr err = VSTR_INIT;
    cleanup *c = cleanup_open(f->cfg, 0, &err);
    char line[64];

    assert_non_null(c);
    snprintf(id, QUEUE_ID_SIZE, "%s", cleanup_id(c));
    cleanup_set_sender(c, sender);
    cleanup_add_rcpt(c, rcpt, NULL, NULL, notify);
    if (ret)
        cleanup_set_attr(c, "dsn_ret", ret);
    cleanup_put_line(c, "From: Alice <alice@example.com>", 31);
    cleanup_put_line(c, "To: someone", 11);
    cleanup_put_line(c, "Subject: hello there", 20);
    cleanup_put_line(c, "", 0);
    for (int i = 0; i < body_lines; i++) {
        snprintf(line, sizeof(line), "body line %d", i);
        cleanup_put_line(c, line, strlen(line));
    }
    assert_int_equal(cleanup_finish(c, &err), CLEANUP_OK);
    vstr_release(&err);
}

static void log_result(fixture *f, const char *id, const char *rcpt, int notify,
                       const char *status, const char *action, const char *reason)
{
    dsn_log_entry e = {
        .recipient = (char *)rcpt,
        .dsn_notify = notify,
        .offset = 100,
        .status = (char *)status,
        .action = (char *)action,
        .reason = (char *)reason,
        .time = 1763831760,
    };
    vstr err = VSTR_INIT;

    assert_int_equal(
        dsn_log_append(config_str(f->cfg, "queue_directory"), DSN_LOG_BOUNCE, id, &e, 1, &err), 0);
    vstr_release(&err);
}

/* The ids in incoming other than those in skip (NULL-terminated); count returned. */
static size_t other_ids(fixture *f, const char **skip, char found[][QUEUE_ID_SIZE], size_t max)
{
    vstr path = VSTR_INIT;
    struct dirent *d;
    size_t n = 0;
    DIR *dh;

    vstr_set_fmt(&path, "%s/incoming", f->dir);
    dh = opendir(vstr_str(&path));
    assert_non_null(dh);
    while ((d = readdir(dh)) != NULL) {
        int skipped = 0;

        if (!queue_id_valid(d->d_name))
            continue;
        for (const char **s = skip; *s; s++)
            skipped |= strcmp(*s, d->d_name) == 0;
        if (!skipped && n < max && strlen(d->d_name) < QUEUE_ID_SIZE)
            memcpy(found[n++], d->d_name, strlen(d->d_name) + 1);
    }
    closedir(dh);
    vstr_release(&path);
    return n;
}

/* Read a queued message: its sender, first recipient, and content with LF line ends. */
static void read_message(fixture *f, const char *id, vstr *sender, vstr *rcpt, vstr *content)
{
    vstr err = VSTR_INIT, line = VSTR_INIT;
    queue_reader *r = queue_file_open(f->dir, "incoming", id, QUEUE_FILE_QUEUE, &err);
    const queue_envelope *env;
    queue_line_status st;

    assert_non_null(r);
    env = queue_file_read_envelope(r);
    assert_non_null(env);
    vstr_set_str(sender, env->sender);
    assert_true(env->rcpt_count >= 1);
    vstr_set_str(rcpt, env->rcpts[0].address);
    vstr_reset(content);
    while ((st = queue_file_read_line(r, &line, 100000)) == QUEUE_LINE || st == QUEUE_PIECE) {
        vstr_append(content, vstr_str(&line), vstr_len(&line));
        if (st == QUEUE_LINE)
            vstr_append_char(content, '\n');
    }
    assert_int_equal(st, QUEUE_END);
    queue_file_close(r);
    vstr_release(&err);
    vstr_release(&line);
}

/* Run a Python check on content; fails the test when it exits non-zero. */
static void python_check(const vstr *content, const char *script_text)
{
    char script[] = "/tmp/bounce_test_py_XXXXXX";
    vstr cmd = VSTR_INIT;
    FILE *fp;
    int fd, st;

    if (access("/usr/bin/python3", X_OK) != 0)
        return;
    fd = mkstemp(script);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, script_text, strlen(script_text)), (ssize_t)strlen(script_text));
    close(fd);
    vstr_set_fmt(&cmd, "/usr/bin/python3 %s", script);
    fp = popen(vstr_str(&cmd), "w");
    assert_non_null(fp);
    fwrite(vstr_str(content), 1, vstr_len(content), fp);
    st = pclose(fp);
    unlink(script);
    vstr_release(&cmd);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static const char check_failure[] =
    "import email, sys\n"
    "m = email.message_from_bytes(sys.stdin.buffer.read())\n"
    "assert m.get_content_type() == 'multipart/report', m.get_content_type()\n"
    "assert m.get_param('report-type') == 'delivery-status'\n"
    "assert m['From'].startswith('MAILER-DAEMON@mx.example.com'), m['From']\n"
    "assert 'Message-ID' in m and 'Date' in m\n"
    "parts = m.get_payload()\n"
    "types = [p.get_content_type() for p in parts]\n"
    "assert types[:2] == ['text/plain', 'message/delivery-status'], types\n"
    "blocks = parts[1].get_payload()\n"
    "assert blocks[1]['Final-Recipient'] == 'rfc822; nosuch@mx.example.com'\n"
    "assert blocks[1]['Status'] == '5.1.1' and blocks[1]['Action'] == 'failed'\n"
    "assert 'unknown user' in parts[0].get_payload()\n"
    "if types[2] == 'message/rfc822':\n"
    "    assert parts[2].get_payload()[0]['Subject'] == 'hello there'\n"
    "else:\n"
    "    assert types[2] == 'text/rfc822-headers', types\n"
    "    assert 'body line' not in parts[2].get_payload()\n";

static void failed_recipient_gets_a_dsn_to_the_sender(void **state)
{
    fixture *f = *state;
    char id[QUEUE_ID_SIZE], found[4][QUEUE_ID_SIZE];
    const char *skip[] = {id, NULL};
    vstr why = VSTR_INIT, sender = VSTR_INIT, rcpt = VSTR_INIT, content = VSTR_INIT;
    vstr path = VSTR_INIT;

    queue_message(f, "alice@example.com", "nosuch@mx.example.com", 0, NULL, 3, id);
    log_result(f, id, "nosuch@mx.example.com", 0, "5.1.1", "failed", "unknown user: \"nosuch\"");
    assert_int_equal(bounce_flush(f->cfg, "incoming", id, &why), BOUNCE_DONE);
    assert_int_equal(other_ids(f, skip, found, 4), 1);
    read_message(f, found[0], &sender, &rcpt, &content);
    assert_string_equal(vstr_str(&sender), "");
    assert_string_equal(vstr_str(&rcpt), "alice@example.com");
    assert_non_null(strstr(vstr_str(&content), "Content-Type: message/rfc822"));
    python_check(&content, check_failure);
    /* The log is gone. */
    vstr_set_fmt(&path, "%s/bounce/%s", f->dir, id);
    assert_int_equal(access(vstr_str(&path), F_OK), -1);
    vstr_release(&why);
    vstr_release(&sender);
    vstr_release(&rcpt);
    vstr_release(&content);
    vstr_release(&path);
}

/* A maildrop file (as pickup reads one) whose message cleanup refused. */
static queue_reader *maildrop_original(fixture *f, const char *sender)
{
    vstr path = VSTR_INIT, err = VSTR_INIT;
    vstream *fp;
    queue_reader *r;

    vstr_set_fmt(&path, "%s/maildrop-file", f->dir);
    fp = vstream_open(vstr_str(&path), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_non_null(fp);
    rec_put_str(fp, REC_TYPE_VERSION, REC_VERSION);
    rec_put_str(fp, REC_TYPE_TIME, "1763831760.000000");
    rec_put_str(fp, REC_TYPE_FROM, sender);
    rec_put_str(fp, REC_TYPE_RCPT, "nosuch@mx.example.com");
    rec_put(fp, REC_TYPE_MESG, "", 0);
    rec_put_str(fp, REC_TYPE_NORM, "Subject: hello there");
    rec_put(fp, REC_TYPE_NORM, "", 0);
    rec_put_str(fp, REC_TYPE_NORM, "body line 1");
    rec_put(fp, REC_TYPE_END, "", 0);
    assert_int_equal(vstream_close(fp), 0);
    r = queue_file_open_path(vstr_str(&path), QUEUE_FILE_MAILDROP, &err);
    assert_non_null(r);
    vstr_release(&path);
    vstr_release(&err);
    return r;
}

/* Report on a refused maildrop message from sender; the one report queued
 * (then removed from incoming) is read into to and content. */
static void refused_report(fixture *f, const char *sender, long long content_bytes, vstr *to,
                           vstr *content)
{
    static const dsn_rcpt rcpt = {.address = "nosuch@mx.example.com",
                                  .status = "5.1.1",
                                  .action = "failed",
                                  .reason = "unknown user"};
    char found[4][QUEUE_ID_SIZE];
    const char *skip[] = {NULL};
    vstr why = VSTR_INIT, from = VSTR_INIT;
    queue_reader *r = maildrop_original(f, sender);

    assert_int_equal(bounce_refused(f->cfg, "REFUSED", r, content_bytes, &rcpt, 1, &why),
                     BOUNCE_DONE);
    queue_file_close(r);
    assert_int_equal(other_ids(f, skip, found, 4), 1);
    read_message(f, found[0], &from, to, content);
    assert_string_equal(vstr_str(&from), sender && *sender ? "" : "double-bounce@mx.example.com");
    vstr_set_fmt(&why, "%s/incoming/%s", f->dir, found[0]);
    assert_int_equal(unlink(vstr_str(&why)), 0);
    vstr_release(&why);
    vstr_release(&from);
}

static void refused_message_is_returned_whole_or_as_headers(void **state)
{
    fixture *f = *state;
    vstr to = VSTR_INIT, content = VSTR_INIT;

    /* Small: the original comes back whole. */
    refused_report(f, "alice@example.com", 100, &to, &content);
    assert_string_equal(vstr_str(&to), "alice@example.com");
    assert_non_null(strstr(vstr_str(&content), "Content-Type: message/rfc822"));
    assert_non_null(strstr(vstr_str(&content), "body line 1"));
    python_check(&content, check_failure);
    /* Over bounce_size_limit (the caller says so): headers only. */
    refused_report(f, "alice@example.com", 1000000, &to, &content);
    assert_non_null(strstr(vstr_str(&content), "Content-Type: text/rfc822-headers"));
    assert_null(strstr(vstr_str(&content), "body line"));
    python_check(&content, check_failure);
    /* From the null sender: to postmaster. */
    refused_report(f, "", 100, &to, &content);
    assert_string_equal(vstr_str(&to), "postmaster@mx.example.com");
    vstr_release(&to);
    vstr_release(&content);
}

static void ret_hdrs_and_size_limit_return_headers_only(void **state)
{
    fixture *f = *state;
    char id[QUEUE_ID_SIZE], id2[QUEUE_ID_SIZE], found[4][QUEUE_ID_SIZE];
    const char *skip[] = {id, id2, NULL};
    vstr why = VSTR_INIT, sender = VSTR_INIT, rcpt = VSTR_INIT, content = VSTR_INIT;

    queue_message(f, "alice@example.com", "nosuch@mx.example.com", 0, "HDRS", 3, id);
    log_result(f, id, "nosuch@mx.example.com", 0, "5.1.1", "failed", "unknown user");
    /* Over bounce_size_limit (2000 bytes). */
    queue_message(f, "alice@example.com", "nosuch@mx.example.com", 0, NULL, 400, id2);
    log_result(f, id2, "nosuch@mx.example.com", 0, "5.1.1", "failed", "unknown user");
    assert_int_equal(bounce_flush(f->cfg, "incoming", id, &why), BOUNCE_DONE);
    assert_int_equal(bounce_flush(f->cfg, "incoming", id2, &why), BOUNCE_DONE);
    assert_int_equal(other_ids(f, skip, found, 4), 2);
    for (int i = 0; i < 2; i++) {
        read_message(f, found[i], &sender, &rcpt, &content);
        assert_non_null(strstr(vstr_str(&content), "Content-Type: text/rfc822-headers"));
        assert_null(strstr(vstr_str(&content), "body line"));
        python_check(&content, check_failure);
    }
    vstr_release(&why);
    vstr_release(&sender);
    vstr_release(&rcpt);
    vstr_release(&content);
}

static void bounce_of_a_bounce_goes_to_postmaster_and_no_further(void **state)
{
    fixture *f = *state;
    char id[QUEUE_ID_SIZE], found[4][QUEUE_ID_SIZE], pm[QUEUE_ID_SIZE];
    const char *skip[] = {id, NULL};
    const char *skip2[] = {id, pm, NULL};
    vstr why = VSTR_INIT, sender = VSTR_INIT, rcpt = VSTR_INIT, content = VSTR_INIT;

    queue_message(f, "", "gone@remote.example", 0, NULL, 2, id);
    log_result(f, id, "gone@remote.example", REC_DSN_NOTIFY_NEVER, "5.1.1", "failed",
               "no such user");
    assert_int_equal(bounce_flush(f->cfg, "incoming", id, &why), BOUNCE_DONE);
    assert_int_equal(other_ids(f, skip, found, 4), 1);
    snprintf(pm, sizeof(pm), "%s", found[0]);
    read_message(f, pm, &sender, &rcpt, &content);
    assert_string_equal(vstr_str(&sender), "double-bounce@mx.example.com");
    assert_string_equal(vstr_str(&rcpt), "postmaster@mx.example.com");
    assert_non_null(strstr(vstr_str(&content), "Subject: Postmaster Copy: Undelivered Mail"));
    assert_non_null(strstr(vstr_str(&content), "To: <postmaster@mx.example.com>"));
    assert_true(bounce_is_double_bounce_sender(f->cfg, vstr_str(&sender)));
    assert_true(bounce_is_double_bounce_sender(f->cfg, "Double-Bounce@MX.example.com"));
    assert_false(bounce_is_double_bounce_sender(f->cfg, ""));
    assert_false(bounce_is_double_bounce_sender(f->cfg, "double-bounce@elsewhere.example"));

    /* The postmaster copy fails too: logged and dropped, nothing queued. */
    log_result(f, pm, "postmaster@mx.example.com", 0, "5.1.1", "failed", "no postmaster");
    assert_int_equal(bounce_flush(f->cfg, "incoming", pm, &why), BOUNCE_DONE);
    assert_int_equal(other_ids(f, skip2, found, 4), 0);
    vstr_release(&why);
    vstr_release(&sender);
    vstr_release(&rcpt);
    vstr_release(&content);
}

static void notify_never_sends_nothing_and_success_sends_a_report(void **state)
{
    fixture *f = *state;
    char id[QUEUE_ID_SIZE], id2[QUEUE_ID_SIZE], found[4][QUEUE_ID_SIZE];
    const char *skip[] = {id, id2, NULL};
    vstr why = VSTR_INIT, sender = VSTR_INIT, rcpt = VSTR_INIT, content = VSTR_INIT;

    queue_message(f, "alice@example.com", "x@mx.example.com", REC_DSN_NOTIFY_NEVER, NULL, 1, id);
    log_result(f, id, "x@mx.example.com", REC_DSN_NOTIFY_NEVER, "5.1.1", "failed", "unknown");
    assert_int_equal(bounce_flush(f->cfg, "incoming", id, &why), BOUNCE_DONE);
    queue_message(f, "alice@example.com", "y@mx.example.com",
                  REC_DSN_NOTIFY_SUCCESS | REC_DSN_NOTIFY_FAILURE, NULL, 1, id2);
    log_result(f, id2, "y@mx.example.com", REC_DSN_NOTIFY_SUCCESS | REC_DSN_NOTIFY_FAILURE,
               "2.0.0", "delivered", "delivered to mailbox");
    assert_int_equal(bounce_flush(f->cfg, "incoming", id2, &why), BOUNCE_DONE);
    assert_int_equal(other_ids(f, skip, found, 4), 1);
    read_message(f, found[0], &sender, &rcpt, &content);
    assert_string_equal(vstr_str(&rcpt), "alice@example.com");
    assert_non_null(strstr(vstr_str(&content), "Subject: Successful Mail Delivery Report"));
    assert_non_null(strstr(vstr_str(&content), "Action: delivered\nStatus: 2.0.0\n"));
    assert_non_null(strstr(vstr_str(&content), "Content-Type: text/rfc822-headers"));
    vstr_release(&why);
    vstr_release(&sender);
    vstr_release(&rcpt);
    vstr_release(&content);
}

static void delay_warning_for_deferred_recipients(void **state)
{
    fixture *f = *state;
    char id[QUEUE_ID_SIZE], found[4][QUEUE_ID_SIZE];
    const char *skip[] = {id, NULL};
    vstr why = VSTR_INIT, sender = VSTR_INIT, rcpt = VSTR_INIT, content = VSTR_INIT;
    dsn_log deferred;
    dsn_log_entry e = {.recipient = "slow@remote.example",
                       .status = "4.4.1",
                       .action = "delayed",
                       .reason = "connection timed out",
                       .offset = 1};

    queue_message(f, "alice@example.com", "slow@remote.example", 0, NULL, 1, id);
    dsn_log_init(&deferred);
    dsn_log_add(&deferred, &e);
    assert_int_equal(bounce_delay_warning(f->cfg, "incoming", id, &deferred, 1900000000, &why),
                     BOUNCE_DONE);
    assert_int_equal(other_ids(f, skip, found, 4), 1);
    read_message(f, found[0], &sender, &rcpt, &content);
    assert_string_equal(vstr_str(&sender), "");
    assert_non_null(strstr(vstr_str(&content), "Subject: Delayed Mail (still being retried)"));
    assert_non_null(strstr(vstr_str(&content), "Action: delayed\nStatus: 4.4.1\n"));
    assert_non_null(strstr(vstr_str(&content), "Will-Retry-Until: "));
    dsn_log_release(&deferred);
    vstr_release(&why);
    vstr_release(&sender);
    vstr_release(&rcpt);
    vstr_release(&content);
}

static void missing_queue_file_means_retry(void **state)
{
    fixture *f = *state;
    vstr why = VSTR_INIT;

    log_result(f, "NOSUCHID", "x@y", 0, "5.1.1", "failed", "unknown");
    assert_int_equal(bounce_flush(f->cfg, "incoming", "NOSUCHID", &why), BOUNCE_RETRY);
    assert_true(vstr_len(&why) > 0);
    /* No log: nothing to do. */
    assert_int_equal(bounce_flush(f->cfg, "incoming", "NOLOG", &why), BOUNCE_DONE);
    vstr_release(&why);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(failed_recipient_gets_a_dsn_to_the_sender, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(refused_message_is_returned_whole_or_as_headers, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(ret_hdrs_and_size_limit_return_headers_only, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(bounce_of_a_bounce_goes_to_postmaster_and_no_further,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(notify_never_sends_nothing_and_success_sends_a_report,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(delay_warning_for_deferred_recipients, setup, teardown),
        cmocka_unit_test_setup_teardown(missing_queue_file_means_retry, setup, teardown),
    };

    msg_init("bounce_test");
    return cmocka_run_group_tests_name("bounce", tests, NULL, NULL);
}
