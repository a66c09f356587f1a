/* Unit tests for util/lock: fcntl locks between processes, dot-locks, stale dot-locks. */
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
#include <poll.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/lock.h"

static char tmpdir[64];
static char path[128];

static int make_tmpdir(void **state)
{
    int fd;

    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/lock_test.XXXXXX");
    if (!mkdtemp(tmpdir))
        return -1;
    snprintf(path, sizeof(path), "%s/mbox", tmpdir);
    if ((fd = open(path, O_CREAT | O_RDWR, 0600)) < 0)
        return -1;
    close(fd);
    return 0;
}

static int remove_tmpdir(void **state)
{
    char cmd[128];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* In a child process: try lock mode on a fresh descriptor; exit 0 on
 * success, 1 on EAGAIN, 2 on anything else. */
static int child_try(int mode)
{
    pid_t pid = fork();
    int status;

    if (pid == 0) {
        int fd = open(path, O_RDWR);

        if (lock_fcntl(fd, mode) == 0)
            _exit(0);
        _exit(errno == EAGAIN ? 1 : 2);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static void exclusive_lock_excludes_other_processes(void **state)
{
    int fd = open(path, O_RDWR);

    (void)state;
    assert_int_equal(lock_fcntl(fd, LOCK_EXCLUSIVE | LOCK_NOWAIT), 0);
    assert_int_equal(child_try(LOCK_EXCLUSIVE | LOCK_NOWAIT), 1);
    assert_int_equal(child_try(LOCK_SHARED | LOCK_NOWAIT), 1);
    assert_int_equal(lock_fcntl(fd, LOCK_UNLOCK), 0);
    assert_int_equal(child_try(LOCK_EXCLUSIVE | LOCK_NOWAIT), 0);
    close(fd);
}

static void shared_locks_coexist(void **state)
{
    int fd = open(path, O_RDONLY);

    (void)state;
    assert_int_equal(lock_fcntl(fd, LOCK_SHARED), 0);
    assert_int_equal(child_try(LOCK_SHARED | LOCK_NOWAIT), 0);
    assert_int_equal(child_try(LOCK_EXCLUSIVE | LOCK_NOWAIT), 1);
    /* Exclusive on a read-only descriptor is refused by the kernel. */
    assert_int_equal(lock_fcntl(fd, LOCK_EXCLUSIVE | LOCK_NOWAIT), -1);
    assert_int_equal(errno, EBADF);
    close(fd);
}

static void waiting_lock_is_granted_on_release(void **state)
{
    int fd = open(path, O_RDWR);
    int p[2], status;
    pid_t pid;
    char c;

    (void)state;
    assert_int_equal(lock_fcntl(fd, LOCK_EXCLUSIVE), 0);
    assert_int_equal(pipe(p), 0);
    if ((pid = fork()) == 0) {
        int cfd = open(path, O_RDWR);
        int64_t start = clock_mono_ms();

        if (write(p[1], "r", 1) != 1 || lock_fcntl(cfd, LOCK_EXCLUSIVE) < 0)
            _exit(2);
        _exit(clock_mono_ms() - start >= 80 ? 0 : 1);
    }
    assert_int_equal(read(p[0], &c, 1), 1);
    poll(NULL, 0, 100);
    assert_int_equal(lock_fcntl(fd, LOCK_UNLOCK), 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    close(fd);
    close(p[0]);
    close(p[1]);
}

static void dot_lock_is_exclusive_and_bounded(void **state)
{
    vstr err = VSTR_INIT;
    char lock_path[160];
    struct stat st;
    int64_t start;

    (void)state;
    snprintf(lock_path, sizeof(lock_path), "%s.lock", path);
    assert_int_equal(lock_dot(path, 1, 0, 600, &err), 0);
    assert_int_equal(lstat(lock_path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0600);
    {
        /* The holder is named from the moment the lock exists. */
        char text[300], want[300], host[256];
        FILE *fp = fopen(lock_path, "r");
        size_t n;

        assert_non_null(fp);
        n = fread(text, 1, sizeof(text) - 1, fp);
        fclose(fp);
        text[n] = 0;
        assert_int_equal(gethostname(host, sizeof(host)), 0);
        host[sizeof(host) - 1] = 0;
        snprintf(want, sizeof(want), "%ld %s\n", (long)getpid(), host);
        assert_string_equal(text, want);
    }

    start = clock_mono_ms();
    assert_int_equal(lock_dot(path, 3, 40, 600, &err), -1);
    assert_int_equal(errno, EAGAIN);
    assert_true(clock_mono_ms() - start >= 75); /* two waits of 40 ms */
    assert_non_null(strstr(vstr_str(&err), lock_path));

    assert_int_equal(lock_dot_release(path), 0);
    assert_int_equal(lstat(lock_path, &st), -1);
    assert_int_equal(lock_dot(path, 1, 0, 0, &err), 0);
    assert_int_equal(lock_dot_release(path), 0);
    assert_int_equal(lock_dot_release(path), -1);
    assert_int_equal(errno, ENOENT);
    vstr_release(&err);
}

static void stale_dot_lock_is_removed(void **state)
{
    vstr err = VSTR_INIT;
    char lock_path[160];
    struct timeval old[2];
    int fd;

    (void)state;
    snprintf(lock_path, sizeof(lock_path), "%s.lock", path);
    fd = open(lock_path, O_CREAT | O_EXCL | O_WRONLY, 0600);
    assert_true(fd >= 0);
    close(fd);
    gettimeofday(&old[0], NULL);
    old[0].tv_sec -= 3600;
    old[1] = old[0];
    assert_int_equal(utimes(lock_path, old), 0);

    /* An hour old: stale for a 600 s limit; never stale with limit 0. */
    assert_int_equal(lock_dot(path, 1, 0, 0, &err), -1);
    assert_int_equal(errno, EAGAIN);
    assert_int_equal(lock_dot(path, 1, 0, 7200, &err), -1);
    assert_int_equal(lock_dot(path, 1, 0, 600, &err), 0);
    /* The new lock is fresh, so not stale. */
    assert_int_equal(lock_dot(path, 1, 0, 600, &err), -1);
    assert_int_equal(lock_dot_release(path), 0);
    vstr_release(&err);
}

static void dot_lock_in_missing_directory_says_why(void **state)
{
    vstr err = VSTR_INIT;
    char missing[160];

    (void)state;
    snprintf(missing, sizeof(missing), "%s/nodir/mbox", tmpdir);
    assert_int_equal(lock_dot(missing, 5, 1000, 600, &err), -1);
    assert_int_equal(errno, ENOENT); /* at once, not after 5 tries */
    assert_non_null(strstr(vstr_str(&err), "nodir/mbox.lock"));
    vstr_release(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(exclusive_lock_excludes_other_processes),
        cmocka_unit_test(shared_locks_coexist),
        cmocka_unit_test(waiting_lock_is_granted_on_release),
        cmocka_unit_test(dot_lock_is_exclusive_and_bounded),
        cmocka_unit_test(stale_dot_lock_is_removed),
        cmocka_unit_test(dot_lock_in_missing_directory_says_why),
    };

    return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
