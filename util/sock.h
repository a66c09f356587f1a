/*
 * NAME
 *   sock - listening and connecting sockets, inet and UNIX-domain
 *
 * SYNOPSIS
 *   #include "util/sock.h"
 *
 *   int lfd = sock_listen_inet("127.0.0.1:25", 100, err);
 *   int ufd = sock_listen_unix("/var/spool/postern/private/local", 100, 0600, err);
 *   int cfd = sock_connect_inet("[::1]:25", 30000, err);
 *
 * DESCRIPTION
 *   Inet endpoints are written as in master.cf:
 *     host:port  127.0.0.1:25   a name or IPv4 address
 *     [addr]:port  [::1]:25     brackets around an IPv6 address (or any host)
 *     *:port, :port, port       every address (listening only)
 *   A port is a number or a service name from /etc/services (tcp). Port 0
 *   lets the kernel choose when listening (sock_local_addr tells which).
 *   "Every address" is one dual-stack IPv6 socket, or IPv4 0.0.0.0 when the
 *   host has no IPv6.
 *
 *   Every descriptor made here is close-on-exec and blocking. (master
 *   hands a listening socket to a child with dup2, which clears the flag on
 *   the copy.)
 *
 * DIAGNOSTICS
 *   Functions return -1 with errno set and, when err is not NULL, a
 *   sentence in err naming the endpoint and the reason.
 */
#ifndef UTIL_SOCK_H
#define UTIL_SOCK_H

#include <sys/socket.h>
#include <sys/types.h>

#include "util/vstr.h"

/* Split an inet endpoint into host ("" for every address) and numeric port;
 * 0, or -1 with a reason in err for a malformed endpoint or unknown service. */
int sock_parse_inet(const char *endpoint, vstr *host, int *port, vstr *err);

/* Listen on an inet endpoint with SO_REUSEADDR; the descriptor or -1. A host
 * name that resolves to several addresses listens on the first that binds. */
int sock_listen_inet(const char *endpoint, int backlog, vstr *err);
/* Listen on a UNIX-domain path with the given mode, first removing a stale
 * socket there (but nothing that is not a socket); the descriptor or -1. */
int sock_listen_unix(const char *path, int backlog, mode_t mode, vstr *err);
/* Accept a connection (close-on-exec, retried on EINTR); the descriptor or
 * -1 with errno (EAGAIN on a non-blocking socket with nobody waiting). */
int sock_accept(int listen_fd);

/* Connect fd to sa, waiting at most timeout_ms (0 = no limit); 0, or -1 with
 * errno (ETIMEDOUT). fd's O_NONBLOCK flag is as before on return. */
int sock_connect_fd(int fd, const struct sockaddr *sa, socklen_t len, int timeout_ms);
/* A new socket connected to sa within timeout_ms; the descriptor or -1. */
int sock_connect_addr(const struct sockaddr *sa, socklen_t len, int timeout_ms, vstr *err);
/* Connect to an inet endpoint, trying each address of the host in turn with
 * timeout_ms for each; the descriptor or -1 (the last address's error). */
int sock_connect_inet(const char *endpoint, int timeout_ms, vstr *err);
/* Connect to a UNIX-domain path within timeout_ms; the descriptor or -1. */
int sock_connect_unix(const char *path, int timeout_ms, vstr *err);

/* Set (on != 0) or clear O_NONBLOCK; 0 or -1 with errno. */
int sock_set_nonblock(int fd, int on);
/* Set (on != 0) or clear FD_CLOEXEC; 0 or -1 with errno. */
int sock_set_cloexec(int fd, int on);

/* An address as text: "192.0.2.1", "2001:db8::1" (an IPv4-mapped IPv6
 * address as IPv4), "unix" for UNIX-domain; *port (may be NULL) gets the
 * port or 0. 0, or -1 with errno EAFNOSUPPORT for another family. */
int sock_addr_text(const struct sockaddr *sa, socklen_t len, vstr *addr, int *port);
/* The peer's address of a connected socket as text; 0 or -1 with errno. */
int sock_peer_addr(int fd, vstr *addr, int *port);
/* The local address of a socket as text; 0 or -1 with errno. */
int sock_local_addr(int fd, vstr *addr, int *port);

#endif
