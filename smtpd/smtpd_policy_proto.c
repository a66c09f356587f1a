/*
 * smtpd_policy_proto - build policy requests, parse policy replies (the
 * format is in smtpd_policy.h); no session, no I/O
 */
#include <string.h>

#include "smtpd/smtpd_policy.h"

void policy_request_add(vstr *req, const char *name, const char *value)
{
    vstr_append_str(req, name);
    vstr_append_char(req, '=');
    for (const unsigned char *p = (const unsigned char *)value; *p; p++)
        vstr_append_char(req, *p < 0x20 || *p == 0x7f ? '?' : *p);
    vstr_append_char(req, '\n');
}

void policy_reply_init(policy_reply *r)
{
    vstr_init(&r->action);
    r->lines = 0;
}

void policy_reply_release(policy_reply *r)
{
    vstr_release(&r->action);
}

int policy_reply_line(policy_reply *r, const char *line, size_t len, vstr *why)
{
    const char *eq;

    if (len > 0 && line[len - 1] == '\r')
        len--;
    if (len == 0) {
        if (vstr_len(&r->action) == 0) {
            vstr_set_str(why, "the reply has no action");
            return -1;
        }
        return 1;
    }
    if (++r->lines > POLICY_LINES_MAX) {
        vstr_set_fmt(why, "the reply has more than %d lines", POLICY_LINES_MAX);
        return -1;
    }
    if (len > POLICY_LINE_MAX) {
        vstr_set_fmt(why, "a reply line is longer than %d bytes", POLICY_LINE_MAX);
        return -1;
    }
    /* The action's text may reach the SMTP reply: no CR (other than the
     * line's last), LF, NUL or other control byte. A tab is text. */
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)line[i];

        if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
            vstr_set_fmt(why, "a reply line holds the control byte 0x%02x", ch);
            return -1;
        }
    }
    if ((eq = memchr(line, '=', len)) == NULL) {
        vstr_set_fmt(why, "a reply line is not name=value: \"%.*s\"", (int)(len > 100 ? 100 : len),
                     line);
        return -1;
    }
    if ((size_t)(eq - line) != strlen("action") || strncmp(line, "action", 6) != 0)
        return 0; /* another attribute: ignored */
    if (vstr_len(&r->action) != 0) {
        vstr_set_str(why, "the reply has two actions");
        return -1;
    }
    vstr_set(&r->action, eq + 1, len - (size_t)(eq + 1 - line));
    if (vstr_len(&r->action) == 0) {
        vstr_set_str(why, "the reply's action is empty");
        return -1;
    }
    return 0;
}
