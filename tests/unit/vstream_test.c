/* Unit tests for util/vstream: lines, deadlines, pipelining, custom I/O, seek/tell. */
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
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/vstream.h"

static void make_pair(int fds[2])
{
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
}

static void put(int fd, const char *s)
{
    assert_int_equal(write(fd, s, strlen(s)), (ssize_t)strlen(s));
}

static void sleep_ms(int ms)
{
    poll(NULL, 0, ms);
}

static void reap(pid_t pid)
{
    int status;

    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static void lines_keep_crlf_and_bare_lf(void **state)
{
    int fds[2];
    vstream *s;
    vstr line = VSTR_INIT;

    (void)state;
    make_pair(fds);
    put(fds[1], "HELO x\r\nbare\nlast");
    close(fds[1]);
    s = vstream_fdopen(fds[0], VSTREAM_READ);
    assert_int_equal(vstream_get_line(s, &line, 100), VSTREAM_OK);
    assert_string_equal(vstr_str(&line), "HELO x\r\n");
    assert_int_equal(vstream_get_line(s, &line, 100), VSTREAM_OK);
    assert_string_equal(vstr_str(&line), "bare\n");
    /* The peer closed mid-line: EOF, with the partial line delivered. */
    assert_int_equal(vstream_get_line(s, &line, 100), VSTREAM_EOF);
    assert_string_equal(vstr_str(&line), "last");
    assert_true(vstream_eof(s));
    assert_false(vstream_error(s));
    /* And a clean EOF after that. */
    assert_int_equal(vstream_get_line(s, &line, 100), VSTREAM_EOF);
    assert_int_equal(vstr_len(&line), 0);
    assert_int_equal(vstream_getc(s), -1);
    assert_int_equal(vstream_close(s), 0);
    vstr_release(&line);
}

static void over_long_line_leaves_rest_readable(void **state)
{
    int fds[2];
    vstream *s;
    vstr line = VSTR_INIT;

    (void)state;
    make_pair(fds);
    put(fds[1], "0123456789abc\nok\n0123456789\n");
    close(fds[1]);
    s = vstream_fdopen(fds[0], VSTREAM_READ);
    assert_int_equal(vstream_get_line(s, &line, 10), VSTREAM_TOOLONG);
    assert_int_equal(vstr_len(&line), 10);
    assert_string_equal(vstr_str(&line), "0123456789");
    assert_int_equal(vstream_get_line(s, &line, 10), VSTREAM_OK);
    assert_string_equal(vstr_str(&line), "abc\n");
    assert_int_equal(vstream_get_line(s, &line, 10), VSTREAM_OK);
    assert_string_equal(vstr_str(&line), "ok\n");
    /* Exactly max bytes counting the LF is not too long; one more is. */
    assert_int_equal(vstream_get_line(s, &line, 11), VSTREAM_OK);
    assert_string_equal(vstr_str(&line), "0123456789\n");
    assert_int_equal(vstream_close(s), 0);
    vstr_release(&line);
}

static void line_bound_of_exactly_the_line_minus_lf_is_too_long(void **state)
{
    int fds[2];
    vstream *s;
    vstr line = VSTR_INIT;

    (void)state;
    make_pair(fds);
    put(fds[1], "abcd\n");
    close(fds[1]);
    s = vstream_fdopen(fds[0], VSTREAM_READ);
    assert_int_equal(vstream_get_line(s, &line, 4), VSTREAM_TOOLONG);
    assert_int_equal(vstream_get_line(s, &line, 4), VSTREAM_OK);
    assert_string_equal(vstr_str(&line), "\n");
    vstream_close(s);
    vstr_release(&line);
}

static void read_times_out_after_deadline(void **state)
{
    int fds[2];
    vstream *s;
    vstr line = VSTR_INIT;
    int64_t start, elapsed;

    (void)state;
    make_pair(fds);
    s = vstream_fdopen(fds[0], VSTREAM_READ);
    vstream_set_timeout(s, 100);
    assert_int_equal(vstream_timeout(s), 100);
    start = clock_mono_ms();
    assert_int_equal(vstream_get_line(s, &line, 100), VSTREAM_TIMEOUT);
    elapsed = clock_mono_ms() - start;
    assert_true(elapsed >= 95);
    assert_true(elapsed < 1000);
    assert_true(vstream_timed_out(s));
    assert_true(vstream_error(s));
    assert_int_equal(vstream_errno(s), ETIMEDOUT);
    /* Sticky: even with data now available the stream stays failed. */
    put(fds[1], "late\n");
    start = clock_mono_ms();
    assert_int_equal(vstream_get_line(s, &line, 100), VSTREAM_TIMEOUT);
    assert_true(clock_mono_ms() - start < 50);
    vstream_clear_error(s);
    assert_int_equal(vstream_get_line(s, &line, 100), VSTREAM_OK);
    assert_string_equal(vstr_str(&line), "late\n");
    vstream_close(s);
    close(fds[1]);
    vstr_release(&line);
}

/* A child that writes one byte every 25 ms, 20 times, then exits. */
static pid_t trickle(int fds[2], const char *bytes)
{
    pid_t pid = fork();

    if (pid == 0) {
        close(fds[0]);
        for (int i = 0; i < 20; i++) {
            if (send(fds[1], bytes + (i % strlen(bytes)), 1, MSG_NOSIGNAL) != 1)
                _exit(0);
            sleep_ms(25);
        }
        _exit(0);
    }
    close(fds[1]);
    return pid;
}

static void deadline_bounds_a_whole_trickled_line(void **state)
{
    int fds[2];
    vstream *s;
    vstr line = VSTR_INIT;
    pid_t pid;
    int64_t start, elapsed;

    (void)state;
    make_pair(fds);
    pid = trickle(fds, "x");
    s = vstream_fdopen(fds[0], VSTREAM_READ);
    vstream_set_timeout(s, 150);
    start = clock_mono_ms();
    /* Each byte arrives well within 150 ms, but the line never completes. */
    assert_int_equal(vstream_get_line(s, &line, 100), VSTREAM_TIMEOUT);
    elapsed = clock_mono_ms() - start;
    assert_true(elapsed >= 145 && elapsed < 400);
    assert_true(vstr_len(&line) >= 2);
    vstream_close(s);
    reap(pid);
    vstr_release(&line);
}

static void shared_deadline_bounds_a_sequence_of_calls(void **state)
{
    int fds[2];
    vstream *s;
    pid_t pid;
    int64_t start, elapsed;
    int n = 0;

    (void)state;
    make_pair(fds);
    pid = trickle(fds, "abc");
    s = vstream_fdopen(fds[0], VSTREAM_READ);
    vstream_set_timeout(s, 1000);
    start = clock_mono_ms();
    assert_int_equal(vstream_begin_deadline(s, 150), 1);
    assert_int_equal(vstream_begin_deadline(s, 5000), 0); /* nested: the first stays */
    while (vstream_getc(s) >= 0)
        n++;
    elapsed = clock_mono_ms() - start;
    vstream_end_deadline(s);
    assert_true(vstream_timed_out(s));
    assert_true(elapsed >= 145 && elapsed < 400);
    assert_true(n >= 2 && n < 20);
    /* Back to per-call deadlines: the rest arrives, byte by byte. */
    vstream_clear_error(s);
    while (vstream_getc(s) >= 0)
        n++;
    assert_int_equal(n, 20);
    assert_true(vstream_eof(s) && !vstream_error(s));
    vstream_close(s);
    reap(pid);
}

static void blocking_pipe_read_and_write_time_out(void **state)
{
    int p[2];
    vstream *r, *w;
    static char big[1 << 20];
    int64_t start;

    (void)state;
    assert_int_equal(pipe(p), 0);
    r = vstream_fdopen(p[0], VSTREAM_READ);
    w = vstream_fdopen(p[1], VSTREAM_WRITE);
    vstream_set_timeout(r, 100);
    vstream_set_timeout(w, 100);
    start = clock_mono_ms();
    assert_int_equal(vstream_getc(r), -1);
    assert_true(vstream_timed_out(r));
    /* 1 MiB into a 64 KiB pipe nobody reads: times out instead of hanging. */
    assert_int_equal(vstream_write(w, big, sizeof(big)), -1);
    assert_true(vstream_timed_out(w));
    assert_int_equal(vstream_errno(w), ETIMEDOUT);
    assert_true(clock_mono_ms() - start < 1500);
    vstream_close(r);
    vstream_close(w);
}

static void write_times_out_when_peer_does_not_read(void **state)
{
    int fds[2];
    vstream *s;
    char *big = calloc(1, 16 << 20);

    (void)state;
    make_pair(fds);
    s = vstream_fdopen(fds[0], VSTREAM_WRITE);
    vstream_set_timeout(s, 100);
    assert_int_equal(vstream_write(s, big, 16 << 20), -1);
    assert_true(vstream_timed_out(s));
    assert_int_equal(vstream_putc(s, 'x'), -1);
    assert_int_equal(vstream_close(s), -1);
    close(fds[1]);
    free(big);
}

static void write_to_closed_socket_fails_without_sigpipe(void **state)
{
    int fds[2];
    vstream *s;

    (void)state;
    make_pair(fds);
    close(fds[1]);
    s = vstream_fdopen(fds[0], VSTREAM_WRITE);
    assert_int_equal(vstream_puts(s, "hello\r\n"), 0);
    assert_int_equal(vstream_flush(s), -1);
    assert_int_equal(vstream_errno(s), EPIPE);
    assert_true(vstream_error(s));
    assert_false(vstream_timed_out(s));
    assert_int_equal(vstream_close(s), -1);
}

static void nonblocking_descriptor_waits_for_data(void **state)
{
    int fds[2];
    vstream *s;
    vstr line = VSTR_INIT;
    pid_t pid;

    (void)state;
    make_pair(fds);
    assert_int_equal(fcntl(fds[0], F_SETFL, O_NONBLOCK), 0);
    if ((pid = fork()) == 0) {
        sleep_ms(50);
        _exit(write(fds[1], "late\n", 5) == 5 ? 0 : 1);
    }
    s = vstream_fdopen(fds[0], VSTREAM_READ);
    assert_int_equal(vstream_get_line(s, &line, 100), VSTREAM_OK); /* no timeout */
    assert_string_equal(vstr_str(&line), "late\n");
    reap(pid);
    vstream_close(s);
    close(fds[1]);
    vstr_release(&line);
}

static void pending_input_is_counted_and_discarded(void **state)
{
    int fds[2];
    vstream *s;
    vstr line = VSTR_INIT;

    (void)state;
    make_pair(fds);
    put(fds[1], "MAIL FROM:<a>\r\nRCPT TO:<b>\r\nDATA\r\n");
    s = vstream_fdopen(fds[0], VSTREAM_READ | VSTREAM_WRITE);
    assert_int_equal(vstream_read_pending(s), 0);
    assert_int_equal(vstream_get_line(s, &line, 100), VSTREAM_OK);
    assert_int_equal(vstream_read_pending(s), strlen("RCPT TO:<b>\r\nDATA\r\n"));
    assert_int_equal(vstream_discard_input(s), strlen("RCPT TO:<b>\r\nDATA\r\n"));
    assert_int_equal(vstream_read_pending(s), 0);
    put(fds[1], "next\r\n");
    assert_int_equal(vstream_get_line(s, &line, 100), VSTREAM_OK);
    assert_string_equal(vstr_str(&line), "next\r\n");
    vstream_close(s);
    close(fds[1]);
    vstr_release(&line);
}

static void reading_flushes_queued_output_first(void **state)
{
    int fds[2];
    vstream *s;
    vstr line = VSTR_INIT;
    pid_t pid;

    (void)state;
    make_pair(fds);
    if ((pid = fork()) == 0) {
        /* The peer answers only what it received. */
        char buf[64];
        ssize_t n;

        close(fds[0]);
        n = read(fds[1], buf, sizeof(buf));
        if (n != 5 || memcmp(buf, "PING\n", 5) != 0)
            _exit(1);
        _exit(write(fds[1], "PONG\n", 5) == 5 ? 0 : 1);
    }
    close(fds[1]);
    s = vstream_fdopen(fds[0], VSTREAM_READ | VSTREAM_WRITE);
    vstream_set_timeout(s, 5000);
    assert_int_equal(vstream_puts(s, "PING\n"), 0);
    assert_int_equal(vstream_write_pending(s), 5);
    assert_int_equal(vstream_get_line(s, &line, 100), VSTREAM_OK);
    assert_string_equal(vstr_str(&line), "PONG\n");
    assert_int_equal(vstream_write_pending(s), 0);
    reap(pid);
    vstream_close(s);
    vstr_release(&line);
}

/* A stand-in for TLS: bytes are XORed on the wire, and every call counted. */
struct xor_layer {
    unsigned char key;
    int reads, writes, fake_want_write;
};

static ssize_t xor_read(void *context, int fd, void *buf, size_t len, int *want)
{
    struct xor_layer *x = context;
    ssize_t n;

    x->reads++;
    if (x->fake_want_write) {
        /* Like SSL_ERROR_WANT_WRITE during a read (renegotiation). */
        x->fake_want_write = 0;
        *want = POLLOUT;
        errno = EAGAIN;
        return -1;
    }
    n = recv(fd, buf, len, MSG_DONTWAIT);
    for (ssize_t i = 0; i < n; i++)
        ((unsigned char *)buf)[i] ^= x->key;
    return n;
}

static ssize_t xor_write(void *context, int fd, const void *buf, size_t len, int *want)
{
    struct xor_layer *x = context;
    unsigned char tmp[256];
    size_t n = len < sizeof(tmp) ? len : sizeof(tmp); /* short writes on purpose */

    (void)want;
    x->writes++;
    for (size_t i = 0; i < n; i++)
        tmp[i] = ((const unsigned char *)buf)[i] ^ x->key;
    return send(fd, tmp, n, MSG_DONTWAIT | MSG_NOSIGNAL);
}

static void custom_io_functions_sit_under_the_stream(void **state)
{
    int fds[2];
    vstream *a, *b;
    struct xor_layer xa = {0x5a, 0, 0, 0}, xb = {0x5a, 0, 0, 1};
    vstr line = VSTR_INIT;
    char raw[2000];
    char text[1001];

    (void)state;
    make_pair(fds);
    a = vstream_fdopen(fds[0], VSTREAM_READ | VSTREAM_WRITE);
    b = vstream_fdopen(fds[1], VSTREAM_READ | VSTREAM_WRITE);
    vstream_set_timeout(a, 2000);
    vstream_set_timeout(b, 2000);
    /* Plaintext that arrived before the switch is discarded, as after STARTTLS. */
    put(fds[0], "injected\r\n");
    assert_int_equal(vstream_getc(b), 'i');
    assert_int_equal(vstream_discard_input(b), strlen("njected\r\n"));
    vstream_set_io(a, xor_read, xor_write, &xa);
    vstream_set_io(b, xor_read, xor_write, &xb);

    memset(text, 'q', 1000);
    text[1000] = 0;
    assert_int_equal(vstream_printf(a, "%s\r\n", text), 0);
    assert_int_equal(vstream_flush(a), 0);
    assert_true(xa.writes >= 4); /* 1002 bytes in 256-byte pieces */
    assert_int_equal(vstream_get_line(b, &line, 2000), VSTREAM_OK);
    assert_int_equal(vstr_len(&line), 1002);
    assert_memory_equal(vstr_str(&line), text, 1000);
    assert_true(xb.reads >= 2); /* including the faked WANT_WRITE */

    /* What travels on the descriptor is the transformed bytes. */
    vstream_set_io(b, NULL, NULL, NULL);
    assert_int_equal(vstream_puts(a, "abc"), 0);
    assert_int_equal(vstream_flush(a), 0);
    assert_int_equal(vstream_read_exact(b, raw, 3, NULL), VSTREAM_OK);
    assert_int_equal((unsigned char)raw[0], 'a' ^ 0x5a);
    vstream_close(a);
    vstream_close(b);
    vstr_release(&line);
}

static char tmp_path[64];

static int open_temp(void)
{
    int fd;

    snprintf(tmp_path, sizeof(tmp_path), "/tmp/vstream_test.XXXXXX");
    fd = mkstemp(tmp_path);
    assert_true(fd >= 0);
    unlink(tmp_path);
    return fd;
}

static void seek_and_tell_on_a_regular_file(void **state)
{
    vstream *s = vstream_fdopen(open_temp(), VSTREAM_READ | VSTREAM_WRITE);
    vstr line = VSTR_INIT;
    off_t rec2;

    (void)state;
    assert_int_equal(vstream_tell(s), 0);
    assert_int_equal(vstream_puts(s, "R alice\n"), 0);
    rec2 = vstream_tell(s);
    assert_int_equal(rec2, 8);
    assert_int_equal(vstream_puts(s, "R bob\nE\n"), 0);
    assert_int_equal(vstream_tell(s), 16); /* still buffered */

    /* Read back from the start: seek flushes first. */
    assert_int_equal(vstream_seek(s, 0, SEEK_SET), 0);
    assert_int_equal(vstream_get_line(s, &line, 100), VSTREAM_OK);
    assert_string_equal(vstr_str(&line), "R alice\n");
    assert_int_equal(vstream_tell(s), rec2);

    /* Patch the next record's type byte in place, mid-read. */
    assert_int_equal(vstream_putc(s, 'D'), 0);
    assert_int_equal(vstream_tell(s), rec2 + 1);
    assert_int_equal(vstream_get_line(s, &line, 100), VSTREAM_OK);
    assert_string_equal(vstr_str(&line), " bob\n");

    /* SEEK_CUR counts from the logical position, not the descriptor's. */
    assert_int_equal(vstream_seek(s, -(off_t)strlen(" bob\n") - 1, SEEK_CUR), rec2);
    assert_int_equal(vstream_get_line(s, &line, 100), VSTREAM_OK);
    assert_string_equal(vstr_str(&line), "D bob\n");
    assert_int_equal(vstream_get_line(s, &line, 100), VSTREAM_OK);
    assert_int_equal(vstream_get_line(s, &line, 100), VSTREAM_EOF);
    assert_true(vstream_eof(s));

    /* Appending after EOF, then reading it back. */
    assert_int_equal(vstream_seek(s, 0, SEEK_END), 16);
    assert_false(vstream_eof(s));
    assert_int_equal(vstream_printf(s, "%s=%d\n", "x", 1), 0);
    assert_int_equal(vstream_seek(s, 16, SEEK_SET), 16);
    assert_int_equal(vstream_get_line(s, &line, 100), VSTREAM_OK);
    assert_string_equal(vstr_str(&line), "x=1\n");
    assert_int_equal(vstream_seek(s, -1, SEEK_SET), -1);
    assert_int_equal(errno, EINVAL);
    assert_false(vstream_error(s));
    assert_int_equal(vstream_close(s), 0);
    vstr_release(&line);
}

static void seek_on_a_socket_is_refused(void **state)
{
    int fds[2];
    vstream *s;

    (void)state;
    make_pair(fds);
    s = vstream_fdopen(fds[0], VSTREAM_READ);
    assert_int_equal(vstream_seek(s, 0, SEEK_SET), -1);
    assert_int_equal(errno, ESPIPE);
    assert_int_equal(vstream_tell(s), -1);
    vstream_close(s);
    close(fds[1]);
}

static void large_transfers_bypass_the_buffer_intact(void **state)
{
    size_t size = 3 * VSTREAM_BUFSIZE + 123;
    unsigned char *out = malloc(size), *in = malloc(size + 10);
    vstream *s = vstream_fdopen(open_temp(), VSTREAM_READ | VSTREAM_WRITE);
    size_t got;

    (void)state;
    for (size_t i = 0; i < size; i++)
        out[i] = (unsigned char)(i * 7);
    assert_int_equal(vstream_putc(s, 0xff), 0);
    assert_int_equal(vstream_write(s, out, size), 0);
    assert_int_equal(vstream_tell(s), (off_t)size + 1);
    assert_int_equal(vstream_seek(s, 0, SEEK_SET), 0);
    assert_int_equal(vstream_getc(s), 0xff);
    assert_int_equal(vstream_read_exact(s, in, size, &got), VSTREAM_OK);
    assert_int_equal(got, size);
    assert_memory_equal(in, out, size);
    assert_int_equal(vstream_read_exact(s, in, 10, &got), VSTREAM_EOF);
    assert_int_equal(got, 0);
    assert_int_equal(vstream_seek(s, 1, SEEK_SET), 1);
    assert_int_equal(vstream_read_some(s, in, size), VSTREAM_BUFSIZE);
    assert_memory_equal(in, out, VSTREAM_BUFSIZE);
    vstream_close(s);
    free(out);
    free(in);
}

static void long_printf_output_is_complete(void **state)
{
    vstream *s = vstream_fdopen(open_temp(), VSTREAM_READ | VSTREAM_WRITE);
    char big[3000];
    vstr line = VSTR_INIT;

    (void)state;
    memset(big, 'z', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    assert_int_equal(vstream_printf(s, "<%s>%d\n", big, 7), 0);
    vstream_seek(s, 0, SEEK_SET);
    assert_int_equal(vstream_get_line(s, &line, 5000), VSTREAM_OK);
    assert_int_equal(vstr_len(&line), 1 + 2999 + 1 + 1 + 1);
    assert_string_equal(vstr_str(&line) + 3000, ">7\n");
    vstream_close(s);
    vstr_release(&line);
}

static void memory_stream_reads_lines_with_any_bytes(void **state)
{
    static const char data[] = "a\0b\n\xff\r\nend";
    vstream *s = vstream_open_memory(data, sizeof(data) - 1);
    vstr line = VSTR_INIT;

    (void)state;
    assert_int_equal(vstream_fd(s), -1);
    assert_int_equal(vstream_read_pending(s), sizeof(data) - 1);
    assert_int_equal(vstream_get_line(s, &line, 100), VSTREAM_OK);
    assert_int_equal(vstr_len(&line), 4);
    assert_memory_equal(vstr_str(&line), "a\0b\n", 4);
    assert_int_equal(vstream_getc(s), 0xff);
    assert_int_equal(vstream_get_line(s, &line, 100), VSTREAM_OK);
    assert_string_equal(vstr_str(&line), "\r\n");
    assert_int_equal(vstream_get_line(s, &line, 100), VSTREAM_EOF);
    assert_string_equal(vstr_str(&line), "end");
    assert_int_equal(vstream_close(s), 0);
    vstr_release(&line);
}

static void release_keeps_the_descriptor_open(void **state)
{
    int fds[2];
    vstream *s;
    char buf[8];

    (void)state;
    make_pair(fds);
    s = vstream_fdopen(fds[0], VSTREAM_WRITE);
    assert_int_equal(vstream_puts(s, "bye"), 0);
    assert_int_equal(vstream_release(s), 0); /* flushes */
    assert_int_equal(read(fds[1], buf, sizeof(buf)), 3);
    assert_int_equal(write(fds[0], "x", 1), 1);
    close(fds[0]);
    close(fds[1]);
}

static void vstream_open_uses_access_mode(void **state)
{
    vstream *s;
    vstr line = VSTR_INIT;
    char path[64];
    int fd;

    (void)state;
    snprintf(path, sizeof(path), "/tmp/vstream_open.XXXXXX");
    assert_true((fd = mkstemp(path)) >= 0);
    close(fd);
    s = vstream_open(path, O_WRONLY | O_TRUNC, 0600);
    assert_non_null(s);
    assert_int_equal(vstream_puts(s, "one\n"), 0);
    assert_int_equal(vstream_close(s), 0);
    s = vstream_open(path, O_RDONLY, 0);
    assert_int_equal(vstream_get_line(s, &line, 10), VSTREAM_OK);
    assert_string_equal(vstr_str(&line), "one\n");
    vstream_close(s);
    unlink(path);
    assert_null(vstream_open(path, O_RDONLY, 0));
    assert_int_equal(errno, ENOENT);
    vstr_release(&line);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lines_keep_crlf_and_bare_lf),
        cmocka_unit_test(over_long_line_leaves_rest_readable),
        cmocka_unit_test(line_bound_of_exactly_the_line_minus_lf_is_too_long),
        cmocka_unit_test(read_times_out_after_deadline),
        cmocka_unit_test(deadline_bounds_a_whole_trickled_line),
        cmocka_unit_test(shared_deadline_bounds_a_sequence_of_calls),
        cmocka_unit_test(blocking_pipe_read_and_write_time_out),
        cmocka_unit_test(write_times_out_when_peer_does_not_read),
        cmocka_unit_test(write_to_closed_socket_fails_without_sigpipe),
        cmocka_unit_test(nonblocking_descriptor_waits_for_data),
        cmocka_unit_test(pending_input_is_counted_and_discarded),
        cmocka_unit_test(reading_flushes_queued_output_first),
        cmocka_unit_test(custom_io_functions_sit_under_the_stream),
        cmocka_unit_test(seek_and_tell_on_a_regular_file),
        cmocka_unit_test(seek_on_a_socket_is_refused),
        cmocka_unit_test(large_transfers_bypass_the_buffer_intact),
        cmocka_unit_test(long_printf_output_is_complete),
        cmocka_unit_test(memory_stream_reads_lines_with_any_bytes),
        cmocka_unit_test(release_keeps_the_descriptor_open),
        cmocka_unit_test(vstream_open_uses_access_mode),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
