/*
 * pipe_command - run a delivery command: clean environment, given user, time limit
 *
 * The parent waits on two things at once: the output pipe and the child
 * itself (a pidfd), so that a command that exits while a background
 * process it started still holds the pipe is done when it exits, and a
 * command that closes its output but keeps running is still held to the
 * time limit. Where pidfd_open is missing the parent polls the child
 * every 50 ms instead.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "global/pipe_command.h"
#include "global/sys_exits.h"
#include "util/mem.h"

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* In the child: report and exit. Only async-signal-safe calls. */
static void child_fail(const char *what, int err, int status)
{
    char buf[256];
    int n = snprintf(buf, sizeof(buf), "%s: %s\n", what, strerror(err));

    if (n > 0)
        (void)!write(1, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
    _exit(status);
}

static void child(const pipe_command_req *req, int out_fd)
{
    char *argv[4];
    sigset_t none;

    /* Output first, so that every later failure can be reported. */
    if (dup2(out_fd, 1) < 0 || dup2(out_fd, 2) < 0)
        _exit(EX_OSERR);
    if (req->stdin_fd >= 0) {
        if (dup2(req->stdin_fd, 0) < 0)
            child_fail("dup2 stdin", errno, EX_OSERR);
        (void)lseek(0, 0, SEEK_SET);
    } else {
        int fd = open("/dev/null", O_RDONLY);

        if (fd < 0 || dup2(fd, 0) < 0)
            child_fail("open /dev/null", errno, EX_OSERR);
    }
    closefrom(3);
    (void)setsid();
    if (req->uid != PIPE_COMMAND_SAME_USER && geteuid() == 0) {
        if (setgroups(1, &req->gid) < 0 || setgid(req->gid) < 0)
            child_fail("set group id", errno, EX_TEMPFAIL);
        if (setuid(req->uid) < 0)
            child_fail("set user id", errno, EX_TEMPFAIL);
        if (req->uid != 0 && (setuid(0) == 0 || geteuid() == 0))
            child_fail("privileges not dropped", EPERM, EX_TEMPFAIL);
    }
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    for (int sig = 1; sig < NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP)
            (void)signal(sig, SIG_DFL);
    umask(077);
    if (req->cwd == NULL || chdir(req->cwd) < 0)
        (void)!chdir("/");
    argv[0] = (char *)req->shell;
    argv[1] = "-c";
    argv[2] = (char *)req->command;
    argv[3] = NULL;
    execve(req->shell, argv, req->env);
    child_fail(req->shell, errno, EX_OSERR);
}

static void keep_output(pipe_command_result *res, const char *buf, size_t n)
{
    size_t room = PIPE_COMMAND_OUTPUT_MAX - vstr_len(&res->output);

    vstr_append(&res->output, buf, n < room ? n : room);
}

void pipe_command_run(const pipe_command_req *req, pipe_command_result *res)
{
    long long deadline = now_ms() + req->time_limit * 1000;
    int out[2], pidfd, wstatus = 0, exited = 0, out_open = 1;
    pid_t pid;

    res->status = PIPE_COMMAND_ERROR;
    res->code = 0;
    vstr_init(&res->output);
    if (pipe2(out, O_CLOEXEC) < 0) {
        vstr_set_fmt(&res->output, "create pipe: %s", strerror(errno));
        return;
    }
    if ((pid = fork()) < 0) {
        vstr_set_fmt(&res->output, "fork: %s", strerror(errno));
        close(out[0]);
        close(out[1]);
        return;
    }
    if (pid == 0) {
        close(out[0]);
        child(req, out[1]);
    }
    close(out[1]);
    (void)fcntl(out[0], F_SETFL, O_NONBLOCK);
    pidfd = pidfd_open(pid, 0);
    while (!exited) {
        struct pollfd fds[2];
        long long left = deadline - now_ms();
        int nfds = 0, timeout;
        char buf[4096];

        if (left <= 0)
            break;
        timeout = left > 60000 ? 60000 : (int)left;
        if (out_open)
            fds[nfds++] = (struct pollfd){.fd = out[0], .events = POLLIN};
        if (pidfd >= 0)
            fds[nfds++] = (struct pollfd){.fd = pidfd, .events = POLLIN};
        else if (timeout > 50)
            timeout = 50;
        if (nfds > 0 && poll(fds, (nfds_t)nfds, timeout) < 0 && errno != EINTR)
            break;
        if (nfds == 0)
            (void)poll(NULL, 0, timeout);
        if (out_open) {
            ssize_t n;

            while ((n = read(out[0], buf, sizeof(buf))) > 0)
                keep_output(res, buf, (size_t)n);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
                out_open = 0;
        }
        if (waitpid(pid, &wstatus, WNOHANG) == pid)
            exited = 1;
    }
    if (!exited) {
        (void)kill(-pid, SIGKILL);
        (void)kill(pid, SIGKILL);
        while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR)
            ;
        res->status = PIPE_COMMAND_TIMEOUT;
    } else if (WIFEXITED(wstatus)) {
        res->status = PIPE_COMMAND_EXITED;
        res->code = WEXITSTATUS(wstatus);
    } else {
        res->status = PIPE_COMMAND_SIGNALED;
        res->code = WIFSIGNALED(wstatus) ? WTERMSIG(wstatus) : 0;
    }
    /* What the command wrote just before it exited. */
    if (out_open) {
        char buf[4096];
        ssize_t n;

        while ((n = read(out[0], buf, sizeof(buf))) > 0)
            keep_output(res, buf, (size_t)n);
    }
    if (pidfd >= 0)
        close(pidfd);
    close(out[0]);
}

/* Output as one printable line. */
static void append_output(vstr *reason, const vstr *output)
{
    size_t len = vstr_len(output);
    const char *p = vstr_str(output);

    while (len > 0 && (p[len - 1] == '\n' || p[len - 1] == ' '))
        len--;
    if (len == 0)
        return;
    vstr_append_str(reason, ". Command output: ");
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)p[i];

        vstr_append_char(reason, c == '\n' ? ' ' : (c < 0x20 || c == 0x7f) ? '?' : c);
    }
}

void pipe_command_verdict(const pipe_command_req *req, const pipe_command_result *res, vstr *dsn,
                          vstr *reason)
{
    const sys_exit_info *e;

    switch (res->status) {
    case PIPE_COMMAND_EXITED:
        if (res->code == 0) {
            vstr_set_str(dsn, "2.0.0");
            vstr_set_fmt(reason, "delivered to command: %s", req->command);
            return;
        }
        e = sys_exit_lookup(res->code);
        vstr_set_str(dsn, e ? e->dsn : "5.3.0");
        vstr_set_fmt(reason, "Command died with status %d: \"%s\"", res->code, req->command);
        break;
    case PIPE_COMMAND_SIGNALED:
        vstr_set_str(dsn, "4.3.0");
        vstr_set_fmt(reason, "Command died with signal %d: \"%s\"", res->code, req->command);
        break;
    case PIPE_COMMAND_TIMEOUT:
        vstr_set_str(dsn, "5.3.0");
        vstr_set_fmt(reason, "Command time limit exceeded: \"%s\"", req->command);
        break;
    case PIPE_COMMAND_ERROR:
    default:
        vstr_set_str(dsn, "4.3.0");
        vstr_set_fmt(reason, "cannot run command \"%s\": %s", req->command,
                     vstr_str(&res->output));
        return;
    }
    append_output(reason, &res->output);
}

void pipe_command_result_free(pipe_command_result *res)
{
    vstr_release(&res->output);
}
