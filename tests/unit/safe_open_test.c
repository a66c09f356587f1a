/* Unit tests for util/safe_open: symlinks, hard links, owner, mode, FIFOs, exclusive create. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/safe_open.h"

static char tmpdir[64];

static int make_tmpdir(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/safe_open_test.XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmpdir(void **state)
{
    char cmd[128];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *tmp(const char *name)
{
    static char buf[4][160];
    static int i;

    i = (i + 1) % 4;
    snprintf(buf[i], sizeof(buf[i]), "%s/%s", tmpdir, name);
    return buf[i];
}

static void make_file(const char *p, const char *content, mode_t mode)
{
    int fd = open(p, O_CREAT | O_TRUNC | O_WRONLY, mode);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
    assert_int_equal(fchmod(fd, mode), 0);
    close(fd);
}

static off_t size_of(const char *p)
{
    struct stat st;

    assert_int_equal(stat(p, &st), 0);
    return st.st_size;
}

static void plain_file_opens(void **state)
{
    vstr err = VSTR_INIT;
    char buf[16];
    int fd;

    (void)state;
    make_file(tmp("plain"), "hello", 0600);
    fd = safe_open_existing(tmp("plain"), O_RDONLY, getuid(), 0600, &err);
    assert_true(fd >= 0);
    assert_false(fcntl(fd, F_GETFL) & O_NONBLOCK);
    assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    assert_int_equal(read(fd, buf, sizeof(buf)), 5);
    close(fd);
    fd = safe_open_existing(tmp("plain"), O_RDONLY, SAFE_OPEN_ANY_OWNER, SAFE_OPEN_ANY_MODE, NULL);
    assert_true(fd >= 0);
    close(fd);
    vstr_release(&err);
}

static void symlink_is_refused(void **state)
{
    vstr err = VSTR_INIT;

    (void)state;
    make_file(tmp("target"), "secret", 0600);
    assert_int_equal(symlink(tmp("target"), tmp("link")), 0);
    assert_int_equal(
        safe_open_existing(tmp("link"), O_RDWR, SAFE_OPEN_ANY_OWNER, SAFE_OPEN_ANY_MODE, &err),
        -1);
    assert_int_equal(errno, ELOOP);
    assert_non_null(strstr(vstr_str(&err), "symbolic link"));
    assert_non_null(strstr(vstr_str(&err), tmp("link")));
    /* Creating through it is refused too, even when it dangles. */
    assert_int_equal(symlink(tmp("nonexistent"), tmp("dangling")), 0);
    assert_int_equal(safe_open_create(tmp("dangling"), O_WRONLY, 0600, &err), -1);
    assert_int_equal(errno, EEXIST);
    assert_int_equal(access(tmp("nonexistent"), F_OK), -1);
    assert_int_equal(safe_open_or_create(tmp("link"), O_WRONLY, 0600, SAFE_OPEN_ANY_OWNER,
                                         SAFE_OPEN_ANY_MODE, &err),
                     -1);
    assert_int_equal(errno, ELOOP);
    vstr_release(&err);
}

static void hard_linked_file_is_refused_and_not_truncated(void **state)
{
    vstr err = VSTR_INIT;

    (void)state;
    make_file(tmp("victim"), "precious", 0600);
    assert_int_equal(link(tmp("victim"), tmp("hardlink")), 0);
    assert_int_equal(safe_open_existing(tmp("hardlink"), O_WRONLY | O_TRUNC, SAFE_OPEN_ANY_OWNER,
                                        SAFE_OPEN_ANY_MODE, &err),
                     -1);
    assert_int_equal(errno, EMLINK);
    assert_non_null(strstr(vstr_str(&err), "2 links"));
    assert_int_equal(size_of(tmp("victim")), 8);
    vstr_release(&err);
}

static void truncation_applies_after_the_checks_pass(void **state)
{
    int fd;

    (void)state;
    make_file(tmp("trunc"), "old content", 0600);
    fd = safe_open_existing(tmp("trunc"), O_WRONLY | O_TRUNC, SAFE_OPEN_ANY_OWNER, 0600, NULL);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(size_of(tmp("trunc")), 0);
}

static void wrong_owner_is_refused(void **state)
{
    vstr err = VSTR_INIT;

    (void)state;
    make_file(tmp("owned"), "x", 0600);
    assert_int_equal(
        safe_open_existing(tmp("owned"), O_RDONLY, getuid() + 1, SAFE_OPEN_ANY_MODE, &err), -1);
    assert_int_equal(errno, EPERM);
    assert_non_null(strstr(vstr_str(&err), "owned by uid"));
    vstr_release(&err);
}

static void too_permissive_mode_is_refused(void **state)
{
    vstr err = VSTR_INIT;
    int fd;

    (void)state;
    make_file(tmp("wide"), "x", 0646);
    assert_int_equal(safe_open_existing(tmp("wide"), O_RDONLY, SAFE_OPEN_ANY_OWNER, 0644, &err),
                     -1);
    assert_int_equal(errno, EPERM);
    assert_non_null(strstr(vstr_str(&err), "0646"));
    /* Narrower than the maximum is fine. */
    make_file(tmp("narrow"), "x", 0400);
    fd = safe_open_existing(tmp("narrow"), O_RDONLY, SAFE_OPEN_ANY_OWNER, 0644, &err);
    assert_true(fd >= 0);
    close(fd);
    vstr_release(&err);
}

static void fifo_and_directory_are_refused_without_hanging(void **state)
{
    vstr err = VSTR_INIT;

    (void)state;
    assert_int_equal(mkfifo(tmp("fifo"), 0600), 0);
    assert_int_equal(
        safe_open_existing(tmp("fifo"), O_RDONLY, SAFE_OPEN_ANY_OWNER, SAFE_OPEN_ANY_MODE, &err),
        -1);
    assert_int_equal(errno, EINVAL);
    assert_non_null(strstr(vstr_str(&err), "not a regular file"));
    assert_int_equal(
        safe_open_existing(tmpdir, O_RDONLY, SAFE_OPEN_ANY_OWNER, SAFE_OPEN_ANY_MODE, &err), -1);
    assert_int_equal(errno, EINVAL);
    assert_int_equal(safe_open_existing(tmp("missing"), O_RDONLY, SAFE_OPEN_ANY_OWNER,
                                        SAFE_OPEN_ANY_MODE, &err),
                     -1);
    assert_int_equal(errno, ENOENT);
    vstr_release(&err);
}

static void create_is_exclusive_with_exact_mode(void **state)
{
    vstr err = VSTR_INIT;
    struct stat st;
    mode_t old_mask = umask(077);
    int fd;

    (void)state;
    fd = safe_open_create(tmp("new"), O_WRONLY, 0644, &err);
    umask(old_mask);
    assert_true(fd >= 0);
    assert_int_equal(fstat(fd, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0644);
    assert_int_equal(write(fd, "x", 1), 1);
    close(fd);
    assert_int_equal(safe_open_create(tmp("new"), O_WRONLY, 0644, &err), -1);
    assert_int_equal(errno, EEXIST);
    assert_non_null(strstr(vstr_str(&err), tmp("new")));
    vstr_release(&err);
}

static void open_or_create_does_either(void **state)
{
    vstr err = VSTR_INIT;
    int fd;

    (void)state;
    fd = safe_open_or_create(tmp("mailbox"), O_WRONLY | O_APPEND, 0600, getuid(), 0600, &err);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "one\n", 4), 4);
    close(fd);
    fd = safe_open_or_create(tmp("mailbox"), O_WRONLY | O_APPEND | O_CREAT, 0600, getuid(), 0600,
                             &err);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "two\n", 4), 4);
    close(fd);
    assert_int_equal(size_of(tmp("mailbox")), 8);
    vstr_release(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(plain_file_opens),
        cmocka_unit_test(symlink_is_refused),
        cmocka_unit_test(hard_linked_file_is_refused_and_not_truncated),
        cmocka_unit_test(truncation_applies_after_the_checks_pass),
        cmocka_unit_test(wrong_owner_is_refused),
        cmocka_unit_test(too_permissive_mode_is_refused),
        cmocka_unit_test(fifo_and_directory_are_refused_without_hanging),
        cmocka_unit_test(create_is_exclusive_with_exact_mode),
        cmocka_unit_test(open_or_create_does_either),
    };

    return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
