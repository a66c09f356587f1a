/*
 * smtpd_access_action - parse an access(5) table value into an action
 * (the grammar is in smtpd_access.h); no session, no side effects
 */
#include <string.h>
#include <strings.h>

#include "smtpd/smtpd_access.h"

void access_action_init(access_action *a)
{
    a->kind = 0;
    a->code = 0;
    a->is_defer = 0;
    vstr_init(&a->dsn);
    vstr_init(&a->text);
}

void access_action_release(access_action *a)
{
    vstr_release(&a->dsn);
    vstr_release(&a->text);
}

/* Does word (len bytes) equal name, ignoring case? */
static int word_is(const char *word, size_t len, const char *name)
{
    return strlen(name) == len && strncasecmp(word, name, len) == 0;
}

/* "5.7.1 " at the start of text: its length with the space, else 0. An
 * RFC 3463 code: class digit, '.', 1-3 digits, '.', 1-3 digits. */
static size_t dsn_prefix(const char *text)
{
    const char *p = text;

    if ((p[0] != '2' && p[0] != '4' && p[0] != '5') || p[1] != '.')
        return 0;
    p += 2;
    for (int part = 0; part < 2; part++) {
        size_t n = strspn(p, "0123456789");

        if (n < 1 || n > 3 || (part == 0 && p[n] != '.'))
            return 0;
        p += n + (part == 0);
    }
    if (*p != ' ' && *p != 0)
        return 0;
    return (size_t)(p - text) + (*p == ' ');
}

/* The text of a refusal, with a leading status code taken apart. */
static int reply_text(access_action *a, const char *text, int class_digit, vstr *why)
{
    size_t n = dsn_prefix(text);

    if (n > 0) {
        if (text[0] - '0' != class_digit) {
            vstr_set_fmt(why, "status code %.*s does not match a %dxx reply", (int)n, text,
                         class_digit);
            return -1;
        }
        vstr_set(&a->dsn, text, text[n - 1] == ' ' ? n - 1 : n);
        text += n;
    }
    vstr_set_str(&a->text, text);
    return 0;
}

static const struct {
    const char *word;
    access_action_kind kind;
    int needs_text; /* PREPEND, REDIRECT, FILTER take a required argument */
} words[] = {
    {"OK", ACCESS_OK, 0},
    {"DUNNO", ACCESS_DUNNO, 0},
    {"DEFER_IF_REJECT", ACCESS_DEFER_IF_REJECT, 0},
    {"DEFER_IF_PERMIT", ACCESS_DEFER_IF_PERMIT, 0},
    {"HOLD", ACCESS_HOLD, 0},
    {"DISCARD", ACCESS_DISCARD, 0},
    {"PREPEND", ACCESS_PREPEND, 1},
    {"REDIRECT", ACCESS_REDIRECT, 1},
    {"FILTER", ACCESS_FILTER, 1},
    {"WARN", ACCESS_WARN, 0},
};

int access_action_parse(const char *value, access_action *a, vstr *why)
{
    size_t len = strlen(value), wlen;
    const char *rest;

    vstr_reset(&a->dsn);
    vstr_reset(&a->text);
    a->code = 0;
    a->is_defer = 0;
    if (len > ACCESS_ACTION_MAX) {
        vstr_set_fmt(why, "access table value longer than %d bytes", ACCESS_ACTION_MAX);
        return -1;
    }
    value += strspn(value, " \t");
    wlen = strcspn(value, " \t");
    rest = value + wlen;
    rest += strspn(rest, " \t");
    if (wlen == 0) {
        vstr_set_str(why, "empty access table value");
        return -1;
    }
    /* All digits: OK (Postfix's "numerical result"). */
    if (strspn(value, "0123456789") == wlen && *rest == 0 &&
        !(wlen == 3 && (value[0] == '4' || value[0] == '5'))) {
        a->kind = ACCESS_OK;
        return 0;
    }
    if (wlen == 3 && strspn(value, "0123456789") == 3) {
        int code = (value[0] - '0') * 100 + (value[1] - '0') * 10 + (value[2] - '0');

        if (code < 400 || code > 599) {
            vstr_set_fmt(why, "reply code %d is not 4xx or 5xx", code);
            return -1;
        }
        a->kind = ACCESS_REJECT;
        a->code = code;
        return reply_text(a, rest, code / 100, why);
    }
    if (word_is(value, wlen, "REJECT") || word_is(value, wlen, "DEFER")) {
        a->kind = ACCESS_REJECT;
        a->is_defer = word_is(value, wlen, "DEFER");
        /* The class is the configured code's; checked by the caller. */
        vstr_set_str(&a->text, rest);
        return 0;
    }
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        if (!word_is(value, wlen, words[i].word))
            continue;
        if (words[i].needs_text && *rest == 0) {
            vstr_set_fmt(why, "%s needs an argument", words[i].word);
            return -1;
        }
        a->kind = words[i].kind;
        vstr_set_str(&a->text, rest);
        return 0;
    }
    a->kind = ACCESS_RESTRICTIONS;
    vstr_set_str(&a->text, value);
    return 0;
}
