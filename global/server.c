/*
 * server - the daemon skeleton: options, configuration, privileges, loop
 *
 * DESCRIPTION
 *   See global/server.h for the contract. This file keeps its state in one
 *   static struct: the daemon's callbacks take no context argument (the
 *   daemons are single-threaded processes with one service each), so the
 *   hooks that the skeleton offers them (server_config, server_watch) need
 *   somewhere to find it. Nothing in it changes after start-up except the
 *   watch list, the counters of the loop and the exit request.
 *
 *   The loop is one poll() over: the listening socket, the lifeline, the
 *   connections of trigger clients not yet drained, and the descriptors
 *   the daemon registered. The lifeline is looked at before the listening
 *   socket, so that a retired child stops taking clients as soon as it can.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "global/master_proto.h"
#include "global/server.h"
#include "util/argv.h"
#include "util/cfgfile.h"
#include "util/clock.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/sock.h"

#ifdef POSTERN_SANITIZE
#include <dlfcn.h>
#include <sanitizer/common_interface_defs.h>
#include <stdint.h>
#endif

/* A trigger client that sends nothing within this time is dropped. */
#define SERVER_TRIGGER_TIMEOUT_MS 10000
/* Trigger connections drained at once; more wait in the listen backlog. */
#define SERVER_TRIGGER_CONN_MAX 64
/* Bytes read from a trigger client per call of the handler, and in all:
 * a trigger is a byte or a few, never a stream. */
#define SERVER_TRIGGER_BUF 1024
#define SERVER_TRIGGER_MAX_BYTES 4096
/* Listen backlog in stand-alone mode (master chooses its own). */
#define SERVER_STANDALONE_BACKLOG 100

typedef enum server_kind {
    SERVER_SINGLE,
    SERVER_TRIGGER,
    SERVER_MULTI,
} server_kind;

typedef struct server_watch_ent {
    int fd; /* -1: removed, slot free */
    int events;
    server_fd_cb cb;
    void *context;
    unsigned long serial; /* tells a new watch from an old one on a reused fd */
} server_watch_ent;

typedef struct server_trigger_conn {
    int fd;
    int64_t deadline_ms;
    size_t received;
} server_trigger_conn;

typedef struct server_opts {
    const char *config_dir;
    const char *service;
    const char *type;
    int unpriv;
    int chroot; /* -r: chroot to queue_directory after pre_init */
    int verbose;
    argv_t *overrides; /* "name=value" */
    const char *standalone;
    int wakeup_secs;
} server_opts;

static struct {
    config *cfg;
    const char *service;
    const server_service *svc;
    char *chroot_dir; /* the real queue_directory when chrooting; else NULL */
    char **argv; /* the daemon's own arguments, NULL-terminated */
    server_kind kind;
    int standalone;
    int listen_fd;
    int status_fd;   /* -1 in stand-alone mode */
    int lifeline_fd; /* -1 in stand-alone mode */
    long long max_use;
    long long max_idle_ms;
    int exit_requested;
    server_watch_ent *watches;
    size_t watch_count;
    size_t watch_cap;
    unsigned long watch_serial;
    server_trigger_conn conns[SERVER_TRIGGER_CONN_MAX];
    size_t conn_count;
} srv = {.listen_fd = -1, .status_fd = -1, .lifeline_fd = -1};

config *server_config(void)
{
    return srv.cfg;
}

const char *server_service_name(void)
{
    return srv.service;
}

int server_chrooted(void)
{
    return srv.chroot_dir != NULL;
}

void server_request_exit(void)
{
    srv.exit_requested = 1;
}

/* ---- Watches ---- */

void server_watch(int fd, int events, server_fd_cb cb, void *context)
{
    server_watch_ent *free_slot = NULL;

    if (fd < 0 || cb == NULL)
        msg_panic("server_watch: bad fd %d or no callback", fd);
    for (size_t i = 0; i < srv.watch_count; i++) {
        if (srv.watches[i].fd == fd) {
            srv.watches[i].events = events;
            srv.watches[i].cb = cb;
            srv.watches[i].context = context;
            return;
        }
        if (srv.watches[i].fd < 0 && free_slot == NULL)
            free_slot = srv.watches + i;
    }
    if (free_slot == NULL) {
        if (srv.watch_count == srv.watch_cap) {
            srv.watch_cap = srv.watch_cap ? 2 * srv.watch_cap : 8;
            srv.watches = mem_reallocarray(srv.watches, srv.watch_cap, sizeof(*srv.watches));
        }
        free_slot = srv.watches + srv.watch_count++;
    }
    *free_slot = (server_watch_ent){fd, events, cb, context, ++srv.watch_serial};
}

void server_unwatch(int fd)
{
    for (size_t i = 0; i < srv.watch_count; i++)
        if (srv.watches[i].fd == fd)
            srv.watches[i].fd = -1;
}

static server_watch_ent *watch_find(int fd)
{
    for (size_t i = 0; i < srv.watch_count; i++)
        if (srv.watches[i].fd == fd)
            return srv.watches + i;
    return NULL;
}

/* ---- Start-up ---- */

static void usage(const char *progname)
{
    msg_fatal("usage: %s [-c DIR] [-n SERVICE] [-t TYPE] [-u] [-r] [-o name=value ...] [-v] "
              "[-S unix:PATH|inet:HOST:PORT [-w SECS]] [args ...]",
              progname);
}

static void parse_options(int argc, char **argv, server_opts *opts)
{
    char *end;
    long n;
    int c;

    memset(opts, 0, sizeof(*opts));
    opts->overrides = argv_new();
    /* "+": stop at the first argument that is not an option; the rest is
     * the daemon's. */
    while ((c = getopt(argc, argv, "+c:n:o:rS:t:uvw:")) != -1) {
        switch (c) {
        case 'c':
            opts->config_dir = optarg;
            break;
        case 'n':
            opts->service = optarg;
            break;
        case 'o':
            if (strchr(optarg, '=') == NULL)
                msg_fatal("-o %s: expected name=value", optarg);
            argv_add(opts->overrides, optarg);
            break;
        case 'r':
            opts->chroot = 1;
            break;
        case 'S':
            opts->standalone = optarg;
            break;
        case 't':
            opts->type = optarg;
            break;
        case 'u':
            opts->unpriv = 1;
            break;
        case 'v':
            opts->verbose++;
            break;
        case 'w':
            errno = 0;
            n = strtol(optarg, &end, 10);
            if (errno || *end || n < 1 || n > INT_MAX)
                msg_fatal("-w %s: expected a number of seconds", optarg);
            opts->wakeup_secs = (int)n;
            break;
        default:
            usage(argv[0]);
        }
    }
    if (opts->wakeup_secs && opts->standalone == NULL)
        msg_fatal("-w is for stand-alone mode (-S); master sends the wakeups otherwise");
}

/* "name=value" with white space around either part ignored. */
static void apply_override(config *cfg, const char *setting)
{
    const char *eq = strchr(setting, '=');
    vstr name = VSTR_INIT, value = VSTR_INIT;

    vstr_set(&name, setting, (size_t)(eq - setting));
    vstr_trim(&name);
    vstr_set_str(&value, eq + 1);
    vstr_trim(&value);
    if (vstr_len(&name) == 0)
        msg_fatal("-o %s: empty parameter name", setting);
    for (const char *p = vstr_str(&name); *p; p++)
        if (!cfgfile_name_char((unsigned char)*p))
            msg_fatal("-o %s: bad parameter name", setting);
    if (config_default_text(vstr_str(&name)) == NULL)
        msg_warn("-o %s: unknown parameter", vstr_str(&name));
    config_override(cfg, vstr_str(&name), vstr_str(&value));
    vstr_release(&name);
    vstr_release(&value);
}

/* Log where the configuration says: maillog_file, else syslog. stderr
 * stays on in stand-alone mode (someone is watching) and when neither is
 * available; under master it is off, because master already logs to the
 * same place and a foreground master's stderr would show each line twice. */
static void setup_logging(config *cfg, int standalone)
{
    const char *file = config_str(cfg, "maillog_file");
    int have_log = 0;

    msg_set_syslog_name(config_str(cfg, "syslog_name"));
    if (*file) {
        if (msg_use_file(file) < 0)
            msg_warn("cannot open maillog_file %s: %s", file, strerror(errno));
        else
            have_log = 1;
    }
    if (!have_log && msg_use_syslog() == 0)
        have_log = 1;
    if (have_log && !standalone)
        msg_use_stderr(0);
}

/* Decide, before pre_init, whether this process will chroot (-r): only
 * as root, never for a service that stays root to deliver (local,
 * virtual: they need the whole file system). From here on the process
 * sees queue_directory as "/", so that every queue path it builds, in
 * pre_init or later, is right inside the chroot. */
static void plan_chroot(config *cfg, const server_service *svc, int wanted)
{
    if (!wanted)
        return;
    if (svc->keep_root)
        msg_fatal("service %s: %s cannot run chrooted: it delivers as each recipient and "
                  "needs the whole file system; set the chroot column of this service in "
                  "master.cf to n",
                  srv.service, svc->name ? svc->name : srv.service);
    if (getuid() != 0 && geteuid() != 0) {
        msg_debug("not root: running without chroot");
        return;
    }
    srv.chroot_dir = mem_strdup(config_str(cfg, "queue_directory"));
    config_override(cfg, "queue_directory", "/");
}

#ifdef POSTERN_SANITIZE
/* The ASan+UBSan build only (make SANITIZE=1 defines POSTERN_SANITIZE):
 * keep every daemon's sanitizer reports where the tests look for them.
 * Called at start, before any chroot. The runtimes open their report file
 * (log_path.PID) only when there is something to report, and for a
 * chrooted daemon log_path does not exist by then, so the report would
 * be lost. __sanitizer_get_report_path() makes ASan open its file now;
 * the runtime keeps that descriptor for this process. GCC links UBSan as a
 * separate library with its own report state, and in a combined build
 * (GCC 12) UBSan does not apply UBSAN_OPTIONS' log_path to it: it writes
 * to stderr, /dev/null for a daemon. So UBSan is given a descriptor of
 * ASan's file, through its own __sanitizer_set_report_fd. */
static void keep_sanitizer_reports(void)
{
    typedef void (*set_fd_fn)(void *);
    const char *path = __sanitizer_get_report_path();
    void *ubsan;
    set_fd_fn ubsan_set_fd;
    int fd;

    if (path == NULL)
        return; /* reports go to stderr, open in the chroot too */
    if ((ubsan = dlopen("libubsan.so.1", RTLD_NOW | RTLD_NOLOAD)) == NULL)
        return;
    ubsan_set_fd = (set_fd_fn)dlsym(ubsan, "__sanitizer_set_report_fd");
    if (ubsan_set_fd && (fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)) >= 0)
        ubsan_set_fd((void *)(uintptr_t)fd);
    dlclose(ubsan);
}
#else
static void keep_sanitizer_reports(void)
{
}
#endif

/* chroot to the real queue directory, still as root; fatal on failure, so
 * that a service the administrator confined never runs unconfined. The
 * time zone is loaded first: /etc/localtime is not inside (the sanitizer
 * report files were opened at start, keep_sanitizer_reports). */
static void enter_chroot(const char *dir)
{
    tzset();
    if (chdir(dir) < 0)
        msg_fatal("chroot: cannot enter queue_directory %s: %s", dir, strerror(errno));
    if (chroot(".") < 0)
        msg_fatal("chroot to %s: %s", dir, strerror(errno));
    if (chdir("/") < 0)
        msg_fatal("chroot to %s: chdir /: %s", dir, strerror(errno));
    msg_debug("chrooted to %s", dir);
}

/* Become mail_owner when started as root, unless the service keeps root
 * and master.cf did not say it is unprivileged; chroot first (after the
 * user lookup, which needs /etc/passwd) when plan_chroot said so. */
static void drop_privileges(config *cfg, const server_service *svc, int unpriv)
{
    const char *owner;
    struct passwd *pw;
    uid_t uid;
    gid_t gid;

    if (getuid() != 0 && geteuid() != 0)
        return; /* an unprivileged instance runs as whoever started it */
    if (svc->keep_root && !unpriv) {
        msg_debug("running as root (the service keeps root)");
        return;
    }
    owner = config_str(cfg, "mail_owner");
    if ((pw = getpwnam(owner)) == NULL)
        msg_fatal("mail_owner %s: no such user", owner);
    uid = pw->pw_uid;
    gid = pw->pw_gid;
    if (uid == 0)
        msg_fatal("mail_owner %s has user id 0: refusing to run as root", owner);
    if (srv.chroot_dir)
        enter_chroot(srv.chroot_dir);
    if (setgroups(1, &gid) < 0)
        msg_fatal("setgroups(%lu): %s", (unsigned long)gid, strerror(errno));
    if (setgid(gid) < 0)
        msg_fatal("setgid(%lu): %s", (unsigned long)gid, strerror(errno));
    if (setuid(uid) < 0)
        msg_fatal("setuid(%lu): %s", (unsigned long)uid, strerror(errno));
    /* Paranoia that costs two system calls: a daemon that could get root
     * back must not serve anybody. */
    if (setuid(0) == 0 || seteuid(0) == 0 || getuid() == 0 || geteuid() == 0)
        msg_fatal("still able to become root after switching to %s", owner);
    msg_debug("running as %s (uid %lu, gid %lu)", owner, (unsigned long)uid, (unsigned long)gid);
}

static int fd_is_open(int fd)
{
    return fcntl(fd, F_GETFD) >= 0;
}

/* Listen on path in stand-alone mode. The socket is made under a
 * temporary name and renamed into place once it listens, so that whoever
 * waits for path to appear (a test, a script) can connect at once. */
static int listen_unix_atomically(const char *path, vstr *err)
{
    vstr tmp = VSTR_INIT;
    struct stat st;
    int fd;

    /* Replace a stale socket, never anything else. */
    if (lstat(path, &st) == 0 && !S_ISSOCK(st.st_mode)) {
        vstr_set_fmt(err, "%s exists and is not a socket", path);
        return -1;
    }
    vstr_set_fmt(&tmp, "%s.%ld.tmp", path, (long)getpid());
    fd = sock_listen_unix(vstr_str(&tmp), SERVER_STANDALONE_BACKLOG, 0666, err);
    if (fd >= 0 && rename(vstr_str(&tmp), path) < 0) {
        vstr_set_fmt(err, "cannot rename %s to %s: %s", vstr_str(&tmp), path, strerror(errno));
        (void)unlink(vstr_str(&tmp));
        close(fd);
        fd = -1;
    }
    vstr_release(&tmp);
    return fd;
}

/* The listening socket: fd 3 from master, or our own in stand-alone mode. */
static int open_listener(const server_opts *opts)
{
    vstr err = VSTR_INIT;
    int fd;

    if (opts->standalone == NULL) {
        if (!fd_is_open(MASTER_LISTEN_FD) || !fd_is_open(MASTER_STATUS_FD) ||
            !fd_is_open(MASTER_LIFELINE_FD))
            msg_fatal("descriptors 3-5 are not open: not started by master "
                      "(use -S unix:PATH or -S inet:HOST:PORT to run stand-alone)");
        fd = MASTER_LISTEN_FD;
    } else if (strncmp(opts->standalone, "unix:", 5) == 0) {
        fd = listen_unix_atomically(opts->standalone + 5, &err);
    } else if (strncmp(opts->standalone, "inet:", 5) == 0) {
        fd = sock_listen_inet(opts->standalone + 5, SERVER_STANDALONE_BACKLOG, &err);
    } else {
        msg_fatal("-S %s: expected unix:PATH or inet:HOST:PORT", opts->standalone);
    }
    if (fd < 0)
        msg_fatal("%s", vstr_str(&err));
    if (sock_set_nonblock(fd, 1) < 0)
        msg_fatal("cannot make the listening socket non-blocking: %s", strerror(errno));
    vstr_release(&err);
    return fd;
}

/* ---- Talking to master ---- */

static void report_status(char status)
{
    master_status st;

    if (srv.status_fd < 0)
        return;
    memset(&st, 0, sizeof(st));
    st.pid = getpid();
    st.status = status;
    /* One write under PIPE_BUF never interleaves with another child's. A
     * failure means master is gone; the lifeline will tell us to exit. */
    if (write(srv.status_fd, &st, sizeof(st)) != (ssize_t)sizeof(st))
        msg_debug("status pipe: %s", strerror(errno));
}

/* ---- The loop ---- */

static void server_exit(void)
{
    if (srv.svc->pre_exit)
        srv.svc->pre_exit(srv.service, srv.argv);
    msg_debug("exiting");
    exit(0);
}

/* Has this process served its max_use clients (it takes no more)? */
static int past_max_use(long long uses)
{
    return srv.max_use > 0 && uses >= srv.max_use && !srv.svc->ignore_idle;
}

static void serve_single(long long *uses)
{
    vstream *client;
    int fd = sock_accept(srv.listen_fd);

    if (fd < 0) {
        /* Another child won the race, or the client went away. */
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ECONNABORTED)
            msg_warn("accept: %s", strerror(errno));
        return;
    }
    report_status(MASTER_STAT_BUSY);
    if (sock_set_nonblock(fd, 0) < 0)
        msg_warn("cannot make the client socket blocking: %s", strerror(errno));
    client = vstream_fdopen(fd, VSTREAM_READ | VSTREAM_WRITE);
    srv.svc->single(client, srv.service, srv.argv);
    (void)vstream_close(client);
    (*uses)++;
    /* A process past max_use takes no further client, though its loop
     * hook may keep it a while (smtp's cached session): it stays busy for
     * master, which starts the next process as soon as a client waits,
     * instead of counting on this one. */
    if (!past_max_use(*uses))
        report_status(MASTER_STAT_IDLE);
}

/* Accept one pending connection, non-blocking: its fd, or -1 when none is
 * left (*more = 0) or this one could not be set up (logged; *more = 1). */
static int accept_nonblocking(int *more)
{
    int fd = sock_accept(srv.listen_fd);

    *more = 0;
    if (fd < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ECONNABORTED)
            msg_warn("accept: %s", strerror(errno));
        return -1;
    }
    *more = 1;
    if (sock_set_nonblock(fd, 1) < 0) {
        msg_warn("cannot make a client socket non-blocking: %s", strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

/* Take every pending trigger connection, up to the bound. */
static void accept_triggers(void)
{
    int fd, more = 1;

    while (more && srv.conn_count < SERVER_TRIGGER_CONN_MAX) {
        if ((fd = accept_nonblocking(&more)) < 0)
            continue;
        srv.conns[srv.conn_count].fd = fd;
        srv.conns[srv.conn_count].deadline_ms = clock_mono_ms() + SERVER_TRIGGER_TIMEOUT_MS;
        srv.conns[srv.conn_count].received = 0;
        srv.conn_count++;
    }
}

/* Hand every pending connection (up to the trigger bound per pass, so the
 * loop keeps turning) to a multi service. */
static void accept_multi(long long *uses)
{
    int fd, more = 1;

    for (int i = 0; more && i < SERVER_TRIGGER_CONN_MAX; i++) {
        if ((fd = accept_nonblocking(&more)) < 0)
            continue;
        srv.svc->multi(fd, srv.service, srv.argv);
        (*uses)++;
    }
}

static void drop_conn(size_t i)
{
    close(srv.conns[i].fd);
    srv.conns[i] = srv.conns[--srv.conn_count];
}

/* Read once from trigger client i (the loop comes back while it has more,
 * so one client cannot keep the others waiting); 1 when it was dropped. */
static int read_trigger(size_t i, long long *uses)
{
    char buf[SERVER_TRIGGER_BUF];
    ssize_t n;

    do
        n = read(srv.conns[i].fd, buf, sizeof(buf));
    while (n < 0 && errno == EINTR);
    if (n > 0) {
        srv.conns[i].received += (size_t)n;
        report_status(MASTER_STAT_BUSY);
        srv.svc->trigger(buf, (size_t)n);
        report_status(MASTER_STAT_IDLE);
        (*uses)++;
        if (srv.conns[i].received <= SERVER_TRIGGER_MAX_BYTES)
            return 0;
        msg_warn("trigger client sent more than %d bytes: dropped", SERVER_TRIGGER_MAX_BYTES);
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        return 0;
    }
    drop_conn(i); /* end of input, an error, or too much */
    return 1;
}

static int min_timeout(int a, int64_t b)
{
    if (b < 0)
        b = 0;
    if (b > INT_MAX)
        b = INT_MAX;
    if (a < 0 || b < a)
        return (int)b;
    return a;
}

/* Wait for and handle events until it is time to exit. */
__attribute__((noreturn)) static void server_loop(int wakeup_secs)
{
    struct pollfd *pfd = NULL;
    unsigned long *pfd_serial = NULL; /* of the watch behind each pfd entry */
    size_t pfd_cap = 0;
    long long uses = 0;
    int64_t last_active = clock_mono_ms();
    int64_t next_wakeup = wakeup_secs ? last_active + wakeup_secs * 1000LL : 0;
    sigset_t wait_mask;

    /* In stand-alone mode SIGTERM is blocked except while waiting, so that
     * it ends the daemon between clients, never inside a handler. */
    sigprocmask(SIG_SETMASK, NULL, &wait_mask);
    sigdelset(&wait_mask, SIGTERM);

    for (;;) {
        size_t n = 0, first_conn, first_watch;
        int timeout = -1, retiring;
        int64_t now;
        struct timespec ts, *tsp = NULL;
        int ready;

        if (srv.exit_requested)
            server_exit();
        /* The loop hook runs first: work a trigger asked for (a pickup
         * pass) is done before max_use or max_idle may end the process,
         * and the process ends only with no client connected, so no
         * trigger it has read or accepted is lost. */
        if (srv.svc->loop)
            timeout = srv.svc->loop(srv.service, srv.argv);
        if (srv.exit_requested)
            server_exit();
        retiring = past_max_use(uses);
        if (retiring && timeout < 0 && srv.conn_count == 0) {
            msg_debug("served %lld clients: exiting (max_use)", uses);
            server_exit();
        }
        now = clock_mono_ms();
        if (!srv.svc->ignore_idle && srv.conn_count == 0 && timeout < 0) {
            if (now - last_active >= srv.max_idle_ms) {
                msg_debug("idle for %lld s: exiting (max_idle)", srv.max_idle_ms / 1000);
                server_exit();
            }
            timeout = min_timeout(timeout, srv.max_idle_ms - (now - last_active));
        }
        if (next_wakeup)
            timeout = min_timeout(timeout, next_wakeup - now);
        for (size_t i = 0; i < srv.conn_count; i++)
            timeout = min_timeout(timeout, srv.conns[i].deadline_ms - now);

        if (pfd_cap < 2 + srv.conn_count + srv.watch_count) {
            pfd_cap = 2 + SERVER_TRIGGER_CONN_MAX + 2 * srv.watch_count;
            pfd = mem_reallocarray(pfd, pfd_cap, sizeof(*pfd));
            pfd_serial = mem_reallocarray(pfd_serial, pfd_cap, sizeof(*pfd_serial));
        }
        /* A trigger service with every connection slot taken lets further
         * clients wait in the backlog rather than spin on the socket; so
         * does a process past max_use, for the one master starts next. */
        pfd[n++] = (struct pollfd){
            srv.listen_fd, srv.conn_count < SERVER_TRIGGER_CONN_MAX && !retiring ? POLLIN : 0, 0};
        if (srv.lifeline_fd >= 0)
            pfd[n++] = (struct pollfd){srv.lifeline_fd, POLLIN, 0};
        first_conn = n;
        for (size_t i = 0; i < srv.conn_count; i++)
            pfd[n++] = (struct pollfd){srv.conns[i].fd, POLLIN, 0};
        first_watch = n;
        for (size_t i = 0; i < srv.watch_count; i++) {
            if (srv.watches[i].fd >= 0) {
                pfd_serial[n] = srv.watches[i].serial;
                pfd[n++] = (struct pollfd){srv.watches[i].fd, (short)srv.watches[i].events, 0};
            }
        }

        if (timeout >= 0) {
            ts.tv_sec = timeout / 1000;
            ts.tv_nsec = (long)(timeout % 1000) * 1000000L;
            tsp = &ts;
        }
        ready = ppoll(pfd, n, tsp, srv.standalone ? &wait_mask : NULL);
        if (ready < 0) {
            if (errno == EINTR)
                continue;
            msg_fatal("poll: %s", strerror(errno));
        }
        now = clock_mono_ms();

        /* Master gone, or this service retired: stop taking clients. */
        if (srv.lifeline_fd >= 0 && pfd[1].revents) {
            msg_debug("lifeline closed: exiting");
            server_exit();
        }
        /* The daemon's own descriptors. A callback may change the watch
         * list, even close a descriptor and watch a new one with the same
         * number, so each is looked up again, serial and all, before its
         * call. */
        for (size_t i = first_watch; i < n; i++) {
            server_watch_ent *w;

            if (pfd[i].revents == 0 || (w = watch_find(pfd[i].fd)) == NULL ||
                w->serial != pfd_serial[i])
                continue;
            w->cb(pfd[i].fd, pfd[i].revents, w->context);
        }
        if (srv.kind == SERVER_TRIGGER) {
            /* Back to front: drop_conn moves the last connection into the
             * dropped one's slot. */
            for (size_t i = first_watch - first_conn; i-- > 0;) {
                if (i >= srv.conn_count)
                    continue;
                if (pfd[first_conn + i].revents && pfd[first_conn + i].fd == srv.conns[i].fd) {
                    long long before = uses;

                    (void)read_trigger(i, &uses);
                    if (uses != before)
                        last_active = clock_mono_ms();
                } else if (now >= srv.conns[i].deadline_ms) {
                    msg_warn("trigger client sent nothing in %d s: dropped",
                             SERVER_TRIGGER_TIMEOUT_MS / 1000);
                    drop_conn(i);
                }
            }
            if (pfd[0].revents)
                accept_triggers();
            if (next_wakeup && now >= next_wakeup) {
                static const char wakeup = TRIGGER_WAKEUP;

                srv.svc->trigger(&wakeup, 1);
                last_active = clock_mono_ms();
                next_wakeup = now + wakeup_secs * 1000LL;
            }
        } else if (pfd[0].revents && srv.kind == SERVER_MULTI) {
            accept_multi(&uses);
            last_active = clock_mono_ms();
        } else if (pfd[0].revents) {
            long long before = uses;

            serve_single(&uses);
            if (uses != before)
                last_active = clock_mono_ms();
        }
    }
}

static void on_sigterm(int sig)
{
    (void)sig;
    srv.exit_requested = 1;
}

__attribute__((noreturn)) static void server_main(int argc, char **argv, const server_service *svc,
                                                  server_kind kind)
{
    static char *no_args[] = {NULL};
    const char *progname;
    server_opts opts;
    vstr err = VSTR_INIT;
    struct sigaction sa;

    progname = svc->name ? svc->name : argv[0];
    msg_init(progname);
    if ((kind == SERVER_SINGLE && svc->single == NULL) ||
        (kind == SERVER_TRIGGER && svc->trigger == NULL) ||
        (kind == SERVER_MULTI && svc->multi == NULL))
        msg_panic("server: no handler for this kind of service");
    signal(SIGPIPE, SIG_IGN);

    parse_options(argc, argv, &opts);
    msg_set_verbose(opts.verbose);
    srv.svc = svc;
    srv.kind = kind;
    srv.standalone = opts.standalone != NULL;
    srv.argv = optind < argc ? argv + optind : no_args;

    if ((srv.cfg = config_load(config_directory(opts.config_dir), &err)) == NULL)
        msg_fatal("%s", vstr_str(&err));
    for (size_t i = 0; i < opts.overrides->argc; i++)
        apply_override(srv.cfg, opts.overrides->argv[i]);
    argv_free(opts.overrides);
    srv.service = opts.service ? opts.service : progname;
    if (strrchr(srv.service, '/') && opts.service == NULL)
        srv.service = strrchr(srv.service, '/') + 1;
    setup_logging(srv.cfg, srv.standalone);
    keep_sanitizer_reports();
    if (opts.type && strcmp(opts.type, MASTER_TYPE_INET) != 0 &&
        strcmp(opts.type, MASTER_TYPE_UNIX) != 0)
        msg_fatal("-t %s: this daemon serves only inet and unix services", opts.type);
    srv.max_use = config_int(srv.cfg, "max_use");
    srv.max_idle_ms = config_time(srv.cfg, "max_idle") * 1000;

    srv.listen_fd = open_listener(&opts);
    if (!srv.standalone) {
        srv.status_fd = MASTER_STATUS_FD;
        srv.lifeline_fd = MASTER_LIFELINE_FD;
        /* Whatever master left blocked or ignored, SIGTERM stops us. */
        sigset_t term;

        sigemptyset(&term);
        sigaddset(&term, SIGTERM);
        sigprocmask(SIG_UNBLOCK, &term, NULL);
        signal(SIGTERM, SIG_DFL);
    } else {
        sigset_t block;

        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_sigterm;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGTERM, &sa, NULL);
        sigemptyset(&block);
        sigaddset(&block, SIGTERM);
        sigprocmask(SIG_BLOCK, &block, NULL);
    }

    plan_chroot(srv.cfg, svc, opts.chroot);
    if (svc->pre_init)
        svc->pre_init(srv.cfg, srv.service, srv.argv);
    drop_privileges(srv.cfg, svc, opts.unpriv);
    if (svc->post_init)
        svc->post_init(srv.cfg, srv.service, srv.argv);
    msg_debug("serving %s", srv.service);
    vstr_release(&err);
    server_loop(opts.wakeup_secs);
}

void server_single_main(int argc, char **argv, const server_service *svc)
{
    server_main(argc, argv, svc, SERVER_SINGLE);
}

void server_trigger_main(int argc, char **argv, const server_service *svc)
{
    server_main(argc, argv, svc, SERVER_TRIGGER);
}

void server_multi_main(int argc, char **argv, const server_service *svc)
{
    server_main(argc, argv, svc, SERVER_MULTI);
}
