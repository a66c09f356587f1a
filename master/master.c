/*
 * master - the Postern supervisor: sockets, children, reload, stop
 *
 * SYNOPSIS
 *   master [-d] [-v] [-c DIR]
 *
 * DESCRIPTION
 *   Reads main.cf and master.cf, takes the instance's pid lock
 *   (global/master_pid), opens every service's socket and runs the
 *   services' children on demand (master_spawn.c). Without -d it becomes
 *   a daemon (fork, setsid, fork) and the command that started it exits
 *   only once the daemon holds the lock and listens on every socket: 0
 *   then, 1 when start-up failed, after the reason has gone to stderr. With
 *   -d it stays in the foreground and logs to stderr as well (systemd).
 *
 *   Signals: SIGHUP re-reads both files and changes only what changed
 *   (master_servs_reload); SIGTERM stops: no more clients, SIGTERM to
 *   every child, wait for them (SIGKILL after MASTER_STOP_WAIT_MS), remove
 *   the pid file, exit 0; SIGINT (postern abort) does the same with
 *   SIGKILL at once.
 *
 *   Signal handlers only write the signal's number into a pipe that the
 *   loop polls, so all the work happens in one place, in order.
 *
 * DIAGNOSTICS
 *   Start-up problems are fatal, on stderr and in the log. After start-up
 *   everything is logged (maillog_file, else syslog).
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
#include <sys/wait.h>
#include <unistd.h>

#include "global/master_pid.h"
#include "master/master.h"
#include "util/cfgfile.h"
#include "util/clock.h"
#include "util/mem.h"
#include "util/msg.h"

/* How long a stop waits for children before it kills them. */
#define MASTER_STOP_WAIT_MS 10000

/* The signal pipe: written by handlers, read by the loop. */
static int sig_pipe[2] = {-1, -1};

static void on_signal(int sig)
{
    int saved = errno;
    unsigned char c = (unsigned char)sig;

    /* Non-blocking: when the pipe is full the loop has plenty to read. */
    if (write(sig_pipe[1], &c, 1) < 0) {
        /* nothing to do */
    }
    errno = saved;
}

static void setup_signals(void)
{
    static const int sigs[] = {SIGCHLD, SIGHUP, SIGTERM, SIGINT};
    struct sigaction sa;

    if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
        msg_fatal("pipe: %s", strerror(errno));
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        if (sigaction(sigs[i], &sa, NULL) < 0)
            msg_fatal("sigaction: %s", strerror(errno));
    signal(SIGPIPE, SIG_IGN);
}

/* Log each line of a multi-line error text as one error. */
static void log_errors(const char *prefix, const char *text)
{
    argv_t *lines = argv_split(text, "\n");

    for (size_t i = 0; i < lines->argc; i++)
        msg_error("%s%s", prefix, lines->argv[i]);
    argv_free(lines);
}

/* The same, the last line fatal: start-up cannot go on. */
__attribute__((noreturn)) static void fatal_lines(const char *text)
{
    argv_t *lines = argv_split(text, "\n");

    for (size_t i = 0; i + 1 < lines->argc; i++)
        msg_error("%s", lines->argv[i]);
    msg_fatal("%s", lines->argc ? lines->argv[lines->argc - 1] : "configuration error");
}

/* Keep descriptors 0-5 taken (by /dev/null where nothing is open), so that
 * everything master opens later is above 5 and a child's dup2 onto 3, 4
 * and 5 never overwrites a descriptor it still needs. */
static void reserve_low_fds(void)
{
    int fd;

    while ((fd = open("/dev/null", O_RDWR)) >= 0 && fd <= 5)
        ;
    if (fd < 0)
        msg_fatal("open /dev/null: %s", strerror(errno));
    close(fd);
}

/* Log where main.cf says; stderr as well in the foreground. */
static void setup_logging(config *cfg, int foreground)
{
    const char *file = config_str(cfg, "maillog_file");
    int have_log = 0;

    msg_set_syslog_name(config_str(cfg, "syslog_name"));
    if (*file) {
        if (msg_use_file(file) < 0)
            msg_fatal("cannot open maillog_file %s: %s", file, strerror(errno));
        have_log = 1;
    } else if (msg_use_syslog() == 0) {
        have_log = 1;
    }
    if (!have_log && !foreground)
        msg_warn("no maillog_file is set and syslog is not running: after start-up, "
                 "nothing master and its children log is kept");
}

static void read_main_cf_print(master_state *ms)
{
    vstr path = VSTR_INIT, text = VSTR_INIT, err = VSTR_INIT;

    vstr_set_fmt(&path, "%s/main.cf", ms->config_dir);
    if (cfgfile_read(vstr_str(&path), CONFIG_FILE_MAX, &text, &err) < 0)
        vstr_reset(&text); /* config_load just read it; a vanished file changes the print */
    master_fingerprint(vstr_str(&text), vstr_len(&text), &path);
    mem_free(ms->main_cf_print);
    ms->main_cf_print = vstr_steal(&path);
    vstr_release(&text);
    vstr_release(&err);
}

/* mail_owner's ids, and the parameters master itself uses; -1 with a
 * reason in err. */
static int resolve_config(master_state *ms, config *cfg, vstr *err)
{
    const char *owner = config_str(cfg, "mail_owner");
    const char *queue_dir = config_str(cfg, "queue_directory");
    struct passwd *pw;

    if (queue_dir[0] != '/') {
        vstr_set_fmt(err, "queue_directory %s is not an absolute path", queue_dir);
        return -1;
    }
    if (ms->privileged) {
        const char *group = config_str(cfg, "setgid_group");
        struct group *gr;

        if ((pw = getpwnam(owner)) == NULL) {
            vstr_set_fmt(err, "mail_owner %s: no such user", owner);
            return -1;
        }
        if (pw->pw_uid == 0) {
            vstr_set_fmt(err, "mail_owner %s has user id 0: it must not be root", owner);
            return -1;
        }
        if ((gr = getgrnam(group)) == NULL) {
            vstr_set_fmt(err, "setgid_group %s: no such group", group);
            return -1;
        }
        ms->mail_uid = pw->pw_uid;
        ms->mail_gid = pw->pw_gid;
        ms->setgid_gid = gr->gr_gid;
    }
    mem_free(ms->queue_dir);
    ms->queue_dir = mem_strdup(queue_dir);
    ms->throttle_max_ms = (long)config_time(cfg, "service_throttle_time") * 1000;
    ms->qmgr_nice_adjust = (int)config_int(cfg, "qmgr_nice_adjustment");
    return 0;
}

/* Fork twice, so that the daemon is no session leader and cannot get a
 * controlling terminal. The process that ran us waits on a pipe for the
 * daemon's word that start-up is done; returns the write end in the
 * daemon. */
static int daemonize(void)
{
    int ready[2];
    pid_t pid;
    char c;
    ssize_t n;

    if (pipe2(ready, O_CLOEXEC) < 0)
        msg_fatal("pipe: %s", strerror(errno));
    if ((pid = fork()) < 0)
        msg_fatal("fork: %s", strerror(errno));
    if (pid > 0) {
        close(ready[1]);
        do
            n = read(ready[0], &c, 1);
        while (n < 0 && errno == EINTR);
        (void)waitpid(pid, NULL, 0);
        /* The daemon has written its reason to our stderr if it failed. */
        _exit(n == 1 ? 0 : 1);
    }
    close(ready[0]);
    if (setsid() < 0)
        msg_fatal("setsid: %s", strerror(errno));
    if ((pid = fork()) < 0)
        msg_fatal("fork: %s", strerror(errno));
    if (pid > 0)
        _exit(0);
    return ready[1];
}

/* Start-up is done: tell the waiting parent and leave its terminal. */
static void detach(int ready_fd)
{
    int fd;

    if (write(ready_fd, "1", 1) != 1)
        msg_warn("cannot tell the starting process that start-up is done: %s", strerror(errno));
    close(ready_fd);
    if ((fd = open("/dev/null", O_RDWR)) < 0)
        msg_fatal("open /dev/null: %s", strerror(errno));
    for (int i = 0; i <= 2; i++)
        if (fd != i && dup2(fd, i) < 0)
            msg_fatal("dup2: %s", strerror(errno));
    if (fd > 2)
        close(fd);
    msg_use_stderr(0);
}

static void open_services(master_state *ms, const mastercf *mcf)
{
    vstr err = VSTR_INIT;
    master_serv *s;
    int64_t now = clock_mono_ms();

    if (master_servs_build(ms, mcf, &ms->servs, &err) < 0)
        fatal_lines(vstr_str(&err));
    for (s = ms->servs; s; s = s->next) {
        if (master_serv_listen(ms, s, &err) < 0)
            msg_fatal("service %s/%s: %s", s->name, s->type_name, vstr_str(&err));
        master_serv_pipes(s);
        /* Trigger services start at once (mail that waits in maildrop is
         * picked up), then at their interval. */
        if (s->wakeup && !s->wakeup_if_used)
            s->next_wakeup = now;
        else if (s->wakeup)
            s->next_wakeup = now + s->wakeup * 1000LL;
        if (access(s->program, X_OK) < 0)
            msg_warn("service %s/%s: %s: %s", s->name, s->type_name, s->program, strerror(errno));
    }
    vstr_release(&err);
}

static void reload(master_state *ms)
{
    vstr err = VSTR_INIT;
    config *cfg;
    mastercf *mcf;

    if ((cfg = config_load(ms->config_dir, &err)) == NULL) {
        log_errors("reload: ", vstr_str(&err));
        msg_warn("reload: keeping the running configuration");
        vstr_release(&err);
        return;
    }
    /* The typed getters are fatal on a bad value: check them all first,
     * so that a typo in main.cf cannot take master down. */
    if (config_validate(cfg, &err) > 0) {
        log_errors("reload: ", vstr_str(&err));
        msg_warn("reload: keeping the running configuration");
        config_free(cfg);
        vstr_release(&err);
        return;
    }
    if ((mcf = mastercf_load(ms->config_dir, &err)) == NULL) {
        log_errors("reload: ", vstr_str(&err));
        msg_warn("reload: keeping the running configuration");
        config_free(cfg);
        vstr_release(&err);
        return;
    }
    if (resolve_config(ms, cfg, &err) < 0) {
        log_errors("reload: ", vstr_str(&err));
        msg_warn("reload: keeping the running configuration");
        mastercf_free(mcf);
        config_free(cfg);
        vstr_release(&err);
        return;
    }
    config_free(ms->cfg);
    ms->cfg = cfg;
    master_import_environment(config_str(cfg, "import_environment"));
    read_main_cf_print(ms);
    master_servs_reload(ms, mcf);
    mastercf_free(mcf);
    msg_info("reload -- configuration %s", ms->config_dir);
    vstr_release(&err);
}

static int min_timeout(int a, int64_t b)
{
    if (b < 0)
        b = 0;
    if (b > INT_MAX)
        b = INT_MAX;
    return (a < 0 || b < a) ? (int)b : a;
}

static void begin_stop(master_state *ms, int sig)
{
    msg_info("terminating on signal %d", sig);
    ms->stopping = 1;
    for (master_serv *s = ms->servs; s; s = s->next)
        if (!s->retired)
            master_serv_retire(s, 1, 0);
    master_signal_children(ms, sig == SIGINT ? SIGKILL : SIGTERM);
}

__attribute__((noreturn)) static void run(master_state *ms, const char *pid_path, int pid_fd)
{
    struct pollfd *pfd = NULL;
    master_serv **pfd_serv = NULL;
    size_t cap = 0;
    int64_t stop_deadline = 0;

    for (;;) {
        int64_t now = clock_mono_ms();
        int timeout = -1;
        size_t n = 0, nserv = 0;

        master_servs_collect(ms);
        if (ms->stopping && ms->children == NULL) {
            master_pid_release(pid_path, pid_fd);
            msg_info("stopped");
            exit(0);
        }
        for (master_serv *s = ms->servs; s; s = s->next) {
            nserv++;
            if (s->retired || s->next_wakeup == 0)
                continue;
            if (now >= s->next_wakeup) {
                if (!s->wakeup_if_used || s->used)
                    master_wakeup(ms, s);
                s->next_wakeup = now + s->wakeup * 1000LL;
            }
            timeout = min_timeout(timeout, s->next_wakeup - now);
        }
        if (cap < 1 + 2 * nserv) {
            cap = 1 + 2 * nserv;
            pfd = mem_reallocarray(pfd, cap, sizeof(*pfd));
            pfd_serv = mem_reallocarray(pfd_serv, cap, sizeof(*pfd_serv));
        }
        pfd[n] = (struct pollfd){sig_pipe[0], POLLIN, 0};
        pfd_serv[n++] = NULL;
        for (master_serv *s = ms->servs; s; s = s->next) {
            if (s->status_rd >= 0) {
                pfd[n] = (struct pollfd){s->status_rd, POLLIN, 0};
                pfd_serv[n++] = s;
            }
            if (ms->stopping)
                continue;
            if (master_serv_may_spawn(s, now)) {
                pfd[n] = (struct pollfd){s->listen_fd, POLLIN, 0};
                pfd_serv[n++] = s;
            } else if (!s->retired && s->listen_fd >= 0 && now < s->throttle_until) {
                timeout = min_timeout(timeout, s->throttle_until - now);
            }
        }
        if (ms->stopping) {
            if (stop_deadline == 0)
                stop_deadline = now + MASTER_STOP_WAIT_MS;
            if (now >= stop_deadline) {
                msg_warn("children still running after %d s: killing them",
                         MASTER_STOP_WAIT_MS / 1000);
                master_signal_children(ms, SIGKILL);
                stop_deadline = now + MASTER_STOP_WAIT_MS;
            }
            timeout = min_timeout(timeout, stop_deadline - now);
        }

        if (poll(pfd, n, timeout) < 0) {
            if (errno == EINTR)
                continue;
            msg_fatal("poll: %s", strerror(errno));
        }
        /* Status before reaping, so that a child's last words count. */
        for (size_t i = 1; i < n; i++)
            if (pfd[i].revents && pfd[i].fd == pfd_serv[i]->status_rd)
                master_read_status(ms, pfd_serv[i]);
        if (pfd[0].revents) {
            unsigned char sigs[64];
            int got_chld = 0, got_hup = 0, got_term = 0;
            ssize_t k;

            while ((k = read(sig_pipe[0], sigs, sizeof(sigs))) > 0) {
                for (ssize_t i = 0; i < k; i++) {
                    if (sigs[i] == SIGCHLD)
                        got_chld = 1;
                    else if (sigs[i] == SIGHUP)
                        got_hup = 1;
                    else if (sigs[i] == SIGTERM && got_term != SIGINT)
                        got_term = SIGTERM;
                    else if (sigs[i] == SIGINT)
                        got_term = SIGINT;
                }
            }
            if (got_chld)
                master_reap(ms);
            if (got_term && !ms->stopping) {
                begin_stop(ms, got_term);
                continue;
            }
            if (got_term == SIGINT && ms->stopping)
                master_signal_children(ms, SIGKILL);
            if (got_hup && !ms->stopping)
                reload(ms);
            /* The service list may have changed: the poll set is stale. */
            if (got_hup)
                continue;
        }
        now = clock_mono_ms();
        for (size_t i = 1; i < n; i++) {
            master_serv *s = pfd_serv[i];

            if (pfd[i].revents && pfd[i].fd == s->listen_fd && master_serv_may_spawn(s, now))
                master_spawn(ms, s);
        }
    }
}

static void usage(void)
{
    msg_fatal("usage: master [-d] [-v] [-c DIR]");
}

int main(int argc, char **argv)
{
    master_state ms;
    const char *cmdline_dir = NULL;
    int foreground = 0, verbose = 0, ready_fd = -1, pid_fd;
    vstr err = VSTR_INIT, pid_path = VSTR_INIT;
    mastercf *mcf;
    pid_t holder;
    char *dir;
    int c;

    msg_init("master");
    umask(022);
    reserve_low_fds();
    while ((c = getopt(argc, argv, "c:dv")) != -1) {
        switch (c) {
        case 'c':
            cmdline_dir = optarg;
            break;
        case 'd':
            foreground = 1;
            break;
        case 'v':
            verbose++;
            break;
        default:
            usage();
        }
    }
    if (optind != argc)
        usage();
    msg_set_verbose(verbose);

    memset(&ms, 0, sizeof(ms));
    ms.privileged = geteuid() == 0;
    /* Children get the directory on their command line after master has
     * moved to the queue directory: it must be absolute. */
    if ((dir = realpath(config_directory(cmdline_dir), NULL)) == NULL)
        msg_fatal("configuration directory %s: %s", config_directory(cmdline_dir),
                  strerror(errno));
    ms.config_dir = mem_strdup(dir);
    free(dir);
    if ((ms.cfg = config_load(ms.config_dir, &err)) == NULL)
        fatal_lines(vstr_str(&err));
    if (config_validate(ms.cfg, &err) > 0)
        fatal_lines(vstr_str(&err));
    /* Children inherit only what import_environment names. */
    master_import_environment(config_str(ms.cfg, "import_environment"));
    if ((mcf = mastercf_load(ms.config_dir, &err)) == NULL)
        fatal_lines(vstr_str(&err));
    if (resolve_config(&ms, ms.cfg, &err) < 0)
        fatal_lines(vstr_str(&err));
    setup_logging(ms.cfg, foreground);
    read_main_cf_print(&ms);
    if (chdir(ms.queue_dir) < 0)
        msg_fatal("queue_directory %s: %s", ms.queue_dir, strerror(errno));

    if (!foreground)
        ready_fd = daemonize();
    /* The lock belongs to this process (fcntl locks do not survive fork),
     * so it is taken only now. */
    master_pid_path(ms.cfg, &pid_path);
    if ((pid_fd = master_pid_lock(vstr_str(&pid_path), &holder, &err)) < 0)
        fatal_lines(vstr_str(&err));
    setup_signals();
    open_services(&ms, mcf);
    mastercf_free(mcf);
    if (!foreground)
        detach(ready_fd);
    msg_info("daemon started -- configuration %s", ms.config_dir);
    vstr_release(&err);
    run(&ms, vstr_str(&pid_path), pid_fd);
}
