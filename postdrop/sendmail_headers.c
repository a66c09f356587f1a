/*
 * sendmail_headers - does a message for sendmail -t name any recipient?
 *
 * Postfix's sendmail refuses "sendmail -t" of a message whose headers
 * name nobody (EX_USAGE) instead of queueing mail that can only come
 * back. The recipients themselves are extracted later by cleanup; this
 * scan follows cleanup's rules just far enough to know whether there
 * will be any: the header block ends at the first line that is neither
 * a header nor a continuation, or where it would exceed
 * header_size_limit; the Resent- fields, when any is present, replace
 * To:, Cc: and Bcc:.
 */
#include <string.h>
#include <strings.h>

#include "global/addr_list.h"
#include "postdrop/sendmail.h"

/* The address fields, and which set they belong to. */
static const struct {
    const char *name;
    int kind;
} sendmail_rcpt_fields[] = {
    {"To", SENDMAIL_FIELD_PLAIN},         {"Cc", SENDMAIL_FIELD_PLAIN},
    {"Bcc", SENDMAIL_FIELD_PLAIN},        {"Resent-To", SENDMAIL_FIELD_RESENT},
    {"Resent-Cc", SENDMAIL_FIELD_RESENT}, {"Resent-Bcc", SENDMAIL_FIELD_RESENT},
};

/* Length of the field name when line starts a header ("Name:" or the
 * obsolete "Name :"), else 0. */
static size_t field_name_len(const char *s, size_t len)
{
    size_t n = strcspn(s, ": \t");

    if (n == 0 || n >= len)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f)
            return 0;
    return s[n + strspn(s + n, " \t")] == ':' ? n : 0;
}

void sendmail_header_scan_init(sendmail_header_scan *s, long long limit)
{
    memset(s, 0, sizeof(*s));
    s->limit = limit;
    vstr_init(&s->line);
    vstr_init(&s->value);
}

void sendmail_header_scan_release(sendmail_header_scan *s)
{
    vstr_release(&s->line);
    vstr_release(&s->value);
}

/* The field collected so far is complete: count its addresses. */
static void finish_field(sendmail_header_scan *s)
{
    addr_list *list;

    if (s->kind != SENDMAIL_FIELD_NONE) {
        list = addr_list_new(1);
        (void)addr_list_parse(list, vstr_str(&s->value), vstr_len(&s->value), NULL);
        s->rcpts[s->kind] += list->count;
        addr_list_free(list);
    }
    s->kind = SENDMAIL_FIELD_NONE;
    vstr_reset(&s->value);
}

/* One complete physical line of the header block. */
static void header_line(sendmail_header_scan *s, const char *data, size_t len)
{
    int continuation = len > 0 && (data[0] == ' ' || data[0] == '\t');
    size_t name_len = continuation ? 0 : field_name_len(data, len);

    if ((continuation && !s->fields) || (!continuation && name_len == 0) ||
        s->used + (long long)len > s->limit) {
        finish_field(s);
        s->done = 1;
        return;
    }
    s->used += (long long)len;
    if (continuation) {
        vstr_append(&s->value, data, len);
        return;
    }
    finish_field(s);
    s->fields++;
    for (size_t i = 0; i < sizeof(sendmail_rcpt_fields) / sizeof(sendmail_rcpt_fields[0]); i++) {
        if (strlen(sendmail_rcpt_fields[i].name) == name_len &&
            strncasecmp(data, sendmail_rcpt_fields[i].name, name_len) == 0) {
            s->kind = sendmail_rcpt_fields[i].kind;
            s->resent_seen |= s->kind == SENDMAIL_FIELD_RESENT;
        }
    }
    if (s->kind != SENDMAIL_FIELD_NONE) {
        const char *colon = memchr(data, ':', len);

        vstr_set(&s->value, colon + 1, len - (size_t)(colon + 1 - data));
    }
}

void sendmail_header_scan_feed(sendmail_header_scan *s, int line_end, const char *data, size_t len)
{
    if (s->done)
        return;
    /* A line that alone outgrows the header block ends it: keep no more. */
    if (s->used + (long long)(vstr_len(&s->line) + len) > s->limit) {
        finish_field(s);
        s->done = 1;
        return;
    }
    vstr_append(&s->line, data, len);
    if (line_end) {
        header_line(s, vstr_str(&s->line), vstr_len(&s->line));
        vstr_reset(&s->line);
    }
}

int sendmail_header_scan_found(sendmail_header_scan *s)
{
    finish_field(s);
    s->done = 1;
    return s->rcpts[s->resent_seen ? SENDMAIL_FIELD_RESENT : SENDMAIL_FIELD_PLAIN] > 0;
}
