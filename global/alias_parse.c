/*
 * alias_parse - the aliases(5) format, and alias target lists
 *
 * The value normalisation follows what Debian's Postfix postalias stores
 * for the same input (checked side by side: "x,\n   y" gives "x, y",
 * "b,,c" gives "b, , c", quotes are kept), so tables built by either
 * program answer postmap -q alike. It does not re-tokenise as fully as
 * Postfix's RFC 822 scanner: white space around ':' or '@' inside an
 * element is kept as one space, and a backslash outside quotes is kept
 * (it means "\user", deliver to the mailbox, which Postfix's rewriting
 * would lose).
 *
 * Every loop here is linear in the input: the fuzz target
 * (tests/fuzz/aliases_parse.c) feeds arbitrary bytes through all of it.
 */
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "global/alias_parse.h"
#include "util/htable.h"
#include "util/mem.h"

static int is_blank(int c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static int is_space(int c)
{
    return is_blank(c) || c == '\n';
}

/*
 * Splitting a value into list elements: a comma separates, except inside
 * a quoted string, a (comment) or an <address>. A backslash escapes the
 * next character inside quotes and comments. An unterminated construct
 * runs to the end of the value.
 */
typedef struct splitter {
    const char *p;
    const char *end;
} splitter;

/* The next element [*start, *stop); 0 when there is none left. */
static int split_next(splitter *s, const char **start, const char **stop)
{
    int in_quote = 0, depth = 0, angle = 0;
    const char *p = s->p;

    if (p == NULL)
        return 0;
    *start = p;
    for (; p < s->end; p++) {
        int c = (unsigned char)*p;

        if (in_quote) {
            if (c == '\\' && p + 1 < s->end)
                p++;
            else if (c == '"')
                in_quote = 0;
        } else if (depth > 0) {
            if (c == '\\' && p + 1 < s->end)
                p++;
            else if (c == '(')
                depth++;
            else if (c == ')')
                depth--;
        } else if (c == '"') {
            in_quote = 1;
        } else if (c == '(') {
            depth = 1;
        } else if (c == '<') {
            angle = 1;
        } else if (c == '>') {
            angle = 0;
        } else if (c == ',' && !angle) {
            break;
        }
    }
    *stop = p;
    s->p = p < s->end ? p + 1 : NULL;
    return 1;
}

/* Append an element with white space outside quotes squeezed to one space
 * and trimmed at both ends. */
static void append_squeezed(vstr *out, const char *p, const char *end)
{
    int in_quote = 0, pending = 0, any = 0;

    for (; p < end; p++) {
        int c = (unsigned char)*p;

        if (!in_quote && is_space(c)) {
            pending = any;
            continue;
        }
        if (pending)
            vstr_append_char(out, ' ');
        pending = 0;
        any = 1;
        vstr_append_char(out, c);
        if (in_quote && c == '\\' && p + 1 < end) {
            vstr_append_char(out, *++p);
        } else if (c == '"') {
            in_quote = !in_quote;
        }
    }
}

void alias_value_normalize(const char *value, size_t len, vstr *out)
{
    splitter s = {value, value + len};
    const char *start, *stop;
    int first = 1;

    vstr_reset(out);
    while (split_next(&s, &start, &stop)) {
        if (!first)
            vstr_append_str(out, ", ");
        first = 0;
        append_squeezed(out, start, stop);
    }
}

/* The content of a quoted string that makes up all of [p, end), or -1. */
static int whole_quoted(const char *p, const char *end, vstr *out)
{
    if (end - p < 2 || *p != '"' || end[-1] != '"')
        return -1;
    vstr_reset(out);
    for (p++; p < end - 1; p++) {
        if (*p == '\\' && p + 1 < end - 1)
            p++;
        else if (*p == '"')
            return -1; /* "a" "b": two quoted strings, not one */
        vstr_append_char(out, *p);
    }
    return 0;
}

/* An address element to internal form: comments and white space dropped,
 * the part in <angle brackets> if any, quotes and quoted pairs undone. */
static void address_internal(const char *p, const char *end, vstr *out)
{
    int in_quote = 0;
    const char *begin = p;

    vstr_reset(out);
    for (; p < end; p++) {
        int c = (unsigned char)*p;

        if (in_quote) {
            if (c == '\\' && p + 1 < end)
                vstr_append_char(out, *++p);
            else if (c == '"')
                in_quote = 0;
            else
                vstr_append_char(out, c);
        } else if (c == '"') {
            in_quote = 1;
        } else if (c == '\\') {
            if (p == begin)
                vstr_append_char(out, c); /* \user: the caller's marker */
            else if (p + 1 < end)
                vstr_append_char(out, *++p);
        } else if (c == '(') {
            int depth = 1;

            for (p++; p < end && depth > 0; p++) {
                if (*p == '\\' && p + 1 < end)
                    p++;
                else if (*p == '(')
                    depth++;
                else if (*p == ')')
                    depth--;
            }
            p--;
        } else if (c == '<') {
            vstr_reset(out); /* a display name before it is not the address */
        } else if (c == '>') {
            break;
        } else if (!is_space(c)) {
            vstr_append_char(out, c);
        }
    }
}

alias_target_kind alias_target_type(const char *target)
{
    if (*target == '|')
        return ALIAS_TARGET_COMMAND;
    if (*target == '/')
        return ALIAS_TARGET_FILE;
    if (strncasecmp(target, ":include:", 9) == 0)
        return ALIAS_TARGET_INCLUDE;
    return ALIAS_TARGET_ADDRESS;
}

static int special_target(const char *p, const char *end)
{
    return p < end && (*p == '|' || *p == '/' ||
                       ((size_t)(end - p) >= 9 && strncasecmp(p, ":include:", 9) == 0));
}

static int alias_targets_n(const char *value, size_t len, argv_t *out, vstr *err)
{
    splitter s = {value, value + len};
    const char *start, *stop;
    vstr buf = VSTR_INIT;
    int status = 0;

    while (split_next(&s, &start, &stop)) {
        while (start < stop && is_space((unsigned char)*start))
            start++;
        while (stop > start && is_space((unsigned char)stop[-1]))
            stop--;
        if (start == stop)
            continue;
        if (whole_quoted(start, stop, &buf) == 0) {
            /* "|cmd, arg", "/file name", or "john smith": a local part
             * with a space in it. The content is the target as it is. */
        } else if (special_target(start, stop)) {
            vstr_set(&buf, start, (size_t)(stop - start));
        } else {
            address_internal(start, stop, &buf);
        }
        if (vstr_len(&buf) == 0)
            continue;
        if (out->argc >= ALIAS_TARGETS_MAX) {
            vstr_set_fmt(err, "more than %d targets", ALIAS_TARGETS_MAX);
            status = -1;
            break;
        }
        argv_addn(out, vstr_str(&buf), vstr_len(&buf));
    }
    vstr_release(&buf);
    return status;
}

int alias_targets(const char *value, argv_t *out, vstr *err)
{
    return alias_targets_n(value, strlen(value), out, err);
}

int alias_list_parse(const char *text, size_t len, argv_t *out, vstr *err)
{
    const char *p = text, *end = text + len;
    long line = 0;

    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p)), *q;

        if (eol == NULL)
            eol = end;
        line++;
        if ((size_t)(eol - p) > ALIAS_LINE_MAX) {
            vstr_set_fmt(err, "line %ld: longer than %d bytes", line, ALIAS_LINE_MAX);
            return -1;
        }
        if (memchr(p, 0, (size_t)(eol - p)) != NULL) {
            vstr_set_fmt(err, "line %ld: NUL byte", line);
            return -1;
        }
        for (q = p; q < eol && is_space((unsigned char)*q); q++)
            ;
        if (q < eol && *q != '#' && alias_targets_n(q, (size_t)(eol - q), out, err) < 0) {
            vstr tmp = VSTR_INIT;

            vstr_set_fmt(&tmp, "line %ld: %s", line, vstr_str(err));
            vstr_set_str(err, vstr_str(&tmp));
            vstr_release(&tmp);
            return -1;
        }
        p = eol + 1;
    }
    return 0;
}

/*
 * The aliases file itself.
 */
typedef struct parse_state {
    const char *filename;
    const alias_parse_ops *ops;
    void *ctx;
    htable *seen; /* name -> first line, as a pointer-sized integer */
    vstr name;
    vstr value;
    vstr text;
} parse_state;

static void warn(parse_state *st, long line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void warn(parse_state *st, long line, const char *fmt, ...)
{
    vstr msg = VSTR_INIT;
    va_list ap;

    if (st->ops->warn == NULL)
        return;
    vstr_set_fmt(&msg, "%s, line %ld: ", st->filename, line);
    va_start(ap, fmt);
    vstr_append_vfmt(&msg, fmt, ap);
    va_end(ap);
    st->ops->warn(st->ctx, vstr_str(&msg));
    vstr_release(&msg);
}

/* One logical line: "name: value". */
static void parse_entry(parse_state *st, const char *p, const char *end, long line)
{
    const char *colon;

    vstr_reset(&st->name);
    if (*p == '"') {
        for (p++; p < end && *p != '"'; p++) {
            if (*p == '\\' && p + 1 < end)
                p++;
            vstr_append_char(&st->name, *p);
        }
        if (p >= end) {
            warn(st, line, "unterminated quoted name");
            return;
        }
        for (p++; p < end && is_space((unsigned char)*p); p++)
            ;
        colon = p < end && *p == ':' ? p : NULL;
    } else {
        colon = memchr(p, ':', (size_t)(end - p));
        if (colon != NULL)
            append_squeezed(&st->name, p, colon);
    }
    if (colon == NULL || vstr_len(&st->name) == 0) {
        warn(st, line, "need name:value pair");
        return;
    }
    alias_value_normalize(colon + 1, (size_t)(end - colon - 1), &st->value);
    if (vstr_len(&st->value) == 0) {
        warn(st, line, "need name:value pair");
        return;
    }
    if (memchr(vstr_str(&st->name), '@', vstr_len(&st->name)) != NULL) {
        warn(st, line, "name must be local: \"%s\"", vstr_str(&st->name));
        return;
    }
    vstr_lower(&st->name);
    {
        htable_entry *e = htable_locate(st->seen, vstr_str(&st->name));

        if (e != NULL) {
            warn(st, line, "duplicate entry \"%s\" ignored (first at line %ld)",
                 vstr_str(&st->name), (long)(intptr_t)e->value);
            return;
        }
        htable_enter(st->seen, vstr_str(&st->name), (void *)(intptr_t)line);
    }
    st->ops->entry(st->ctx, vstr_str(&st->name), vstr_str(&st->value), line);
}

int alias_parse(const char *text, size_t len, const char *filename, const alias_parse_ops *ops,
                void *ctx, vstr *err)
{
    parse_state st = {filename, ops, ctx, htable_new(64), VSTR_INIT, VSTR_INIT, VSTR_INIT};
    const char *p = text, *end = text + len;
    long line = 0, entry_line = 0;
    int status = 0;

    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p)), *q;

        if (eol == NULL)
            eol = end;
        line++;
        if (memchr(p, 0, (size_t)(eol - p)) != NULL) {
            vstr_set_fmt(err, "%s, line %ld: NUL byte: not a text file", filename, line);
            status = -1;
            break;
        }
        for (q = p; q < eol && is_space((unsigned char)*q); q++)
            ;
        if (q == eol || *q == '#') {
            /* blank or comment: skipped, also inside an entry */
        } else if (q != p) {
            if (entry_line == 0) {
                warn(&st, line, "continuation line without an entry before it");
            } else if (vstr_len(&st.text) + 1 + (size_t)(eol - p) > ALIAS_LINE_MAX) {
                vstr_set_fmt(err, "%s, line %ld: entry longer than %d bytes", filename, entry_line,
                             ALIAS_LINE_MAX);
                status = -1;
                break;
            } else {
                vstr_append_char(&st.text, ' ');
                vstr_append(&st.text, p, (size_t)(eol - p));
            }
        } else {
            if (entry_line != 0)
                parse_entry(&st, vstr_str(&st.text), vstr_str(&st.text) + vstr_len(&st.text),
                            entry_line);
            if ((size_t)(eol - p) > ALIAS_LINE_MAX) {
                vstr_set_fmt(err, "%s, line %ld: entry longer than %d bytes", filename, line,
                             ALIAS_LINE_MAX);
                status = -1;
                break;
            }
            vstr_set(&st.text, p, (size_t)(eol - p));
            entry_line = line;
        }
        p = eol + 1;
    }
    if (status == 0 && entry_line != 0)
        parse_entry(&st, vstr_str(&st.text), vstr_str(&st.text) + vstr_len(&st.text), entry_line);
    htable_free(st.seen, NULL);
    vstr_release(&st.name);
    vstr_release(&st.value);
    vstr_release(&st.text);
    return status;
}
