/* Unit tests for util/fileio and util/clock: whole reads/writes, bounds, durable renames. */
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
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/fileio.h"

static char tmpdir[64];

static int make_tmpdir(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/fileio_test.XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmpdir(void **state)
{
    char cmd[128];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static void path_in_tmp(char *buf, size_t size, const char *name)
{
    snprintf(buf, size, "%s/%s", tmpdir, name);
}

static void write_all_survives_short_writes_on_nonblocking_pipe(void **state)
{
    int p[2];
    size_t size = 1 << 20;
    unsigned char *out = malloc(size), *in = malloc(size);
    pid_t pid;
    int status;

    (void)state;
    for (size_t i = 0; i < size; i++)
        out[i] = (unsigned char)(i % 251);
    assert_int_equal(pipe(p), 0);
    if ((pid = fork()) == 0) {
        /* A slow reader, so the writer meets a full pipe (EAGAIN) often. */
        close(p[1]);
        poll(NULL, 0, 20);
        ssize_t n = fileio_read_all(p[0], in, size);

        _exit(n == (ssize_t)size && memcmp(in, out, size) == 0 ? 0 : 1);
    }
    close(p[0]);
    assert_int_equal(fcntl(p[1], F_SETFL, O_NONBLOCK), 0);
    assert_int_equal(fileio_write_all(p[1], out, size), 0);
    close(p[1]);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    free(out);
    free(in);
}

static void read_all_stops_at_end_of_file(void **state)
{
    int p[2];
    char buf[16];

    (void)state;
    assert_int_equal(pipe(p), 0);
    assert_int_equal(fileio_write_all(p[1], "abc", 3), 0);
    close(p[1]);
    assert_int_equal(fileio_read_all(p[0], buf, sizeof(buf)), 3);
    assert_int_equal(fileio_read_all(p[0], buf, sizeof(buf)), 0);
    close(p[0]);
    assert_int_equal(fileio_read_all(p[0], buf, sizeof(buf)), -1);
    assert_int_equal(errno, EBADF);
    assert_int_equal(fileio_write_all(p[1], "x", 1), -1);
}

static void read_fd_honours_its_bound(void **state)
{
    char path[128];
    vstr out = VSTR_INIT;
    int fd;

    (void)state;
    path_in_tmp(path, sizeof(path), "bounded");
    fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0600);
    assert_int_equal(fileio_write_all(fd, "0123456789", 10), 0);

    lseek(fd, 0, SEEK_SET);
    assert_int_equal(fileio_read_fd(fd, 10, &out), 0); /* exactly the bound */
    assert_int_equal(vstr_len(&out), 10);

    vstr_reset(&out);
    lseek(fd, 0, SEEK_SET);
    assert_int_equal(fileio_read_fd(fd, 9, &out), -1);
    assert_int_equal(errno, EFBIG);
    assert_int_equal(vstr_len(&out), 9);

    vstr_reset(&out);
    lseek(fd, 0, SEEK_SET);
    assert_int_equal(fileio_read_fd(fd, SIZE_MAX, &out), 0);
    assert_string_equal(vstr_str(&out), "0123456789");
    close(fd);
    vstr_release(&out);
}

static void rename_durable_moves_between_directories(void **state)
{
    char from[128], to_dir[128], to[160];
    struct stat st;
    int fd;

    (void)state;
    path_in_tmp(from, sizeof(from), ".t1234");
    path_in_tmp(to_dir, sizeof(to_dir), "incoming");
    snprintf(to, sizeof(to), "%s/ID1", to_dir);
    assert_int_equal(mkdir(to_dir, 0700), 0);
    fd = open(from, O_CREAT | O_WRONLY | O_EXCL, 0600);
    assert_int_equal(fileio_write_all(fd, "x", 1), 0);
    assert_int_equal(fileio_fsync(fd), 0);
    close(fd);
    assert_int_equal(fileio_rename_durable(from, to), 0);
    assert_int_equal(stat(to, &st), 0);
    assert_int_equal(stat(from, &st), -1);
    assert_int_equal(fileio_rename_durable(from, to), -1);
    assert_int_equal(errno, ENOENT);
    assert_int_equal(fileio_fsync_dir(to_dir), 0);
    assert_int_equal(fileio_fsync_parent(to), 0);
    assert_int_equal(fileio_fsync_dir(to), -1); /* a file is no directory */
    assert_int_equal(errno, ENOTDIR);
}

static void fsync_parent_of_bare_and_root_names(void **state)
{
    char cwd[512];

    (void)state;
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    assert_int_equal(chdir(tmpdir), 0);
    assert_int_equal(fileio_fsync_parent("name-in-cwd"), 0);
    assert_int_equal(chdir(cwd), 0);
    assert_int_equal(fileio_fsync_parent("/etc"), 0);
}

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

static void write_atomic_replaces_with_exact_mode(void **state)
{
    char dir[128], path[160];
    vstr err = VSTR_INIT, got = VSTR_INIT;
    struct stat st;
    int fd;

    (void)state;
    path_in_tmp(dir, sizeof(dir), "atomic");
    assert_int_equal(mkdir(dir, 0700), 0);
    snprintf(path, sizeof(path), "%s/main.cf", dir);
    assert_int_equal(fileio_write_atomic(path, "a = 1\n", 6, 0640, &err), 0);
    assert_int_equal(fileio_write_atomic(path, "a = 2\n", 6, 0644, &err), 0);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0644);
    fd = open(path, O_RDONLY);
    assert_int_equal(fileio_read_fd(fd, 100, &got), 0);
    close(fd);
    assert_string_equal(vstr_str(&got), "a = 2\n");
    assert_int_equal(count_entries(dir), 1); /* no temporary file left */

    /* Failure: the directory does not exist; the reason names the path. */
    snprintf(path, sizeof(path), "%s/missing/main.cf", dir);
    assert_int_equal(fileio_write_atomic(path, "x", 1, 0600, &err), -1);
    assert_int_equal(errno, ENOENT);
    assert_non_null(strstr(vstr_str(&err), path));
    vstr_release(&err);
    vstr_release(&got);
}

static void rename_noreplace_never_replaces(void **state)
{
    char dir[128], a[160], b[160], c[160];
    int fd;

    (void)state;
    path_in_tmp(dir, sizeof(dir), "noreplace");
    assert_int_equal(mkdir(dir, 0700), 0);
    snprintf(a, sizeof(a), "%s/a", dir);
    snprintf(b, sizeof(b), "%s/b", dir);
    snprintf(c, sizeof(c), "%s/c", dir);
    for (const char *p = a; p; p = p == a ? b : NULL) {
        fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0600);
        assert_true(fd >= 0);
        close(fd);
    }
    /* b exists: a stays where it is. */
    assert_int_equal(fileio_rename_noreplace(AT_FDCWD, a, AT_FDCWD, b), -1);
    assert_int_equal(errno, EEXIST);
    assert_int_equal(access(a, F_OK), 0);
    /* c does not: a moves, leaving one name. */
    assert_int_equal(fileio_rename_noreplace(AT_FDCWD, a, AT_FDCWD, c), 0);
    assert_int_equal(access(a, F_OK), -1);
    assert_int_equal(access(c, F_OK), 0);
    assert_int_equal(count_entries(dir), 2);
    assert_int_equal(fileio_rename_noreplace(AT_FDCWD, a, AT_FDCWD, c), -1);
    assert_int_equal(errno, ENOENT);
}

static void clocks_move_forward_in_step(void **state)
{
    int64_t ms = clock_mono_ms(), us = clock_mono_us(), wall = clock_wall_us();

    (void)state;
    assert_true(wall > (int64_t)1600000000 * 1000000);
    assert_true(us / 1000 - ms <= 1 && us / 1000 - ms >= 0);
    poll(NULL, 0, 20);
    assert_true(clock_mono_ms() - ms >= 19);
    assert_true(clock_mono_us() - us >= 19000);
    assert_true(clock_wall_us() - wall >= 15000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(write_all_survives_short_writes_on_nonblocking_pipe),
        cmocka_unit_test(read_all_stops_at_end_of_file),
        cmocka_unit_test(read_fd_honours_its_bound),
        cmocka_unit_test(rename_durable_moves_between_directories),
        cmocka_unit_test(fsync_parent_of_bare_and_root_names),
        cmocka_unit_test(write_atomic_replaces_with_exact_mode),
        cmocka_unit_test(rename_noreplace_never_replaces),
        cmocka_unit_test(clocks_move_forward_in_step),
    };

    return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
