/*
 * sendmail_submit - hand one message to postdrop through a pipe
 *
 * postdrop runs as a child with the pipe as its standard input; sendmail
 * writes the maildrop record stream (docs/PROTOCOLS.md) as it reads the
 * message, so a message of any size passes through in bounded memory.
 * postdrop alone decides whether the message is queued: its exit status
 * is the verdict, and its reason for a refusal is already on stderr.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include "global/rec.h"
#include "postdrop/sendmail.h"
#include "util/mem.h"
#include "util/msg.h"

struct sendmail_submit {
    pid_t pid;
    vstream *out; /* the pipe to postdrop */
};

/* An attribute value without control characters, which postdrop refuses:
 * a -F name taken from a script may well end in a newline. */
static void put_attr(vstream *out, const char *name, const char *value)
{
    vstr text = VSTR_INIT;

    vstr_set_fmt(&text, "%s=%s", name, value);
    for (size_t i = 0; i < vstr_len(&text); i++) {
        unsigned char c = (unsigned char)text.data[i];

        if (c < 0x20 || c == 0x7f)
            text.data[i] = ' ';
    }
    (void)rec_put(out, REC_TYPE_ATTR, vstr_str(&text), vstr_len(&text));
    vstr_release(&text);
}

static void put_envelope(vstream *out, const sendmail_envelope *env)
{
    struct timeval tv;

    gettimeofday(&tv, NULL);
    (void)rec_put_str(out, REC_TYPE_VERSION, REC_VERSION);
    (void)rec_put_fmt(out, REC_TYPE_TIME, "%lld.%06ld", (long long)tv.tv_sec, (long)tv.tv_usec);
    (void)rec_put_str(out, REC_TYPE_FROM, env->sender);
    if (env->full_name && *env->full_name)
        put_attr(out, "full_name", env->full_name);
    if (env->extract)
        put_attr(out, "flags", "1");
    if (env->dsn_ret)
        put_attr(out, "dsn_ret", env->dsn_ret);
    if (env->dsn_envid)
        put_attr(out, "dsn_envid", env->dsn_envid);
    if (env->body_type)
        put_attr(out, "body_type", env->body_type);
    for (size_t i = 0; env->rcpts && i < env->rcpts->argc; i++) {
        int notify = env->rcpt_notify ? env->rcpt_notify[i] : env->dsn_notify;

        if (notify)
            (void)rec_put_fmt(out, REC_TYPE_DSN_NOTIFY, "%d", notify);
        (void)rec_put_str(out, REC_TYPE_RCPT, env->rcpts->argv[i]);
    }
    (void)rec_put(out, REC_TYPE_MESG, "", 0);
}

sendmail_submit *sendmail_submit_open(const sendmail_ctx *ctx, const sendmail_envelope *env,
                                      vstr *err)
{
    sendmail_submit *s;
    argv_t *args;
    int fds[2];
    pid_t pid;

    if (access(ctx->postdrop, X_OK) < 0) {
        vstr_set_fmt(err, "cannot run %s: %s", ctx->postdrop, strerror(errno));
        return NULL;
    }
    if (pipe2(fds, O_CLOEXEC) < 0) {
        vstr_set_fmt(err, "pipe: %s", strerror(errno));
        return NULL;
    }
    args = argv_new();
    argv_add(args, ctx->postdrop);
    if (ctx->config_dir) {
        argv_add(args, "-c");
        argv_add(args, ctx->config_dir);
    }
    if ((pid = fork()) < 0) {
        vstr_set_fmt(err, "fork: %s", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        argv_free(args);
        return NULL;
    }
    if (pid == 0) {
        if (dup2(fds[0], 0) < 0)
            _exit(EX_OSERR);
        /* postdrop's stdout is our stderr (when open): nothing it could
         * print may land in a -bs session's replies. */
        if (fcntl(2, F_GETFD) >= 0)
            (void)dup2(2, 1);
        signal(SIGPIPE, SIG_DFL);
        execv(args->argv[0], args->argv);
        msg_error("cannot run %s: %s", args->argv[0], strerror(errno));
        _exit(EX_UNAVAILABLE);
    }
    argv_free(args);
    close(fds[0]);
    s = mem_calloc(1, sizeof(*s));
    s->pid = pid;
    s->out = vstream_fdopen(fds[1], VSTREAM_WRITE);
    put_envelope(s->out, env);
    return s;
}

int sendmail_submit_record(sendmail_submit *s, int type, const char *data, size_t len)
{
    if (vstream_error(s->out))
        return -1;
    return rec_put(s->out, type, data, len);
}

int sendmail_submit_close(sendmail_submit *s, int complete, vstr *why)
{
    int status, result;

    if (complete)
        (void)rec_put(s->out, REC_TYPE_END, "", 0);
    else
        kill(s->pid, SIGTERM); /* postdrop removes its file on SIGTERM */
    (void)vstream_close(s->out);
    while (waitpid(s->pid, &status, 0) < 0) {
        if (errno != EINTR) {
            vstr_set_fmt(why, "wait for postdrop: %s", strerror(errno));
            mem_free(s);
            return EX_OSERR;
        }
    }
    if (WIFEXITED(status)) {
        result = WEXITSTATUS(status);
    } else {
        vstr_set_fmt(why, "postdrop was killed by signal %d", WTERMSIG(status));
        result = EX_TEMPFAIL;
    }
    mem_free(s);
    return result;
}
