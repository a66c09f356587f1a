/*
 * NAME
 *   postdrop - copy a maildrop record stream into queue_directory/maildrop
 *
 * SYNOPSIS
 *   postdrop [-rv] [-c config_dir] < record-stream
 *
 * DESCRIPTION
 *   sendmail(1) builds a maildrop record stream (docs/PROTOCOLS.md) and
 *   pipes it here. postdrop checks every record with global/maildrop (the
 *   checker pickup uses too) while it copies the stream to maildrop/.tNNNN,
 *   then commits it with the queue commit protocol (global/queue_file:
 *   fsync, rename to maildrop/ID, fsync the directory), triggers pickup
 *   through public/pickup and exits 0. A stream that fails a check
 *   leaves no file behind.
 *
 *   The file belongs to the submitting user: postdrop is set-gid
 *   setgid_group at most, never set-uid, so the file's owner is the real
 *   user, which is what pickup goes by. The arrival time is postdrop's
 *   own: the T record of the stream is checked and then replaced.
 *
 *   Installed set-gid, postdrop treats its caller as hostile
 *   (global/setgid_guard): it keeps no environment variable, makes sure
 *   descriptors 0-2 are open and closes all others, and accepts another
 *   configuration directory (-c or MAIL_CONFIG) only from root or when the
 *   default main.cf lists it in alternate_config_directories, because
 *   main.cf decides where files are written. Run without privileges (an
 *   unprivileged instance) it trusts any directory, since it can do
 *   nothing its caller could not.
 *
 *   Users not on authorized_submit_users (root always is) are refused.
 *
 *   A failed trigger is no error: with the daemons down the file waits in
 *   maildrop and pickup takes it when it starts.
 *
 * DIAGNOSTICS
 *   Exit status from sysexits.h with a one-line reason on stderr (and in
 *   the mail log): EX_USAGE for bad options, EX_CONFIG for an unreadable
 *   or invalid main.cf, EX_NOPERM for an untrusted configuration
 *   directory or a user not in authorized_submit_users, EX_DATAERR for an invalid stream or one
 * larger than message_size_limit, EX_IOERR when standard input cannot be read, EX_TEMPFAIL when
 * maildrop cannot be written.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sysexits.h>
#include <unistd.h>

#include "global/cmd_param.h"
#include "global/config.h"
#include "global/maildrop.h"
#include "global/master_proto.h"
#include "global/queue_file.h"
#include "global/rec.h"
#include "global/setgid_guard.h"
#include "global/trigger.h"
#include "util/msg.h"
#include "util/vstr.h"
#include "util/vstream.h"

/* How long to wait for pickup to accept the trigger. */
#define POSTDROP_TRIGGER_TIMEOUT_MS 2000
/* The service postdrop wakes up. */
#define POSTDROP_PICKUP_SERVICE "pickup"

/* The temporary file, for the signal handler and the fatal hook. */
static queue_file *postdrop_file;
static char postdrop_temp_path[PATH_MAX + 64];

/* Signals that end postdrop early; blocked while the file is committed. */
static const int postdrop_signals[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM};

static void on_signal(int sig)
{
    (void)sig;
    if (postdrop_temp_path[0])
        (void)unlink(postdrop_temp_path);
    _exit(EX_TEMPFAIL);
}

static void remove_temp_file(void)
{
    if (postdrop_file) {
        queue_file_abort(postdrop_file);
        postdrop_file = NULL;
        postdrop_temp_path[0] = 0;
    }
}

static void block_signals(int block)
{
    sigset_t set;

    sigemptyset(&set);
    for (size_t i = 0; i < sizeof(postdrop_signals) / sizeof(postdrop_signals[0]); i++)
        sigaddset(&set, postdrop_signals[i]);
    sigprocmask(block ? SIG_BLOCK : SIG_UNBLOCK, &set, NULL);
}

static void catch_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof(postdrop_signals) / sizeof(postdrop_signals[0]); i++)
        sigaction(postdrop_signals[i], &sa, NULL);
    /* A write to a gone reader, or past a file size limit, is an error
     * return, not a death without cleanup. */
    signal(SIGPIPE, SIG_IGN);
    signal(SIGXFSZ, SIG_IGN);
}

static void usage(void)
{
    msg_fatal_status(EX_USAGE, "usage: postdrop [-rv] [-c config_dir]");
}

/* The mail log of the instance (maillog_file, else syslog). stderr carries
 * only the fatal error a caller must see: a submission that worked is
 * silent, even when pickup could not be woken. */
static void setup_logging(config *cfg)
{
    const char *file = cmd_param_str(cfg, "maillog_file");

    msg_set_syslog_name(cmd_param_str(cfg, "syslog_name"));
    if (*file == 0 || msg_use_file(file) < 0)
        (void)msg_use_syslog();
    msg_use_stderr(0);
}

/* Wake pickup; failure is only logged (the file waits in maildrop). */
static void trigger_pickup(const char *queue_dir)
{
    vstr err = VSTR_INIT;

    if (trigger_send(queue_dir, POSTDROP_PICKUP_SERVICE, TRIGGER_NEW, POSTDROP_TRIGGER_TIMEOUT_MS,
                     &err) < 0)
        msg_info("cannot wake up pickup (the mail waits in maildrop): %s", vstr_str(&err));
    vstr_release(&err);
}

/* Reject the stream: the temporary file goes (fatal hook), no file stays. */
__attribute__((format(printf, 2, 3), noreturn)) static void reject(off_t offset, const char *fmt,
                                                                   ...)
{
    vstr text = VSTR_INIT;
    va_list ap;

    va_start(ap, fmt);
    vstr_append_vfmt(&text, fmt, ap);
    va_end(ap);
    msg_fatal_status(EX_DATAERR, "invalid maildrop stream: offset %lld: %s", (long long)offset,
                     vstr_str(&text));
}

/* Copy the stream from in to out, checking each record with
 * global/maildrop before it is written; returns once E is copied. */
static void copy_stream(vstream *in, vstream *out, long long size_limit)
{
    vstr buf = VSTR_INIT, why = VSTR_INIT;
    rec_read r = REC_READ_INIT;
    maildrop_check m;
    long long envelope_bytes = 0, content_bytes = 0;
    maildrop_status st;

    maildrop_check_init(&m);
    do {
        if ((st = maildrop_get(in, &m, &r, &buf, &why)) == MAILDROP_IO)
            msg_fatal_status(EX_IOERR, "cannot read standard input: %s", strerror(errno));
        if (st == MAILDROP_BAD)
            reject(maildrop_error_offset(&m), "%s", vstr_str(&why));
        /* message_size_limit as cleanup counts it (content bytes plus one
         * per line end), and the envelope bounded by it separately, so a
         * hostile stream cannot fill maildrop with recipients either. */
        if (r.type == REC_TYPE_NORM || r.type == REC_TYPE_CONT)
            content_bytes += (long long)vstr_len(&buf) + (r.type == REC_TYPE_NORM);
        else
            envelope_bytes += (long long)rec_size(vstr_len(&buf));
        if (size_limit > 0 && (content_bytes > size_limit || envelope_bytes > size_limit))
            msg_fatal_status(EX_DATAERR,
                             "message too large: more than %lld bytes "
                             "(message_size_limit)",
                             size_limit);
        if (r.type == REC_TYPE_TIME) {
            struct timeval tv;

            gettimeofday(&tv, NULL);
            (void)rec_put_fmt(out, REC_TYPE_TIME, "%lld.%06ld", (long long)tv.tv_sec,
                              (long)tv.tv_usec);
        } else {
            (void)rec_put(out, r.type, vstr_str(&buf), vstr_len(&buf));
        }
        if (vstream_error(out))
            msg_fatal_status(EX_TEMPFAIL, "cannot write the maildrop file: %s",
                             strerror(vstream_errno(out)));
    } while (r.type != REC_TYPE_END);
    vstr_release(&buf);
    vstr_release(&why);
}

int main(int argc, char **argv)
{
    const char *opt_c = NULL, *queue_dir;
    vstr err = VSTR_INIT, dir = VSTR_INIT;
    long long size_limit;
    vstream *in;
    config *cfg;
    int ch, privileged;

    /* Keep nothing of the caller's environment but MAIL_CONFIG, checked below. */
    privileged = setgid_guard_start(&dir);
    msg_init("postdrop");
    while ((ch = getopt(argc, argv, "c:rv")) != -1) {
        switch (ch) {
        case 'c':
            opt_c = optarg;
            break;
        case 'r':
            break; /* the record stream is the only input format */
        case 'v':
            msg_set_verbose(msg_verbose_level() + 1);
            break;
        default:
            usage();
        }
    }
    if (optind != argc)
        usage();
    if (opt_c)
        vstr_set_str(&dir, opt_c);
    if (privileged && !setgid_guard_config_dir_trusted(vstr_str(&dir), &err))
        msg_fatal_status(EX_NOPERM, "untrusted configuration directory: %s", vstr_str(&err));
    if ((cfg = config_load(vstr_str(&dir), &err)) == NULL)
        msg_fatal_status(EX_CONFIG, "%s", vstr_str(&err));
    setup_logging(cfg);
    queue_dir = cmd_param_str(cfg, "queue_directory");
    size_limit = cmd_param_number(cfg, "message_size_limit");
    cmd_param_permit(cfg, "authorized_submit_users", "submit mail");

    catch_signals();
    msg_set_fatal_hook(remove_temp_file);
    block_signals(1);
    postdrop_file = queue_file_create(queue_dir, "maildrop", 0644, &err);
    if (postdrop_file == NULL)
        msg_fatal_status(EX_TEMPFAIL, "cannot queue the message: %s", vstr_str(&err));
    if ((size_t)snprintf(postdrop_temp_path, sizeof(postdrop_temp_path), "%s/maildrop/%s",
                         queue_dir,
                         queue_file_temp_name(postdrop_file)) >= sizeof(postdrop_temp_path))
        postdrop_temp_path[0] = 0; /* too long to remember: a signal leaves it behind */
    block_signals(0);

    in = vstream_fdopen(0, VSTREAM_READ);
    copy_stream(in, queue_file_stream(postdrop_file), size_limit);
    (void)vstream_release(in);

    /* From here the file either becomes mail or goes: no signal between. */
    block_signals(1);
    postdrop_temp_path[0] = 0;
    if (queue_file_commit(postdrop_file, &err) < 0) {
        postdrop_file = NULL;
        msg_fatal_status(EX_TEMPFAIL, "cannot queue the message: %s", vstr_str(&err));
    }
    postdrop_file = NULL;
    trigger_pickup(queue_dir);
    config_free(cfg);
    vstr_release(&err);
    vstr_release(&dir);
    return 0;
}

