/*
 * smtpd_cmd - the command table, dispatch, and the handlers but DATA's
 *
 * A command is found in a table of {verb, the stage it needs, flags,
 * handler}: the stage check and its 503 reply are data, not code in
 * each handler, and the counts for the disconnect line are kept per
 * table entry.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "global/cleanup.h"
#include "global/smtputf8.h"
#include "smtpd/smtpd.h"
#include "smtpd/smtpd_addr.h"
#include "util/msg.h"

/* Must be the last command of a pipelined group (RFC 2920 section 3.1). */
#define CMD_LAST 1
/* Moves no mail: past smtpd_junk_command_limit each one counts as an error. */
#define CMD_JUNK 2
/* Refused before STARTTLS at smtpd_tls_security_level = encrypt. */
#define CMD_TLS_FIRST 4

typedef struct smtpd_cmd {
    const char *verb;
    const char *stat_name; /* for the disconnect line */
    int stage;             /* SMTPD_STAGE_* */
    int flags;
    void (*handler)(smtpd_state *s, const char *arg);
} smtpd_cmd;

/* The 503 for a command given at the wrong stage. */
static const char *const stage_errors[] = {
    [SMTPD_STAGE_ANY] = NULL,
    [SMTPD_STAGE_NO_MAIL] = "503 5.5.1 Error: nested MAIL command",
    [SMTPD_STAGE_MAIL] = "503 5.5.1 Error: need MAIL command",
    [SMTPD_STAGE_RCPT] = "503 5.5.1 Error: need RCPT command",
};

/* What HELO and EHLO share: the argument is required; a new greeting
 * ends any transaction. 0, or -1 when the reply has been sent. */
static int greeting(smtpd_state *s, const char *arg, const char *verb, const char *protocol)
{
    if (*arg == 0) {
        smtpd_reply(s, "501 5.5.4 Syntax: %s hostname", verb);
        return -1;
    }
    if (smtpd_check_helo(s, verb, arg) < 0)
        return -1;
    smtpd_reset_transaction(s);
    vstr_set_str(&s->helo, arg);
    s->protocol = protocol;
    return 0;
}

static void cmd_ehlo(smtpd_state *s, const char *arg)
{
    vstr text = VSTR_INIT;

    if (greeting(s, arg, "EHLO", "ESMTP") < 0)
        return;
    vstr_set_fmt(&text, "250 %s\n250 PIPELINING\n", smtpd_cf.myhostname);
    if (smtpd_cf.message_size_limit > 0)
        vstr_append_fmt(&text, "250 SIZE %lld\n", smtpd_cf.message_size_limit);
    else
        vstr_append_str(&text, "250 SIZE\n");
    if (!smtpd_cf.disable_vrfy)
        vstr_append_str(&text, "250 VRFY\n");
    if (smtpd_tls_offered(s))
        vstr_append_str(&text, "250 STARTTLS\n");
    smtpd_sasl_ehlo(s, &text);
    vstr_append_str(&text, "250 ENHANCEDSTATUSCODES\n250 8BITMIME\n250 DSN\n250 SMTPUTF8\n"
                           "250 CHUNKING");
    smtpd_reply(s, "%s", vstr_str(&text));
    vstr_release(&text);
}

static void cmd_helo(smtpd_state *s, const char *arg)
{
    if (greeting(s, arg, "HELO", "SMTP") == 0)
        smtpd_reply(s, "250 %s", smtpd_cf.myhostname);
}

/* The sender, unless the sender restrictions refuse it now (-1). */
static int accept_sender(smtpd_state *s, const smtpd_args *a)
{
    vstr_set(&s->sender, vstr_str(&a->addr), vstr_len(&a->addr));
    s->sender_given = 1;
    s->mail_size = a->size > 0 ? a->size : 0;
    if (smtpd_check_mail(s) == 0)
        return 0;
    vstr_reset(&s->sender);
    s->sender_given = 0;
    s->mail_size = 0;
    return -1;
}

static void cmd_mail(smtpd_state *s, const char *arg)
{
    vstr reply = VSTR_INIT;
    smtpd_args a;

    smtpd_args_init(&a);
    /* After STARTTLS the client must greet again (smtpd_tls.c). */
    if ((smtpd_cf.helo_required || s->tls_active) && vstr_len(&s->helo) == 0) {
        smtpd_reply(s, "503 5.5.1 Error: send HELO/EHLO first");
    } else if (smtpd_args_parse(&a, SMTPD_ARGS_MAIL, arg, &reply) < 0) {
        smtpd_reply(s, "%s", vstr_str(&reply));
    } else if (a.has_auth && !smtpd_cf.sasl_enable) {
        smtpd_reply(s, "555 5.5.4 Unsupported option: AUTH");
    } else if (smtpd_cf.message_size_limit > 0 && a.size > smtpd_cf.message_size_limit) {
        vstr_set(&s->sender, vstr_str(&a.addr), vstr_len(&a.addr)); /* for the log line */
        smtpd_reject(s, "MAIL", NULL, "552 5.3.4 Message size exceeds fixed limit");
        vstr_reset(&s->sender);
    } else if (!a.smtputf8 && smtputf8_address(vstr_str(&a.addr))) {
        smtpd_reply(s, "553 5.6.7 Must declare SMTPUTF8 to send unicode address");
    } else if (smtpd_anvil_message(s) < 0) {
        /* 450: too much mail from this client */
    } else if (accept_sender(s, &a) == 0) {
        s->body_type = a.body;
        s->smtputf8 = a.smtputf8;
        s->dsn_ret = a.ret;
        s->has_envid = a.has_envid;
        vstr_set(&s->dsn_envid, vstr_str(&a.envid), vstr_len(&a.envid));
        s->stage = SMTPD_STAGE_MAIL;
        smtpd_reply(s, "250 2.1.0 Ok");
    }
    smtpd_args_release(&a);
    vstr_release(&reply);
}

/* The queue file is made at the first accepted recipient (Postfix's
 * smtpd_delay_open_until_valid_rcpt), so rejected mail costs no file. */
static int open_queue_file(smtpd_state *s)
{
    vstr err = VSTR_INIT;
    char port[16];

    if ((s->cleanup = cleanup_open(smtpd_cf.cfg, 0, &err)) == NULL) {
        msg_warn("cannot create a queue file: %s", vstr_str(&err));
        vstr_release(&err);
        smtpd_reply(s, "451 4.3.0 Error: queue file write error");
        return -1;
    }
    vstr_release(&err);
    if (smtpd_sasl_authenticated(s))
        msg_info("%s: client=%s, sasl_method=%s, sasl_username=%s", cleanup_id(s->cleanup),
                 vstr_str(&s->namaddr), vstr_str(&s->sasl_method), vstr_str(&s->sasl_username));
    else
        msg_info("%s: client=%s", cleanup_id(s->cleanup), vstr_str(&s->namaddr));
    snprintf(port, sizeof(port), "%d", s->port);
    cleanup_set_sender(s->cleanup, vstr_str(&s->sender));
    cleanup_set_checks(s->cleanup, smtpd_cf.content_checks);
    cleanup_set_attr(s->cleanup, "rewrite_context",
                     smtpd_hdr_clients_local(smtpd_cf.hdr_clients, s) ? "local" : "remote");
    cleanup_set_attr(s->cleanup, "client_name", vstr_str(&s->name));
    cleanup_set_attr(s->cleanup, "client_address", vstr_str(&s->addr));
    cleanup_set_attr(s->cleanup, "client_port", port);
    if (vstr_len(&s->helo))
        cleanup_set_attr(s->cleanup, "helo_name", vstr_str(&s->helo));
    cleanup_set_attr(s->cleanup, "protocol", smtpd_protocol_name(s));
    if (smtpd_sasl_authenticated(s)) {
        cleanup_set_attr(s->cleanup, "sasl_method", vstr_str(&s->sasl_method));
        cleanup_set_attr(s->cleanup, "sasl_username", vstr_str(&s->sasl_username));
    }
    if (s->tls_active) {
        char bits[16];

        snprintf(bits, sizeof(bits), "%d", tls_conn_cipher_bits(s->tls));
        cleanup_set_attr(s->cleanup, "encryption_protocol", tls_conn_protocol(s->tls));
        cleanup_set_attr(s->cleanup, "encryption_cipher", tls_conn_cipher(s->tls));
        cleanup_set_attr(s->cleanup, "encryption_keysize", bits);
        if (smtpd_cf.tls_received_header) {
            cleanup_set_attr(s->cleanup, "tls_received", vstr_str(&s->tls_received));
            cleanup_set_attr(s->cleanup, "tls_received_ccert", vstr_str(&s->tls_received_ccert));
        }
    }
    if (s->body_type)
        cleanup_set_attr(s->cleanup, "body_type", s->body_type);
    if (s->smtputf8)
        cleanup_set_attr(s->cleanup, "smtputf8", "1");
    if (s->dsn_ret)
        cleanup_set_attr(s->cleanup, "dsn_ret", s->dsn_ret);
    if (s->has_envid)
        cleanup_set_attr(s->cleanup, "dsn_envid", vstr_str(&s->dsn_envid));
    return 0;
}

static void cmd_rcpt(smtpd_state *s, const char *arg)
{
    vstr reply = VSTR_INIT;
    smtpd_args a;

    smtpd_args_init(&a);
    if (smtpd_args_parse(&a, SMTPD_ARGS_RCPT, arg, &reply) < 0) {
        smtpd_reply(s, "%s", vstr_str(&reply));
    } else if (!s->smtputf8 && smtputf8_address(vstr_str(&a.addr))) {
        smtpd_reply(s, "553 5.6.7 Must declare SMTPUTF8 to send unicode address");
    } else if (s->rcpt_count >= smtpd_cf.recipient_limit) {
        smtpd_reject(s, "RCPT", vstr_str(&a.addr), "452 4.5.3 Error: too many recipients");
    } else if (smtpd_anvil_recipient(s) < 0) {
        /* 450: too many recipients from this client */
    } else if (smtpd_check_rcpt(s, vstr_str(&a.addr)) == 0 &&
               (s->cleanup != NULL || open_queue_file(s) == 0)) {
        cleanup_add_rcpt(s->cleanup, vstr_str(&a.addr), NULL,
                         vstr_len(&a.orcpt) ? vstr_str(&a.orcpt) : NULL, a.notify);
        s->rcpt_count++;
        vstr_set(&s->last_rcpt, vstr_str(&a.addr), vstr_len(&a.addr));
        s->stage = SMTPD_STAGE_RCPT;
        smtpd_access_apply(s);
        smtpd_reply(s, "250 2.1.5 Ok");
    }
    smtpd_args_release(&a);
    vstr_release(&reply);
}

static void cmd_data(smtpd_state *s, const char *arg)
{
    if (*arg) {
        smtpd_reply(s, "501 5.5.4 Syntax: DATA");
        return;
    }
    if (s->in_bdat) {
        smtpd_reply(s, "503 5.5.1 Error: DATA after BDAT");
        return;
    }
    if (smtpd_check_data(s) < 0)
        return;
    /* Before the content: PREPEND goes above the headers. */
    smtpd_access_apply(s);
    smtpd_reply(s, "354 End data with <CR><LF>.<CR><LF>");
    smtpd_flush(s);
    smtpd_data(s);
}

static void cmd_rset(smtpd_state *s, const char *arg)
{
    (void)arg;
    smtpd_reset_transaction(s);
    smtpd_reply(s, "250 2.0.0 Ok");
}

static void cmd_noop(smtpd_state *s, const char *arg)
{
    (void)arg;
    smtpd_reply(s, "250 2.0.0 Ok");
}

static void cmd_vrfy(smtpd_state *s, const char *arg)
{
    if (smtpd_cf.disable_vrfy)
        smtpd_reply(s, "502 5.5.1 VRFY command is disabled");
    else if (*arg == 0)
        smtpd_reply(s, "501 5.5.4 Syntax: VRFY address");
    else
        /* Answering truthfully would hand out the user list. */
        smtpd_reply(s, "252 2.0.0 Cannot verify; send mail to find out");
}

static void cmd_help(smtpd_state *s, const char *arg)
{
    (void)arg;
    smtpd_reply(s, "214 2.0.0 Commands: EHLO HELO AUTH MAIL RCPT DATA BDAT RSET NOOP VRFY HELP "
                   "QUIT");
}

static void cmd_quit(smtpd_state *s, const char *arg)
{
    (void)arg;
    smtpd_reply(s, "221 2.0.0 Bye");
    s->quit = 1;
}

static const smtpd_cmd commands[] = {
    {"EHLO", "ehlo", SMTPD_STAGE_ANY, CMD_LAST, cmd_ehlo},
    {"HELO", "helo", SMTPD_STAGE_ANY, CMD_LAST, cmd_helo},
    /* AUTH checks the stage itself: its 503 texts are its own. */
    {"STARTTLS", "starttls", SMTPD_STAGE_ANY, CMD_LAST, smtpd_tls_starttls},
    /* AUTH checks the stage itself: its 503 texts are its own. */
    {"AUTH", "auth", SMTPD_STAGE_ANY, CMD_LAST | CMD_TLS_FIRST, smtpd_sasl_auth},
    {"MAIL", "mail", SMTPD_STAGE_NO_MAIL, CMD_TLS_FIRST, cmd_mail},
    {"RCPT", "rcpt", SMTPD_STAGE_MAIL, 0, cmd_rcpt},
    {"DATA", "data", SMTPD_STAGE_RCPT, CMD_LAST, cmd_data},
    {"BDAT", "bdat", SMTPD_STAGE_ANY, 0, smtpd_bdat},
    {"RSET", "rset", SMTPD_STAGE_ANY, CMD_JUNK, cmd_rset},
    {"NOOP", "noop", SMTPD_STAGE_ANY, CMD_LAST | CMD_JUNK, cmd_noop},
    {"VRFY", "vrfy", SMTPD_STAGE_ANY, CMD_LAST | CMD_JUNK | CMD_TLS_FIRST, cmd_vrfy},
    {"HELP", "help", SMTPD_STAGE_ANY, CMD_LAST, cmd_help},
    {"QUIT", "quit", SMTPD_STAGE_ANY, CMD_LAST, cmd_quit},
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

_Static_assert(NCOMMANDS <= sizeof(((smtpd_state *)0)->cmd_total) / sizeof(unsigned),
               "smtpd_state counts every command");

/* The stage a command needs, given how far the transaction is. */
static int stage_ok(const smtpd_state *s, int need)
{
    switch (need) {
    case SMTPD_STAGE_NO_MAIL:
        return s->stage == SMTPD_STAGE_NO_MAIL;
    case SMTPD_STAGE_MAIL:
        return s->stage >= SMTPD_STAGE_MAIL;
    case SMTPD_STAGE_RCPT:
        return s->stage == SMTPD_STAGE_RCPT;
    default:
        return 1;
    }
}

void smtpd_command(smtpd_state *s)
{
    const char *line = vstr_str(&s->line);
    size_t vlen = strcspn(line, " ");
    const char *arg = line + vlen;
    size_t i;

    while (*arg == ' ')
        arg++;
    for (i = 0; i < NCOMMANDS; i++)
        if (strlen(commands[i].verb) == vlen && strncasecmp(line, commands[i].verb, vlen) == 0)
            break;
    if (i == NCOMMANDS) {
        s->unknown_total++;
        s->where = "UNKNOWN";
        if (vlen == 0)
            smtpd_reply(s, "500 5.5.2 Error: bad syntax");
        else
            smtpd_reply(s, "502 5.5.2 Error: command not recognized");
        return;
    }
    s->where = commands[i].verb;
    s->cmd_total[i]++;
    if (s->access_denied && commands[i].handler != cmd_quit) {
        /* smtpd_client_restrictions refused the connection (delay_reject = no). */
        smtpd_reply(s, "503 5.7.0 Error: access denied for %s", vstr_str(&s->namaddr));
        return;
    }
    if ((commands[i].flags & CMD_JUNK) && ++s->junk_count > smtpd_cf.junk_command_limit)
        s->error_count++;
    /* Before EHLO nothing may be pipelined; after it, only up to a
     * command that ends a group. */
    if (((commands[i].flags & CMD_LAST) || strcmp(s->protocol, "ESMTP") != 0) &&
        vstream_read_pending(s->client) > 0 && smtpd_pipelining_violation(s, commands[i].verb))
        return;
    if ((commands[i].flags & CMD_TLS_FIRST) && smtpd_tls_required(s)) {
        smtpd_reply(s, "530 5.7.0 Must issue a STARTTLS command first");
        return;
    }
    if (!stage_ok(s, commands[i].stage)) {
        /* As Postfix: a transaction whose recipients were all refused
         * has no valid recipients; without MAIL, RCPT is what is missing. */
        smtpd_reply(s, "%s",
                    commands[i].stage == SMTPD_STAGE_RCPT && s->stage == SMTPD_STAGE_MAIL
                        ? "554 5.5.1 Error: no valid recipients"
                        : stage_errors[commands[i].stage]);
        return;
    }
    commands[i].handler(s, arg);
    if (s->last_code < 400)
        s->cmd_ok[i]++;
}

void smtpd_command_stats(const smtpd_state *s, vstr *out)
{
    unsigned total = s->unknown_total, ok = 0;

    vstr_reset(out);
    for (size_t i = 0; i < NCOMMANDS; i++) {
        if (s->cmd_total[i] == 0)
            continue;
        total += s->cmd_total[i];
        ok += s->cmd_ok[i];
        if (s->cmd_ok[i] == s->cmd_total[i])
            vstr_append_fmt(out, " %s=%u", commands[i].stat_name, s->cmd_total[i]);
        else
            vstr_append_fmt(out, " %s=%u/%u", commands[i].stat_name, s->cmd_ok[i],
                            s->cmd_total[i]);
    }
    if (s->unknown_total)
        vstr_append_fmt(out, " unknown=0/%u", s->unknown_total);
    if (ok == total)
        vstr_append_fmt(out, " commands=%u", total);
    else
        vstr_append_fmt(out, " commands=%u/%u", ok, total);
}
