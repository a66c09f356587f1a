/*
 * maildrop - the maildrop contract as one checker; see maildrop.h
 *
 * The grammar and the per-record bounds live in global/queue_file
 * (queue_grammar), shared with the queue-file reader; what is added here
 * is what only a maildrop file has: the recipient bound, the meaning of
 * its attributes, offsets, and the end-of-stream rules.
 */
#include <errno.h>
#include <string.h>

#include "util/msg.h"
#include "global/maildrop.h"

/* Values an attribute may take; a name not listed here is free. */
typedef struct attr_rule {
    const char *name;
    const char *const *values; /* NULL: checked by code below */
} attr_rule;

static const char *const dsn_ret_values[] = {"FULL", "HDRS", NULL};
static const char *const body_type_values[] = {"7BIT", "8BITMIME", NULL};
static const char *const smtputf8_values[] = {"1", NULL};

static const attr_rule attr_rules[] = {
    {"dsn_ret", dsn_ret_values},
    {"body_type", body_type_values},
    {"smtputf8", smtputf8_values},
    {NULL, NULL},
};

void maildrop_check_init(maildrop_check *m)
{
    memset(m, 0, sizeof(*m));
    queue_grammar_init(&m->grammar, QUEUE_FILE_MAILDROP);
    m->error_offset = -1;
}

int maildrop_complete(const maildrop_check *m)
{
    return queue_grammar_complete(&m->grammar);
}

off_t maildrop_error_offset(const maildrop_check *m)
{
    return m->error_offset;
}

long maildrop_flags(const maildrop_check *m)
{
    return m->flags;
}

size_t maildrop_rcpt_count(const maildrop_check *m)
{
    return m->grammar.rcpts;
}

/* The flags value: 1 to 9 decimal digits, known bits only; -1 if bad. */
static long parse_flags(const char *s, size_t len)
{
    long v = 0;

    if (len == 0 || len > 9)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return (v & ~(long)MAILDROP_FLAG_MASK) ? -1 : v;
}

/* Check the value of an A record the grammar has accepted as name=value. */
static int check_attr_value(const char *data, size_t len, vstr *reason, long *flags)
{
    const char *eq = memchr(data, '=', len);
    size_t name_len = (size_t)(eq - data), value_len = len - name_len - 1;
    const char *value = eq + 1;

    if (name_len == 5 && memcmp(data, "flags", 5) == 0) {
        if ((*flags = parse_flags(value, value_len)) < 0) {
            vstr_set_fmt(reason, "bad flags attribute value (decimal, known bits %d)",
                         MAILDROP_FLAG_MASK);
            return -1;
        }
        return 0;
    }
    if (name_len == 9 && memcmp(data, "dsn_envid", 9) == 0) {
        if (value_len > MAILDROP_ENVID_MAX) {
            vstr_set_fmt(reason, "dsn_envid longer than %d bytes", MAILDROP_ENVID_MAX);
            return -1;
        }
        return 0;
    }
    for (const attr_rule *rule = attr_rules; rule->name; rule++) {
        if (strlen(rule->name) != name_len || memcmp(rule->name, data, name_len) != 0)
            continue;
        for (const char *const *v = rule->values; *v; v++)
            if (strlen(*v) == value_len && memcmp(*v, value, value_len) == 0)
                return 0;
        vstr_set_fmt(reason, "bad %s attribute value", rule->name);
        return -1;
    }
    return 0;
}

int maildrop_check_record(maildrop_check *m, int type, const char *data, size_t len, vstr *reason)
{
    queue_grammar saved = m->grammar;
    long flags = m->flags;

    m->error_offset = m->offset;
    if (queue_grammar_check(&m->grammar, type, data, len, reason) < 0)
        return -1;
    /* The grammar moved on; undo that if a maildrop rule refuses. */
    if (type == REC_TYPE_RCPT && m->grammar.rcpts > MAILDROP_RCPT_MAX) {
        vstr_set_fmt(reason, "more than %d recipients", MAILDROP_RCPT_MAX);
        goto refuse;
    }
    if (type == REC_TYPE_ATTR && check_attr_value(data, len, reason, &flags) < 0)
        goto refuse;
    if (type == REC_TYPE_MESG && m->grammar.rcpts == 0 && !(flags & MAILDROP_FLAG_EXTRACT)) {
        vstr_set_str(reason, "no recipients, and no request to extract them from the headers");
        goto refuse;
    }
    m->flags = flags;
    m->offset += (off_t)rec_size(len);
    m->error_offset = -1;
    return 0;

refuse:
    m->grammar = saved;
    return -1;
}

int maildrop_check_end(maildrop_check *m, vstr *reason)
{
    if (maildrop_complete(m))
        return 0;
    m->error_offset = m->offset;
    vstr_set_str(reason, "file ends before the end record");
    return -1;
}

maildrop_status maildrop_get(vstream *fp, maildrop_check *m, rec_read *r, vstr *payload,
                             vstr *reason)
{
    rec_status st;
    int c;

    if (maildrop_complete(m))
        msg_panic("maildrop_get: called after the end record");
    r->next = m->offset;
    st = rec_get(fp, REC_PAYLOAD_MAX, r, payload);
    switch (st) {
    case REC_OK:
        break;
    case REC_EOF:
        (void)maildrop_check_end(m, reason); /* not complete: refused */
        return MAILDROP_BAD;
    case REC_ERR_IO:
        vstr_set_fmt(reason, "read error: %s", strerror(errno));
        return MAILDROP_IO;
    default:
        m->error_offset = r->offset;
        vstr_set_str(reason, rec_strerror(st));
        return MAILDROP_BAD;
    }
    if (maildrop_check_record(m, r->type, vstr_str(payload), vstr_len(payload), reason) < 0)
        return MAILDROP_BAD;
    /* rec_size assumes the shortest length encoding; the reader knows. */
    m->offset = r->next;
    if (r->type != REC_TYPE_END)
        return MAILDROP_OK;
    if ((c = vstream_getc(fp)) >= 0) {
        m->error_offset = r->next;
        vstr_set_str(reason, "data after the end record");
        return MAILDROP_BAD;
    }
    if (vstream_error(fp)) {
        vstr_set_fmt(reason, "read error: %s", strerror(errno));
        return MAILDROP_IO;
    }
    return MAILDROP_OK;
}
