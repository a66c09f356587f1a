/* Unit tests for global/dsn_log: append and read back, delay-notice marker, a partial group
 * left by a crash, rewrite and removal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <fcntl.h>
#include <cmocka.h>

#include "global/dsn_log.h"

static char dir[] = "/tmp/dsn_log_test_XXXXXX";

static int setup(void **state)
{
    char sub[sizeof(dir) + 16];

    (void)state;
    if (mkdtemp(dir) == NULL)
        return -1;
    snprintf(sub, sizeof(sub), "%s/bounce", dir);
    if (mkdir(sub, 0700) < 0)
        return -1;
    snprintf(sub, sizeof(sub), "%s/defer", dir);
    return mkdir(sub, 0700);
}

static int teardown(void **state)
{
    char cmd[sizeof(dir) + 16];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd);
}

static const dsn_log_entry failed = {
    .recipient = "nosuch@mx.example.com",
    .orig_rcpt = "NoSuch@mx.example.com",
    .dsn_notify = 4,
    .offset = 123,
    .status = "5.1.1",
    .action = "failed",
    .reason = "unknown user: \"nosuch\"\nsecond line",
    .time = 1763831760,
};

static const dsn_log_entry remote = {
    .recipient = "bob@remote.example",
    .dsn_orcpt = "rfc822;bob@remote.example",
    .offset = 456,
    .status = "5.7.1",
    .action = "failed",
    .reason = "host mx said: 554 5.7.1 go away",
    .diag_type = "smtp",
    .diag_text = "554 5.7.1 go away",
    .mta = "mx.remote.example",
    .time = 1763831761,
};

static void appended_entries_read_back(void **state)
{
    dsn_log log;
    vstr err = VSTR_INIT;

    (void)state;
    assert_int_equal(dsn_log_append(dir, DSN_LOG_BOUNCE, "ID1", &failed, 1, &err), 0);
    assert_int_equal(dsn_log_append(dir, DSN_LOG_BOUNCE, "ID1", &remote, 0, &err), 0);
    dsn_log_init(&log);
    assert_int_equal(dsn_log_read(dir, DSN_LOG_BOUNCE, "ID1", &log, &err), 0);
    assert_int_equal(log.count, 2);
    assert_false(log.damaged);
    assert_int_equal(log.warned, 0);
    assert_string_equal(log.entries[0].recipient, "nosuch@mx.example.com");
    assert_string_equal(log.entries[0].orig_rcpt, "NoSuch@mx.example.com");
    assert_null(log.entries[0].dsn_orcpt);
    assert_int_equal(log.entries[0].dsn_notify, 4);
    assert_int_equal(log.entries[0].offset, 123);
    assert_string_equal(log.entries[0].status, "5.1.1");
    assert_string_equal(log.entries[0].reason, "unknown user: \"nosuch\"\nsecond line");
    assert_null(log.entries[0].diag_type);
    assert_int_equal(log.entries[0].time, 1763831760);
    assert_string_equal(log.entries[1].dsn_orcpt, "rfc822;bob@remote.example");
    assert_string_equal(log.entries[1].diag_type, "smtp");
    assert_string_equal(log.entries[1].diag_text, "554 5.7.1 go away");
    assert_string_equal(log.entries[1].mta, "mx.remote.example");
    dsn_log_release(&log);
    vstr_release(&err);
}

static void missing_log_is_empty(void **state)
{
    dsn_log log;
    vstr err = VSTR_INIT;

    (void)state;
    dsn_log_init(&log);
    assert_int_equal(dsn_log_read(dir, DSN_LOG_DEFER, "NOPE", &log, &err), 0);
    assert_int_equal(log.count, 0);
    assert_int_equal(dsn_log_remove(dir, DSN_LOG_DEFER, "NOPE", &err), 0);
    vstr_release(&err);
}

static void warned_marker_is_kept_apart_from_entries(void **state)
{
    dsn_log log;
    vstr err = VSTR_INIT;

    (void)state;
    assert_int_equal(dsn_log_append(dir, DSN_LOG_DEFER, "ID2", &failed, 0, &err), 0);
    assert_int_equal(dsn_log_append_warned(dir, DSN_LOG_DEFER, "ID2", 1763840000, 0, &err), 0);
    dsn_log_init(&log);
    assert_int_equal(dsn_log_read(dir, DSN_LOG_DEFER, "ID2", &log, &err), 0);
    assert_int_equal(log.count, 1);
    assert_int_equal(log.warned, 1763840000);
    dsn_log_release(&log);

    /* A rewrite with the marker only keeps it, without the entries. */
    dsn_log_init(&log);
    log.warned = 1763840000;
    assert_int_equal(dsn_log_rewrite(dir, DSN_LOG_DEFER, "ID2", &log, &err), 0);
    assert_int_equal(dsn_log_read(dir, DSN_LOG_DEFER, "ID2", &log, &err), 0);
    assert_int_equal(log.count, 0);
    assert_int_equal(log.warned, 1763840000);
    dsn_log_release(&log);
    vstr_release(&err);
}

static void partial_group_is_damage_and_rewrite_repairs_it(void **state)
{
    char path[sizeof(dir) + 32];
    struct stat st;
    dsn_log log;
    vstr err = VSTR_INIT;
    int fd;

    (void)state;
    assert_int_equal(dsn_log_append(dir, DSN_LOG_BOUNCE, "ID3", &failed, 0, &err), 0);
    assert_int_equal(dsn_log_append(dir, DSN_LOG_BOUNCE, "ID3", &remote, 0, &err), 0);
    snprintf(path, sizeof(path), "%s/bounce/ID3", dir);
    assert_int_equal(stat(path, &st), 0);
    /* A crash in the middle of the second group. */
    assert_int_equal(truncate(path, st.st_size - 20), 0);
    dsn_log_init(&log);
    assert_int_equal(dsn_log_read(dir, DSN_LOG_BOUNCE, "ID3", &log, &err), 0);
    assert_int_equal(log.count, 1);
    assert_true(log.damaged);
    assert_int_equal(dsn_log_rewrite(dir, DSN_LOG_BOUNCE, "ID3", &log, &err), 0);
    dsn_log_release(&log);

    assert_int_equal(dsn_log_append(dir, DSN_LOG_BOUNCE, "ID3", &remote, 0, &err), 0);
    dsn_log_init(&log);
    assert_int_equal(dsn_log_read(dir, DSN_LOG_BOUNCE, "ID3", &log, &err), 0);
    assert_int_equal(log.count, 2);
    assert_false(log.damaged);
    assert_string_equal(log.entries[1].recipient, "bob@remote.example");
    dsn_log_release(&log);

    /* Garbage is damage too, never a crash. */
    fd = open(path, O_WRONLY | O_APPEND);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "\xff\xff\xff\xff\xff garbage", 13), 13);
    close(fd);
    dsn_log_init(&log);
    assert_int_equal(dsn_log_read(dir, DSN_LOG_BOUNCE, "ID3", &log, &err), 0);
    assert_int_equal(log.count, 2);
    assert_true(log.damaged);
    dsn_log_release(&log);

    /* An empty log removes the file. */
    assert_int_equal(dsn_log_rewrite(dir, DSN_LOG_BOUNCE, "ID3", &log, &err), 0);
    assert_int_equal(access(path, F_OK), -1);
    vstr_release(&err);
}

static void long_values_are_cut(void **state)
{
    char *big = malloc(DSN_LOG_VALUE_MAX * 2);
    dsn_log_entry e = failed;
    dsn_log log;
    vstr err = VSTR_INIT;

    (void)state;
    memset(big, 'x', DSN_LOG_VALUE_MAX * 2 - 1);
    big[DSN_LOG_VALUE_MAX * 2 - 1] = 0;
    e.reason = big;
    assert_int_equal(dsn_log_append(dir, DSN_LOG_BOUNCE, "ID4", &e, 0, &err), 0);
    dsn_log_init(&log);
    assert_int_equal(dsn_log_read(dir, DSN_LOG_BOUNCE, "ID4", &log, &err), 0);
    assert_int_equal(log.count, 1);
    assert_int_equal(strlen(log.entries[0].reason), DSN_LOG_VALUE_MAX);
    dsn_log_release(&log);
    assert_int_equal(dsn_log_remove(dir, DSN_LOG_BOUNCE, "ID4", &err), 0);
    free(big);
    vstr_release(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(appended_entries_read_back),
        cmocka_unit_test(missing_log_is_empty),
        cmocka_unit_test(warned_marker_is_kept_apart_from_entries),
        cmocka_unit_test(partial_group_is_damage_and_rewrite_repairs_it),
        cmocka_unit_test(long_values_are_cut),
    };

    return cmocka_run_group_tests_name("dsn_log", tests, setup, teardown);
}
