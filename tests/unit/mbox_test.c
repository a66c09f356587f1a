/* Unit tests for global/mbox (From_ line, quoting, all-or-nothing) and global/maildir. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "global/maildir.h"
#include "global/mbox.h"
#include "util/mem.h"

static char tmpdir[64];

static int make_tmpdir(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/mbox_test.XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmpdir(void **state)
{
    char cmd[128];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static int open_file(const char *base, const char *initial)
{
    char path[128];
    int fd;

    snprintf(path, sizeof(path), "%s/%s", tmpdir, base);
    fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_APPEND, 0600);
    assert_true(fd >= 0);
    if (initial)
        assert_int_equal(write(fd, initial, strlen(initial)), (ssize_t)strlen(initial));
    return fd;
}

static char *contents(int fd)
{
    struct stat st;
    char *buf;

    assert_int_equal(fstat(fd, &st), 0);
    buf = mem_alloc((size_t)st.st_size + 1);
    assert_int_equal(pread(fd, buf, (size_t)st.st_size, 0), st.st_size);
    buf[st.st_size] = 0;
    return buf;
}

static void from_lines_in_body_are_quoted(void **state)
{
    int fd = open_file("quote", "From old  Mon Jan  1 00:00:00 2024\nold\n\n");
    mbox_writer *w = mbox_begin(fd, MBOX_FLAG_MBOX, 0);
    vstr err = VSTR_INIT;
    char *got;

    (void)state;
    mbox_put(w, "From a@b  Tue Nov 22 17:16:00 2022", 34, 1);
    mbox_put(w, "Subject: x", 10, 1);
    mbox_put(w, "", 0, 1);
    mbox_put(w, "From here on", 12, 1);
    mbox_put(w, ">From stays", 11, 1);
    mbox_put(w, "From", 4, 1);
    mbox_put(w, "Fro", 3, 0); /* a line in pieces */
    mbox_put(w, "m pieces", 8, 1);
    mbox_put(w, " From indented", 14, 1);
    assert_int_equal(mbox_finish(w, &err), 0);
    got = contents(fd);
    assert_string_equal(got, "From old  Mon Jan  1 00:00:00 2024\nold\n\n"
                             ">From a@b  Tue Nov 22 17:16:00 2022\nSubject: x\n\n"
                             ">From here on\n>From stays\nFrom\n>From pieces\n From indented\n\n");
    mem_free(got);
    close(fd);
    vstr_release(&err);
}

static void from_line_written_unquoted_when_quoting_starts_after_it(void **state)
{
    int fd = open_file("fromline", NULL);
    mbox_writer *w;
    vstr line = VSTR_INIT, err = VSTR_INIT;
    char *got;

    (void)state;
    mbox_from_line(&line, "a@b", 0);
    assert_memory_equal(vstr_str(&line), "From a@b  ", 10);
    w = mbox_begin(fd, MBOX_FLAG_MBOX, 0);
    mbox_put_unquoted(w, vstr_str(&line), vstr_len(&line));
    mbox_put(w, "From body", 9, 1);
    assert_int_equal(mbox_finish(w, &err), 0);
    got = contents(fd);
    assert_memory_equal(got, "From a@b  ", 10);
    assert_non_null(strstr(got, "\n>From body\n\n"));
    mem_free(got);
    mbox_from_line(&line, "", 0);
    assert_memory_equal(vstr_str(&line), "From MAILER-DAEMON  ", 20);
    mbox_from_line(&line, "john doe@x", 0);
    assert_memory_equal(vstr_str(&line), "From \"john doe\"@x  ", 19);
    close(fd);
    vstr_release(&line);
    vstr_release(&err);
}

static void size_limit_truncates_back_to_the_original(void **state)
{
    static const char old[] = "From x  Mon Jan  1 00:00:00 2024\nold message\n\n";
    int fd = open_file("limit", old);
    mbox_writer *w = mbox_begin(fd, MBOX_FLAG_MBOX, (off_t)sizeof(old) + 100);
    vstr err = VSTR_INIT;
    char line[80];
    char *got;

    (void)state;
    memset(line, 'x', sizeof(line));
    for (int i = 0; i < 200; i++)
        mbox_put(w, line, sizeof(line), 1);
    assert_int_equal(mbox_finish(w, &err), -1);
    assert_int_equal(errno, EFBIG);
    assert_string_equal(vstr_str(&err), "mailbox size limit exceeded");
    got = contents(fd);
    assert_string_equal(got, old);
    mem_free(got);
    close(fd);
    vstr_release(&err);
}

/* A real write error (the file size resource limit) half way through a
 * message that is bigger than the writer's buffer. */
static void write_error_truncates_back_to_the_original(void **state)
{
    static const char old[] = "From x  Mon Jan  1 00:00:00 2024\nold message\n\n";
    int fd = open_file("ioerr", old);
    struct rlimit saved, small;
    mbox_writer *w;
    vstr err = VSTR_INIT;
    char line[1000];
    char *got;
    void (*saved_handler)(int) = signal(SIGXFSZ, SIG_IGN);

    (void)state;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &saved), 0);
    small = saved;
    small.rlim_cur = 200 * 1000;
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
    w = mbox_begin(fd, MBOX_FLAG_MBOX, 0);
    memset(line, 'y', sizeof(line));
    for (int i = 0; i < 1000; i++)
        mbox_put(w, line, sizeof(line), 1);
    assert_int_equal(mbox_finish(w, &err), -1);
    assert_int_equal(errno, EFBIG);
    assert_non_null(strstr(vstr_str(&err), "write: "));
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &saved), 0);
    signal(SIGXFSZ, saved_handler);
    got = contents(fd);
    assert_string_equal(got, old);
    mem_free(got);
    close(fd);
    vstr_release(&err);
}

static void abort_truncates_back(void **state)
{
    int fd = open_file("abort", "keep\n");
    mbox_writer *w = mbox_begin(fd, MBOX_FLAG_MBOX, 0);
    char *big = mem_alloc(5 * 1024 * 1024);
    struct stat st;
    char *got;

    (void)state;
    memset(big, 'z', 5 * 1024 * 1024);
    mbox_put(w, big, 5 * 1024 * 1024, 1); /* more than the buffer: some reached the file */
    assert_true(mbox_written(w) > 5 * 1024 * 1024);
    assert_int_equal(fstat(fd, &st), 0);
    assert_true(st.st_size > 5);
    mbox_abort(w);
    mem_free(big);
    got = contents(fd);
    assert_string_equal(got, "keep\n");
    mem_free(got);
    close(fd);
}

static void maildir_names_are_unique_and_escaped(void **state)
{
    vstr a = VSTR_INIT, b = VSTR_INIT;

    (void)state;
    maildir_unique_name(&a, 1700000000, 1234, 1, "mail.example.com");
    assert_string_equal(vstr_str(&a), "1700000000.P1234_1.mail.example.com");
    maildir_unique_name(&b, 1700000000, 1234, 2, "mail.example.com");
    assert_string_not_equal(vstr_str(&a), vstr_str(&b));
    maildir_unique_name(&a, 5, 7, 9, "odd/host:name");
    assert_string_equal(vstr_str(&a), "5.P7_9.odd\\057host\\072name");
    vstr_release(&a);
    vstr_release(&b);
}

static int count_files(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    if (d == NULL)
        return -1;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

static void maildir_delivery_lands_in_new_only(void **state)
{
    char dir[128], sub[160];
    vstr err = VSTR_INIT;
    maildir_file *m, *m2;
    mbox_writer *w;
    struct stat st;

    (void)state;
    snprintf(dir, sizeof(dir), "%s/home/u/Maildir/", tmpdir);
    m = maildir_create(dir, "host", &err);
    assert_non_null(m);
    m2 = maildir_create(dir, "host", &err);
    assert_non_null(m2);
    assert_string_not_equal(maildir_path(m), maildir_path(m2));
    w = mbox_begin(maildir_fd(m), 0, 0);
    mbox_put(w, "Subject: hi", 11, 1);
    mbox_put(w, "", 0, 1);
    mbox_put(w, "From me", 7, 1);
    assert_int_equal(mbox_finish(w, &err), 0);
    assert_int_equal(maildir_commit(m, &err), 0);
    maildir_abort(m2);
    snprintf(sub, sizeof(sub), "%s/new", dir);
    assert_int_equal(count_files(sub), 1);
    snprintf(sub, sizeof(sub), "%s/tmp", dir);
    assert_int_equal(count_files(sub), 0);
    snprintf(sub, sizeof(sub), "%s/cur", dir);
    assert_int_equal(count_files(sub), 0);
    assert_int_equal(stat(dir, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0700);
    vstr_release(&err);
}

static void maildir_under_a_plain_file_is_an_error(void **state)
{
    char path[128];
    vstr err = VSTR_INIT;
    int fd = open_file("plain", "x");

    (void)state;
    close(fd);
    snprintf(path, sizeof(path), "%s/plain/Maildir/", tmpdir);
    assert_null(maildir_create(path, "host", &err));
    assert_non_null(strstr(vstr_str(&err), "plain/Maildir/tmp/"));
    assert_non_null(strstr(vstr_str(&err), strerror(ENOTDIR)));
    vstr_release(&err);
}

/* A message that fits the buffer reaches the file in one write: nothing of
 * it is in the file before mbox_finish. */
static void small_message_is_written_at_finish_only(void **state)
{
    int fd = open_file("onewrite", "old\n");
    mbox_writer *w = mbox_begin(fd, MBOX_FLAG_MBOX, 0);
    char line[1000];
    vstr err = VSTR_INIT;
    struct stat st;

    (void)state;
    memset(line, 'q', sizeof(line));
    for (int i = 0; i < 1000; i++)
        mbox_put(w, line, sizeof(line), 1);
    assert_int_equal(fstat(fd, &st), 0);
    assert_int_equal(st.st_size, 4);
    assert_int_equal(mbox_finish(w, &err), 0);
    assert_int_equal(fstat(fd, &st), 0);
    assert_int_equal(st.st_size, 4 + 1000 * 1001 + 1);
    close(fd);
    vstr_release(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(from_lines_in_body_are_quoted),
        cmocka_unit_test(from_line_written_unquoted_when_quoting_starts_after_it),
        cmocka_unit_test(size_limit_truncates_back_to_the_original),
        cmocka_unit_test(write_error_truncates_back_to_the_original),
        cmocka_unit_test(abort_truncates_back),
        cmocka_unit_test(small_message_is_written_at_finish_only),
        cmocka_unit_test(maildir_names_are_unique_and_escaped),
        cmocka_unit_test(maildir_delivery_lands_in_new_only),
        cmocka_unit_test(maildir_under_a_plain_file_is_an_error),
    };
    return cmocka_run_group_tests_name("mbox", tests, make_tmpdir, remove_tmpdir);
}
