/*
 * NAME
 *   sendmail - Postern's Sendmail-compatible command line (also mailq, newaliases)
 *
 * SYNOPSIS
 *   sendmail [-tiv] [-f sender] [-F name] [-N dsn] [-R ret] [-V envid]
 *            [-B type] [-C dir] [--] [recipient ...] < message
 *   sendmail -bs | -bp | -bi | -q   [-C dir]
 *   mailq, newaliases
 *
 * DESCRIPTION
 *   The submission program mail user agents and scripts call. It runs as
 *   the calling user and writes nothing itself: a message becomes a
 *   maildrop record stream (docs/PROTOCOLS.md, "postdrop and sendmail")
 *   that postdrop(1) checks and commits to maildrop, and sendmail exits
 *   0 only when postdrop did. The sender is -f, or the login name of the
 *   real user id (cleanup qualifies it); who submitted the mail is not
 *   written at all: pickup takes it from the maildrop file's owner.
 *
 *   -bs runs an SMTP session (sendmail_smtp.c) whose messages take the
 *   same way; -bp (mailq) and -q (-qRsite, -qIid) run postqueue -p, -f
 *   (-s, -i) in sendmail's place, as in Postfix; -bi (newaliases) runs
 *   postalias on every alias_database table. postdrop, postqueue and
 *   postalias are taken from beside this program, else from
 *   command_directory.
 *
 * DIAGNOSTICS
 *   Exit status from sysexits.h with a one-line reason on stderr (and in
 *   the mail log when it can be written): EX_USAGE for a bad command
 *   line or no recipients, EX_CONFIG for a bad main.cf, EX_DATAERR for a
 *   message over message_size_limit, postdrop's own status when it
 *   refuses (EX_TEMPFAIL: the queue cannot be written), EX_UNAVAILABLE
 *   when postdrop cannot be run or the mail system is down for -q.
 */
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include "global/cmd_param.h"
#include "global/config.h"
#include "global/rec.h"
#include "postdrop/sendmail.h"
#include "util/msg.h"

/* NAME beside this program, else in command_directory. The suite's own
 * programs come first: a command_directory of /usr/sbin may hold another
 * mail system's postdrop or postqueue, and an installed Postern has its
 * programs beside sendmail anyway. */
static void program_path(config *cfg, const char *name, vstr *path)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    char *slash;

    if (n > 0) {
        self[n] = 0;
        if ((slash = strrchr(self, '/')) != NULL) {
            *slash = 0;
            vstr_set_fmt(path, "%s/%s", self, name);
            if (access(vstr_str(path), X_OK) == 0)
                return;
        }
    }
    vstr_set_fmt(path, "%s/%s", cmd_param_str(cfg, "command_directory"), name);
}

/* ---- -bm: one message from standard input ---- */

static int enqueue(config *cfg, const sendmail_opts *o)
{
    sendmail_envelope env;
    sendmail_ctx ctx;
    sendmail_reader r;
    sendmail_submit *sub;
    sendmail_read_status st;
    vstr sender = VSTR_INIT, err = VSTR_INIT, line = VSTR_INIT, postdrop = VSTR_INIT;
    vstream *in;
    long long size = 0;
    int status, too_big = 0, skipping_from = 1, in_from_line = 0;
    sendmail_header_scan scan;
    int scan_headers;

    memset(&env, 0, sizeof(env));
    env.rcpts = argv_new();
    for (int i = 0; i < o->rcpt_count; i++)
        if (sendmail_add_recipients(env.rcpts, o->rcpts[i], &err) < 0)
            msg_fatal_status(EX_USAGE, "recipient %s: %s", o->rcpts[i], vstr_str(&err));
    if (env.rcpts->argc == 0 && !o->extract)
        msg_fatal_status(EX_USAGE, "no recipients specified");
    if (o->sender) {
        if (sendmail_parse_address(o->sender, &sender, &err) < 0)
            msg_fatal_status(EX_USAGE, "sender %s: %s", o->sender, vstr_str(&err));
    } else {
        struct passwd *pw = getpwuid(getuid());

        if (pw == NULL)
            msg_fatal_status(EX_NOUSER, "no login name for user ID %lu", (unsigned long)getuid());
        vstr_set_str(&sender, pw->pw_name);
    }
    env.sender = vstr_str(&sender);
    env.full_name = o->full_name;
    env.dsn_envid = o->dsn_envid;
    env.dsn_ret = o->dsn_ret;
    env.body_type = o->body_type;
    env.extract = o->extract;
    env.dsn_notify = o->dsn_notify;

    program_path(cfg, "postdrop", &postdrop);
    ctx.postdrop = vstr_str(&postdrop);
    ctx.config_dir = o->config_dir;
    ctx.size_limit = cmd_param_number(cfg, "message_size_limit");
    if ((sub = sendmail_submit_open(&ctx, &env, &err)) == NULL)
        msg_fatal_status(EX_UNAVAILABLE, "%s", vstr_str(&err));

    scan_headers = o->extract && env.rcpts->argc == 0;
    sendmail_header_scan_init(&scan, cmd_param_number(cfg, "header_size_limit"));
    in = vstream_fdopen(0, VSTREAM_READ);
    sendmail_reader_init(&r, in, !o->ignore_dots, 0, SENDMAIL_PIECE_MAX);
    while ((st = sendmail_reader_get(&r, &line)) == SENDMAIL_READ_LINE ||
           st == SENDMAIL_READ_PIECE) {
        /* Leading mbox "From " (and UUCP ">From ") lines are not part of
         * the message, as in Postfix. */
        if (skipping_from && (in_from_line || sendmail_is_from_line(vstr_str(&line)))) {
            in_from_line = st == SENDMAIL_READ_PIECE;
            continue;
        }
        skipping_from = 0;
        if (scan_headers)
            sendmail_header_scan_feed(&scan, st == SENDMAIL_READ_LINE, vstr_str(&line),
                                      vstr_len(&line));
        size += (long long)vstr_len(&line) + (st == SENDMAIL_READ_LINE);
        if (ctx.size_limit > 0 && size > ctx.size_limit) {
            too_big = 1;
            break;
        }
        if (sendmail_submit_record(sub, st == SENDMAIL_READ_LINE ? REC_TYPE_NORM : REC_TYPE_CONT,
                                   vstr_str(&line), vstr_len(&line)) < 0)
            break; /* postdrop is gone; its status says why */
    }
    if (too_big || st == SENDMAIL_READ_ERROR) {
        (void)sendmail_submit_close(sub, 0, &err);
        if (too_big)
            msg_fatal_status(EX_DATAERR,
                             "message too large: more than %lld bytes "
                             "(message_size_limit)",
                             ctx.size_limit);
        msg_fatal_status(EX_IOERR, "cannot read standard input: %s", strerror(vstream_errno(in)));
    }
    /* -t and nobody named anywhere: refuse now, as Postfix does, rather
     * than queue mail that can only come back. */
    if (scan_headers && st != SENDMAIL_READ_ERROR && !sendmail_header_scan_found(&scan)) {
        (void)sendmail_submit_close(sub, 0, &err);
        msg_fatal_status(EX_USAGE, "no recipient addresses found in message header");
    }
    vstr_reset(&err);
    status = sendmail_submit_close(sub, 1, &err);
    if (status != 0 && vstr_len(&err) > 0)
        msg_fatal_status(status, "%s", vstr_str(&err));
    sendmail_reader_release(&r);
    sendmail_header_scan_release(&scan);
    (void)vstream_release(in);
    argv_free(env.rcpts);
    vstr_release(&sender);
    vstr_release(&err);
    vstr_release(&line);
    vstr_release(&postdrop);
    return status;
}

/* ---- -bs: an SMTP session ---- */

static void *smtp_begin(void *context, const sendmail_envelope *env, vstr *err)
{
    return sendmail_submit_open(context, env, err);
}

static int smtp_record(void *handle, int type, const char *data, size_t len)
{
    return sendmail_submit_record(handle, type, data, len);
}

static int smtp_finish(void *handle, int complete, vstr *why)
{
    return sendmail_submit_close(handle, complete, why);
}

static int smtp_session(config *cfg, const sendmail_opts *o)
{
    vstr postdrop = VSTR_INIT;
    sendmail_ctx ctx;
    sendmail_smtp_config sc;
    sendmail_smtp_ops ops = {&ctx, smtp_begin, smtp_record, smtp_finish};
    vstream *in = vstream_fdopen(0, VSTREAM_READ), *out = vstream_fdopen(1, VSTREAM_WRITE);
    int status;

    program_path(cfg, "postdrop", &postdrop);
    ctx.postdrop = vstr_str(&postdrop);
    ctx.config_dir = o->config_dir;
    ctx.size_limit = cmd_param_number(cfg, "message_size_limit");
    sc.hostname = cmd_param_str(cfg, "myhostname");
    sc.banner = cmd_param_str(cfg, "smtpd_banner");
    sc.size_limit = ctx.size_limit;
    sc.rcpt_limit = (size_t)cmd_param_number(cfg, "smtpd_recipient_limit");
    sc.timeout_ms = (int)(cmd_param_number(cfg, "smtpd_timeout") * 1000);
    status = sendmail_smtp_session(in, out, &sc, &ops);
    (void)vstream_release(in);
    if (vstream_release(out) < 0 && status == 0)
        status = EX_IOERR;
    vstr_release(&postdrop);
    return status;
}

/* ---- -bp, -bi, -q ---- */

/* -bp and -q are postqueue's: run it in our place, as Postfix does. */
static int run_postqueue(config *cfg, const sendmail_opts *o)
{
    argv_t *args = argv_new();
    vstr prog = VSTR_INIT;

    program_path(cfg, "postqueue", &prog);
    argv_add(args, vstr_str(&prog));
    argv_add(args, "-c");
    argv_add(args, config_dir(cfg));
    if (o->verbose)
        argv_add(args, "-v");
    if (o->mode == SENDMAIL_MODE_LIST) {
        argv_add(args, "-p");
    } else if (o->flush_site) {
        argv_add(args, "-s");
        argv_add(args, o->flush_site);
    } else if (o->flush_id) {
        argv_add(args, "-i");
        argv_add(args, o->flush_id);
    } else {
        argv_add(args, "-f");
    }
    signal(SIGPIPE, SIG_DFL);
    execv(args->argv[0], args->argv);
    msg_fatal_status(EX_UNAVAILABLE, "cannot run %s: %s", args->argv[0], strerror(errno));
}

/* newaliases: postalias -c DIR on every table of alias_database (or -oA). */
static int new_aliases(config *cfg, const sendmail_opts *o)
{
    argv_t *tables = o->alias_database ? argv_split(o->alias_database, ", \t")
                                       : config_list(cfg, "alias_database");
    argv_t *args = argv_new();
    vstr prog = VSTR_INIT;
    int status;
    pid_t pid;

    if (tables->argc == 0) {
        argv_free(tables);
        argv_free(args);
        return 0;
    }
    program_path(cfg, "postalias", &prog);
    argv_add(args, vstr_str(&prog));
    argv_add(args, "-c");
    argv_add(args, config_dir(cfg));
    for (size_t i = 0; i < tables->argc; i++)
        argv_add(args, tables->argv[i]);
    if ((pid = fork()) < 0)
        msg_fatal_status(EX_OSERR, "fork: %s", strerror(errno));
    if (pid == 0) {
        signal(SIGPIPE, SIG_DFL);
        execv(args->argv[0], args->argv);
        msg_error("cannot run %s: %s", args->argv[0], strerror(errno));
        _exit(EX_UNAVAILABLE);
    }
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            msg_fatal_status(EX_OSERR, "wait for postalias: %s", strerror(errno));
    argv_free(tables);
    argv_free(args);
    vstr_release(&prog);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    msg_fatal_status(
        WIFEXITED(status) && WEXITSTATUS(status) == EX_UNAVAILABLE ? EX_UNAVAILABLE : EX_SOFTWARE,
        "postalias failed (exit status %d)", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

/* What each mode does; SENDMAIL_MODE_NOTHING does nothing. */
static int (*const mode_handlers[])(config *, const sendmail_opts *) = {
    [SENDMAIL_MODE_ENQUEUE] = enqueue,     [SENDMAIL_MODE_SMTP] = smtp_session,
    [SENDMAIL_MODE_LIST] = run_postqueue,  [SENDMAIL_MODE_ALIASES] = new_aliases,
    [SENDMAIL_MODE_FLUSH] = run_postqueue, [SENDMAIL_MODE_NOTHING] = NULL,
};

/* The mail log, when this user may write it; stderr stays on for the user. */
static void setup_logging(config *cfg)
{
    const char *file = cmd_param_str(cfg, "maillog_file");

    msg_set_syslog_name(cmd_param_str(cfg, "syslog_name"));
    if (*file)
        (void)msg_use_file(file);
}

int main(int argc, char **argv)
{
    sendmail_opts o;
    vstr err = VSTR_INIT, cf_dir = VSTR_INIT;
    struct stat st_cf;
    config *cfg;
    int st;

    msg_init(argc > 0 && argv[0] ? argv[0] : "sendmail");
    /* A write to a postdrop that has exited must be an error, not death. */
    signal(SIGPIPE, SIG_IGN);
    /* A caller that ignores SIGCHLD (swaks --pipe does) would have the
     * kernel reap postdrop unseen, and its verdict would be lost. */
    signal(SIGCHLD, SIG_DFL);
    if ((st = sendmail_parse_args(argc, argv, &o, &err)) != 0)
        msg_fatal_status(st, "%s", vstr_str(&err));
    msg_set_verbose(o.verbose);
    /* -C may name main.cf itself, as Postfix allows: use its directory. */
    if (o.config_dir && stat(o.config_dir, &st_cf) == 0 && S_ISREG(st_cf.st_mode)) {
        const char *slash = strrchr(o.config_dir, '/');

        vstr_set(&cf_dir, o.config_dir, slash ? (size_t)(slash - o.config_dir) : 0);
        if (vstr_len(&cf_dir) == 0)
            vstr_set_str(&cf_dir, slash ? "/" : ".");
        o.config_dir = vstr_str(&cf_dir);
    }
    if ((cfg = config_load(config_directory(o.config_dir), &err)) == NULL)
        msg_fatal_status(EX_CONFIG, "%s", vstr_str(&err));
    setup_logging(cfg);
    st = mode_handlers[o.mode] ? mode_handlers[o.mode](cfg, &o) : 0;
    sendmail_opts_release(&o);
    config_free(cfg);
    vstr_release(&err);
    vstr_release(&cf_dir);
    return st;
}
