/*
 * NAME
 *   postqueue - list the mail queue, or ask qmgr to retry deferred mail
 *
 * SYNOPSIS
 *   postqueue [-v] [-c DIR] -p | -j | -f | -s SITE | -i ID
 *
 * DESCRIPTION
 *   The user's view of the queue, as in Postfix:
 *
 *   -p  the listing of mailq and sendmail -bp (global/queue_list);
 *   -j  the same messages as JSON, one object per line;
 *   -f  flush: the TRIGGER_FLUSH byte to public/qmgr, as postern flush
 *       and sendmail -q send it;
 *   -s  flush one site: the request "S" SITE LF to public/qmgr; qmgr
 *       retries the deferred messages with a recipient in that domain;
 *   -i  flush one message: "I" ID LF; qmgr retries deferred/ID.
 *
 *   Listing needs authorized_mailq_users, flushing authorized_flush_users
 *   (root is always allowed); the user lists are global/user_acl's and
 *   are checked against the real uid before anything else is done.
 *
 *   A caller who can read the queue directories (root, mail_owner, the
 *   owner of an unprivileged instance: access(2) with the real ids) gets
 *   the listing read directly, so it works with the mail system down.
 *   Anyone else asks the showq service on public/showq (showq/showq.c),
 *   which runs as mail_owner, and copies its reply to standard output.
 *   The flush requests go through public/, like every trigger, and ask
 *   qmgr to act: postqueue itself changes nothing in the queue.
 *
 *   Installed set-gid setgid_group (to enter public/), postqueue is
 *   hardened like postdrop (global/setgid_guard): no environment kept,
 *   descriptors 0-2 open and the others closed, and another configuration
 *   directory (-c, MAIL_CONFIG) only from root or when the default main.cf
 *   lists it in alternate_config_directories.
 *
 * DIAGNOSTICS
 *   sysexits.h exit codes with a one-line reason on stderr: EX_USAGE for
 *   a bad command line, EX_NOPERM for a user not on the list or an
 *   untrusted configuration directory, EX_CONFIG for a bad main.cf,
 *   EX_UNAVAILABLE when qmgr (flush) or showq (a listing the caller cannot
 *   read itself) cannot be reached: the mail system is down.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sysexits.h>
#include <unistd.h>

#include "global/cmd_param.h"
#include "global/config.h"
#include "global/master_proto.h"
#include "global/queue_id.h"
#include "global/queue_list.h"
#include "global/setgid_guard.h"
#include "global/trigger.h"
#include "util/msg.h"
#include "util/sock.h"
#include "util/vstream.h"

/* How long a flush request waits for qmgr to take it. */
#define POSTQUEUE_TRIGGER_TIMEOUT_MS 10000
/* How long to wait for showq to accept the connection, and for each read
 * of its reply. */
#define POSTQUEUE_SHOWQ_CONNECT_MS 10000
#define POSTQUEUE_SHOWQ_READ_MS 60000
/* The listing service in public/. */
#define POSTQUEUE_SHOWQ_SERVICE "showq"

typedef struct postqueue_args {
    int mode;        /* one of the option letters p, j, f, s, i */
    const char *arg; /* -s SITE, -i ID */
} postqueue_args;

__attribute__((noreturn)) static void usage(void)
{
    msg_fatal_status(EX_USAGE, "usage: postqueue [-v] [-c config_dir] -p | -j | -f | -s site | "
                               "-i queue_id");
}

/* Can the real user read every queue directory a listing reads? A
 * missing directory counts as readable (it lists as empty). */
static int queue_readable(const char *queue_dir)
{
    static const char *const dirs[] = {"maildrop", "incoming", "active", "deferred", "hold"};
    vstr path = VSTR_INIT;
    int ok = 1;

    for (size_t i = 0; ok && i < sizeof(dirs) / sizeof(dirs[0]); i++) {
        vstr_set_fmt(&path, "%s/%s", queue_dir, dirs[i]);
        ok = access(vstr_str(&path), R_OK | X_OK) == 0 || errno == ENOENT;
    }
    vstr_release(&path);
    return ok;
}

/* Ask showq for the listing (request "p" or "j" LF) and copy its reply to
 * out. 0, or -1 with a reason in err. */
static int list_via_showq(const char *queue_dir, int mode, vstream *out, vstr *err)
{
    char request[2] = {(char)mode, '\n'}, buf[8192];
    vstr path = VSTR_INIT;
    vstream *s;
    ssize_t n;
    int fd;

    vstr_set_fmt(&path, "%s/%s/%s", queue_dir, MASTER_PUBLIC_DIR, POSTQUEUE_SHOWQ_SERVICE);
    fd = sock_connect_unix(vstr_str(&path), POSTQUEUE_SHOWQ_CONNECT_MS, err);
    vstr_release(&path);
    if (fd < 0)
        return -1;
    if (send(fd, request, sizeof(request), MSG_NOSIGNAL) != (ssize_t)sizeof(request)) {
        vstr_set_fmt(err, "send a request to showq: %s", strerror(errno));
        (void)close(fd);
        return -1;
    }
    s = vstream_fdopen(fd, VSTREAM_READ);
    vstream_set_timeout(s, POSTQUEUE_SHOWQ_READ_MS);
    while ((n = vstream_read_some(s, buf, sizeof(buf))) > 0)
        (void)vstream_write(out, buf, (size_t)n);
    if (n < 0)
        vstr_set_fmt(err, "read the reply of showq: %s",
                     vstream_timed_out(s) ? "timeout" : strerror(vstream_errno(s)));
    (void)vstream_close(s);
    return n < 0 ? -1 : 0;
}

/* -p, -j */
static int list(config *cfg, const postqueue_args *a)
{
    vstream *out = vstream_fdopen(1, VSTREAM_WRITE);
    vstr err = VSTR_INIT;
    const char *queue_dir;
    int ret;

    cmd_param_permit(cfg, "authorized_mailq_users", "view the mail queue");
    queue_dir = cmd_param_str(cfg, "queue_directory");
    if (queue_readable(queue_dir))
        ret = a->mode == 'j' ? queue_list_print_json(queue_dir, out, &err)
                             : queue_list_print(queue_dir, out, &err);
    else
        ret = list_via_showq(queue_dir, a->mode, out, &err);
    if (ret < 0)
        msg_fatal_status(EX_UNAVAILABLE, "cannot list the queue (is the mail system down?): %s",
                         vstr_str(&err));
    if (vstream_release(out) < 0)
        msg_fatal_status(EX_IOERR, "write standard output: %s", strerror(errno));
    vstr_release(&err);
    return 0;
}

/* -f, -s, -i */
static int flush(config *cfg, const postqueue_args *a)
{
    vstr err = VSTR_INIT, site = VSTR_INIT;
    const char *queue_dir;
    int ret;

    cmd_param_permit(cfg, "authorized_flush_users", "flush the mail queue");
    queue_dir = cmd_param_str(cfg, "queue_directory");
    if (a->mode == 'f') {
        ret = trigger_send(queue_dir, "qmgr", TRIGGER_FLUSH, POSTQUEUE_TRIGGER_TIMEOUT_MS, &err);
    } else if (a->mode == 's') {
        /* Domains compare without case: qmgr gets the lower-case form. */
        vstr_set_str(&site, a->arg);
        vstr_lower(&site);
        ret = trigger_send_arg(queue_dir, "qmgr", TRIGGER_FLUSH_SITE, vstr_str(&site),
                               POSTQUEUE_TRIGGER_TIMEOUT_MS, &err);
    } else {
        ret = trigger_send_arg(queue_dir, "qmgr", TRIGGER_FLUSH_ID, a->arg,
                               POSTQUEUE_TRIGGER_TIMEOUT_MS, &err);
    }
    if (ret < 0)
        msg_fatal_status(EX_UNAVAILABLE, "cannot flush the queue (is the mail system down?): %s",
                         vstr_str(&err));
    vstr_release(&site);
    vstr_release(&err);
    return 0;
}

/* Check the argument of -s and -i before anything is sent. */
static void check_arg(const postqueue_args *a)
{
    if (a->mode == 'i' && !queue_id_valid(a->arg))
        msg_fatal_status(EX_USAGE, "invalid queue id: %s", a->arg);
    if (a->mode == 's') {
        size_t len = strlen(a->arg);

        if (len == 0 || len > TRIGGER_ARG_MAX || strpbrk(a->arg, " \t\r\n@") != NULL)
            msg_fatal_status(EX_USAGE, "invalid site name: %s", a->arg);
        for (const unsigned char *p = (const unsigned char *)a->arg; *p; p++)
            if (*p < 0x20 || *p == 0x7f)
                msg_fatal_status(EX_USAGE, "invalid site name: control character");
    }
}

/* The parsed main.cf, at file scope so that a fatal exit (which skips
 * config_free) leaves it reachable for a sanitizer's leak check. */
static config *cfg;

int main(int argc, char **argv)
{
    postqueue_args a = {0, NULL};
    vstr err = VSTR_INIT, dir = VSTR_INIT;
    int ch, st, privileged;

    /* Keep nothing of the caller's environment but MAIL_CONFIG, checked below. */
    privileged = setgid_guard_start(&dir);
    msg_init("postqueue");
    signal(SIGPIPE, SIG_IGN);
    while ((ch = getopt(argc, argv, "c:pjfs:i:v")) != -1) {
        switch (ch) {
        case 'c':
            vstr_set_str(&dir, optarg);
            break;
        case 'p':
        case 'j':
        case 'f':
        case 's':
        case 'i':
            if (a.mode != 0 && a.mode != ch)
                msg_fatal_status(EX_USAGE, "specify only one of -p, -j, -f, -s or -i");
            a.mode = ch;
            a.arg = optarg;
            break;
        case 'v':
            msg_set_verbose(msg_verbose_level() + 1);
            break;
        default:
            usage();
        }
    }
    if (a.mode == 0 || optind != argc)
        usage();
    check_arg(&a);
    if (privileged && !setgid_guard_config_dir_trusted(vstr_str(&dir), &err))
        msg_fatal_status(EX_NOPERM, "untrusted configuration directory: %s", vstr_str(&err));
    if ((cfg = config_load(vstr_str(&dir), &err)) == NULL)
        msg_fatal_status(EX_CONFIG, "%s", vstr_str(&err));
    msg_set_syslog_name(cmd_param_str(cfg, "syslog_name"));
    if (*cmd_param_str(cfg, "maillog_file"))
        (void)msg_use_file(cmd_param_str(cfg, "maillog_file"));
    st = a.mode == 'p' || a.mode == 'j' ? list(cfg, &a) : flush(cfg, &a);
    config_free(cfg);
    vstr_release(&err);
    vstr_release(&dir);
    return st;
}
