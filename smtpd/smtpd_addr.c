/*
 * smtpd_addr - MAIL FROM: / RCPT TO: arguments (see smtpd_addr.h)
 *
 * One pass, left to right, never backing up: time is linear in the
 * input. Every refusal names the reply the client gets; the session code
 * only forwards it.
 */
#include <string.h>
#include <strings.h>

#include "global/rec.h"
#include "global/xtext.h"
#include "smtpd/smtpd_addr.h"

/* RFC 5322 atext, plus 8-bit bytes (SMTPUTF8). */
static int is_atext(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL) || c >= 0x80;
}

static int is_ctl(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

/* A domain name (labels of letters, digits, '-', 8-bit bytes, joined by
 * dots; a trailing dot tolerated) or an address literal. */
static size_t scan_domain(const char *p)
{
    const char *s = p;

    if (*p == '[') {
        for (p++; *p && *p != ']'; p++)
            if (is_ctl((unsigned char)*p) || *p == '[' || *p == '\\' || *p == ' ')
                return 0;
        return *p == ']' && p - s > 1 ? (size_t)(p + 1 - s) : 0;
    }
    while (1) {
        const char *label = p;

        while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
               *p == '-' || *p == '_' || (unsigned char)*p >= 0x80)
            p++;
        if (p == label)
            return p == s ? 0 : (size_t)(p - s); /* empty label only after a final dot */
        if (*p != '.')
            return (size_t)(p - s);
        p++;
    }
}

/* Source route "@a,@b:" at p: its length, or 0 when there is none or it is
 * malformed (then the caller's syntax check refuses the path). */
static size_t scan_route(const char *p)
{
    const char *s = p;

    if (*p != '@')
        return 0;
    while (*p == '@') {
        size_t n = scan_domain(p + 1);

        if (n == 0)
            return 0;
        p += 1 + n;
        if (*p == ':')
            return (size_t)(p + 1 - s);
        if (*p != ',')
            return 0;
        p++;
    }
    return 0;
}

/* Mailbox at p, ending at stop (one of '>' or ' ' or NUL): internal form
 * into out. Returns the bytes used, or 0 on a syntax error. */
static size_t scan_mailbox(const char *p, int bracketed, vstr *out)
{
    const char *s = p;
    size_t n;

    vstr_reset(out);
    if (*p == '"') {
        for (p++; *p && *p != '"'; p++) {
            if (*p == '\\' && p[1])
                p++;
            if (is_ctl((unsigned char)*p))
                return 0;
            vstr_append_char(out, *p);
        }
        if (*p++ != '"' || vstr_len(out) == 0)
            return 0;
    } else {
        for (; is_atext((unsigned char)*p) || *p == '.'; p++)
            vstr_append_char(out, *p);
        if (vstr_len(out) == 0)
            return 0;
    }
    if (*p == '@') {
        if ((n = scan_domain(p + 1)) == 0)
            return 0;
        vstr_append(out, p, n + 1);
        p += n + 1;
    }
    if (bracketed ? *p != '>' : (*p != 0 && *p != ' '))
        return 0;
    return (size_t)(p - s);
}

void smtpd_args_init(smtpd_args *a)
{
    memset(a, 0, sizeof(*a));
    vstr_init(&a->addr);
    vstr_init(&a->envid);
    vstr_init(&a->auth);
    vstr_init(&a->orcpt);
    a->size = -1;
}

void smtpd_args_release(smtpd_args *a)
{
    vstr_release(&a->addr);
    vstr_release(&a->envid);
    vstr_release(&a->auth);
    vstr_release(&a->orcpt);
}

static void reset(smtpd_args *a)
{
    vstr_reset(&a->addr);
    vstr_reset(&a->envid);
    vstr_reset(&a->auth);
    vstr_reset(&a->orcpt);
    a->size = -1;
    a->body = a->ret = NULL;
    a->smtputf8 = a->has_envid = a->has_auth = 0;
    a->notify = 0;
}

/* One of words (upper case), compared without regard to case. */
static const char *one_of(const char *value, size_t len, const char *const *words)
{
    for (; *words; words++)
        if (strlen(*words) == len && strncasecmp(value, *words, len) == 0)
            return *words;
    return NULL;
}

static int parse_notify(smtpd_args *a, const char *v, size_t len)
{
    static const char *const names[] = {"NEVER", "SUCCESS", "FAILURE", "DELAY", NULL};
    static const int bits[] = {REC_DSN_NOTIFY_NEVER, REC_DSN_NOTIFY_SUCCESS,
                               REC_DSN_NOTIFY_FAILURE, REC_DSN_NOTIFY_DELAY};
    const char *end = v + len;

    while (v < end) {
        const char *comma = memchr(v, ',', (size_t)(end - v));
        size_t n = comma ? (size_t)(comma - v) : (size_t)(end - v);
        const char *w = one_of(v, n, names);

        if (w == NULL)
            return -1;
        for (int i = 0; names[i]; i++)
            if (names[i] == w)
                a->notify |= bits[i];
        v += n + (comma != NULL);
        if (comma && v == end)
            return -1;
    }
    /* NEVER stands alone (RFC 3461 section 4.1). */
    return a->notify == 0 ||
                   ((a->notify & REC_DSN_NOTIFY_NEVER) && a->notify != REC_DSN_NOTIFY_NEVER)
               ? -1
               : 0;
}

/* The longest ORCPT address type (an atom: "rfc822", "utf-8"); with the
 * ';' and the decoded address (XTEXT_MAX) within XTEXT_MAX + 64. */
#define ORCPT_TYPE_MAX 63

static int parse_orcpt(smtpd_args *a, const char *v, size_t len)
{
    const char *semi = memchr(v, ';', len);
    vstr addr = VSTR_INIT;
    int ok;

    if (semi == NULL || semi == v || (size_t)(semi - v) > ORCPT_TYPE_MAX)
        return -1;
    for (const char *t = v; t < semi; t++)
        if (!((*t >= 'a' && *t <= 'z') || (*t >= 'A' && *t <= 'Z') || (*t >= '0' && *t <= '9') ||
              *t == '-'))
            return -1;
    ok = xtext_decode(semi + 1, len - (size_t)(semi + 1 - v), XTEXT_MAX, &addr) == 0 &&
         vstr_len(&addr) > 0;
    if (ok) {
        vstr_set(&a->orcpt, v, (size_t)(semi - v));
        vstr_append_char(&a->orcpt, ';');
        vstr_append(&a->orcpt, vstr_str(&addr), vstr_len(&addr));
    }
    vstr_release(&addr);
    return ok ? 0 : -1;
}

/* One parameter KEYWORD[=VALUE]: 0, or -1 with the reply. */
static int parse_param(smtpd_args *a, smtpd_args_kind kind, const char *p, size_t len,
                       unsigned *seen, vstr *reply)
{
    static const char *const mail_keys[] = {"SIZE", "BODY", "SMTPUTF8", "RET", "ENVID", "AUTH",
                                            NULL};
    static const char *const rcpt_keys[] = {"NOTIFY", "ORCPT", NULL};
    static const char *const bodies[] = {"7BIT", "8BITMIME", NULL};
    static const char *const rets[] = {"FULL", "HDRS", NULL};
    const char *const *keys = kind == SMTPD_ARGS_MAIL ? mail_keys : rcpt_keys;
    const char *eq = memchr(p, '=', len);
    size_t klen = eq ? (size_t)(eq - p) : len;
    const char *v = eq ? eq + 1 : NULL;
    size_t vlen = eq ? len - klen - 1 : 0;
    const char *key;
    unsigned bit = 0;
    int bad = 0;

    for (size_t i = 0; i < klen; i++)
        if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z') ||
              (p[i] >= '0' && p[i] <= '9') || (p[i] == '-' && i > 0)))
            klen = 0;
    if (klen == 0) {
        vstr_set_str(reply, "501 5.5.4 Bad parameter syntax");
        return -1;
    }
    if ((key = one_of(p, klen, keys)) == NULL) {
        /* Only printable ASCII goes back to the client. */
        vstr_set_str(reply, "555 5.5.4 Unsupported option: ");
        vstr_append(reply, p, klen);
        return -1;
    }
    for (int i = 0; keys[i]; i++)
        if (keys[i] == key)
            bit = 1u << i;
    if (*seen & bit) {
        vstr_set_fmt(reply, "501 5.5.4 Bad %s parameter syntax (given twice)", key);
        return -1;
    }
    *seen |= bit;
    if (strcmp(key, "SMTPUTF8") == 0) {
        a->smtputf8 = 1;
        bad = v != NULL;
    } else if (v == NULL || vlen == 0) {
        bad = 1;
    } else if (strcmp(key, "SIZE") == 0) {
        /* At most 18 digits: no overflow. */
        a->size = 0;
        bad = vlen > 18;
        for (size_t i = 0; i < vlen && !bad; i++) {
            bad = v[i] < '0' || v[i] > '9';
            a->size = a->size * 10 + (v[i] - '0');
        }
    } else if (strcmp(key, "BODY") == 0) {
        bad = (a->body = one_of(v, vlen, bodies)) == NULL;
    } else if (strcmp(key, "RET") == 0) {
        bad = (a->ret = one_of(v, vlen, rets)) == NULL;
    } else if (strcmp(key, "ENVID") == 0) {
        a->has_envid = 1;
        bad = xtext_decode(v, vlen, XTEXT_MAX, &a->envid) < 0;
    } else if (strcmp(key, "AUTH") == 0) {
        /* RFC 4954 5: "<>" or an xtext address; checked, then not used. */
        a->has_auth = 1;
        bad = xtext_decode(v, vlen, XTEXT_MAX, &a->auth) < 0;
    } else if (strcmp(key, "NOTIFY") == 0) {
        bad = parse_notify(a, v, vlen) < 0;
    } else {
        bad = parse_orcpt(a, v, vlen) < 0;
    }
    if (bad)
        vstr_set_fmt(reply, "501 5.5.4 Bad %s parameter syntax", key);
    return bad ? -1 : 0;
}

int smtpd_args_parse(smtpd_args *a, smtpd_args_kind kind, const char *text, vstr *reply)
{
    const char *prefix = kind == SMTPD_ARGS_MAIL ? "FROM:" : "TO:";
    const char *what = kind == SMTPD_ARGS_MAIL ? "501 5.1.7 Bad sender address syntax"
                                               : "501 5.1.3 Bad recipient address syntax";
    const char *p = text;
    unsigned seen = 0;
    int nparams = 0;
    size_t n;

    reset(a);
    if (strncasecmp(p, prefix, strlen(prefix)) != 0) {
        vstr_set_fmt(reply, "501 5.5.4 Syntax: %s %s<address>",
                     kind == SMTPD_ARGS_MAIL ? "MAIL" : "RCPT", prefix);
        return -1;
    }
    p += strlen(prefix);
    while (*p == ' ')
        p++;
    if (*p == 0) {
        vstr_set_fmt(reply, "501 5.5.4 Syntax: %s %s<address>",
                     kind == SMTPD_ARGS_MAIL ? "MAIL" : "RCPT", prefix);
        return -1;
    }
    if (*p == '<') {
        p++;
        if (*p == '>' && kind == SMTPD_ARGS_MAIL) {
            p++;
        } else {
            p += scan_route(p);
            if ((n = scan_mailbox(p, 1, &a->addr)) == 0) {
                vstr_set_str(reply, what);
                return -1;
            }
            p += n + 1;
        }
    } else if ((n = scan_mailbox(p, 0, &a->addr)) == 0) {
        vstr_set_str(reply, what);
        return -1;
    } else {
        p += n;
    }
    if (vstr_len(&a->addr) > SMTPD_ADDR_MAX) {
        vstr_set_fmt(reply, "%s (longer than %d bytes)", what, SMTPD_ADDR_MAX);
        return -1;
    }
    if (*p != 0 && *p != ' ') {
        vstr_set_str(reply, what);
        return -1;
    }
    /* Counted first, so that a flood is refused before any is looked at. */
    for (const char *q = p; *q; q++)
        if (q[0] != ' ' && (q == p || q[-1] == ' '))
            nparams++;
    if (nparams > SMTPD_PARAM_MAX) {
        vstr_set_str(reply, "501 5.5.4 Too many parameters");
        return -1;
    }
    while (*p) {
        const char *start;

        while (*p == ' ')
            p++;
        if (*p == 0)
            break;
        for (start = p; *p && *p != ' '; p++)
            ;
        if (parse_param(a, kind, start, (size_t)(p - start), &seen, reply) < 0)
            return -1;
    }
    return 0;
}
