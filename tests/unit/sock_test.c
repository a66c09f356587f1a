/* Unit tests for util/sock: endpoint syntax, inet and UNIX listen/connect, timeouts.
 * Only 127.0.0.1 and ::1 are ever used. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/sock.h"

static char tmpdir[64];

static int make_tmpdir(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/sock_test.XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmpdir(void **state)
{
    char cmd[128];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static void parse_ok(const char *endpoint, const char *host, int port)
{
    vstr h = VSTR_INIT, err = VSTR_INIT;
    int p = -1;

    assert_int_equal(sock_parse_inet(endpoint, &h, &p, &err), 0);
    assert_string_equal(vstr_str(&h), host);
    assert_int_equal(p, port);
    vstr_release(&h);
    vstr_release(&err);
}

static void parse_bad(const char *endpoint)
{
    vstr h = VSTR_INIT, err = VSTR_INIT;
    int p = -1;

    assert_int_equal(sock_parse_inet(endpoint, &h, &p, &err), -1);
    assert_int_equal(errno, EINVAL);
    assert_non_null(strstr(vstr_str(&err), endpoint));
    vstr_release(&h);
    vstr_release(&err);
}

static void endpoint_forms_are_parsed(void **state)
{
    (void)state;
    parse_ok("[::1]:25", "::1", 25);
    parse_ok("127.0.0.1:25", "127.0.0.1", 25);
    parse_ok("localhost:2525", "localhost", 2525);
    parse_ok("*:25", "", 25);
    parse_ok(":25", "", 25);
    parse_ok("25", "", 25);
    parse_ok("127.0.0.1:0", "127.0.0.1", 0);
    parse_ok("[127.0.0.1]:65535", "127.0.0.1", 65535);
    if (getservbyname("smtp", "tcp") != NULL) {
        parse_ok("127.0.0.1:smtp", "127.0.0.1", 25);
        parse_ok("smtp", "", 25);
    }
}

static void malformed_endpoints_are_refused(void **state)
{
    (void)state;
    parse_bad("::1:25");
    parse_bad("[::1]");
    parse_bad("[::1]25");
    parse_bad("[]:25");
    parse_bad("127.0.0.1:");
    parse_bad("127.0.0.1:65536");
    parse_bad("127.0.0.1:-1");
    parse_bad("127.0.0.1:no-such-service-here");
    parse_bad("");
}

/* Accept one connection on lfd from cfd and check bytes go both ways. */
static void exchange(int lfd, int cfd, const char *expect_peer)
{
    vstr addr = VSTR_INIT;
    char buf[8];
    int afd, port = -1;

    afd = sock_accept(lfd);
    assert_true(afd >= 0);
    assert_true(fcntl(afd, F_GETFD) & FD_CLOEXEC);
    assert_int_equal(write(cfd, "ping", 4), 4);
    assert_int_equal(read(afd, buf, sizeof(buf)), 4);
    assert_memory_equal(buf, "ping", 4);
    assert_int_equal(write(afd, "pong", 4), 4);
    assert_int_equal(read(cfd, buf, sizeof(buf)), 4);
    assert_int_equal(sock_peer_addr(afd, &addr, &port), 0);
    assert_string_equal(vstr_str(&addr), expect_peer);
    close(afd);
    vstr_release(&addr);
}

static void inet4_listen_connect_and_peer_address(void **state)
{
    vstr err = VSTR_INIT, addr = VSTR_INIT, ep = VSTR_INIT;
    int lfd, cfd, port = 0;

    (void)state;
    lfd = sock_listen_inet("127.0.0.1:0", 10, &err);
    assert_true(lfd >= 0);
    assert_true(fcntl(lfd, F_GETFD) & FD_CLOEXEC);
    assert_int_equal(sock_local_addr(lfd, &addr, &port), 0);
    assert_string_equal(vstr_str(&addr), "127.0.0.1");
    assert_true(port > 0);
    vstr_set_fmt(&ep, "127.0.0.1:%d", port);
    cfd = sock_connect_inet(vstr_str(&ep), 2000, &err);
    assert_true(cfd >= 0);
    /* The connected socket is back in blocking mode. */
    assert_false(fcntl(cfd, F_GETFL) & O_NONBLOCK);
    exchange(lfd, cfd, "127.0.0.1");
    close(cfd);
    close(lfd);
    vstr_release(&err);
    vstr_release(&addr);
    vstr_release(&ep);
}

static void inet6_loopback_listen_and_connect(void **state)
{
    vstr err = VSTR_INIT, addr = VSTR_INIT, ep = VSTR_INIT;
    int lfd, cfd, port = 0;

    (void)state;
    lfd = sock_listen_inet("[::1]:0", 10, &err);
    if (lfd < 0 && (errno == EADDRNOTAVAIL || errno == EAFNOSUPPORT)) {
        vstr_release(&err);
        skip(); /* no IPv6 on this host */
    }
    assert_true(lfd >= 0);
    assert_int_equal(sock_local_addr(lfd, &addr, &port), 0);
    assert_string_equal(vstr_str(&addr), "::1");
    vstr_set_fmt(&ep, "[::1]:%d", port);
    cfd = sock_connect_inet(vstr_str(&ep), 2000, &err);
    assert_true(cfd >= 0);
    exchange(lfd, cfd, "::1");
    close(cfd);
    close(lfd);
    vstr_release(&err);
    vstr_release(&addr);
    vstr_release(&ep);
}

static void v4_mapped_address_prints_as_ipv4(void **state)
{
    struct sockaddr_in6 sin6;
    vstr addr = VSTR_INIT;
    int port = 0;

    (void)state;
    memset(&sin6, 0, sizeof(sin6));
    sin6.sin6_family = AF_INET6;
    sin6.sin6_port = htons(2525);
    assert_int_equal(inet_pton(AF_INET6, "::ffff:127.0.0.9", &sin6.sin6_addr), 1);
    assert_int_equal(sock_addr_text((struct sockaddr *)&sin6, sizeof(sin6), &addr, &port), 0);
    assert_string_equal(vstr_str(&addr), "127.0.0.9");
    assert_int_equal(port, 2525);
    vstr_release(&addr);
}

static void unix_listen_sets_mode_and_replaces_stale_socket(void **state)
{
    vstr err = VSTR_INIT;
    char path[128];
    struct stat st;
    int lfd, cfd;

    (void)state;
    snprintf(path, sizeof(path), "%s/private-local", tmpdir);
    lfd = sock_listen_unix(path, 10, 0620, &err);
    assert_true(lfd >= 0);
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISSOCK(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0620);
    cfd = sock_connect_unix(path, 2000, &err);
    assert_true(cfd >= 0);
    exchange(lfd, cfd, "unix");
    close(cfd);
    close(lfd);

    /* The socket file left behind is stale: listening again replaces it. */
    lfd = sock_listen_unix(path, 10, 0666, &err);
    assert_true(lfd >= 0);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0666);
    close(lfd);
    unlink(path);
    /* Nobody listening: refused. */
    assert_int_equal(sock_connect_unix(path, 100, &err), -1);
    assert_int_equal(errno, ENOENT);
    assert_non_null(strstr(vstr_str(&err), path));
    vstr_release(&err);
}

static void unix_listen_never_removes_a_non_socket(void **state)
{
    vstr err = VSTR_INIT;
    char path[128];
    struct stat st;
    int fd;

    (void)state;
    snprintf(path, sizeof(path), "%s/regular", tmpdir);
    assert_true((fd = open(path, O_CREAT | O_WRONLY, 0600)) >= 0);
    close(fd);
    assert_int_equal(sock_listen_unix(path, 10, 0600, &err), -1);
    assert_int_equal(errno, EEXIST);
    assert_non_null(strstr(vstr_str(&err), "not a socket"));
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    vstr_release(&err);
}

static void unix_path_too_long_is_refused(void **state)
{
    vstr err = VSTR_INIT;
    char path[300];

    (void)state;
    memset(path, 'a', sizeof(path) - 1);
    path[sizeof(path) - 1] = 0;
    assert_int_equal(sock_listen_unix(path, 10, 0600, &err), -1);
    assert_int_equal(errno, ENAMETOOLONG);
    assert_int_equal(sock_connect_unix(path, 10, NULL), -1);
    vstr_release(&err);
}

static void connect_to_closed_port_is_refused(void **state)
{
    struct sockaddr_in sin;
    socklen_t len = sizeof(sin);
    vstr err = VSTR_INIT, ep = VSTR_INIT;
    int holder;
    int64_t start;

    (void)state;
    /* A bound but not listening socket keeps the port closed and ours. */
    holder = socket(AF_INET, SOCK_STREAM, 0);
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(holder, (struct sockaddr *)&sin, sizeof(sin)), 0);
    assert_int_equal(getsockname(holder, (struct sockaddr *)&sin, &len), 0);
    vstr_set_fmt(&ep, "127.0.0.1:%d", ntohs(sin.sin_port));
    start = clock_mono_ms();
    assert_int_equal(sock_connect_inet(vstr_str(&ep), 2000, &err), -1);
    assert_int_equal(errno, ECONNREFUSED);
    assert_true(clock_mono_ms() - start < 1000);
    assert_non_null(strstr(vstr_str(&err), vstr_str(&ep)));
    close(holder);
    vstr_release(&err);
    vstr_release(&ep);
}

/* Connect until the backlog overflows and a connect times out. */
static void expect_timeout_on_full_backlog(int (*connect_one)(void *, vstr *), void *arg)
{
    vstr err = VSTR_INIT;
    int fds[16], n = 0, timed_out = 0;

    while (n < 16) {
        int64_t start = clock_mono_ms();
        int fd = connect_one(arg, &err);

        if (fd >= 0) {
            fds[n++] = fd;
            continue;
        }
        assert_int_equal(errno, ETIMEDOUT);
        assert_true(clock_mono_ms() - start >= 190);
        assert_true(clock_mono_ms() - start < 2000);
        timed_out = 1;
        break;
    }
    assert_true(timed_out);
    while (n > 0)
        close(fds[--n]);
    vstr_release(&err);
}

static int connect_inet_200(void *arg, vstr *err)
{
    return sock_connect_inet(arg, 200, err);
}

static int connect_unix_200(void *arg, vstr *err)
{
    return sock_connect_unix(arg, 200, err);
}

static void inet_connect_times_out_on_full_backlog(void **state)
{
    vstr err = VSTR_INIT, addr = VSTR_INIT, ep = VSTR_INIT;
    int lfd, port;

    (void)state;
    lfd = sock_listen_inet("127.0.0.1:0", 0, &err);
    assert_true(lfd >= 0);
    assert_int_equal(sock_local_addr(lfd, &addr, &port), 0);
    vstr_set_fmt(&ep, "127.0.0.1:%d", port);
    expect_timeout_on_full_backlog(connect_inet_200, (void *)vstr_str(&ep));
    close(lfd);
    vstr_release(&err);
    vstr_release(&addr);
    vstr_release(&ep);
}

static void unix_connect_times_out_on_full_backlog(void **state)
{
    vstr err = VSTR_INIT;
    char path[128];
    int lfd;

    (void)state;
    snprintf(path, sizeof(path), "%s/busy", tmpdir);
    lfd = sock_listen_unix(path, 0, 0600, &err);
    assert_true(lfd >= 0);
    expect_timeout_on_full_backlog(connect_unix_200, path);
    close(lfd);
    vstr_release(&err);
}

static void accept_on_idle_nonblocking_listener_says_eagain(void **state)
{
    vstr err = VSTR_INIT;
    int lfd;

    (void)state;
    lfd = sock_listen_inet("127.0.0.1:0", 10, &err);
    assert_int_equal(sock_set_nonblock(lfd, 1), 0);
    assert_true(fcntl(lfd, F_GETFL) & O_NONBLOCK);
    assert_int_equal(sock_accept(lfd), -1);
    assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
    assert_int_equal(sock_set_nonblock(lfd, 0), 0);
    assert_false(fcntl(lfd, F_GETFL) & O_NONBLOCK);
    assert_int_equal(sock_set_cloexec(lfd, 0), 0);
    assert_false(fcntl(lfd, F_GETFD) & FD_CLOEXEC);
    assert_int_equal(sock_set_cloexec(lfd, 1), 0);
    assert_true(fcntl(lfd, F_GETFD) & FD_CLOEXEC);
    close(lfd);
    assert_int_equal(sock_set_nonblock(lfd, 1), -1);
    assert_int_equal(errno, EBADF);
    vstr_release(&err);
}

static void connect_without_host_is_refused(void **state)
{
    vstr err = VSTR_INIT;

    (void)state;
    assert_int_equal(sock_connect_inet(":25", 100, &err), -1);
    assert_int_equal(errno, EINVAL);
    vstr_release(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(endpoint_forms_are_parsed),
        cmocka_unit_test(malformed_endpoints_are_refused),
        cmocka_unit_test(inet4_listen_connect_and_peer_address),
        cmocka_unit_test(inet6_loopback_listen_and_connect),
        cmocka_unit_test(v4_mapped_address_prints_as_ipv4),
        cmocka_unit_test(unix_listen_sets_mode_and_replaces_stale_socket),
        cmocka_unit_test(unix_listen_never_removes_a_non_socket),
        cmocka_unit_test(unix_path_too_long_is_refused),
        cmocka_unit_test(connect_to_closed_port_is_refused),
        cmocka_unit_test(inet_connect_times_out_on_full_backlog),
        cmocka_unit_test(unix_connect_times_out_on_full_backlog),
        cmocka_unit_test(accept_on_idle_nonblocking_listener_says_eagain),
        cmocka_unit_test(connect_without_host_is_refused),
    };

    return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
