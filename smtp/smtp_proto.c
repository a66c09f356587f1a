/*
 * smtp_proto - one SMTP or LMTP session per request
 *
 * Servers are tried in the order smtp_addr gave them (the fallback
 * relays last). A server that cannot be used (no connection, a greeting
 * or EHLO that is not 2xx, a timeout or lost connection before MAIL) is
 * skipped for the next, except that a 5xx greeting with
 * smtp_skip_5xx_greeting = no bounces every recipient with it; when
 * none is left, every recipient is deferred with the last reason (4.4.1
 * for a connection failure), and qmgr hears that the site failed.
 *
 * The transaction: MAIL, one RCPT per recipient, DATA. With PIPELINING
 * all three kinds go out in one write and the replies are read in order
 * (RFC 2920); without it each command waits for the previous reply, and
 * nothing follows a refused MAIL. A refused RCPT answers its recipient
 * at once; DATA goes only when one RCPT was accepted (pipelined: always,
 * then a 354 with nobody accepted gets an empty message). After the
 * final dot, SMTP has one reply for all accepted recipients, LMTP one
 * per accepted recipient in RCPT order (RFC 2033). A connection lost or
 * timed out inside the transaction defers whoever has no answer yet.
 *
 * Extensions used when the server offers them: SIZE (the size is sent
 * and a message too large for the announced limit bounced before DATA,
 * 5.3.4), 8BITMIME (BODY=8BITMIME for mail that says it is 8-bit), DSN
 * (RET, ENVID, NOTIFY, ORCPT from the queue file; xtext per RFC 3461),
 * SMTPUTF8 (for mail flagged so; when a server lacks it and an envelope
 * address is not ASCII, the recipients bounce with 5.6.7).
 *
 * Connection reuse (Postfix's connection cache, with
 * smtp_connection_cache_on_demand = yes taken as "always": qmgr does not
 * tell an agent about a backlog). A session whose request ended cleanly
 * (not broken, every recipient answered) is kept open instead of QUIT,
 * and the next request to the same next hop (the nexthop string as qmgr
 * sent it, which holds the port and, for MX lookups, the domain) uses it
 * without resolving the next hop again. Before reuse the session must
 * answer RSET with 250 within a short time; when it does not, it is
 * closed and the request connects afresh, with nothing reported and no
 * failure counted against the destination. One agent serves one request
 * at a time, so it keeps one session; a request for another next hop
 * QUITs it. It is also QUIT after smtp_connection_cache_time_limit idle,
 * and not kept again once smtp_connection_reuse_time_limit after it was
 * opened or after smtp_connection_reuse_count_limit reuses (0: no limit).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "global/rec.h"
#include "global/smtputf8.h"
#include "global/xtext.h"
#include "smtp/smtp.h"
#include "util/clock.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/sock.h"

/* How long a kept session has to answer the RSET before reuse, and its
 * QUIT when it is closed from the loop (the agent is idle then and must
 * not hang on a silent server). */
#define SMTP_PROBE_TIMEOUT_MS (10 * 1000)

typedef struct session {
    smtp_request *r; /* NULL while kept between requests */
    vstream *s;
    smtp_reply reply;
    vstr why;   /* why the session broke */
    int broken; /* lost, timed out or garbage: no more commands */
    const char *fail_dsn; /* the status of why when not the default */
    tls_conn *tls;        /* NULL: plaintext */
    tls_trust trust;
    /* What the server offered. */
    int pipelining, eight_bit, dsn, smtputf8, starttls;
    long long size_limit; /* 0: no limit announced; -1: no SIZE */
    vstr auth;            /* AUTH mechanisms, "" when none */
    int authenticated;    /* logged in (smtp_sasl.c) */
    char auth_dsn[16];    /* fail_dsn of a refused login */
} session;

/* Command names for "in reply to X command" and "while sending X". */
static const char *const step_name[] = {"MAIL FROM", "RCPT TO", "DATA"};
enum { STEP_MAIL, STEP_RCPT, STEP_DATA };

/* Read the reply to what; 0, or -1 with the session broken and why set. */
static int read_reply(session *ss, int timeout_ms, const char *what)
{
    vstr err = VSTR_INIT;
    int status = 0;
    const char *relay = ss->r ? vstr_str(&ss->r->relay) : "the server";

    if (ss->broken)
        return -1;
    if (smtp_reply_read(ss->s, timeout_ms, &ss->reply, &err) < 0) {
        ss->broken = 1;
        if (vstr_equals(&err, "timeout"))
            vstr_set_fmt(&ss->why, "conversation with %s timed out while %s", relay, what);
        else
            vstr_set_fmt(&ss->why, "%s with %s while %s", vstr_str(&err), relay, what);
        status = -1;
    }
    vstr_release(&err);
    return status;
}

/* "host X said: 550 ... (in reply to Y command)" */
static void said(session *ss, vstr *out, const char *cmd)
{
    vstr_set_fmt(out, "host %s said: %s (in reply to %s command)", vstr_str(&ss->r->relay),
                 vstr_str(&ss->reply.text), cmd);
}

static void parse_features(session *ss)
{
    const char *p = strchr(vstr_str(&ss->reply.lines), '\n');

    ss->pipelining = ss->eight_bit = ss->dsn = ss->smtputf8 = ss->starttls = 0;
    ss->size_limit = -1;
    vstr_reset(&ss->auth);
    while (p && *++p) {
        const char *end = strchr(p, '\n');
        size_t len = (size_t)(end - p);
        size_t kw = strcspn(p, " \n");

        if (kw == 10 && strncasecmp(p, "PIPELINING", kw) == 0)
            ss->pipelining = 1;
        else if (kw == 8 && strncasecmp(p, "8BITMIME", kw) == 0)
            ss->eight_bit = 1;
        else if (kw == 3 && strncasecmp(p, "DSN", kw) == 0)
            ss->dsn = 1;
        else if (kw == 8 && strncasecmp(p, "SMTPUTF8", kw) == 0)
            ss->smtputf8 = 1;
        else if (kw == 8 && strncasecmp(p, "STARTTLS", kw) == 0)
            ss->starttls = 1;
        else if (kw == 4 && strncasecmp(p, "SIZE", kw) == 0)
            ss->size_limit = kw < len ? strtoll(p + kw + 1, NULL, 10) : 0;
        else if (kw == 4 && strncasecmp(p, "AUTH", kw) == 0 && kw < len)
            vstr_set(&ss->auth, p + kw + 1, len - kw - 1);
        else if (kw >= 5 && strncasecmp(p, "AUTH=", 5) == 0 && vstr_len(&ss->auth) == 0)
            vstr_set(&ss->auth, p + 5, len - 5); /* the old form, when that is all there is */
        p = end;
    }
}

/* A failure of the TLS policy: why, 4.7.5, try the next server. */
static int __attribute__((format(printf, 2, 3))) tls_fail(session *ss, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vstr_reset(&ss->why);
    vstr_append_vfmt(&ss->why, fmt, ap);
    va_end(ap);
    ss->fail_dsn = "4.7.5";
    return -1;
}

/* After a handshake at level: refuse a certificate the level does not
 * accept (0, or -1 with why). */
static int check_trust(session *ss, tls_level level)
{
    const char *what = ss->trust == TLS_TRUST_TRUSTED     ? "name mismatch in the"
                       : ss->trust == TLS_TRUST_ANONYMOUS ? "no"
                                                          : "untrusted";

    if (level >= TLS_LEV_VERIFY && ss->trust != TLS_TRUST_VERIFIED)
        return tls_fail(ss, "Server certificate not verified (host %s: %s certificate)",
                        vstr_str(&ss->r->relay), what);
    return 0;
}

/* smtp_tls_note_starttls_offer: a server offers STARTTLS that we do not
 * use with it. */
static int note_offer(session *ss)
{
    if (ss->starttls && smtp_cf.tls_note_starttls_offer)
        msg_info("Host offered STARTTLS: [%s]", ss->r->server->host);
    return 0;
}

/* STARTTLS after EHLO, as the request's TLS policy says (smtp_tls.c):
 * 0 (TLS, and EHLO again; or plaintext where the policy allows it), -1
 * with why (next server), -3 (may: the handshake failed, so this server
 * again in plaintext). */
static int start_tls(session *ss)
{
    smtp_request *r = ss->r;
    tls_level level;
    int required;
    vstr err = VSTR_INIT;

    if (ss->tls) /* wrapper mode: TLS since the first byte */
        return 0;
    if (r->tls.level == TLS_LEV_NONE || smtp_cf.lmtp)
        return note_offer(ss);
    if (smtp_tls_server_level(r, r->server, &level, &err) < 0) {
        tls_fail(ss, "%s", vstr_str(&err));
        vstr_release(&err);
        return -1;
    }
    required = tls_level_required(level);
    if (r->tls_plain && !required)
        return note_offer(ss);
    if (!ss->starttls)
        return required ? tls_fail(ss, "TLS is required, but was not offered by host %s",
                                   vstr_str(&r->relay))
                        : 0;
    vstream_puts(ss->s, "STARTTLS\r\n");
    if (read_reply(ss, smtp_cf.starttls_timeout, "receiving the STARTTLS reply") < 0)
        return -1;
    if (ss->reply.code / 100 != 2)
        return required ? tls_fail(ss, "TLS is required, but host %s refused to start TLS: %s",
                                   vstr_str(&r->relay), vstr_str(&ss->reply.text))
                        : 0;
    if (vstream_read_pending(ss->s) > 0) {
        /* Bytes after the 220 would be taken as TLS: a broken server. */
        ss->broken = 1;
        vstr_set_fmt(&ss->why, "host %s sent data after its STARTTLS reply", vstr_str(&r->relay));
        return -1;
    }
    ss->tls = smtp_tls_handshake(r, ss->s, level, &ss->trust, &err);
    if (ss->tls == NULL) {
        ss->broken = 1; /* the stream is unusable now */
        vstr_set(&ss->why, vstr_str(&err), vstr_len(&err));
        vstr_release(&err);
        if (!required) {
            msg_info("%s: %s; trying %s again without TLS", r->req.queue_id,
                     vstr_str(&ss->why), vstr_str(&r->relay));
            return -3;
        }
        ss->fail_dsn = "4.7.5";
        return -1;
    }
    vstr_release(&err);
    if (check_trust(ss, level) < 0)
        return -1;
    /* RFC 3207: forget what was learned before TLS and ask again. */
    vstream_printf(ss->s, "EHLO %s\r\n", smtp_cf.helo_name);
    if (read_reply(ss, smtp_cf.helo_timeout, "receiving the EHLO reply after STARTTLS") < 0)
        return -1;
    if (ss->reply.code / 100 != 2) {
        said(ss, &ss->why, "EHLO");
        return -1;
    }
    parse_features(ss);
    return 0;
}

/* smtp_tls_wrappermode: the handshake before the greeting (RFC 8314
 * implicit TLS, port 465). Such a server speaks nothing but TLS, so the
 * level is at least encrypt whatever the policy says: there is no
 * plaintext to fall back to. 0, or -1 with why (next server). */
static int wrapper_tls(session *ss)
{
    smtp_request *r = ss->r;
    tls_level level;
    vstr err = VSTR_INIT;

    if (smtp_tls_server_level(r, r->server, &level, &err) < 0) {
        tls_fail(ss, "%s", vstr_str(&err));
        vstr_release(&err);
        return -1;
    }
    if (!tls_level_required(level))
        level = TLS_LEV_ENCRYPT;
    ss->tls = smtp_tls_handshake(r, ss->s, level, &ss->trust, &err);
    if (ss->tls == NULL) {
        ss->broken = 1;
        vstr_set(&ss->why, vstr_str(&err), vstr_len(&err));
        vstr_release(&err);
        ss->fail_dsn = "4.7.5";
        return -1;
    }
    vstr_release(&err);
    return check_trust(ss, level);
}

/* Greeting and EHLO/LHLO (HELO after a 5xx EHLO); 0, or -1 with why
 * (try the next server), or -2 when a 5xx greeting is final
 * (smtp_skip_5xx_greeting = no: the reply decides for every recipient),
 * or -3 from start_tls. */
static int session_start(session *ss)
{
    const char *helo = smtp_cf.helo_name;

    if (smtp_cf.tls_wrappermode && !smtp_cf.lmtp && wrapper_tls(ss) < 0)
        return -1;
    if (read_reply(ss, smtp_cf.helo_timeout, "receiving the initial server greeting") < 0)
        return -1;
    if (ss->reply.code / 100 != 2) {
        vstr_set_fmt(&ss->why, "host %s refused to talk to me: %s", vstr_str(&ss->r->relay),
                     vstr_str(&ss->reply.text));
        return ss->reply.code / 100 == 5 && !smtp_cf.skip_5xx_greeting ? -2 : -1;
    }
    if (smtp_cf.lmtp || !smtp_cf.never_send_ehlo) {
        vstream_printf(ss->s, "%s %s\r\n", smtp_cf.lmtp ? "LHLO" : "EHLO", helo);
        if (read_reply(ss, smtp_cf.helo_timeout,
                       smtp_cf.lmtp ? "receiving the LHLO reply" : "receiving the EHLO reply") < 0)
            return -1;
        if (ss->reply.code / 100 == 2) {
            parse_features(ss);
            return start_tls(ss);
        }
        if (smtp_cf.lmtp || ss->reply.code / 100 != 5) {
            said(ss, &ss->why, smtp_cf.lmtp ? "LHLO" : "EHLO");
            return -1;
        }
    }
    ss->size_limit = -1;
    vstream_printf(ss->s, "HELO %s\r\n", helo);
    if (read_reply(ss, smtp_cf.helo_timeout, "receiving the HELO reply") < 0)
        return -1;
    if (ss->reply.code / 100 != 2) {
        said(ss, &ss->why, "HELO");
        return -1;
    }
    return start_tls(ss);
}

/* text as RFC 3461 xtext on s. */
static void put_xtext(vstream *s, const char *text)
{
    vstr x = VSTR_INIT;

    xtext_encode(&x, text);
    vstream_puts(s, vstr_str(&x));
    vstr_release(&x);
}

static void write_mail(session *ss)
{
    smtp_request *r = ss->r;
    const char *body = attr_get(r->req.attrs, "body_type");
    const char *utf8 = attr_get(r->req.attrs, "smtputf8");

    vstream_printf(ss->s, "MAIL FROM:<%s>", r->req.sender);
    if (ss->size_limit >= 0)
        vstream_printf(ss->s, " SIZE=%lld", r->env->size_content_bytes);
    if (ss->eight_bit && body && strcasecmp(body, "8BITMIME") == 0)
        vstream_puts(ss->s, " BODY=8BITMIME");
    if (ss->smtputf8 && utf8 && strcmp(utf8, "1") == 0)
        vstream_puts(ss->s, " SMTPUTF8");
    if (ss->dsn && *r->req.dsn_ret)
        vstream_printf(ss->s, " RET=%s", r->req.dsn_ret);
    if (ss->dsn && *r->req.dsn_envid) {
        vstream_puts(ss->s, " ENVID=");
        put_xtext(ss->s, r->req.dsn_envid);
    }
    vstream_puts(ss->s, "\r\n");
}

static void write_rcpt(session *ss, const deliver_rcpt *rcpt)
{
    vstream_printf(ss->s, "RCPT TO:<%s>", rcpt->address);
    if (ss->dsn && rcpt->dsn_notify) {
        int n = rcpt->dsn_notify;

        if (n & REC_DSN_NOTIFY_NEVER)
            vstream_puts(ss->s, " NOTIFY=NEVER");
        else
            vstream_printf(ss->s, " NOTIFY=%s%s%s%s%s",
                           n & REC_DSN_NOTIFY_SUCCESS ? "SUCCESS" : "",
                           (n & REC_DSN_NOTIFY_SUCCESS) && (n & 12) ? "," : "",
                           n & REC_DSN_NOTIFY_FAILURE ? "FAILURE" : "",
                           (n & REC_DSN_NOTIFY_FAILURE) && (n & REC_DSN_NOTIFY_DELAY) ? "," : "",
                           n & REC_DSN_NOTIFY_DELAY ? "DELAY" : "");
    }
    if (ss->dsn && *rcpt->dsn_orcpt) {
        const char *semi = strchr(rcpt->dsn_orcpt, ';');

        vstream_printf(ss->s, " ORCPT=%.*s;", semi ? (int)(semi - rcpt->dsn_orcpt) : 6,
                       semi ? rcpt->dsn_orcpt : "rfc822");
        put_xtext(ss->s, semi ? semi + 1 : rcpt->dsn_orcpt);
    }
    vstream_puts(ss->s, "\r\n");
}

/* A reason for every recipient still without one, from the reply. */
static void reply_to_rest(session *ss, const char *cmd)
{
    vstr why = VSTR_INIT;

    said(ss, &why, cmd);
    smtp_result_rest(ss->r, ss->reply.dsn, vstr_str(&ss->reply.text), "%s", vstr_str(&why));
    vstr_release(&why);
}

/* Checks before MAIL that can decide the message's fate at once. */
static int precheck(session *ss)
{
    smtp_request *r = ss->r;
    const char *utf8 = attr_get(r->req.attrs, "smtputf8");
    int needs_utf8 = smtputf8_address(r->req.sender);

    for (size_t i = 0; i < r->req.rcpt_count; i++)
        needs_utf8 |= smtputf8_address(r->req.rcpts[i].address);
    if (!ss->smtputf8 && needs_utf8 && utf8 && strcmp(utf8, "1") == 0) {
        smtp_result_rest(r, "5.6.7", NULL, "SMTPUTF8 is required, but was not offered by host %s",
                         vstr_str(&r->relay));
        return -1;
    }
    if (ss->size_limit > 0 && r->env->size_content_bytes > ss->size_limit) {
        smtp_result_rest(r, "5.3.4", NULL,
                         "message size %lld exceeds size limit %lld of server %s",
                         r->env->size_content_bytes, ss->size_limit, vstr_str(&r->relay));
        return -1;
    }
    return 0;
}

/* After the final dot: the result(s). */
static void data_done(session *ss, size_t *accepted, size_t naccepted)
{
    smtp_request *r = ss->r;
    size_t replies = smtp_cf.lmtp ? naccepted : 1;
    vstr why = VSTR_INIT;

    for (size_t k = 0; k < replies; k++) {
        if (read_reply(ss, smtp_cf.data_done_timeout,
                       "sending end of data -- message may be sent more than once") < 0)
            break;
        for (size_t j = smtp_cf.lmtp ? k : 0; j < (smtp_cf.lmtp ? k + 1 : naccepted); j++) {
            if (ss->reply.code / 100 == 2) {
                smtp_result(r, accepted[j], ss->reply.dsn, vstr_str(&ss->reply.text), "%s",
                            vstr_str(&ss->reply.text));
            } else {
                said(ss, &why, "end of DATA");
                smtp_result(r, accepted[j], ss->reply.dsn, vstr_str(&ss->reply.text), "%s",
                            vstr_str(&why));
            }
        }
    }
    vstr_release(&why);
}

static void transaction(session *ss)
{
    smtp_request *r = ss->r;
    size_t n = r->req.rcpt_count, naccepted = 0;
    size_t *accepted = mem_calloc(n ? n : 1, sizeof(size_t));
    int mail_ok = 0, data_ok = 0;
    vstr err = VSTR_INIT;

    if (precheck(ss) < 0)
        goto done;
    if (ss->pipelining) {
        write_mail(ss);
        for (size_t i = 0; i < n; i++)
            write_rcpt(ss, &r->req.rcpts[i]);
        vstream_puts(ss->s, "DATA\r\n");
    }
    for (int step = STEP_MAIL; step <= STEP_DATA; step++) {
        size_t count = step == STEP_RCPT ? n : 1;

        for (size_t i = 0; i < count; i++) {
            vstr what = VSTR_INIT;
            int timeout = step == STEP_MAIL   ? smtp_cf.mail_timeout
                          : step == STEP_RCPT ? smtp_cf.rcpt_timeout
                                              : smtp_cf.data_init_timeout;

            if (!ss->pipelining) {
                if ((step != STEP_MAIL && !mail_ok) || (step == STEP_DATA && naccepted == 0))
                    break;
                if (step == STEP_MAIL)
                    write_mail(ss);
                else if (step == STEP_RCPT)
                    write_rcpt(ss, &r->req.rcpts[i]);
                else
                    vstream_puts(ss->s, "DATA\r\n");
            }
            vstr_set_fmt(&what, "sending %s", step_name[step]);
            if (read_reply(ss, timeout, vstr_str(&what)) < 0) {
                vstr_release(&what);
                goto done;
            }
            vstr_release(&what);
            if (step == STEP_MAIL) {
                mail_ok = ss->reply.code / 100 == 2;
                if (!mail_ok)
                    reply_to_rest(ss, step_name[step]);
            } else if (step == STEP_RCPT && mail_ok) {
                if (ss->reply.code / 100 == 2) {
                    accepted[naccepted++] = i;
                } else {
                    said(ss, &err, step_name[step]);
                    smtp_result(r, i, ss->reply.dsn, vstr_str(&ss->reply.text), "%s",
                                vstr_str(&err));
                }
            } else if (step == STEP_DATA) {
                data_ok = ss->reply.code == 354;
                if (!data_ok && mail_ok && naccepted > 0)
                    reply_to_rest(ss, step_name[step]);
            }
        }
    }
    if (!data_ok)
        goto done;
    if (naccepted == 0) {
        /* Pipelined: DATA was accepted with nobody to deliver to. */
        vstream_puts(ss->s, ".\r\n");
        read_reply(ss, smtp_cf.data_done_timeout, "sending end of data");
        goto done;
    }
    if (queue_file_rewind_content(r->reader) < 0) {
        smtp_result_rest(r, "4.3.0", NULL, "cannot read queue file: %s",
                         queue_file_error(r->reader));
        ss->broken = 1;
        goto done;
    }
    switch (smtp_data_send(ss->s, r->reader, &err)) {
    case -1:
        smtp_result_rest(r, "4.3.0", NULL, "%s", vstr_str(&err));
        ss->broken = 1;
        goto done;
    case -2:
        ss->broken = 1;
        vstr_set_fmt(&ss->why, "%s with %s while sending message body",
                     vstr_equals(&err, "timeout") ? "conversation timed out" : "lost connection",
                     vstr_str(&r->relay));
        goto done;
    }
    data_done(ss, accepted, naccepted);
done:
    if (ss->broken)
        smtp_result_rest(r, "4.4.2", NULL, "%s", vstr_str(&ss->why));
    vstr_release(&err);
    mem_free(accepted);
}

/* AUTH after EHLO (smtp_sasl.c), as session_start answers: 0 (logged in
 * or not needed), -1 (the next server; fail_dsn says how to defer), -2
 * (the reply bounces everyone). */
static int session_auth(session *ss)
{
    switch (smtp_sasl_login(ss->r, ss->s, vstr_str(&ss->auth), ss->tls != NULL, &ss->reply,
                            &ss->why)) {
    case SMTP_SASL_NONE:
        return 0;
    case SMTP_SASL_OK:
        ss->authenticated = 1;
        return 0;
    case SMTP_SASL_BOUNCE:
        return -2;
    case SMTP_SASL_BROKEN:
        ss->broken = 1;
        return -1;
    default:
        /* The server's 5xx is its final word on this login, not on the
         * mail: defer (smtp_sasl_auth_soft_bounce), as 4.X.Y. */
        snprintf(ss->auth_dsn, sizeof(ss->auth_dsn), "4%s",
                 ss->reply.code >= 400 && ss->reply.dsn[0] ? ss->reply.dsn + 1 : ".7.0");
        ss->fail_dsn = ss->auth_dsn;
        return -1;
    }
}

static int connect_server(const smtp_server *srv, vstr *why)
{
    int timeout = smtp_cf.connect_timeout;

    if (srv->path)
        return sock_connect_unix(srv->path, timeout, why);
    return sock_connect_addr((const struct sockaddr *)&srv->sa, srv->salen, timeout, why);
}

static session *session_open(smtp_request *r, int fd)
{
    session *ss = mem_calloc(1, sizeof(*ss));

    ss->r = r;
    ss->s = vstream_fdopen(fd, VSTREAM_READ | VSTREAM_WRITE);
    smtp_reply_init(&ss->reply);
    vstr_init(&ss->why);
    vstr_init(&ss->auth);
    return ss;
}

/* QUIT (unless broken) within quit_ms, then close and free. */
static void session_close(session *ss, int quit_ms)
{
    if (!ss->broken) {
        vstream_puts(ss->s, "QUIT\r\n");
        read_reply(ss, quit_ms, "sending QUIT");
    }
    if (ss->tls)
        tls_conn_free(ss->tls);
    vstream_close(ss->s);
    smtp_reply_release(&ss->reply);
    vstr_release(&ss->why);
    vstr_release(&ss->auth);
    mem_free(ss);
}

/* ---- Connection reuse ---- */

static struct {
    session *ss;        /* NULL: none kept */
    char *nexthop;      /* the next hop of the request that opened it */
    smtp_server server; /* a copy: each request's server list is freed */
    int uses;           /* requests carried */
    int64_t opened_ms;  /* monotonic, when connected */
    int64_t idle_ms;    /* monotonic, when its last request ended */
} kept;

static void server_copy(smtp_server *to, const smtp_server *from)
{
    *to = *from;
    to->host = mem_strdup(from->host);
    to->path = from->path ? mem_strdup(from->path) : NULL;
}

static void server_release(smtp_server *s)
{
    mem_free(s->host);
    mem_free(s->path);
    memset(s, 0, sizeof(*s));
}

void smtp_cache_close(void)
{
    if (kept.ss == NULL)
        return;
    session_close(kept.ss, SMTP_PROBE_TIMEOUT_MS);
    kept.ss = NULL;
    mem_free(kept.nexthop);
    kept.nexthop = NULL;
    server_release(&kept.server);
}

int smtp_cache_expire(void)
{
    int64_t left;

    if (kept.ss == NULL)
        return -1;
    left = kept.idle_ms + smtp_cf.cache_time_limit - clock_mono_ms();
    if (left > 0)
        return left < 86400000 ? (int)left : 86400000;
    smtp_cache_close();
    return -1;
}

/* After the request: keep the session for the next one when it ended
 * cleanly and may be used again, else QUIT it. */
static void session_finish(session *ss, const smtp_server *srv, int uses, int64_t opened_ms)
{
    smtp_request *r = ss->r;
    int64_t now = clock_mono_ms();
    int clean = !ss->broken;

    for (size_t i = 0; i < r->req.rcpt_count && clean; i++)
        clean = r->rs[i].done;
    /* A login chosen by sender must not carry the next sender's mail. */
    if (ss->authenticated && smtp_sasl_per_sender())
        clean = 0;
    if (!clean || !smtp_cf.cache_on_demand || now - opened_ms >= smtp_cf.reuse_time_limit ||
        (smtp_cf.reuse_count_limit > 0 && uses > smtp_cf.reuse_count_limit)) {
        session_close(ss, smtp_cf.quit_timeout);
        return;
    }
    smtp_cache_close();
    ss->r = NULL;
    kept.ss = ss;
    kept.nexthop = mem_strdup(r->req.nexthop);
    server_copy(&kept.server, srv);
    kept.uses = uses;
    kept.opened_ms = opened_ms;
    kept.idle_ms = now;
}

int smtp_deliver_cached(smtp_request *r)
{
    session *ss = kept.ss;
    smtp_server srv;
    int uses = kept.uses;
    int64_t opened_ms = kept.opened_ms;

    if (ss == NULL)
        return 0;
    /* Another destination, or one whose policy asks for more than the
     * kept session has (TLS, a verified certificate): a fresh session. */
    if (strcasecmp(kept.nexthop, r->req.nexthop) != 0 ||
        (tls_level_required(r->tls.level) && ss->tls == NULL) ||
        (r->tls.level >= TLS_LEV_VERIFY && ss->trust != TLS_TRUST_VERIFIED)) {
        smtp_cache_close();
        return 0;
    }
    /* Take it out of the cache: from here on it is this request's. */
    srv = kept.server;
    memset(&kept.server, 0, sizeof(kept.server));
    mem_free(kept.nexthop);
    kept.nexthop = NULL;
    kept.ss = NULL;

    ss->r = r;
    r->server = &srv;
    smtp_server_text(&srv, &r->relay);
    vstream_puts(ss->s, "RSET\r\n");
    if (read_reply(ss, SMTP_PROBE_TIMEOUT_MS, "sending RSET") < 0 || ss->reply.code != 250) {
        msg_info("%s: cached session with %s unusable (%s): connecting afresh", r->req.queue_id,
                 vstr_str(&r->relay), ss->broken ? vstr_str(&ss->why) : vstr_str(&ss->reply.text));
        session_close(ss, SMTP_PROBE_TIMEOUT_MS);
        server_release(&srv);
        r->server = NULL;
        vstr_set_str(&r->relay, "none");
        return 0;
    }
    r->conn_use = uses + 1;
    r->server_dsn = ss->dsn;
    r->times.connected = delivery_log_now();
    transaction(ss);
    session_finish(ss, &srv, uses + 1, opened_ms);
    r->server = NULL;
    server_release(&srv);
    return 1;
}

int smtp_deliver(smtp_request *r, const smtp_servers *servers)
{
    vstr last = VSTR_INIT, err = VSTR_INIT;
    char last_dsn[16] = "4.4.1";

    for (size_t i = 0; i < servers->count; i++) {
        const smtp_server *srv = &servers->list[i];
        session *ss;
        int64_t opened_ms;
        int fd, status;

        if (i > 0 && r->server != srv)
            r->tls_plain = 0; /* the plaintext retry was for one server only */
        r->server = srv;
        smtp_server_text(srv, &r->relay);
        fd = connect_server(srv, &err);
        if (fd < 0) {
            vstr_set_fmt(&last, "connect to %s: %s", vstr_str(&r->relay), strerror(errno));
            snprintf(last_dsn, sizeof(last_dsn), "4.4.1");
            msg_info("%s: %s", r->req.queue_id, vstr_str(&last));
            continue;
        }
        opened_ms = clock_mono_ms();
        ss = session_open(r, fd);
        status = session_start(ss);
        if (status == 0)
            status = session_auth(ss);
        if (status == -2) {
            r->times.connected = delivery_log_now();
            smtp_result_rest(r, ss->reply.dsn, vstr_str(&ss->reply.text), "%s",
                             vstr_str(&ss->why));
            ss->broken = 1;
            session_close(ss, 0);
            break;
        }
        if (status == -3) {
            /* may: once more to the same server, without STARTTLS. */
            ss->broken = 1;
            session_close(ss, 0);
            r->tls_plain = 1;
            i--;
            continue;
        }
        if (status < 0) {
            vstr_set(&last, vstr_str(&ss->why), vstr_len(&ss->why));
            /* Copied: fail_dsn may point into the session. */
            snprintf(last_dsn, sizeof(last_dsn), "%s",
                     ss->fail_dsn ? ss->fail_dsn : ss->broken ? "4.4.2" : "4.4.0");
            msg_info("%s: %s", r->req.queue_id, vstr_str(&last));
            /* As before reuse: no QUIT to a server that would not talk. */
            ss->broken = 1;
            session_close(ss, 0);
        } else {
            r->conn_use = 1;
            r->server_dsn = ss->dsn;
            r->times.connected = delivery_log_now();
            transaction(ss);
            session_finish(ss, srv, 1, opened_ms);
            break;
        }
    }
    vstr_release(&err);
    if (r->times.connected >= r->times.received) {
        vstr_release(&last);
        return 0;
    }
    if (servers->count == 0)
        vstr_set_str(&last, "no server to connect to");
    smtp_result_rest(r, last_dsn, NULL, "%s", vstr_str(&last));
    vstr_release(&last);
    return 1;
}
