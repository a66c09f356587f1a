/*
 * master_spawn - children: fork and exec, status messages, reaping, wakeups
 *
 * DESCRIPTION
 *   A new child counts as idle until it says it is busy: otherwise the
 *   listening socket, still readable until the child accepts, would make
 *   master fork again and again for one client.
 *
 *   Exits are logged the way Postfix logs them, because log watchers know
 *   those lines: "process PATH pid N killed by signal S" and "process PATH
 *   pid N exit status S". A failure throttles the service for the
 *   back-off that master_backoff_next computes; a trigger service (one
 *   with a wakeup) is then woken, which starts it again.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "global/master_proto.h"
#include "master/master.h"
#include "util/clock.h"
#include "util/mem.h"
#include "util/msg.h"

int master_serv_may_spawn(const master_serv *s, int64_t now)
{
    return !s->retired && s->listen_fd >= 0 && s->avail == 0 &&
           (s->maxproc == 0 || s->total < s->maxproc) && now >= s->throttle_until;
}

static void throttle(master_serv *s, long ms)
{
    s->backoff_ms = ms;
    s->throttle_until = clock_mono_ms() + ms;
}

/* In the child: its own scheduling priority, when its service has an
 * adjustment (the queue manager). Only this process changes, and only
 * towards a better priority than master's; a failure is logged and the
 * child runs at master's. */
static void child_priority(const master_serv *s)
{
    int now, want;

    if (s->nice_adjust >= 0)
        return;
    errno = 0;
    now = getpriority(PRIO_PROCESS, 0);
    if (now == -1 && errno != 0)
        return;
    want = master_child_nice(now, s->nice_adjust);
    if (want != now && setpriority(PRIO_PROCESS, 0, want) < 0)
        msg_warn("service %s: set nice value %d: %s", s->name, want, strerror(errno));
}

/* In the child, between fork and exec. */
__attribute__((noreturn)) static void exec_child(master_serv *s)
{
    sigset_t none;

    /* Handlers are reset by exec; the mask and ignored signals are not. */
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    signal(SIGCHLD, SIG_DFL);
    /* Every descriptor master owns is above 5 and close-on-exec (master.c
     * keeps 0-5 taken), so these cannot clobber one another; dup2 clears
     * close-on-exec on the copies. */
    if (dup2(s->listen_fd, MASTER_LISTEN_FD) < 0 || dup2(s->status_wr, MASTER_STATUS_FD) < 0 ||
        dup2(s->lifeline_rd, MASTER_LIFELINE_FD) < 0) {
        msg_error("service %s: dup2: %s", s->name, strerror(errno));
        _exit(1);
    }
    child_priority(s);
    execv(s->program, s->exec_argv->argv);
    msg_error("cannot execute %s: %s", s->program, strerror(errno));
    /* _exit: no atexit handlers or stdio buffers of master's in the child. */
    _exit(1);
}

void master_spawn(master_state *ms, master_serv *s)
{
    master_child *c;
    pid_t pid;

    if (access(s->program, X_OK) < 0) {
        msg_warn("service %s/%s: %s: %s; not started (retry in %ld s)", s->name, s->type_name,
                 s->program, strerror(errno), ms->throttle_max_ms / 1000);
        throttle(s, ms->throttle_max_ms);
        return;
    }
    if ((pid = fork()) < 0) {
        msg_warn("fork: %s", strerror(errno));
        throttle(s, MASTER_BACKOFF_MIN_MS);
        return;
    }
    if (pid == 0)
        exec_child(s);
    c = mem_calloc(1, sizeof(*c));
    c->pid = pid;
    c->serv = s;
    c->started_ms = clock_mono_ms();
    c->next = ms->children;
    ms->children = c;
    s->total++;
    s->avail++;
    msg_debug("service %s/%s: started %s pid %ld", s->name, s->type_name, s->program, (long)pid);
}

static master_child *child_unlink(master_state *ms, pid_t pid)
{
    for (master_child **pp = &ms->children; *pp; pp = &(*pp)->next) {
        if ((*pp)->pid == pid) {
            master_child *c = *pp;

            *pp = c->next;
            return c;
        }
    }
    return NULL;
}

void master_reap(master_state *ms)
{
    int status;
    pid_t pid;

    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        master_child *c = child_unlink(ms, pid);
        master_serv *s;
        master_exit_kind how = MASTER_EXIT_OK;
        int64_t now = clock_mono_ms();
        long backoff;
        int bad_start;

        if (c == NULL)
            continue; /* not ours (a process master made before it daemonized) */
        s = c->serv;
        s->total--;
        if (!c->busy)
            s->avail--;
        if (WIFSIGNALED(status)) {
            how = MASTER_EXIT_SIGNAL;
            /* When stopping, the SIGTERM and SIGKILL were master's own. */
            if (!ms->stopping || (WTERMSIG(status) != SIGTERM && WTERMSIG(status) != SIGKILL))
                msg_warn("process %s pid %ld killed by signal %d", s->program, (long)pid,
                         WTERMSIG(status));
        } else if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
            how = MASTER_EXIT_STATUS;
            msg_warn("process %s pid %ld exit status %d", s->program, (long)pid,
                     WEXITSTATUS(status));
        }
        if (!s->retired && !ms->stopping) {
            bad_start = !c->served && now - c->started_ms < MASTER_BAD_START_MS;
            backoff = master_backoff_next(s->backoff_ms, how, bad_start, ms->throttle_max_ms);
            s->backoff_ms = backoff;
            if (backoff > 0) {
                s->throttle_until = now + backoff;
                msg_warn("%s: %s -- throttling for %ld s", s->program,
                         bad_start ? "bad command startup" : "abnormal exit", backoff / 1000);
            }
            /* A trigger service that failed starts again after its
             * back-off rather than at the next periodic wakeup. */
            if (how != MASTER_EXIT_OK && s->wakeup && s->total == 0)
                s->next_wakeup = backoff > 0 ? s->throttle_until : now;
        }
        mem_free(c);
    }
}

void master_read_status(master_state *ms, master_serv *s)
{
    master_status buf[64];
    ssize_t n;

    while ((n = read(s->status_rd, buf, sizeof(buf))) > 0) {
        /* Each message was one write of under PIPE_BUF bytes: whole. */
        for (size_t i = 0; i < (size_t)n / sizeof(buf[0]); i++) {
            master_child *c;

            for (c = ms->children; c && c->pid != buf[i].pid; c = c->next)
                ;
            if (c == NULL || c->serv != s)
                continue; /* already reaped, or a child lying about its pid */
            if (buf[i].status == MASTER_STAT_BUSY && !c->busy) {
                c->busy = 1;
                c->served = 1;
                s->avail--;
                s->used = 1;
            } else if (buf[i].status == MASTER_STAT_IDLE && c->busy) {
                c->busy = 0;
                s->avail++;
            }
        }
    }
    if (n < 0 && errno != EAGAIN && errno != EINTR)
        msg_warn("service %s: status pipe: %s", s->name, strerror(errno));
}

void master_wakeup(master_state *ms, master_serv *s)
{
    struct sockaddr_un sun;
    static const char wakeup = TRIGGER_WAKEUP;
    int fd;

    (void)ms;
    if (s->unix_path == NULL || strlen(s->unix_path) >= sizeof(sun.sun_path))
        return;
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    memcpy(sun.sun_path, s->unix_path, strlen(s->unix_path));
    /* Non-blocking throughout: master never waits on its own socket. A
     * full backlog (EAGAIN) means triggers are pending anyway. */
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0) {
        msg_warn("wakeup %s: socket: %s", s->name, strerror(errno));
        return;
    }
    if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
        if (errno != EAGAIN)
            msg_warn("wakeup %s: connect %s: %s", s->name, s->unix_path, strerror(errno));
    } else if (send(fd, &wakeup, 1, MSG_NOSIGNAL | MSG_DONTWAIT) != 1) {
        msg_warn("wakeup %s: write: %s", s->name, strerror(errno));
    }
    close(fd);
}

void master_signal_children(master_state *ms, int sig)
{
    for (master_child *c = ms->children; c; c = c->next)
        if (kill(c->pid, sig) < 0 && errno != ESRCH)
            msg_warn("kill %ld: %s", (long)c->pid, strerror(errno));
}
