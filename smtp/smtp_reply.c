/*
 * smtp_reply - read one SMTP/LMTP reply
 *
 * A reply is one or more lines "CCC-text" ending with "CCC text" (or a
 * bare "CCC"), all with the same code. Lines are bounded by
 * SMTP_REPLY_LINE_MAX (the rest of a longer line is read and dropped)
 * and a reply by SMTP_REPLY_LINES_MAX lines; the whole reply shares one
 * deadline, so a server that trickles bytes cannot stretch it.
 *
 * The enhanced status code (RFC 3463) is taken from the text after the
 * code when it is there and of the same class; else it is the class
 * followed by ".0.0".
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "global/dsn.h"
#include "smtp/smtp.h"

void smtp_reply_init(smtp_reply *r)
{
    r->code = 0;
    r->dsn[0] = 0;
    vstr_init(&r->text);
    vstr_init(&r->lines);
}

void smtp_reply_release(smtp_reply *r)
{
    vstr_release(&r->text);
    vstr_release(&r->lines);
}

/* The enhanced code at the start of text, if it is one of class c. */
static void take_dsn(smtp_reply *r, const char *text)
{
    char buf[16];
    size_t n = strspn(text, "0123456789.");

    if (n > 0 && n < sizeof(buf)) {
        memcpy(buf, text, n);
        buf[n] = 0;
        if (dsn_status_valid(buf) && buf[0] == '0' + r->code / 100 &&
            (text[n] == 0 || text[n] == ' ')) {
            memcpy(r->dsn, buf, n + 1);
            return;
        }
    }
    snprintf(r->dsn, sizeof(r->dsn), "%d.0.0", r->code / 100);
}

/* Read one line without its CRLF into line; 0, or -1 with why. */
static int read_line(vstream *s, vstr *line, vstr *why)
{
    vstr rest = VSTR_INIT;
    vstream_status st = vstream_get_line(s, line, SMTP_REPLY_LINE_MAX);

    while (st == VSTREAM_TOOLONG)
        st = vstream_get_line(s, &rest, SMTP_REPLY_LINE_MAX);
    vstr_release(&rest);
    if (st == VSTREAM_TIMEOUT) {
        vstr_set_str(why, "timeout");
        return -1;
    }
    if (st != VSTREAM_OK) {
        vstr_set_str(why, "lost connection");
        return -1;
    }
    while (vstr_len(line) > 0 && (vstr_str(line)[vstr_len(line) - 1] == '\n' ||
                                  vstr_str(line)[vstr_len(line) - 1] == '\r'))
        vstr_truncate(line, vstr_len(line) - 1);
    return 0;
}

int smtp_reply_read(vstream *s, int timeout_ms, smtp_reply *r, vstr *why)
{
    vstr line = VSTR_INIT;
    int status = -1, started;

    r->code = 0;
    vstr_reset(&r->text);
    vstr_reset(&r->lines);
    vstream_set_timeout(s, timeout_ms);
    started = vstream_begin_deadline(s, timeout_ms);
    for (int n = 0; n < SMTP_REPLY_LINES_MAX; n++) {
        const char *p;
        int code;

        if (read_line(s, &line, why) < 0)
            goto done;
        p = vstr_str(&line);
        if (vstr_len(&line) < 3 || !isdigit((unsigned char)p[0]) || p[0] < '2' || p[0] > '5' ||
            !isdigit((unsigned char)p[1]) || !isdigit((unsigned char)p[2]) ||
            (p[3] != 0 && p[3] != ' ' && p[3] != '-')) {
            vstr_set_fmt(why, "malformed reply: %.100s", p);
            goto done;
        }
        code = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
        if (n > 0 && code != r->code) {
            vstr_set_str(why, "reply lines with different codes");
            goto done;
        }
        if (n == 0) {
            r->code = code;
            take_dsn(r, p[3] ? p + 4 : "");
        }
        if (n == 0)
            vstr_append(&r->text, p, 3);
        if (p[3] && p[4]) {
            vstr_append_char(&r->text, ' ');
            vstr_append_str(&r->text, p + 4);
        }
        vstr_append_str(&r->lines, p[3] ? p + 4 : "");
        vstr_append_char(&r->lines, '\n');
        if (p[3] != '-') {
            status = 0;
            goto done;
        }
    }
    vstr_set_str(why, "reply with too many lines");
done:
    if (started)
        vstream_end_deadline(s);
    vstr_release(&line);
    return status;
}
