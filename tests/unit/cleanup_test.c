/* Unit tests for global/cleanup: the queue-file writer, end to end through
 * the queue-file reader. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "util/argv.h"
#include "util/mem.h"
#include "util/vstr.h"
#include "global/cleanup.h"
#include "global/cleanup_checks.h"
#include "global/config.h"
#include "global/queue_file.h"
#include "global/rec.h"

typedef struct fixture {
    char dir[64];
    config *cfg;
} fixture;

static int setup(void **state)
{
    static const char *const subdirs[] = {"incoming", "active",  "deferred", "hold",
                                          "maildrop", "corrupt", NULL};
    fixture *f = mem_calloc(1, sizeof(*f));
    char path[128];

    snprintf(f->dir, sizeof(f->dir), "/tmp/cleanup_test.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    for (const char *const *d = subdirs; *d; d++) {
        snprintf(path, sizeof(path), "%s/%s", f->dir, *d);
        assert_int_equal(mkdir(path, 0700), 0);
    }
    f->cfg = config_new_defaults(f->dir);
    config_override(f->cfg, "queue_directory", f->dir);
    config_override(f->cfg, "myhostname", "mail.example.com");
    config_override(f->cfg, "mydomain", "example.com");
    config_override(f->cfg, "myorigin", "example.com");
    setenv("TZ", "UTC0", 1);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    char cmd[128];

    config_free(f->cfg);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    mem_free(f);
    return 0;
}

/* Names in QUEUE_DIR/incoming. */
static argv_t *incoming(const fixture *f)
{
    char path[128];
    DIR *d;
    struct dirent *e;
    argv_t *names = argv_new();

    snprintf(path, sizeof(path), "%s/incoming", f->dir);
    d = opendir(path);
    assert_non_null(d);
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            argv_add(names, e->d_name);
    closedir(d);
    return names;
}

/* A committed message read back: envelope and content lines (joined). */
typedef struct message {
    queue_reader *r;
    const queue_envelope *env;
    argv_t *lines;
} message;

static message read_back_in(const fixture *f, const char *queue, const char *id)
{
    message m;
    vstr err = VSTR_INIT, line = VSTR_INIT;
    queue_line_status st;

    m.r = queue_file_open(f->dir, queue, id, QUEUE_FILE_QUEUE, &err);
    if (m.r == NULL)
        fail_msg("open %s: %s", id, vstr_str(&err));
    m.env = queue_file_read_envelope(m.r);
    if (m.env == NULL)
        fail_msg("envelope %s: %s", id, queue_file_error(m.r));
    m.lines = argv_new();
    while ((st = queue_file_read_line(m.r, &line, 1 << 20)) == QUEUE_LINE)
        argv_addn(m.lines, vstr_str(&line), vstr_len(&line));
    if (st != QUEUE_END)
        fail_msg("content %s: %s", id, queue_file_error(m.r));
    vstr_release(&err);
    vstr_release(&line);
    return m;
}

static message read_back(const fixture *f, const char *id)
{
    return read_back_in(f, "incoming", id);
}

static void message_free(message *m)
{
    queue_file_close(m->r);
    argv_free(m->lines);
}

/* Index of the first line starting with prefix, or -1. */
static int find_line(const message *m, const char *prefix)
{
    for (size_t i = 0; i < m->lines->argc; i++)
        if (strncmp(m->lines->argv[i], prefix, strlen(prefix)) == 0)
            return (int)i;
    return -1;
}

static cleanup *start(fixture *f, int flags)
{
    vstr err = VSTR_INIT;
    cleanup *c = cleanup_open(f->cfg, flags, &err);

    if (c == NULL)
        fail_msg("cleanup_open: %s", vstr_str(&err));
    vstr_release(&err);
    return c;
}

static void put_lines(cleanup *c, const char *const *lines)
{
    for (; *lines; lines++)
        cleanup_put_line(c, *lines, strlen(*lines));
}

/* Finish, expect OK, return the id. */
static char *finish_ok(cleanup *c)
{
    vstr reason = VSTR_INIT;
    char *id = mem_strdup(cleanup_id(c));
    cleanup_status st = cleanup_finish(c, &reason);

    if (st != CLEANUP_OK)
        fail_msg("cleanup_finish: %s %s", cleanup_status_dsn(st), vstr_str(&reason));
    vstr_release(&reason);
    return id;
}

static void expect_failure(fixture *f, cleanup *c, cleanup_status want, const char *reason_part)
{
    vstr reason = VSTR_INIT;
    argv_t *names = incoming(f);
    size_t before = names->argc;
    cleanup_status st;

    argv_free(names);
    st = cleanup_finish(c, &reason);
    if (st != want)
        fail_msg("status %d (%s), want %d", (int)st, vstr_str(&reason), (int)want);
    if (reason_part && strstr(vstr_str(&reason), reason_part) == NULL)
        fail_msg("reason \"%s\" lacks \"%s\"", vstr_str(&reason), reason_part);
    /* Nothing new: the temporary file is gone too. */
    names = incoming(f);
    assert_int_equal(names->argc, before - 1);
    argv_free(names);
    vstr_release(&reason);
}

#define LINES(...) ((const char *const[]){__VA_ARGS__, NULL})

static void local_submission_gets_received_message_id_date_and_from(void **state)
{
    fixture *f = *state;
    cleanup *c = start(f, 0);
    char *id;
    message m;
    vstr want = VSTR_INIT;
    argv_t *names;

    cleanup_set_arrival(c, 1763835360, 250000);
    cleanup_set_sender(c, "alice");
    cleanup_add_rcpt(c, "bob@example.org", NULL, NULL, 0);
    cleanup_set_attr(c, "uid", "1000");
    cleanup_set_attr(c, "protocol", "LOCAL");
    put_lines(c, LINES("Subject: hello", "", "body line"));
    id = finish_ok(c);

    names = incoming(f);
    assert_int_equal(names->argc, 1);
    assert_string_equal(names->argv[0], id);
    argv_free(names);

    m = read_back(f, id);
    assert_string_equal(m.env->sender, "alice@example.com");
    assert_int_equal(m.env->rcpt_count, 1);
    assert_string_equal(m.env->rcpts[0].address, "bob@example.org");
    assert_int_equal(m.env->arrival_sec, 1763835360);
    assert_int_equal(m.env->arrival_usec, 250000);
    assert_string_equal(queue_envelope_attr(m.env, "uid"), "1000");
    assert_int_equal(m.lines->argc, 8);
    assert_string_equal(m.lines->argv[0],
                        "Received: by mail.example.com (Postern, from userid 1000)");
    vstr_set_fmt(&want, "\tid %s; Sat, 22 Nov 2025 18:16:00 +0000 (UTC)", id);
    assert_string_equal(m.lines->argv[1], vstr_str(&want));
    assert_string_equal(m.lines->argv[2], "Subject: hello");
    vstr_set_fmt(&want, "Message-ID: <%s@mail.example.com>", id);
    assert_string_equal(m.lines->argv[3], vstr_str(&want));
    assert_string_equal(m.lines->argv[4], "Date: Sat, 22 Nov 2025 18:16:00 +0000 (UTC)");
    assert_string_equal(m.lines->argv[5], "From: alice@example.com");
    assert_string_equal(m.lines->argv[6], "");
    assert_string_equal(m.lines->argv[7], "body line");
    message_free(&m);
    vstr_release(&want);
    mem_free(id);
}

static void size_record_describes_the_content(void **state)
{
    fixture *f = *state;
    cleanup *c = start(f, 0);
    char *id;
    message m;
    long long bytes = 0;

    cleanup_set_sender(c, "a@example.com");
    cleanup_add_rcpt(c, "b@example.org", NULL, NULL, 0);
    cleanup_add_rcpt(c, "c@example.org", NULL, NULL, 0);
    put_lines(c, LINES("Subject: s", "", "x"));
    id = finish_ok(c);
    m = read_back(f, id);
    for (size_t i = 0; i < m.lines->argc; i++)
        bytes += (long long)strlen(m.lines->argv[i]) + 1;
    assert_int_equal(m.env->size_content_offset, (long long)m.env->content_offset);
    assert_int_equal(m.env->size_content_bytes, bytes);
    assert_int_equal(m.env->size_rcpt_count, 2);
    message_free(&m);
    mem_free(id);
}

static void existing_headers_are_not_duplicated(void **state)
{
    fixture *f = *state;
    cleanup *c = start(f, 0);
    char *id;
    message m;

    cleanup_set_sender(c, "a@example.com");
    cleanup_add_rcpt(c, "b@example.org", NULL, NULL, 0);
    put_lines(c, LINES("from: Someone <s@x>", "DATE: Mon, 1 Jan 2024 00:00:00 +0000",
                       "Message-Id: <m1@x>", "", "b"));
    id = finish_ok(c);
    m = read_back(f, id);
    assert_int_equal(find_line(&m, "From:"), -1);
    assert_int_equal(find_line(&m, "Date:"), -1);
    assert_int_equal(find_line(&m, "Message-ID:"), -1);
    assert_int_equal(find_line(&m, "from: Someone"), 2);
    message_free(&m);
    mem_free(id);
}

static void full_name_becomes_the_display_name(void **state)
{
    fixture *f = *state;
    cleanup *c = start(f, 0);
    char *id;
    message m;

    cleanup_set_sender(c, "jq");
    cleanup_add_rcpt(c, "b@example.org", NULL, NULL, 0);
    cleanup_set_attr(c, "full_name", "Public, John Q.\r\nBcc: injected@x");
    put_lines(c, LINES("", "b"));
    id = finish_ok(c);
    m = read_back(f, id);
    assert_string_equal(m.lines->argv[find_line(&m, "From:")],
                        "From: \"Public, John Q.??Bcc: injected@x\" <jq@example.com>");
    message_free(&m);
    mem_free(id);
}

static void null_sender_gets_mailer_daemon_from(void **state)
{
    fixture *f = *state;
    cleanup *c = start(f, 0);
    char *id;
    message m;

    cleanup_set_sender(c, "");
    cleanup_add_rcpt(c, "b@example.org", NULL, NULL, 0);
    put_lines(c, LINES("Subject: bounce", "", "b"));
    id = finish_ok(c);
    m = read_back(f, id);
    assert_string_equal(m.env->sender, "");
    assert_true(find_line(&m, "From: MAILER-DAEMON@example.com") > 0);
    message_free(&m);
    mem_free(id);
}

static void smtp_received_names_client_and_single_recipient(void **state)
{
    fixture *f = *state;
    cleanup *c = start(f, 0);
    char *id;
    message m;
    vstr want = VSTR_INIT;

    cleanup_set_arrival(c, 1763835360, 0);
    cleanup_set_sender(c, "a@example.net");
    cleanup_add_rcpt(c, "john doe@example.org", NULL, NULL, 0);
    cleanup_set_attr(c, "client_name", "client.example.net");
    cleanup_set_attr(c, "client_address", "192.0.2.7");
    cleanup_set_attr(c, "helo_name", "helo.example.net");
    cleanup_set_attr(c, "protocol", "ESMTP");
    put_lines(c, LINES("Subject: s", "", "b"));
    id = finish_ok(c);
    m = read_back(f, id);
    assert_string_equal(m.lines->argv[0],
                        "Received: from helo.example.net (client.example.net [192.0.2.7])");
    vstr_set_fmt(&want, "\tby mail.example.com (Postern) with ESMTP id %s", id);
    assert_string_equal(m.lines->argv[1], vstr_str(&want));
    assert_string_equal(m.lines->argv[2],
                        "\tfor <\"john doe\"@example.org>; Sat, 22 Nov 2025 18:16:00 +0000 (UTC)");
    message_free(&m);

    c = start(f, 0);
    mem_free(id);
    cleanup_set_arrival(c, 1763835360, 0);
    cleanup_set_sender(c, "a@example.net");
    cleanup_add_rcpt(c, "b@example.org", NULL, NULL, 0);
    cleanup_add_rcpt(c, "c@example.org", NULL, NULL, 0);
    cleanup_set_attr(c, "client_address", "192.0.2.7");
    cleanup_set_attr(c, "protocol", "ESMTP");
    put_lines(c, LINES("Subject: s", "", "b"));
    id = finish_ok(c);
    m = read_back(f, id);
    assert_string_equal(m.lines->argv[0], "Received: from unknown (unknown [192.0.2.7])");
    vstr_set_fmt(&want, "\tby mail.example.com (Postern) with ESMTP id %s;", id);
    assert_string_equal(m.lines->argv[1], vstr_str(&want));
    assert_string_equal(m.lines->argv[2], "\tSat, 22 Nov 2025 18:16:00 +0000 (UTC)");
    message_free(&m);
    vstr_release(&want);
    mem_free(id);
}

static void extraction_takes_to_cc_bcc_and_strips_bcc(void **state)
{
    fixture *f = *state;
    cleanup *c = start(f, CLEANUP_FLAG_EXTRACT);
    char *id;
    message m;

    cleanup_set_sender(c, "a@example.com");
    cleanup_add_rcpt(c, "cmdline@example.org", NULL, NULL, 0);
    put_lines(c, LINES("To: One <one@example.org>, \"two x\"@example.org,",
                       " Team: three@example.org;", "Cc: four (local user)",
                       "Bcc: secret@example.org", "Subject: s", "", "b"));
    id = finish_ok(c);
    m = read_back(f, id);
    assert_int_equal(m.env->rcpt_count, 6);
    assert_string_equal(m.env->rcpts[0].address, "cmdline@example.org");
    assert_string_equal(m.env->rcpts[1].address, "one@example.org");
    assert_string_equal(m.env->rcpts[2].address, "two x@example.org");
    assert_string_equal(m.env->rcpts[3].address, "three@example.org");
    assert_string_equal(m.env->rcpts[4].address, "four@example.com");
    assert_string_equal(m.env->rcpts[4].orig_rcpt, "four");
    assert_null(m.env->rcpts[3].orig_rcpt);
    assert_string_equal(m.env->rcpts[5].address, "secret@example.org");
    assert_int_equal(find_line(&m, "Bcc:"), -1);
    assert_true(find_line(&m, "To: One <one@example.org>") > 0);
    assert_true(find_line(&m, " Team: three@example.org;") > 0);
    message_free(&m);
    mem_free(id);
}

static void extraction_reads_folded_bcc_and_removes_every_bcc(void **state)
{
    fixture *f = *state;
    cleanup *c = start(f, CLEANUP_FLAG_EXTRACT);
    char *id;
    message m;

    cleanup_set_sender(c, "a@example.com");
    put_lines(c, LINES("To: one@example.org", "Bcc: secret@example.org",
                       "bcc:", "\tsecret2@example.org", "Subject: s", "", "Bcc: this is body"));
    id = finish_ok(c);
    m = read_back(f, id);
    assert_int_equal(m.env->rcpt_count, 3);
    assert_string_equal(m.env->rcpts[2].address, "secret2@example.org");
    assert_int_equal(find_line(&m, "Bcc: secret"), -1);
    assert_int_equal(find_line(&m, "bcc:"), -1);
    assert_int_equal(find_line(&m, "\tsecret2"), -1);
    assert_true(find_line(&m, "Bcc: this is body") > 0);
    assert_true(find_line(&m, "To: one@example.org") > 0);
    message_free(&m);
    mem_free(id);
}

/* Without extraction the headers name no recipient; message_drop_headers
 * (Postfix's default list) removes Bcc:, Return-Path: and Content-Length:
 * from every message, and with an empty list they stay. */
static void without_extraction_headers_are_not_recipients_and_dropped_headers_go(void **state)
{
    fixture *f = *state;
    static const char *const drop_lists[] = {NULL, ""};

    for (size_t i = 0; i < 2; i++) {
        cleanup *c;
        char *id;
        message m;

        if (drop_lists[i] != NULL)
            config_override(f->cfg, "message_drop_headers", drop_lists[i]);
        c = start(f, 0);
        cleanup_set_sender(c, "a@example.com");
        cleanup_add_rcpt(c, "b@example.org", NULL, NULL, 0);
        put_lines(c, LINES("To: other@example.org", "Bcc: secret@example.org",
                           "RETURN-PATH: <x@example.net>", "Content-Length: 7", "", "b"));
        id = finish_ok(c);
        m = read_back(f, id);
        assert_int_equal(m.env->rcpt_count, 1);
        assert_true(find_line(&m, "To: other@example.org") > 0);
        if (drop_lists[i] == NULL) {
            assert_int_equal(find_line(&m, "Bcc: secret@example.org"), -1);
            assert_int_equal(find_line(&m, "RETURN-PATH: <x@example.net>"), -1);
            assert_int_equal(find_line(&m, "Content-Length: 7"), -1);
        } else {
            assert_true(find_line(&m, "Bcc: secret@example.org") > 0);
            assert_true(find_line(&m, "RETURN-PATH: <x@example.net>") > 0);
            assert_true(find_line(&m, "Content-Length: 7") > 0);
        }
        message_free(&m);
        mem_free(id);
    }
}

static void resent_headers_win_when_present(void **state)
{
    fixture *f = *state;
    cleanup *c = start(f, CLEANUP_FLAG_EXTRACT);
    char *id;
    message m;

    cleanup_set_sender(c, "a@example.com");
    put_lines(c, LINES("To: original@example.org", "Resent-To: new@example.org",
                       "Resent-Bcc: hidden@example.org", "", "b"));
    id = finish_ok(c);
    m = read_back(f, id);
    assert_int_equal(m.env->rcpt_count, 2);
    assert_string_equal(m.env->rcpts[0].address, "new@example.org");
    assert_string_equal(m.env->rcpts[1].address, "hidden@example.org");
    assert_int_equal(find_line(&m, "Resent-Bcc:"), -1);
    message_free(&m);
    mem_free(id);
}

static void malformed_address_header_is_refused_when_extracting(void **state)
{
    fixture *f = *state;
    cleanup *c = start(f, CLEANUP_FLAG_EXTRACT);

    cleanup_set_sender(c, "a@example.com");
    put_lines(c, LINES("To: ok@example.org, \"unterminated@example.org", "", "b"));
    expect_failure(f, c, CLEANUP_BAD_HEADER, "To: header");
}

static void duplicate_recipients_are_written_once(void **state)
{
    fixture *f = *state;
    cleanup *c = start(f, CLEANUP_FLAG_EXTRACT);
    char *id;
    message m;

    cleanup_set_sender(c, "a@example.com");
    cleanup_add_rcpt(c, "b@example.org", NULL, NULL, 0);
    cleanup_add_rcpt(c, "b@example.org", NULL, NULL, 0);
    cleanup_add_rcpt(c, "b", NULL, NULL, 0); /* b@example.com: another address */
    put_lines(c, LINES("To: b@example.org", "Cc: b@example.org", "", "x"));
    id = finish_ok(c);
    m = read_back(f, id);
    assert_int_equal(m.env->rcpt_count, 2);
    message_free(&m);
    mem_free(id);
}

static void dsn_fields_and_original_recipient_are_kept(void **state)
{
    fixture *f = *state;
    cleanup *c = start(f, 0);
    char *id;
    message m;

    cleanup_set_sender(c, "a@example.com");
    cleanup_add_rcpt(c, "b@example.org", "alias@example.org", "rfc822;alias@example.org",
                     REC_DSN_NOTIFY_FAILURE | REC_DSN_NOTIFY_DELAY);
    cleanup_add_rcpt(c, "c@example.org", NULL, NULL, REC_DSN_NOTIFY_NEVER);
    put_lines(c, LINES("", "x"));
    id = finish_ok(c);
    m = read_back(f, id);
    assert_string_equal(m.env->rcpts[0].orig_rcpt, "alias@example.org");
    assert_string_equal(m.env->rcpts[0].dsn_orcpt, "rfc822;alias@example.org");
    assert_int_equal(m.env->rcpts[0].dsn_notify, 12);
    assert_null(m.env->rcpts[1].orig_rcpt);
    assert_null(m.env->rcpts[1].dsn_orcpt);
    assert_int_equal(m.env->rcpts[1].dsn_notify, 1);
    message_free(&m);
    mem_free(id);
}

static void long_lines_are_split_into_pieces_never_truncated(void **state)
{
    fixture *f = *state;
    cleanup *c;
    char *id, body[26], header[40];
    message m;
    vstr err = VSTR_INIT, line = VSTR_INIT;
    queue_reader *r;
    int pieces = 0;
    queue_line_status st;

    config_override(f->cfg, "line_length_limit", "10");
    c = start(f, 0);
    memcpy(body, "abcdefghijklmnopqrstuvwxy", 26);
    snprintf(header, sizeof(header), "X-Long: 0123456789012345678901234");
    cleanup_set_sender(c, "a@example.com");
    cleanup_add_rcpt(c, "b@example.org", NULL, NULL, 0);
    put_lines(c, LINES(header, "", body, "0123456789", "01234567890123456789"));
    id = finish_ok(c);
    m = read_back(f, id);
    assert_true(find_line(&m, header) > 0);
    assert_string_equal(m.lines->argv[m.lines->argc - 3], body);
    assert_string_equal(m.lines->argv[m.lines->argc - 2], "0123456789");
    assert_string_equal(m.lines->argv[m.lines->argc - 1], "01234567890123456789");
    message_free(&m);

    /* Read with a bound of 10: the pieces come out as stored. */
    r = queue_file_open(f->dir, "incoming", id, QUEUE_FILE_QUEUE, &err);
    assert_non_null(r);
    assert_non_null(queue_file_read_envelope(r));
    while ((st = queue_file_read_line(r, &line, 10)) == QUEUE_LINE || st == QUEUE_PIECE) {
        assert_true(vstr_len(&line) <= 10);
        pieces += st == QUEUE_PIECE;
    }
    assert_int_equal(st, QUEUE_END);
    /* Received (2 long lines), X-Long, Message-ID, Date, body (2), last (1). */
    assert_true(pieces >= 6);
    queue_file_close(r);
    vstr_release(&err);
    vstr_release(&line);
    mem_free(id);
}

static void pieces_from_a_maildrop_are_joined_and_resplit(void **state)
{
    fixture *f = *state;
    cleanup *c;
    char *id;
    message m;

    config_override(f->cfg, "line_length_limit", "4");
    c = start(f, 0);
    cleanup_set_sender(c, "a@example.com");
    cleanup_add_rcpt(c, "b@example.org", NULL, NULL, 0);
    cleanup_put_record(c, REC_TYPE_CONT, "Subj", 4);
    cleanup_put_record(c, REC_TYPE_NORM, "ect: pieces", 11);
    cleanup_put_line(c, "", 0);
    cleanup_put_record(c, REC_TYPE_CONT, "ab", 2);
    cleanup_put_record(c, REC_TYPE_CONT, "cdefg", 5);
    cleanup_put_record(c, REC_TYPE_NORM, "h", 1);
    cleanup_put_record(c, REC_TYPE_CONT, "dangling", 8);
    id = finish_ok(c);
    m = read_back(f, id);
    assert_true(find_line(&m, "Subject: pieces") > 0);
    assert_string_equal(m.lines->argv[m.lines->argc - 2], "abcdefgh");
    assert_string_equal(m.lines->argv[m.lines->argc - 1], "dangling");
    message_free(&m);
    mem_free(id);
}

static void eight_bit_and_nul_bytes_pass_unchanged(void **state)
{
    fixture *f = *state;
    cleanup *c = start(f, 0);
    char *id;
    message m;
    static const char subject[] = "Subject: gr\xc3\xbc\xc3\x9f dich";
    static const char raw[] = "\x80\xff\x00\x01\x7f\xfe end";
    vstr err = VSTR_INIT, line = VSTR_INIT;
    queue_reader *r;
    int found = 0;

    cleanup_set_sender(c, "a@example.com");
    cleanup_add_rcpt(c, "b@example.org", NULL, NULL, 0);
    cleanup_put_line(c, subject, strlen(subject));
    cleanup_put_line(c, "", 0);
    cleanup_put_line(c, raw, sizeof(raw) - 1);
    id = finish_ok(c);
    m = read_back(f, id);
    assert_true(find_line(&m, subject) > 0);
    message_free(&m);
    r = queue_file_open(f->dir, "incoming", id, QUEUE_FILE_QUEUE, &err);
    assert_non_null(queue_file_read_envelope(r));
    while (queue_file_read_line(r, &line, 1000) == QUEUE_LINE)
        if (vstr_len(&line) == sizeof(raw) - 1 &&
            memcmp(vstr_str(&line), raw, sizeof(raw) - 1) == 0)
            found = 1;
    assert_true(found);
    queue_file_close(r);
    vstr_release(&err);
    vstr_release(&line);
    mem_free(id);
}

static void message_size_limit_refuses_and_leaves_nothing(void **state)
{
    fixture *f = *state;
    cleanup *c;
    char line[80];

    config_override(f->cfg, "message_size_limit", "1000");
    c = start(f, 0);
    cleanup_set_sender(c, "a@example.com");
    cleanup_add_rcpt(c, "b@example.org", NULL, NULL, 0);
    memset(line, 'x', sizeof(line));
    for (int i = 0; i < 20; i++)
        cleanup_put_line(c, line, sizeof(line));
    assert_int_equal(cleanup_status_now(c), CLEANUP_SIZE);
    for (int i = 0; i < 20; i++)
        cleanup_put_line(c, line, sizeof(line)); /* still accepted, dropped */
    expect_failure(f, c, CLEANUP_SIZE, "1000");
    assert_string_equal(cleanup_status_dsn(CLEANUP_SIZE), "5.3.4");
    assert_int_equal(cleanup_status_smtp(CLEANUP_SIZE), 552);
}

static void message_at_the_size_limit_is_accepted(void **state)
{
    fixture *f = *state;
    cleanup *c;
    char *id;

    config_override(f->cfg, "message_size_limit", "10");
    c = start(f, 0);
    cleanup_set_sender(c, "a@example.com");
    cleanup_add_rcpt(c, "b@example.org", NULL, NULL, 0);
    put_lines(c, LINES("", "12345678")); /* 1 + 9 bytes */
    id = finish_ok(c);
    mem_free(id);
}

static void too_many_received_headers_is_a_loop(void **state)
{
    fixture *f = *state;
    cleanup *c;
    char *id;

    c = start(f, 0);
    cleanup_set_sender(c, "a@example.com");
    cleanup_add_rcpt(c, "b@example.org", NULL, NULL, 0);
    for (int i = 0; i < 49; i++)
        put_lines(c, LINES("Received: from x by y", "\twith SMTP"));
    put_lines(c, LINES("", "b"));
    id = finish_ok(c);
    mem_free(id);

    c = start(f, 0);
    cleanup_set_sender(c, "a@example.com");
    cleanup_add_rcpt(c, "b@example.org", NULL, NULL, 0);
    for (int i = 0; i < 50; i++)
        put_lines(c, LINES("Received: from x by y"));
    put_lines(c, LINES("", "b"));
    expect_failure(f, c, CLEANUP_HOPS, "50 Received");
    assert_string_equal(cleanup_status_dsn(CLEANUP_HOPS), "5.4.6");
    (void)id;
}

static void headers_beyond_header_size_limit_are_body(void **state)
{
    fixture *f = *state;
    cleanup *c;
    char *id;
    message m;
    int msgid, over;

    config_override(f->cfg, "header_size_limit", "60");
    config_override(f->cfg, "hopcount_limit", "3");
    c = start(f, CLEANUP_FLAG_EXTRACT);
    cleanup_set_sender(c, "a@example.com");
    /* 21 + 21 = 42 bytes kept; the third header would pass 60. */
    put_lines(c, LINES("To: one@example.org  ", "Received: from a by b", "Received: from c by d",
                       "Received: from e by f", "Bcc: late@example.org", "", "body"));
    id = finish_ok(c);
    m = read_back(f, id);
    /* Only headers inside the limit count: one recipient, two hops. */
    assert_int_equal(m.env->rcpt_count, 1);
    msgid = find_line(&m, "Message-ID:");
    over = find_line(&m, "Received: from c by d");
    assert_true(msgid > 0 && over > msgid);
    assert_true(find_line(&m, "Bcc: late@example.org") > over);
    message_free(&m);
    mem_free(id);
}

static void one_huge_header_line_ends_the_header_block(void **state)
{
    fixture *f = *state;
    cleanup *c;
    char *id, big[300];
    message m;

    config_override(f->cfg, "header_size_limit", "100");
    config_override(f->cfg, "line_length_limit", "50");
    c = start(f, 0);
    cleanup_set_sender(c, "a@example.com");
    cleanup_add_rcpt(c, "b@example.org", NULL, NULL, 0);
    memset(big, 'h', sizeof(big));
    memcpy(big, "X-Big: ", 7);
    cleanup_put_line(c, "Subject: s", 10);
    for (int i = 0; i < 5; i++)
        cleanup_put_record(c, REC_TYPE_CONT, big + 60 * i, 60);
    cleanup_put_line(c, "", 0);
    cleanup_put_line(c, "body", 4);
    id = finish_ok(c);
    m = read_back(f, id);
    assert_true(find_line(&m, "Message-ID:") < find_line(&m, "X-Big: "));
    assert_int_equal(strlen(m.lines->argv[find_line(&m, "X-Big: ")]), 300);
    message_free(&m);
    mem_free(id);
}

static void headers_only_message_is_fine(void **state)
{
    fixture *f = *state;
    cleanup *c = start(f, 0);
    char *id;
    message m;

    cleanup_set_sender(c, "a@example.com");
    cleanup_add_rcpt(c, "b@example.org", NULL, NULL, 0);
    put_lines(c, LINES("Subject: no body"));
    id = finish_ok(c);
    m = read_back(f, id);
    assert_string_equal(m.lines->argv[m.lines->argc - 1], "From: a@example.com");
    message_free(&m);
    mem_free(id);

    c = start(f, 0);
    cleanup_set_sender(c, "a@example.com");
    cleanup_add_rcpt(c, "b@example.org", NULL, NULL, 0);
    id = finish_ok(c); /* no content at all */
    m = read_back(f, id);
    assert_int_equal(m.lines->argc, 5);
    message_free(&m);
    mem_free(id);
}

static void first_line_that_is_not_a_header_starts_the_body(void **state)
{
    fixture *f = *state;
    cleanup *c = start(f, 0);
    char *id;
    message m;

    cleanup_set_sender(c, "a@example.com");
    cleanup_add_rcpt(c, "b@example.org", NULL, NULL, 0);
    put_lines(c, LINES("just text, no headers", "Subject: not a header now"));
    id = finish_ok(c);
    m = read_back(f, id);
    assert_true(find_line(&m, "From: a@example.com") < find_line(&m, "just text"));
    assert_int_equal(find_line(&m, "just text") + 1, find_line(&m, "Subject: not a header"));
    message_free(&m);
    mem_free(id);
}

static void no_recipients_is_an_error(void **state)
{
    fixture *f = *state;
    cleanup *c = start(f, CLEANUP_FLAG_EXTRACT);

    cleanup_set_sender(c, "a@example.com");
    put_lines(c, LINES("Subject: nobody", "To: undisclosed-recipients:;", "", "b"));
    expect_failure(f, c, CLEANUP_NO_RCPT, "no recipients specified");
    assert_string_equal(cleanup_status_dsn(CLEANUP_NO_RCPT), "5.1.3");
}

static void control_characters_in_addresses_are_refused(void **state)
{
    fixture *f = *state;
    cleanup *c = start(f, 0);

    cleanup_set_sender(c, "a@example.com");
    cleanup_add_rcpt(c, "b\n@example.org", NULL, NULL, 0);
    put_lines(c, LINES("", "b"));
    expect_failure(f, c, CLEANUP_BAD_ADDR, "control character");
}

static void abort_leaves_no_file(void **state)
{
    fixture *f = *state;
    cleanup *c = start(f, 0);
    argv_t *names;

    cleanup_set_sender(c, "a@example.com");
    cleanup_add_rcpt(c, "b@example.org", NULL, NULL, 0);
    put_lines(c, LINES("Subject: x", "", "b"));
    cleanup_abort(c);
    names = incoming(f);
    assert_int_equal(names->argc, 0);
    argv_free(names);
}

/* ---- Actions ---- */

/* Names in QUEUE_DIR/hold. */
static size_t count_in(const fixture *f, const char *queue)
{
    char path[128];
    DIR *d;
    struct dirent *e;
    size_t n = 0;

    snprintf(path, sizeof(path), "%s/%s", f->dir, queue);
    assert_non_null(d = opendir(path));
    while ((e = readdir(d)) != NULL)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static cleanup *smtp_message(fixture *f)
{
    cleanup *c = start(f, 0);

    cleanup_set_sender(c, "a@example.net");
    cleanup_add_rcpt(c, "one@example.org", NULL, NULL, 0);
    cleanup_add_rcpt(c, "two@example.org", "Two@Example.org", "rfc822;two@example.org", 4);
    cleanup_set_attr(c, "client_name", "client.example.net");
    cleanup_set_attr(c, "client_address", "192.0.2.1");
    cleanup_set_attr(c, "protocol", "ESMTP");
    cleanup_set_attr(c, "helo_name", "helo.example.net");
    return c;
}

static void hold_commits_into_the_hold_queue(void **state)
{
    fixture *f = *state;
    cleanup *c = smtp_message(f);
    char *id;
    message m;

    put_lines(c, LINES("Subject: x"));
    cleanup_hold(c, "header Subject: x", "held for review");
    id = finish_ok(c);
    assert_int_equal(count_in(f, "incoming"), 0);
    assert_int_equal(count_in(f, "hold"), 1);
    m = read_back_in(f, "hold", id);
    assert_int_equal(m.env->rcpt_count, 2);
    message_free(&m);
    mem_free(id);
}

static void discard_accepts_and_commits_nothing(void **state)
{
    fixture *f = *state;
    cleanup *c = smtp_message(f);
    vstr reason = VSTR_INIT;

    cleanup_discard(c, "body spam", NULL);
    assert_true(cleanup_discarding(c));
    put_lines(c, LINES("Subject: x", "", "spam"));
    assert_int_equal(cleanup_finish(c, &reason), CLEANUP_OK);
    assert_string_equal(vstr_str(&reason), "discarded");
    assert_int_equal(count_in(f, "incoming"), 0);
    assert_int_equal(count_in(f, "hold"), 0);
    vstr_release(&reason);
}

/* Redirected recipients keep what was given as the original recipient,
 * and their DSN fields. */
static void check_redirected(const message *m)
{
    assert_int_equal(m->env->rcpt_count, 2);
    assert_string_equal(m->env->rcpts[0].address, "else@example.com");
    assert_string_equal(m->env->rcpts[0].orig_rcpt, "one@example.org");
    assert_string_equal(m->env->rcpts[1].address, "else@example.com");
    assert_string_equal(m->env->rcpts[1].orig_rcpt, "Two@Example.org");
    assert_string_equal(m->env->rcpts[1].dsn_orcpt, "rfc822;two@example.org");
    assert_int_equal(m->env->rcpts[1].dsn_notify, 4);
}

static void redirect_replaces_recipients_and_keeps_originals(void **state)
{
    fixture *f = *state;
    cleanup *c = smtp_message(f);
    char *id;
    message m;

    assert_int_equal(cleanup_redirect(c, "else", "header To: x"), 0);
    assert_int_equal(cleanup_redirect(c, "bad\naddr", NULL), -1);
    put_lines(c, LINES("To: x", "", "body"));
    id = finish_ok(c);
    m = read_back(f, id);
    check_redirected(&m);
    message_free(&m);
    mem_free(id);
}

/* A body check acts after the envelope is on disk: the file is written
 * again, same id, same content, and the S record still checks out. */
static void redirect_and_filter_from_the_body_rewrite_the_envelope(void **state)
{
    fixture *f = *state;
    cleanup *c = smtp_message(f);
    char *id, *long_line = mem_alloc(300000);
    message m;

    memset(long_line, 'x', 299999);
    long_line[299999] = 0;
    put_lines(c, LINES("Subject: x", "", "first body line"));
    cleanup_put_line(c, long_line, strlen(long_line));
    assert_int_equal(cleanup_redirect(c, "else@example.com", "body first"), 0);
    assert_int_equal(cleanup_filter(c, "scan:[127.0.0.1]:10025", "body first"), 0);
    assert_int_equal(cleanup_filter(c, "no colon", "body first"), -1);
    put_lines(c, LINES("last"));
    id = finish_ok(c);
    assert_int_equal(count_in(f, "incoming"), 1);
    m = read_back(f, id);
    check_redirected(&m);
    assert_string_equal(queue_envelope_attr(m.env, "content_filter"), "scan:[127.0.0.1]:10025");
    assert_string_equal(queue_envelope_attr(m.env, "helo_name"), "helo.example.net");
    assert_true(find_line(&m, "Received: from helo.example.net") == 0);
    assert_string_equal(m.lines->argv[m.lines->argc - 1], "last");
    assert_string_equal(m.lines->argv[m.lines->argc - 2], long_line);
    assert_string_equal(m.lines->argv[m.lines->argc - 3], "first body line");
    message_free(&m);
    mem_free(id);
    mem_free(long_line);
}

static void filter_before_content_is_an_attribute(void **state)
{
    fixture *f = *state;
    cleanup *c = smtp_message(f);
    char *id;
    message m;

    assert_int_equal(cleanup_filter(c, "smtp:relay.example.com", NULL), 0);
    put_lines(c, LINES("Subject: x"));
    id = finish_ok(c);
    m = read_back(f, id);
    assert_string_equal(queue_envelope_attr(m.env, "content_filter"), "smtp:relay.example.com");
    assert_string_equal(m.env->rcpts[0].address, "one@example.org");
    message_free(&m);
    mem_free(id);
}

static void prepended_headers_come_first(void **state)
{
    fixture *f = *state;
    cleanup *c = smtp_message(f);
    char *id;
    message m;

    assert_int_equal(cleanup_prepend_header(c, "X-Checked: yes"), 0);
    assert_int_equal(cleanup_prepend_header(c, "not a header"), -1);
    assert_int_equal(cleanup_prepend_header(c, "X-Bad: a\nb"), -1);
    put_lines(c, LINES("Subject: x"));
    assert_int_equal(cleanup_prepend_header(c, "X-Second: 2"), 0);
    id = finish_ok(c);
    m = read_back(f, id);
    assert_int_equal(find_line(&m, "X-Checked: yes"), 0);
    assert_int_equal(find_line(&m, "X-Second: 2"), 1);
    assert_int_equal(find_line(&m, "Received: "), 2);
    message_free(&m);
    mem_free(id);
}

static void reject_gives_its_text_with_an_enhanced_code(void **state)
{
    fixture *f = *state;
    cleanup *c = smtp_message(f);

    put_lines(c, LINES("Subject: spam"));
    cleanup_reject(c, "header Subject: spam", NULL);
    cleanup_reject(c, "header Subject: spam", "second one is ignored");
    expect_failure(f, c, CLEANUP_CONTENT, "5.7.1 message content rejected");

    c = smtp_message(f);
    cleanup_reject(c, "body x", "no thanks");
    expect_failure(f, c, CLEANUP_CONTENT, "5.7.1 no thanks");

    c = smtp_message(f);
    cleanup_reject(c, "body x", "5.7.0 go away");
    expect_failure(f, c, CLEANUP_CONTENT, "5.7.0 go away");

    c = smtp_message(f);
    {
        char long_text[1000];
        vstr reason = VSTR_INIT;

        memset(long_text, 'z', sizeof(long_text) - 1);
        long_text[sizeof(long_text) - 1] = 0;
        long_text[3] = '\t';
        cleanup_reject(c, NULL, long_text);
        assert_int_equal(cleanup_finish(c, &reason), CLEANUP_CONTENT);
        assert_memory_equal(vstr_str(&reason), "5.7.1 zzz zzz", 13);
        assert_int_equal(vstr_len(&reason), 6 + 400 + 3); /* "..." marks the cut */
        vstr_release(&reason);
    }
    assert_int_equal(cleanup_status_smtp(CLEANUP_CONTENT), 550);
}

static void table_failure_defers(void **state)
{
    fixture *f = *state;
    cleanup *c = smtp_message(f);

    put_lines(c, LINES("Subject: x"));
    cleanup_lookup_failed(c, "header_checks: pcre:/x: cannot open");
    cleanup_hold(c, NULL, NULL);
    expect_failure(f, c, CLEANUP_TABLE, "cannot open");
    assert_int_equal(cleanup_status_smtp(CLEANUP_TABLE), 451);
    assert_string_equal(cleanup_status_dsn(CLEANUP_TABLE), "4.3.0");
    assert_int_equal(count_in(f, "hold"), 0);
}

/* ---- Content checks ---- */

/* Write a pcre table under the fixture and name it in param. */
static void table(fixture *f, const char *param, const char *name, const char *text)
{
    char path[128], spec[160];
    FILE *fp;

    snprintf(path, sizeof(path), "%s/%s", f->dir, name);
    assert_non_null(fp = fopen(path, "w"));
    fputs(text, fp);
    fclose(fp);
    snprintf(spec, sizeof(spec), "pcre:%s", path);
    config_override(f->cfg, param, spec);
}

static void header_checks_ignore_replace_and_prepend(void **state)
{
    fixture *f = *state;
    cleanup_checks *k;
    cleanup *c;
    char *id;
    message m;

    table(f, "header_checks", "hc",
          "/^X-Drop:/ IGNORE\n/^Subject: old/ REPLACE Subject: new\n"
          "/^X-Mark:/ PREPEND X-Seen: yes\n/^X-Folded: a b/ WARN folded\n");
    k = cleanup_checks_open(f->cfg);
    c = smtp_message(f);
    cleanup_set_checks(c, k);
    put_lines(c, LINES("X-Drop: 1", " continued", "Subject: old one", "X-Mark: m", "X-Folded: a",
                       " b", "", "body"));
    id = finish_ok(c);
    m = read_back(f, id);
    assert_int_equal(find_line(&m, "X-Drop"), -1);
    assert_int_equal(find_line(&m, " continued"), -1);
    assert_true(find_line(&m, "Subject: new") > 0);
    assert_int_equal(find_line(&m, "Subject: old"), -1);
    assert_int_equal(find_line(&m, "X-Seen: yes") + 1, find_line(&m, "X-Mark: m"));
    assert_true(find_line(&m, "X-Folded: a") > 0);
    message_free(&m);
    mem_free(id);
    cleanup_checks_free(k);
}

static void part_headers_and_body_lines_are_checked(void **state)
{
    fixture *f = *state;
    cleanup_checks *k;
    cleanup *c;
    char *id;
    message m;

    table(f, "header_checks", "hc", "/^Subject:/ WARN top\n");
    table(f, "mime_header_checks", "mc",
          "/^Content-Type: application\\/x-bad/ REPLACE Content-Type: text/plain\n");
    table(f, "nested_header_checks", "nc", "/^Subject: inner/ PREPEND X-Inner: seen\n");
    table(f, "body_checks", "bc", "/^secret/ REPLACE [removed]\n/^drop me/ IGNORE\n");
    config_override(f->cfg, "body_checks_size_limit", "20");
    k = cleanup_checks_open(f->cfg);
    c = smtp_message(f);
    cleanup_set_checks(c, k);
    put_lines(c, LINES("Subject: top", "Content-Type: multipart/mixed; boundary=\"b\"", "",
                       "secret one", "drop me", "--b", "Content-Type: application/x-bad", "",
                       "0123456789012345678901234", "secret past the limit", "--b",
                       "Content-Type: message/rfc822", "", "Subject: inner", "", "secret again",
                       "--b--"));
    id = finish_ok(c);
    m = read_back(f, id);
    assert_true(find_line(&m, "[removed]") > 0);
    assert_int_equal(find_line(&m, "drop me"), -1);
    assert_true(find_line(&m, "Content-Type: text/plain") > 0);
    assert_int_equal(find_line(&m, "Content-Type: application"), -1);
    assert_true(find_line(&m, "secret past the limit") > 0);
    assert_int_equal(find_line(&m, "X-Inner: seen") + 1, find_line(&m, "Subject: inner"));
    assert_int_equal(find_line(&m, "secret again"), -1);
    assert_string_equal(m.lines->argv[m.lines->argc - 1], "--b--");
    message_free(&m);
    mem_free(id);
    cleanup_checks_free(k);
}

static void header_check_actions_reach_the_envelope(void **state)
{
    fixture *f = *state;
    cleanup_checks *k;
    cleanup *c;
    char *id;
    message m;

    table(f, "header_checks", "hc",
          "/^To: redirect/ REDIRECT else@example.com\n/^X-Filter:/ FILTER scan:[127.0.0.1]:10025\n"
          "/^X-Hold:/ HOLD review\n/^X-Code:/ 550 not an action here\n");
    k = cleanup_checks_open(f->cfg);
    c = smtp_message(f);
    cleanup_set_checks(c, k);
    put_lines(c, LINES("To: redirect", "X-Filter: 1", "X-Hold: 1", "X-Code: 1", "", "b"));
    id = finish_ok(c);
    m = read_back_in(f, "hold", id);
    check_redirected(&m);
    assert_string_equal(queue_envelope_attr(m.env, "content_filter"), "scan:[127.0.0.1]:10025");
    assert_true(find_line(&m, "X-Code: 1") > 0);
    message_free(&m);
    mem_free(id);
    cleanup_checks_free(k);
}

static void reject_discard_and_broken_tables(void **state)
{
    fixture *f = *state;
    cleanup_checks *k;
    cleanup *c;
    vstr reason = VSTR_INIT;

    table(f, "header_checks", "hc", "/^Subject: spam/ REJECT no spam here\n");
    table(f, "body_checks", "bc", "/^discard/ DISCARD\n");
    k = cleanup_checks_open(f->cfg);
    c = smtp_message(f);
    cleanup_set_checks(c, k);
    put_lines(c, LINES("Subject: spam", "", "b"));
    expect_failure(f, c, CLEANUP_CONTENT, "5.7.1 no spam here");
    c = smtp_message(f);
    cleanup_set_checks(c, k);
    put_lines(c, LINES("Subject: ham", "", "discard this"));
    assert_int_equal(cleanup_finish(c, &reason), CLEANUP_OK);
    assert_string_equal(vstr_str(&reason), "discarded");
    assert_int_equal(count_in(f, "incoming"), 0);
    cleanup_checks_free(k);

    config_override(f->cfg, "body_checks", "pcre:/nonexistent/table");
    k = cleanup_checks_open(f->cfg);
    c = smtp_message(f);
    cleanup_set_checks(c, k);
    put_lines(c, LINES("Subject: ham", "", "any line"));
    expect_failure(f, c, CLEANUP_TABLE, "/nonexistent/table");
    cleanup_checks_free(k);
    vstr_release(&reason);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(local_submission_gets_received_message_id_date_and_from),
        T(size_record_describes_the_content),
        T(existing_headers_are_not_duplicated),
        T(full_name_becomes_the_display_name),
        T(null_sender_gets_mailer_daemon_from),
        T(smtp_received_names_client_and_single_recipient),
        T(extraction_takes_to_cc_bcc_and_strips_bcc),
        T(extraction_reads_folded_bcc_and_removes_every_bcc),
        T(without_extraction_headers_are_not_recipients_and_dropped_headers_go),
        T(resent_headers_win_when_present),
        T(malformed_address_header_is_refused_when_extracting),
        T(duplicate_recipients_are_written_once),
        T(dsn_fields_and_original_recipient_are_kept),
        T(long_lines_are_split_into_pieces_never_truncated),
        T(pieces_from_a_maildrop_are_joined_and_resplit),
        T(eight_bit_and_nul_bytes_pass_unchanged),
        T(message_size_limit_refuses_and_leaves_nothing),
        T(message_at_the_size_limit_is_accepted),
        T(too_many_received_headers_is_a_loop),
        T(headers_beyond_header_size_limit_are_body),
        T(one_huge_header_line_ends_the_header_block),
        T(headers_only_message_is_fine),
        T(first_line_that_is_not_a_header_starts_the_body),
        T(no_recipients_is_an_error),
        T(control_characters_in_addresses_are_refused),
        T(abort_leaves_no_file),
        T(hold_commits_into_the_hold_queue),
        T(discard_accepts_and_commits_nothing),
        T(redirect_replaces_recipients_and_keeps_originals),
        T(redirect_and_filter_from_the_body_rewrite_the_envelope),
        T(filter_before_content_is_an_attribute),
        T(prepended_headers_come_first),
        T(reject_gives_its_text_with_an_enhanced_code),
        T(table_failure_defers),
        T(header_checks_ignore_replace_and_prepend),
        T(part_headers_and_body_lines_are_checked),
        T(header_check_actions_reach_the_envelope),
        T(reject_discard_and_broken_tables),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
