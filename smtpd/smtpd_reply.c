/*
 * smtpd_reply - replies to the client, and what they cost it
 *
 * Replies are buffered and written out when the client has nothing more
 * pending (the vstream also flushes before it waits for input): a
 * PIPELINING client gets one packet of replies per command group.
 *
 * Every 4xx or 5xx reply counts as an error. Once a session has made
 * smtpd_soft_error_limit errors, each further error reply waits
 * smtpd_error_sleep_time first (a tarpit for dictionary attacks); at
 * smtpd_hard_error_limit the session loop says 421 and hangs up.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "smtpd/smtpd.h"
#include "util/msg.h"

void smtpd_flush(smtpd_state *s)
{
    (void)vstream_flush(s->client);
}

static void send_reply(smtpd_state *s, const vstr *text)
{
    const char *p = vstr_str(text);
    int code = atoi(p);

    s->last_code = code;
    if (code >= 400) {
        if (s->error_count >= smtpd_cf.soft_error_limit && smtpd_cf.error_sleep_s > 0) {
            smtpd_flush(s);
            sleep((unsigned)smtpd_cf.error_sleep_s);
        }
        s->error_count++;
    }
    /* Lines separated by '\n'; all but the last say "CODE-". */
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);

        if (nl && n >= 4 && p[3] == ' ') {
            (void)vstream_write(s->client, p, 3);
            (void)vstream_putc(s->client, '-');
            (void)vstream_write(s->client, p + 4, n - 4);
        } else {
            (void)vstream_write(s->client, p, n);
        }
        (void)vstream_write(s->client, "\r\n", 2);
        p += n + (nl != NULL);
    }
    if (vstream_read_pending(s->client) == 0)
        smtpd_flush(s);
}

void smtpd_reply(smtpd_state *s, const char *fmt, ...)
{
    vstr text = VSTR_INIT;
    va_list ap;

    va_start(ap, fmt);
    vstr_append_vfmt(&text, fmt, ap);
    va_end(ap);
    send_reply(s, &text);
    vstr_release(&text);
}

void smtpd_log_event(const smtpd_state *s, const char *what, const char *cmd, const char *rcpt,
                     const char *text)
{
    vstr fields = VSTR_INIT;

    /* As Postfix: each field only once the session has it. */
    if (s->sender_given)
        vstr_append_fmt(&fields, " from=<%s>", vstr_str(&s->sender));
    if (rcpt != NULL)
        vstr_append_fmt(&fields, " to=<%s>", rcpt);
    vstr_append_fmt(&fields, " proto=%s", smtpd_protocol_name(s));
    if (vstr_len(&s->helo))
        vstr_append_fmt(&fields, " helo=<%s>", vstr_str(&s->helo));
    msg_info("%s: %s: %s from %s: %s;%s", s->cleanup ? cleanup_id(s->cleanup) : "NOQUEUE", what,
             cmd, vstr_str(&s->namaddr), text, vstr_str(&fields));
    vstr_release(&fields);
}

void smtpd_reject(smtpd_state *s, const char *cmd, const char *rcpt, const char *fmt, ...)
{
    vstr text = VSTR_INIT;
    va_list ap;

    va_start(ap, fmt);
    vstr_append_vfmt(&text, fmt, ap);
    va_end(ap);
    smtpd_log_event(s, "reject", cmd, rcpt, vstr_str(&text));
    send_reply(s, &text);
    vstr_release(&text);
}
