/*
 * NAME
 *   server - the skeleton every Postern daemon plugs into
 *
 * SYNOPSIS
 *   #include "global/server.h"
 *
 *   static void serve(vstream *client, const char *service, char **argv)
 *   {
 *       ... one client: read the request, answer, return ...
 *   }
 *
 *   int main(int argc, char **argv)
 *   {
 *       static const server_service svc = {
 *           .name = "local", .keep_root = 1,
 *           .pre_init = open_tables, .single = serve,
 *       };
 *       server_single_main(argc, argv, &svc);
 *   }
 *
 *   A trigger service (pickup, qmgr) fills in .trigger (and, to run its
 *   own timers, .loop) and calls server_trigger_main instead. A service
 *   that holds many clients at once in one process (anvil) fills in
 *   .multi and calls server_multi_main.
 *
 * DESCRIPTION
 *   master (master/) execs a daemon as
 *
 *     COMMAND -c CONFIG_DIR -n SERVICE -t TYPE [-u] [-r] [master.cf args ...]
 *
 *   with the service's listening socket on fd 3, the status pipe on fd 4
 *   and the lifeline on fd 5 (docs/PROTOCOLS.md, "Master and its
 *   children"). The skeleton does everything the daemons have in common,
 *   in this order:
 *
 *   1. Options: -c DIR (config directory; else MAIL_CONFIG, else the
 *      default), -n SERVICE (the master.cf service name, for logs and the
 *      handlers), -t TYPE (inet or unix), -u (master.cf says the service
 *      is unprivileged), -r (master.cf says chroot), -o name=value (config_override, repeatable), -v
 *      (more logging, repeatable), -S ENDPOINT (stand-alone, below), -w SECS
 *      (stand-alone: a wakeup trigger every SECS seconds). Arguments left
 *      after the options go to the handlers as argv (NULL-terminated).
 *   2. Configuration: main.cf, then the -o overrides. Logging goes to
 *      maillog_file when it is set, else syslog; the tag is
 *      syslog_name/NAME (e.g. postern/smtpd, or postern/relay/smtp with
 *      -o syslog_name=postern/relay). SIGPIPE is ignored.
 *   3. pre_init, still with the privileges the daemon started with: open
 *      lookup tables, keys and anything else mail_owner cannot read, and
 *      read every file outside the queue directory the daemon will need
 *      (resolv.conf, hosts, TLS keys and CAfile, SASL set-up). With -r
 *      as root, the process already sees queue_directory as "/" here
 *      (server_chrooted() says so), so queue paths built now or later are
 *      right inside the chroot; pre_init must not open anything under the
 *      queue directory itself.
 *   4. chroot and privilege drop. Started as root with -r, the daemon
 *      looks up mail_owner, then does chdir(queue_directory), chroot(".")
 *      and chdir("/"); a failure is fatal (a confined service never runs
 *      unconfined). A keep_root service (local, virtual: they deliver as
 *      each recipient, anywhere) given -r exits with a fatal error that
 *      names the master.cf column. Started as root, the daemon becomes
 *      mail_owner (setgroups, setgid, setuid; then it checks that it
 *      cannot get root back, and exits with a fatal error if it can). A
 *      service with keep_root set stays root unless master.cf marks it
 *      unprivileged (-u). Started by anyone else (an unprivileged
 *      instance), the daemon keeps running as that user, unchrooted.
 *      maillog_file and syslog stay open across the chroot.
 *   5. post_init, now as the user the daemon will serve as.
 *   6. The loop: poll the listening socket, the lifeline, any descriptors
 *      the daemon registered with server_watch, and the loop hook's
 *      timeout. The daemon exits (status 0, after pre_exit) when the
 *      lifeline reports EOF (master is gone, or retired this service on
 *      reload), after max_use clients or triggers, or after max_idle
 *      seconds without one (unless ignore_idle). It never exits in the
 *      middle of a handler: a busy child that master retires finishes its
 *      client first. max_use and max_idle wait until the loop hook has
 *      nothing pending (it returns -1) and no trigger client is
 *      connected; past max_use the socket is no longer polled, so new
 *      clients wait for the next process, which master starts at once: a
 *      single-client child past max_use stays busy in master's count.
 *
 *   Single services: a child accepts one connection at a time (children
 *   of a service race for it; the losers see EAGAIN and go back to poll),
 *   tells master it is busy, calls single(client, service, argv) with a
 *   blocking vstream on the connection (no deadline set: the handler sets
 *   its own with vstream_set_timeout), closes the stream when the handler
 *   returns, and tells master it is idle again.
 *
 *   Trigger services: each connection to the socket carries one or more
 *   trigger bytes and is closed by the client. The skeleton accepts every
 *   pending connection without blocking on any, reads what each sends (a
 *   client that sends nothing within 10 s is dropped) and calls
 *   trigger(bytes, n) for every read; master's periodic wakeup arrives as
 *   the byte TRIGGER_WAKEUP ('W'), postdrop's as TRIGGER_NEW ('A'), a
 *   flush request as TRIGGER_FLUSH ('F') (global/master_proto.h). The
 *   handler must not block for long: a trigger service is a single
 *   process that other programs wait on.
 *
 *   Multi services: the process accepts every pending connection and
 *   hands each to multi(fd, service, argv), non-blocking; the daemon
 *   watches it (server_watch) and closes it when done. Status stays
 *   "idle": one process serves every client (master.cf maxproc 1).
 *
 *   Stand-alone mode, for tests and debugging: with -S ENDPOINT the
 *   daemon runs without master. It listens on ENDPOINT itself
 *   ("unix:/path/to/socket" or "inet:127.0.0.1:PORT"), has no status pipe
 *   and no lifeline, and runs until SIGTERM, max_use or max_idle. With -w
 *   SECS a trigger service also gets a TRIGGER_WAKEUP every SECS seconds.
 *   Privileges are dropped as under master.
 *
 * DIAGNOSTICS
 *   Problems before the loop (bad options, unreadable main.cf, no
 *   mail_owner, failed privilege drop, fd 3 not a socket) are fatal with a
 *   logged reason; master then logs the exit status and backs off.
 */
#ifndef GLOBAL_SERVER_H
#define GLOBAL_SERVER_H

#include <stddef.h>

#include "global/config.h"
#include "util/vstream.h"

/* What a daemon tells the skeleton. Unused members stay zero/NULL. */
typedef struct server_service {
    /* Program name for logs (postern/NAME[pid]); argv[0]'s base name if NULL. */
    const char *name;
    /* 1: stay root after pre_init (local, which switches to each recipient
     * itself). Ignored when not started as root. */
    int keep_root;
    /* 1: do not exit after max_idle seconds or max_use clients (qmgr holds
     * its state in memory and runs as long as master does). */
    int ignore_idle;

    /* As started (root in a system install), after the configuration is
     * loaded and logging set up: open what mail_owner cannot. */
    void (*pre_init)(config *cfg, const char *service, char **argv);
    /* After the privilege drop, before the first client. */
    void (*post_init)(config *cfg, const char *service, char **argv);
    /* Before each wait for events: do timed work, and return how long the
     * wait may last in milliseconds (-1: no limit of the daemon's own). */
    int (*loop)(const char *service, char **argv);
    /* Just before a normal exit (lifeline EOF, max_use, max_idle, SIGTERM in
     * stand-alone mode). */
    void (*pre_exit)(const char *service, char **argv);

    /* Single services: serve one client, then return. The skeleton closes
     * client afterwards. */
    void (*single)(vstream *client, const char *service, char **argv);
    /* Trigger services: n (>= 1) trigger bytes from one client. */
    void (*trigger)(const char *bytes, size_t n);
    /* Multi services: a new client connection (non-blocking); the daemon
     * owns fd from now on. */
    void (*multi)(int fd, const char *service, char **argv);
} server_service;

/* Run a single service (one client at a time per process); never returns. */
__attribute__((noreturn)) void server_single_main(int argc, char **argv,
                                                  const server_service *svc);
/* Run a trigger service; never returns. */
__attribute__((noreturn)) void server_trigger_main(int argc, char **argv,
                                                   const server_service *svc);

/* Run a multi service (many clients in one process); never returns. */
__attribute__((noreturn)) void server_multi_main(int argc, char **argv,
                                                 const server_service *svc);

/* The configuration (main.cf with -o overrides); read-only after start-up.
 * NULL before the skeleton has loaded it. */
config *server_config(void);
/* The master.cf service name (-n), or the program name when not given. */
const char *server_service_name(void);
/* 1 when this process chroots to the queue directory (-r, as root): true
 * from pre_init on, so that pre_init can leave out what would not work
 * inside the chroot. */
int server_chrooted(void);

/* Event hooks for daemons that talk to other processes from the loop
 * (qmgr and its delivery agents): call cb(fd, revents, context) when fd
 * reports any of events (POLLIN, POLLOUT). Watching an fd again replaces
 * its events and callback; unwatching is safe from inside a callback. */
typedef void (*server_fd_cb)(int fd, int revents, void *context);
void server_watch(int fd, int events, server_fd_cb cb, void *context);
void server_unwatch(int fd);

/* Ask the loop to end after the current handler (as on lifeline EOF). */
void server_request_exit(void);

#endif
