/*
 * sock - listening and connecting sockets, inet and UNIX-domain
 *
 * Connecting with a timeout is done on a non-blocking socket, then poll()
 * for writability and SO_ERROR for the outcome. A UNIX-domain connect to a
 * socket whose backlog is full fails at once with EAGAIN instead of
 * EINPROGRESS on Linux; that case is retried every few milliseconds until
 * the deadline, so that a busy daemon looks the same to a client as a slow
 * one over TCP.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/sock.h"

/* Record why in err (when given) and return -1 with errno intact. */
static int sock_fail(vstr *err, int saved_errno, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int sock_fail(vstr *err, int saved_errno, const char *fmt, ...)
{
    if (err) {
        va_list ap;

        va_start(ap, fmt);
        vstr_reset(err);
        vstr_append_vfmt(err, fmt, ap);
        va_end(ap);
    }
    errno = saved_errno;
    return -1;
}

/* ---- Endpoint syntax ---- */

static int parse_port(const char *text, int *port)
{
    char *end;
    long n;
    struct servent *se;

    if (*text == 0)
        return -1;
    if (strspn(text, "0123456789") == strlen(text)) {
        errno = 0;
        n = strtol(text, &end, 10);
        if (errno || n < 0 || n > 65535)
            return -1;
        *port = (int)n;
        return 0;
    }
    if ((se = getservbyname(text, "tcp")) == NULL)
        return -1;
    *port = ntohs((uint16_t)se->s_port);
    return 0;
}

int sock_parse_inet(const char *endpoint, vstr *host, int *port, vstr *err)
{
    const char *colon, *port_text;

    vstr_reset(host);
    if (endpoint[0] == '[') {
        const char *close = strchr(endpoint, ']');

        if (close == NULL || close[1] != ':')
            return sock_fail(err, EINVAL, "bad endpoint \"%s\": expected [address]:port",
                             endpoint);
        vstr_append(host, endpoint + 1, (size_t)(close - endpoint - 1));
        if (vstr_len(host) == 0)
            return sock_fail(err, EINVAL, "bad endpoint \"%s\": empty address", endpoint);
        port_text = close + 2;
    } else if ((colon = strrchr(endpoint, ':')) == NULL) {
        port_text = endpoint; /* "25" or "smtp": every address */
    } else {
        if (memchr(endpoint, ':', (size_t)(colon - endpoint)) != NULL)
            return sock_fail(err, EINVAL,
                             "bad endpoint \"%s\": write an IPv6 address as [address]:port",
                             endpoint);
        if (!(colon - endpoint == 1 && endpoint[0] == '*'))
            vstr_append(host, endpoint, (size_t)(colon - endpoint));
        port_text = colon + 1;
    }
    if (parse_port(port_text, port) < 0)
        return sock_fail(err, EINVAL, "bad endpoint \"%s\": unknown port \"%s\"", endpoint,
                         port_text);
    return 0;
}

/* Resolve host (numeric or a name) and port for passive or active use. */
static int resolve(const char *endpoint, const char *host, int port, int passive,
                   struct addrinfo **res, vstr *err)
{
    struct addrinfo hints;
    char port_text[16];
    int rc;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : AI_ADDRCONFIG);
    snprintf(port_text, sizeof(port_text), "%d", port);
    rc = getaddrinfo(host, port_text, &hints, res);
    if (rc != 0)
        return sock_fail(err, rc == EAI_SYSTEM ? errno : ENOENT, "%s: cannot resolve \"%s\": %s",
                         endpoint, host, rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
    return 0;
}

/* ---- Listening ---- */

static int listen_on(const struct sockaddr *sa, socklen_t len, int backlog, int dual_stack)
{
    int fd, on = 1, off = 0, saved;

    if ((fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
        return -1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0)
        goto fail;
    if (sa->sa_family == AF_INET6 &&
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, dual_stack ? &off : &on, sizeof(int)) < 0)
        goto fail;
    if (bind(fd, sa, len) < 0 || listen(fd, backlog) < 0)
        goto fail;
    return fd;
fail:
    saved = errno;
    close(fd);
    errno = saved;
    return -1;
}

int sock_listen_inet(const char *endpoint, int backlog, vstr *err)
{
    vstr host = VSTR_INIT;
    struct addrinfo *res = NULL, *ai;
    int port, fd = -1, saved = EADDRNOTAVAIL;

    if (sock_parse_inet(endpoint, &host, &port, err) < 0)
        goto done;
    if (vstr_len(&host) == 0) {
        /* Every address: one dual-stack socket, or IPv4 only without IPv6. */
        struct sockaddr_in6 sin6;
        struct sockaddr_in sin;

        memset(&sin6, 0, sizeof(sin6));
        sin6.sin6_family = AF_INET6;
        sin6.sin6_addr = in6addr_any;
        sin6.sin6_port = htons((uint16_t)port);
        fd = listen_on((struct sockaddr *)&sin6, sizeof(sin6), backlog, 1);
        if (fd < 0 && (errno == EAFNOSUPPORT || errno == EADDRNOTAVAIL)) {
            memset(&sin, 0, sizeof(sin));
            sin.sin_family = AF_INET;
            sin.sin_addr.s_addr = htonl(INADDR_ANY);
            sin.sin_port = htons((uint16_t)port);
            fd = listen_on((struct sockaddr *)&sin, sizeof(sin), backlog, 0);
        }
        if (fd < 0)
            sock_fail(err, errno, "listen on %s: %s", endpoint, strerror(errno));
        goto done;
    }
    if (resolve(endpoint, vstr_str(&host), port, 1, &res, err) < 0)
        goto done;
    for (ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
        fd = listen_on(ai->ai_addr, ai->ai_addrlen, backlog, 0);
        if (fd < 0)
            saved = errno;
    }
    if (fd < 0)
        sock_fail(err, saved, "listen on %s: %s", endpoint, strerror(saved));
done:
    saved = errno;
    if (res)
        freeaddrinfo(res);
    vstr_release(&host);
    errno = saved;
    return fd;
}

static int unix_address(const char *path, struct sockaddr_un *sun, vstr *err)
{
    size_t len = strlen(path);

    if (len == 0 || len >= sizeof(sun->sun_path))
        return sock_fail(err, ENAMETOOLONG,
                         "UNIX-domain socket path \"%s\": length %zu "
                         "out of range 1..%zu",
                         path, len, sizeof(sun->sun_path) - 1);
    memset(sun, 0, sizeof(*sun));
    sun->sun_family = AF_UNIX;
    memcpy(sun->sun_path, path, len + 1);
    return 0;
}

int sock_listen_unix(const char *path, int backlog, mode_t mode, vstr *err)
{
    struct sockaddr_un sun;
    struct stat st;
    mode_t old_mask;
    int fd, rc, saved;

    if (unix_address(path, &sun, err) < 0)
        return -1;
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode))
            return sock_fail(err, EEXIST, "%s: exists and is not a socket", path);
        if (unlink(path) < 0 && errno != ENOENT)
            return sock_fail(err, errno, "remove stale socket %s: %s", path, strerror(errno));
    } else if (errno != ENOENT) {
        return sock_fail(err, errno, "%s: %s", path, strerror(errno));
    }
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
        return sock_fail(err, errno, "socket for %s: %s", path, strerror(errno));
    /* The umask makes the socket appear with no more than mode; chmod then
     * makes it exactly mode. Nobody can connect in between with more. */
    old_mask = umask((mode_t)(~mode & 0777));
    rc = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
    saved = errno;
    umask(old_mask);
    if (rc < 0) {
        close(fd);
        return sock_fail(err, saved, "bind %s: %s", path, strerror(saved));
    }
    if (chmod(path, mode) < 0 || listen(fd, backlog) < 0) {
        saved = errno;
        close(fd);
        unlink(path);
        return sock_fail(err, saved, "listen on %s: %s", path, strerror(saved));
    }
    return fd;
}

int sock_accept(int listen_fd)
{
    int fd;

    do
        fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
    while (fd < 0 && errno == EINTR);
    return fd;
}

/* ---- Connecting ---- */

int sock_set_nonblock(int fd, int on)
{
    int flags = fcntl(fd, F_GETFL);

    if (flags < 0)
        return -1;
    flags = on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK;
    return fcntl(fd, F_SETFL, flags) < 0 ? -1 : 0;
}

int sock_set_cloexec(int fd, int on)
{
    int flags = fcntl(fd, F_GETFD);

    if (flags < 0)
        return -1;
    flags = on ? flags | FD_CLOEXEC : flags & ~FD_CLOEXEC;
    return fcntl(fd, F_SETFD, flags) < 0 ? -1 : 0;
}

/* Milliseconds left before deadline (-1: no deadline), 0 when expired. */
static int time_left(int64_t deadline)
{
    int64_t left;

    if (deadline == 0)
        return -1;
    left = deadline - clock_mono_ms();
    if (left <= 0)
        return 0;
    return left > INT_MAX ? INT_MAX : (int)left;
}

static int connect_wait(int fd, int64_t deadline)
{
    struct pollfd pfd = {fd, POLLOUT, 0};
    int soerr = 0, n, wait_ms;
    socklen_t len = sizeof(soerr);

    for (;;) {
        if ((wait_ms = time_left(deadline)) == 0) {
            errno = ETIMEDOUT;
            return -1;
        }
        n = poll(&pfd, 1, wait_ms);
        if (n > 0)
            break;
        if (n < 0 && errno != EINTR)
            return -1;
    }
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
        return -1;
    if (soerr) {
        errno = soerr;
        return -1;
    }
    return 0;
}

int sock_connect_fd(int fd, const struct sockaddr *sa, socklen_t len, int timeout_ms)
{
    int64_t deadline = timeout_ms > 0 ? clock_mono_ms() + timeout_ms : 0;
    int flags, rc, saved;

    if ((flags = fcntl(fd, F_GETFL)) < 0)
        return -1;
    if (!(flags & O_NONBLOCK) && fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
        return -1;
    for (;;) {
        rc = connect(fd, sa, len);
        if (rc == 0)
            break;
        if (errno == EINPROGRESS || errno == EINTR) {
            rc = connect_wait(fd, deadline);
            break;
        }
        if (errno == EAGAIN && sa->sa_family == AF_UNIX) {
            /* Backlog full: retry shortly, within the deadline. */
            int wait_ms = time_left(deadline);

            if (wait_ms == 0) {
                errno = ETIMEDOUT;
                break;
            }
            poll(NULL, 0, wait_ms < 0 || wait_ms > 10 ? 10 : wait_ms);
            continue;
        }
        break;
    }
    saved = errno;
    if (!(flags & O_NONBLOCK))
        (void)fcntl(fd, F_SETFL, flags);
    errno = saved;
    return rc;
}

static const char *addr_label(const struct sockaddr *sa, socklen_t len, vstr *buf)
{
    int port = 0;

    if (sock_addr_text(sa, len, buf, &port) < 0)
        vstr_set_str(buf, "(unknown address)");
    else if (sa->sa_family == AF_INET6)
        vstr_set_fmt(buf, "[%s]:%d", vstr_str(buf), port);
    else if (sa->sa_family == AF_INET)
        vstr_append_fmt(buf, ":%d", port);
    return vstr_str(buf);
}

int sock_connect_addr(const struct sockaddr *sa, socklen_t len, int timeout_ms, vstr *err)
{
    int fd, saved;

    if ((fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
        return sock_fail(err, errno, "socket: %s", strerror(errno));
    if (sock_connect_fd(fd, sa, len, timeout_ms) < 0) {
        saved = errno;
        close(fd);
        if (err) {
            vstr label = VSTR_INIT;

            sock_fail(err, saved, "connect to %s: %s", addr_label(sa, len, &label),
                      strerror(saved));
            vstr_release(&label);
        }
        errno = saved;
        return -1;
    }
    return fd;
}

int sock_connect_inet(const char *endpoint, int timeout_ms, vstr *err)
{
    vstr host = VSTR_INIT;
    struct addrinfo *res = NULL, *ai;
    int port, fd = -1, saved;

    if (sock_parse_inet(endpoint, &host, &port, err) < 0)
        goto done;
    if (vstr_len(&host) == 0) {
        sock_fail(err, EINVAL, "connect to %s: no host", endpoint);
        goto done;
    }
    if (resolve(endpoint, vstr_str(&host), port, 0, &res, err) < 0)
        goto done;
    for (ai = res; ai != NULL && fd < 0; ai = ai->ai_next)
        fd = sock_connect_addr(ai->ai_addr, ai->ai_addrlen, timeout_ms, err);
done:
    saved = errno;
    if (res)
        freeaddrinfo(res);
    vstr_release(&host);
    errno = saved;
    return fd;
}

int sock_connect_unix(const char *path, int timeout_ms, vstr *err)
{
    struct sockaddr_un sun;
    int fd, saved;

    if (unix_address(path, &sun, err) < 0)
        return -1;
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
        return sock_fail(err, errno, "socket: %s", strerror(errno));
    if (sock_connect_fd(fd, (struct sockaddr *)&sun, sizeof(sun), timeout_ms) < 0) {
        saved = errno;
        close(fd);
        return sock_fail(err, saved, "connect to %s: %s", path, strerror(saved));
    }
    return fd;
}

/* ---- Addresses as text ---- */

int sock_addr_text(const struct sockaddr *sa, socklen_t len, vstr *addr, int *port)
{
    char text[INET6_ADDRSTRLEN];
    int p = 0;

    vstr_reset(addr);
    if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;

        inet_ntop(AF_INET, &sin->sin_addr, text, sizeof(text));
        p = ntohs(sin->sin_port);
    } else if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;

        /* A dual-stack listener sees IPv4 clients as ::ffff:a.b.c.d. */
        if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr))
            inet_ntop(AF_INET, &sin6->sin6_addr.s6_addr[12], text, sizeof(text));
        else
            inet_ntop(AF_INET6, &sin6->sin6_addr, text, sizeof(text));
        p = ntohs(sin6->sin6_port);
    } else if (sa->sa_family == AF_UNIX) {
        snprintf(text, sizeof(text), "unix");
    } else {
        errno = EAFNOSUPPORT;
        return -1;
    }
    vstr_set_str(addr, text);
    if (port)
        *port = p;
    return 0;
}

int sock_peer_addr(int fd, vstr *addr, int *port)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);

    if (getpeername(fd, (struct sockaddr *)&ss, &len) < 0)
        return -1;
    return sock_addr_text((struct sockaddr *)&ss, len, addr, port);
}

int sock_local_addr(int fd, vstr *addr, int *port)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);

    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
        return -1;
    return sock_addr_text((struct sockaddr *)&ss, len, addr, port);
}
