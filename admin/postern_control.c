/*
 * postern_control - postern start | stop | abort | reload | status | flush
 *
 * SYNOPSIS
 *   postern -c DIR start
 *   postern -c DIR stop | abort | reload | status | flush
 *
 * DESCRIPTION
 *   Whether an instance runs is decided by the fcntl lock master holds on
 *   its pid file (global/master_pid), never by the file's existence, so a
 *   crashed master leaves nothing to clean up.
 *
 *   start runs the checks of postern check (quietly when all is well),
 *   refuses when master already runs, and starts daemon_directory/master.
 *   master itself returns only when it holds the lock and listens on every
 *   socket, or has printed why it could not; start then also waits, up to
 *   a deadline, until the lock is held and every unix service's socket
 *   exists.
 *
 *   stop sends SIGTERM and waits until master has released the lock, which
 *   it does last, after its children are gone. abort sends SIGINT (master
 *   kills its children with SIGKILL) and, if master is still there after
 *   a few seconds, kills master itself. reload sends SIGHUP. flush writes
 *   the flush trigger to public/qmgr.
 *
 * DIAGNOSTICS
 *   Exit status 0 on success, 1 with a "postern: error: ..." line on
 *   stderr otherwise, 2 for a usage mistake. status exits 1 when the
 *   instance is not running.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "admin/postern_control.h"
#include "global/master_pid.h"
#include "global/master_proto.h"
#include "global/mastercf.h"
#include "global/trigger.h"
#include "util/clock.h"
#include "util/msg.h"

/* How long start waits for master's sockets, and stop for master to go. */
#define CONTROL_START_WAIT_MS 30000
#define CONTROL_STOP_WAIT_MS 60000
#define CONTROL_ABORT_WAIT_MS 5000
#define CONTROL_POLL_MS 20

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* The instance's configuration and pid file path; NULL after reporting. */
static config *load(const postern_opts *opts, vstr *pid_path)
{
    vstr err = VSTR_INIT;
    config *cfg = config_load(opts->config_dir, &err);

    if (cfg == NULL)
        msg_error("%s", vstr_str(&err));
    else
        master_pid_path(cfg, pid_path);
    vstr_release(&err);
    return cfg;
}

/* master's pid, 0 when not running; -1 after reporting a problem. */
static pid_t running(const char *pid_path)
{
    pid_t pid = master_pid_running(pid_path);

    if (pid < 0)
        msg_error("cannot read %s: %s", pid_path, strerror(errno));
    return pid;
}

static int no_args(int argc, const char *verb)
{
    if (argc > 1) {
        postern_usage_verb(verb);
        return 0;
    }
    return 1;
}

/* Is pid gone (or a zombie, which does nothing more)? */
static int process_gone(pid_t pid)
{
    char path[64], buf[512], *paren;
    ssize_t n;
    int fd;

    if (kill(pid, 0) < 0 && errno == ESRCH)
        return 1;
    snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return errno == ENOENT;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = 0;
    /* "pid (comm) S ...": the state follows the last ')'. */
    paren = strrchr(buf, ')');
    return paren && paren[1] == ' ' && paren[2] == 'Z';
}

/* Wait until master pid has released the lock on pid_path and exited (it
 * releases the lock after its children are gone, then exits); 1 when it
 * has, 0 at the deadline. */
static int wait_gone(const char *pid_path, pid_t pid, int wait_ms)
{
    int64_t deadline = clock_mono_ms() + wait_ms;

    while (master_pid_running(pid_path) > 0 || !process_gone(pid)) {
        if (clock_mono_ms() >= deadline)
            return 0;
        sleep_ms(CONTROL_POLL_MS);
    }
    return 1;
}

/* postern check, without its "configuration OK" when all is well. */
static int quiet_check(const postern_opts *opts)
{
    static char verb[] = "check";
    char *argv[] = {verb, NULL};
    int saved, devnull, status;

    fflush(stdout);
    saved = dup(1);
    devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (saved >= 0 && devnull >= 0)
        dup2(devnull, 1);
    status = postern_check(opts, 1, argv);
    fflush(stdout);
    if (saved >= 0) {
        dup2(saved, 1);
        close(saved);
    }
    if (devnull >= 0)
        close(devnull);
    return status;
}

/* The sockets of master.cf's unix services, which master makes at start
 * (its own word that start-up is done already means they exist; this
 * checks what the administrator will look for). */
static argv_t *unix_sockets(config *cfg, const char *dir)
{
    argv_t *paths = argv_new();
    const char *queue_dir = config_str(cfg, "queue_directory");
    const char *disabled = config_str(cfg, "master_service_disable");
    vstr err = VSTR_INIT, path = VSTR_INIT;
    mastercf *mcf = mastercf_load(dir, &err);

    for (size_t i = 0; mcf && i < mcf->count; i++) {
        const mastercf_service *s = mcf->services[i];

        if (s->type != MASTERCF_UNIX || master_service_disabled(disabled, s->name, s->type_name))
            continue;
        vstr_set_fmt(&path, "%s/%s/%s", queue_dir,
                     s->is_private ? MASTER_PRIVATE_DIR : MASTER_PUBLIC_DIR, s->name);
        argv_add(paths, vstr_str(&path));
    }
    if (mcf)
        mastercf_free(mcf);
    vstr_release(&err);
    vstr_release(&path);
    return paths;
}

static int is_socket(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 && S_ISSOCK(st.st_mode);
}

int postern_start(const postern_opts *opts, int argc, char **argv)
{
    vstr pid_path = VSTR_INIT, master = VSTR_INIT;
    config *cfg;
    argv_t *sockets;
    pid_t pid;
    int status, result = 1;
    int64_t deadline;

    (void)argv;
    if (!no_args(argc, "start"))
        return POSTERN_EXIT_USAGE;
    if ((cfg = load(opts, &pid_path)) == NULL)
        return 1;
    if ((pid = running(vstr_str(&pid_path))) != 0) {
        if (pid > 0)
            msg_error("the Postern mail system is already running (PID %ld)", (long)pid);
        goto out;
    }
    if (quiet_check(opts) != 0) {
        msg_error("not starting: fix the problems above first (postern check)");
        goto out;
    }
    vstr_set_fmt(&master, "%s/master", config_str(cfg, "daemon_directory"));
    if (access(vstr_str(&master), X_OK) < 0) {
        msg_error("cannot run %s: %s", vstr_str(&master), strerror(errno));
        goto out;
    }
    msg_info("starting the Postern mail system");
    fflush(stdout);
    fflush(stderr);
    if ((pid = fork()) < 0) {
        msg_error("fork: %s", strerror(errno));
        goto out;
    }
    if (pid == 0) {
        execl(vstr_str(&master), vstr_str(&master), "-c", opts->config_dir, (char *)NULL);
        msg_error("cannot run %s: %s", vstr_str(&master), strerror(errno));
        _exit(1);
    }
    /* master's first process exits when the daemon is ready, or failed
     * (having said why on our shared stderr). */
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            msg_error("waitpid: %s", strerror(errno));
            goto out;
        }
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        msg_error("the Postern mail system did not start");
        goto out;
    }
    sockets = unix_sockets(cfg, opts->config_dir);
    deadline = clock_mono_ms() + CONTROL_START_WAIT_MS;
    for (;;) {
        size_t missing = 0;

        pid = master_pid_running(vstr_str(&pid_path));
        for (size_t i = 0; i < sockets->argc; i++)
            if (!is_socket(sockets->argv[i]))
                missing++;
        if (pid > 0 && missing == 0) {
            result = 0;
            break;
        }
        if (clock_mono_ms() >= deadline) {
            if (pid <= 0)
                msg_error("master did not take its lock %s within %d s; see the mail log",
                          vstr_str(&pid_path), CONTROL_START_WAIT_MS / 1000);
            else
                msg_error("master (PID %ld) runs but %zu service socket(s) are missing; "
                          "see the mail log",
                          (long)pid, missing);
            break;
        }
        sleep_ms(CONTROL_POLL_MS);
    }
    argv_free(sockets);
out:
    config_free(cfg);
    vstr_release(&pid_path);
    vstr_release(&master);
    return result;
}

/* Send sig to the running master; its pid, or 0 after reporting. */
static pid_t signal_master(const char *pid_path, int sig)
{
    pid_t pid = running(pid_path);

    if (pid == 0)
        msg_error("the Postern mail system is not running");
    if (pid <= 0)
        return 0;
    if (kill(pid, sig) < 0) {
        msg_error("cannot signal master (PID %ld): %s", (long)pid, strerror(errno));
        return 0;
    }
    return pid;
}

int postern_stop(const postern_opts *opts, int argc, char **argv)
{
    vstr pid_path = VSTR_INIT;
    config *cfg;
    pid_t pid;
    int result = 1;

    (void)argv;
    if (!no_args(argc, "stop"))
        return POSTERN_EXIT_USAGE;
    if ((cfg = load(opts, &pid_path)) == NULL)
        return 1;
    if ((pid = signal_master(vstr_str(&pid_path), SIGTERM)) > 0) {
        msg_info("stopping the Postern mail system");
        if (wait_gone(vstr_str(&pid_path), pid, CONTROL_STOP_WAIT_MS))
            result = 0;
        else
            msg_error("master (PID %ld) has not stopped after %d s", (long)pid,
                      CONTROL_STOP_WAIT_MS / 1000);
    }
    config_free(cfg);
    vstr_release(&pid_path);
    return result;
}

int postern_abort(const postern_opts *opts, int argc, char **argv)
{
    vstr pid_path = VSTR_INIT;
    config *cfg;
    pid_t pid;
    int result = 1;

    (void)argv;
    if (!no_args(argc, "abort"))
        return POSTERN_EXIT_USAGE;
    if ((cfg = load(opts, &pid_path)) == NULL)
        return 1;
    if ((pid = signal_master(vstr_str(&pid_path), SIGINT)) > 0) {
        msg_info("aborting the Postern mail system");
        if (!wait_gone(vstr_str(&pid_path), pid, CONTROL_ABORT_WAIT_MS)) {
            /* Its children see their lifeline break and exit. */
            msg_warn("master (PID %ld) did not stop: killing it", (long)pid);
            (void)kill(pid, SIGKILL);
        }
        if (wait_gone(vstr_str(&pid_path), pid, CONTROL_ABORT_WAIT_MS))
            result = 0;
        else
            msg_error("master (PID %ld) is still running", (long)pid);
    }
    config_free(cfg);
    vstr_release(&pid_path);
    return result;
}

int postern_reload(const postern_opts *opts, int argc, char **argv)
{
    vstr pid_path = VSTR_INIT;
    config *cfg;
    int result = 1;

    (void)argv;
    if (!no_args(argc, "reload"))
        return POSTERN_EXIT_USAGE;
    if ((cfg = load(opts, &pid_path)) == NULL)
        return 1;
    if (signal_master(vstr_str(&pid_path), SIGHUP) > 0) {
        msg_info("refreshing the Postern mail system");
        result = 0;
    }
    config_free(cfg);
    vstr_release(&pid_path);
    return result;
}

int postern_status(const postern_opts *opts, int argc, char **argv)
{
    vstr pid_path = VSTR_INIT;
    config *cfg;
    pid_t pid;

    (void)argv;
    if (!no_args(argc, "status"))
        return POSTERN_EXIT_USAGE;
    if ((cfg = load(opts, &pid_path)) == NULL)
        return 1;
    pid = running(vstr_str(&pid_path));
    if (pid > 0)
        printf("postern/postern: the Postern mail system is running: PID: %ld\n", (long)pid);
    else if (pid == 0)
        fprintf(stderr, "postern/postern: the Postern mail system is not running\n");
    config_free(cfg);
    vstr_release(&pid_path);
    return pid > 0 ? 0 : 1;
}

int postern_flush(const postern_opts *opts, int argc, char **argv)
{
    vstr pid_path = VSTR_INIT, err = VSTR_INIT;
    config *cfg;
    int result = 1;

    (void)argv;
    if (!no_args(argc, "flush"))
        return POSTERN_EXIT_USAGE;
    if ((cfg = load(opts, &pid_path)) == NULL)
        return 1;
    if (running(vstr_str(&pid_path)) == 0) {
        msg_error("the Postern mail system is not running");
        goto out;
    }
    if (trigger_send(config_str(cfg, "queue_directory"), "qmgr", TRIGGER_FLUSH, 10000, &err) < 0)
        msg_error("cannot flush the queue: %s", vstr_str(&err));
    else
        result = 0;
out:
    config_free(cfg);
    vstr_release(&pid_path);
    vstr_release(&err);
    return result;
}
