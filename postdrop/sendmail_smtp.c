/*
 * sendmail_smtp - sendmail -bs: an SMTP session on standard input and output
 *
 * A small RFC 5321 server for local clients that speak SMTP to a pipe
 * (mail user agents, swaks --pipe): HELO, EHLO, MAIL, RCPT, DATA, RSET,
 * NOOP, QUIT; VRFY is refused. Commands are a table, dispatched by verb.
 * Each message goes to postdrop like any other sendmail submission, and
 * the client gets 250 only after postdrop has committed it. The client
 * is the local user, who could run postdrop directly, so this is no
 * trust boundary: lines may end in LF or CR LF, and nothing is announced
 * that the maildrop format cannot carry (no DSN, no SMTPUTF8, no AUTH).
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>

#include "global/rec.h"
#include "global/xtext.h"
#include "postdrop/sendmail.h"
#include "util/mem.h"
#include "util/msg.h"

typedef struct smtp_state {
    vstream *in;
    vstream *out;
    const sendmail_smtp_config *cfg;
    const sendmail_smtp_ops *ops;
    int errors;
    int done;   /* QUIT, end of input or too many errors */
    int status; /* the session's result */
    int in_mail;
    vstr sender;
    argv_t *rcpts;
    int *notify; /* NOTIFY bits of each recipient (0: none given) */
    size_t notify_cap;
    const char *body_type;
    const char *dsn_ret; /* RET, as "FULL" or "HDRS" */
    vstr dsn_envid;      /* ENVID, decoded */
} smtp_state;

typedef struct smtp_command {
    const char *verb;
    void (*handler)(smtp_state *s, const char *args);
} smtp_command;

__attribute__((format(printf, 2, 3))) static void reply(smtp_state *s, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    if (fmt[0] == '4' || fmt[0] == '5')
        s->errors++;
    (void)vstream_vprintf(s->out, fmt, ap);
    (void)vstream_puts(s->out, "\r\n");
    va_end(ap);
}

static void reset_transaction(smtp_state *s)
{
    s->in_mail = 0;
    s->body_type = NULL;
    s->dsn_ret = NULL;
    vstr_reset(&s->dsn_envid);
    vstr_reset(&s->sender);
    argv_truncate(s->rcpts, 0);
}

/* "FROM:" or "TO:", case-insensitive, then optional spaces; the rest, or NULL. */
static const char *after_keyword(const char *args, const char *keyword)
{
    size_t len = strlen(keyword);

    if (strncasecmp(args, keyword, len) != 0)
        return NULL;
    args += len;
    while (*args == ' ')
        args++;
    return args;
}

/* Split "<path> params" (or a bare path) into the path and the rest; a
 * quoted local part may hold spaces and ">" in either form. */
static int split_path(const char *arg, vstr *path, const char **params)
{
    int bracketed = *arg == '<', quoted = 0;
    const char *end = arg + bracketed;

    for (; *end; end++) {
        if (*end == '\\' && end[1])
            end++;
        else if (*end == '"')
            quoted = !quoted;
        else if (!quoted && (bracketed ? *end == '>' : *end == ' '))
            break;
    }
    if (bracketed) {
        if (*end != '>')
            return -1;
        end++;
    }
    if (*end && *end != ' ')
        return -1;
    vstr_set(path, arg, (size_t)(end - arg));
    while (*end == ' ')
        end++;
    *params = end;
    return 0;
}

/* MAIL parameters: SIZE, BODY, RET, ENVID; 0, or -1 after replying. */
static int mail_params(smtp_state *s, const char *params)
{
    argv_t *list = argv_split(params, " ");
    int result = 0;

    for (size_t i = 0; i < list->argc && result == 0; i++) {
        const char *p = list->argv[i];

        if (strncasecmp(p, "SIZE=", 5) == 0 && p[5] &&
            strspn(p + 5, "0123456789") == strlen(p + 5)) {
            if (s->cfg->size_limit > 0 && strtoll(p + 5, NULL, 10) > s->cfg->size_limit) {
                reply(s, "552 5.3.4 Message size exceeds fixed limit");
                result = -1;
            }
        } else if (strcasecmp(p, "BODY=7BIT") == 0) {
            s->body_type = "7BIT";
        } else if (strcasecmp(p, "BODY=8BITMIME") == 0) {
            s->body_type = "8BITMIME";
        } else if (strcasecmp(p, "RET=FULL") == 0) {
            s->dsn_ret = "FULL";
        } else if (strcasecmp(p, "RET=HDRS") == 0) {
            s->dsn_ret = "HDRS";
        } else if (strncasecmp(p, "ENVID=", 6) == 0) {
            if (xtext_decode(p + 6, strlen(p + 6), XTEXT_MAX, &s->dsn_envid) < 0 ||
                !sendmail_envid_ok(vstr_str(&s->dsn_envid), vstr_len(&s->dsn_envid))) {
                reply(s, "501 5.5.4 Bad ENVID parameter syntax");
                result = -1;
            }
        } else {
            reply(s, "555 5.5.4 Unsupported option: %.100s", p);
            result = -1;
        }
    }
    argv_free(list);
    return result;
}

/* RCPT parameters: NOTIFY (kept) and ORCPT (checked, but a maildrop file
 * has no place for it); the NOTIFY bits, or -1 after replying. */
static int rcpt_params(smtp_state *s, const char *params)
{
    argv_t *list = argv_split(params, " ");
    vstr orcpt = VSTR_INIT;
    int notify = 0;

    for (size_t i = 0; i < list->argc && notify >= 0; i++) {
        const char *p = list->argv[i];

        if (strncasecmp(p, "NOTIFY=", 7) == 0) {
            if ((notify = sendmail_parse_notify(p + 7)) < 0)
                reply(s, "501 5.5.4 Bad NOTIFY parameter syntax");
        } else if (strncasecmp(p, "ORCPT=", 6) == 0) {
            const char *semi = strchr(p + 6, ';');

            if (semi == NULL || xtext_decode(semi + 1, strlen(semi + 1), XTEXT_MAX, &orcpt) < 0) {
                reply(s, "501 5.5.4 Bad ORCPT parameter syntax");
                notify = -1;
            }
        } else {
            reply(s, "555 5.5.4 Unsupported option: %.100s", p);
            notify = -1;
        }
    }
    argv_free(list);
    vstr_release(&orcpt);
    return notify;
}

static void cmd_helo(smtp_state *s, const char *args)
{
    if (*args == 0) {
        reply(s, "501 5.5.4 Syntax: HELO hostname");
        return;
    }
    reset_transaction(s);
    reply(s, "250 %s", s->cfg->hostname);
}

static void cmd_ehlo(smtp_state *s, const char *args)
{
    if (*args == 0) {
        reply(s, "501 5.5.4 Syntax: EHLO hostname");
        return;
    }
    reset_transaction(s);
    reply(s, "250-%s", s->cfg->hostname);
    reply(s, "250-PIPELINING");
    if (s->cfg->size_limit > 0)
        reply(s, "250-SIZE %lld", s->cfg->size_limit);
    else
        reply(s, "250-SIZE");
    reply(s, "250-8BITMIME");
    reply(s, "250-DSN");
    reply(s, "250 ENHANCEDSTATUSCODES");
}

static void cmd_mail(smtp_state *s, const char *args)
{
    vstr path = VSTR_INIT, err = VSTR_INIT;
    const char *rest = after_keyword(args, "FROM:"), *params;

    if (s->in_mail) {
        reply(s, "503 5.5.1 Error: nested MAIL command");
    } else if (rest == NULL || *rest == 0 || split_path(rest, &path, &params) < 0) {
        reply(s, "501 5.5.4 Syntax: MAIL FROM:<address>");
    } else if (sendmail_parse_address(vstr_str(&path), &s->sender, &err) < 0) {
        reply(s, "501 5.1.7 Bad sender address syntax");
    } else if (mail_params(s, params) == 0) {
        s->in_mail = 1;
        reply(s, "250 2.1.0 Ok");
    } else {
        reset_transaction(s);
    }
    vstr_release(&path);
    vstr_release(&err);
}

static void cmd_rcpt(smtp_state *s, const char *args)
{
    vstr path = VSTR_INIT, addr = VSTR_INIT, err = VSTR_INIT;
    const char *rest = after_keyword(args, "TO:"), *params;
    int notify;

    if (!s->in_mail) {
        reply(s, "503 5.5.1 Error: need MAIL command");
    } else if (rest == NULL || *rest == 0 || split_path(rest, &path, &params) < 0) {
        reply(s, "501 5.5.4 Syntax: RCPT TO:<address>");
    } else if (sendmail_parse_address(vstr_str(&path), &addr, &err) < 0 || vstr_len(&addr) == 0) {
        reply(s, "501 5.1.3 Bad recipient address syntax");
    } else if ((notify = rcpt_params(s, params)) < 0) {
        /* replied */
    } else if (s->rcpts->argc >= s->cfg->rcpt_limit) {
        reply(s, "452 4.5.3 Error: too many recipients");
    } else {
        if (s->rcpts->argc == s->notify_cap) {
            s->notify_cap = s->notify_cap ? 2 * s->notify_cap : 16;
            s->notify = mem_reallocarray(s->notify, s->notify_cap, sizeof(*s->notify));
        }
        s->notify[s->rcpts->argc] = notify;
        argv_add(s->rcpts, vstr_str(&addr));
        reply(s, "250 2.1.5 Ok");
    }
    vstr_release(&path);
    vstr_release(&addr);
    vstr_release(&err);
}

/* The verdict on a message, as a reply. */
static void data_reply(smtp_state *s, int status, int too_big)
{
    if (too_big)
        reply(s, "552 5.3.4 Error: message file too big");
    else if (status == 0)
        reply(s, "250 2.0.0 Ok: queued");
    else if (status == EX_DATAERR)
        reply(s, "554 5.6.0 Error: message content rejected");
    else if (status == EX_NOPERM)
        reply(s, "550 5.7.1 Error: not allowed to submit mail");
    else
        reply(s, "451 4.3.0 Error: queue file write error");
}

static void cmd_data(smtp_state *s, const char *args)
{
    sendmail_envelope env;
    sendmail_reader r;
    vstr line = VSTR_INIT, why = VSTR_INIT;
    sendmail_read_status st;
    long long size = 0;
    int failed = 0, too_big = 0;
    void *handle;

    if (!s->in_mail || s->rcpts->argc == 0) {
        reply(s, "503 5.5.1 Error: need RCPT command");
        return;
    }
    if (*args) {
        reply(s, "501 5.5.4 Syntax: DATA");
        return;
    }
    memset(&env, 0, sizeof(env));
    env.sender = vstr_str(&s->sender);
    env.body_type = s->body_type;
    env.dsn_ret = s->dsn_ret;
    env.dsn_envid = vstr_len(&s->dsn_envid) ? vstr_str(&s->dsn_envid) : NULL;
    env.rcpts = s->rcpts;
    env.rcpt_notify = s->notify;
    if ((handle = s->ops->begin(s->ops->context, &env, &why)) == NULL) {
        msg_warn("cannot queue a message: %s", vstr_str(&why));
        reply(s, "451 4.3.0 Error: queue file write error");
        reset_transaction(s);
        vstr_release(&why);
        return;
    }
    reply(s, "354 End data with <CR><LF>.<CR><LF>");
    (void)vstream_flush(s->out);
    sendmail_reader_init(&r, s->in, 1, 1, SENDMAIL_PIECE_MAX);
    while ((st = sendmail_reader_get(&r, &line)) == SENDMAIL_READ_LINE ||
           st == SENDMAIL_READ_PIECE) {
        size += (long long)vstr_len(&line) + (st == SENDMAIL_READ_LINE);
        if (s->cfg->size_limit > 0 && size > s->cfg->size_limit)
            too_big = 1;
        if (!too_big && !failed &&
            s->ops->record(handle, st == SENDMAIL_READ_LINE ? REC_TYPE_NORM : REC_TYPE_CONT,
                           vstr_str(&line), vstr_len(&line)) < 0)
            failed = 1;
    }
    if (st == SENDMAIL_READ_DOT) {
        data_reply(s, s->ops->finish(handle, !too_big, &why), too_big);
    } else {
        /* The client went away (or stalled) in the middle: nothing is queued. */
        (void)s->ops->finish(handle, 0, &why);
        if (st == SENDMAIL_READ_ERROR) {
            reply(s, "421 4.4.2 %s Error: timeout exceeded", s->cfg->hostname);
            s->status = EX_IOERR;
        }
        s->done = 1;
    }
    reset_transaction(s);
    sendmail_reader_release(&r);
    vstr_release(&line);
    vstr_release(&why);
}

static void cmd_rset(smtp_state *s, const char *args)
{
    (void)args;
    reset_transaction(s);
    reply(s, "250 2.0.0 Ok");
}

static void cmd_noop(smtp_state *s, const char *args)
{
    (void)args;
    reply(s, "250 2.0.0 Ok");
}

static void cmd_vrfy(smtp_state *s, const char *args)
{
    (void)args;
    reply(s, "502 5.5.1 VRFY command is disabled");
}

static void cmd_quit(smtp_state *s, const char *args)
{
    (void)args;
    reply(s, "221 2.0.0 Bye");
    s->done = 1;
}

static const smtp_command smtp_commands[] = {
    {"HELO", cmd_helo}, {"EHLO", cmd_ehlo}, {"MAIL", cmd_mail}, {"RCPT", cmd_rcpt},
    {"DATA", cmd_data}, {"RSET", cmd_rset}, {"NOOP", cmd_noop}, {"VRFY", cmd_vrfy},
    {"QUIT", cmd_quit}, {NULL, NULL},
};

/* One command line (without its end): look up the verb and run it. */
static void dispatch(smtp_state *s, const char *line)
{
    size_t verb_len = strcspn(line, " ");
    const char *args = line + verb_len;

    while (*args == ' ')
        args++;
    for (const smtp_command *c = smtp_commands; c->verb; c++) {
        if (verb_len == strlen(c->verb) && strncasecmp(line, c->verb, verb_len) == 0) {
            c->handler(s, args);
            return;
        }
    }
    reply(s, verb_len == 0 ? "500 5.5.2 Error: bad syntax"
                           : "502 5.5.2 Error: command not recognized");
}

/* Read the rest of an overlong line; 0, or -1 when input ended or failed. */
static int skip_line(smtp_state *s, vstr *line)
{
    vstream_status st;

    while ((st = vstream_get_line(s->in, line, SENDMAIL_SMTP_LINE_MAX)) == VSTREAM_TOOLONG)
        ;
    return st == VSTREAM_OK ? 0 : -1;
}

int sendmail_smtp_session(vstream *in, vstream *out, const sendmail_smtp_config *cfg,
                          const sendmail_smtp_ops *ops)
{
    smtp_state s;
    vstr line = VSTR_INIT;

    memset(&s, 0, sizeof(s));
    s.in = in;
    s.out = out;
    s.cfg = cfg;
    s.ops = ops;
    s.rcpts = argv_new();
    vstr_init(&s.sender);
    vstr_init(&s.dsn_envid);
    vstream_set_timeout(in, cfg->timeout_ms);
    reply(&s, "220 %s", cfg->banner);
    while (!s.done) {
        vstream_status st;

        if (vstream_read_pending(in) == 0)
            (void)vstream_flush(out);
        st = vstream_get_line(in, &line, SENDMAIL_SMTP_LINE_MAX);
        if (st == VSTREAM_TOOLONG) {
            reply(&s, "500 5.5.0 Error: line too long");
            if (skip_line(&s, &line) < 0)
                break;
        } else if (st == VSTREAM_OK) {
            size_t len = vstr_len(&line) - 1;

            if (len > 0 && vstr_str(&line)[len - 1] == '\r')
                len--;
            vstr_truncate(&line, len);
            dispatch(&s, vstr_str(&line));
        } else {
            if (st == VSTREAM_TIMEOUT) {
                reply(&s, "421 4.4.2 %s Error: timeout exceeded", cfg->hostname);
                s.status = EX_IOERR;
            } else if (st == VSTREAM_ERROR) {
                s.status = EX_IOERR;
            }
            break; /* end of input: the client is gone */
        }
        if (!s.done && s.errors >= SENDMAIL_SMTP_ERROR_LIMIT) {
            reply(&s, "421 4.7.0 %s Error: too many errors", cfg->hostname);
            s.done = 1;
        }
    }
    (void)vstream_flush(out);
    argv_free(s.rcpts);
    mem_free(s.notify);
    vstr_release(&s.sender);
    vstr_release(&s.dsn_envid);
    vstr_release(&line);
    return s.status;
}
