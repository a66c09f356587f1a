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
 *   (root is always allowed); the user lists are global/user_acl's.
 *   The queue is read directly, so a listing also needs read access to
 *   the queue directories: the instance's own user, mail_owner or root.
 *   The flush requests go through public/, like every trigger, and ask
 *   qmgr to act: postqueue itself changes nothing in the queue.
 *
 * DIAGNOSTICS
 *   sysexits.h exit codes with a one-line reason on stderr: EX_USAGE for
 *   a bad command line, EX_NOPERM for a user not on the list (or without
 *   access to the queue), EX_CONFIG for a bad main.cf, EX_UNAVAILABLE
 *   when qmgr cannot be reached (the mail system is down).
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "global/cmd_param.h"
#include "global/config.h"
#include "global/master_proto.h"
#include "global/queue_id.h"
#include "global/queue_list.h"
#include "global/trigger.h"
#include "util/msg.h"
#include "util/vstream.h"

/* How long a flush request waits for qmgr to take it. */
#define POSTQUEUE_TRIGGER_TIMEOUT_MS 10000

typedef struct postqueue_args {
    int mode;        /* one of the option letters p, j, f, s, i */
    const char *arg; /* -s SITE, -i ID */
} postqueue_args;

__attribute__((noreturn)) static void usage(void)
{
    msg_fatal_status(EX_USAGE, "usage: postqueue [-v] [-c config_dir] -p | -j | -f | -s site | "
                               "-i queue_id");
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
    ret = a->mode == 'j' ? queue_list_print_json(queue_dir, out, &err)
                         : queue_list_print(queue_dir, out, &err);
    if (ret < 0)
        msg_fatal_status(errno == EACCES ? EX_NOPERM : EX_UNAVAILABLE, "%s", vstr_str(&err));
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
    const char *dir = NULL;
    vstr err = VSTR_INIT;
    int ch, st;

    msg_init(argc > 0 && argv[0] ? argv[0] : "postqueue");
    signal(SIGPIPE, SIG_IGN);
    while ((ch = getopt(argc, argv, "c:pjfs:i:v")) != -1) {
        switch (ch) {
        case 'c':
            dir = optarg;
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
    if ((cfg = config_load(config_directory(dir), &err)) == NULL)
        msg_fatal_status(EX_CONFIG, "%s", vstr_str(&err));
    msg_set_syslog_name(cmd_param_str(cfg, "syslog_name"));
    if (*cmd_param_str(cfg, "maillog_file"))
        (void)msg_use_file(cmd_param_str(cfg, "maillog_file"));
    st = a.mode == 'p' || a.mode == 'j' ? list(cfg, &a) : flush(cfg, &a);
    config_free(cfg);
    vstr_release(&err);
    return st;
}
