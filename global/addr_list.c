/*
 * addr_list - RFC 5322 address lists to internal-form addresses
 *
 * Two passes. The tokenizer turns the value into atoms, quoted strings,
 * domain literals and single specials, dropping white space and comments;
 * it is the only code that looks at bytes. The parser then walks the
 * tokens one list element at a time, so a malformed element costs that
 * element only. An error inside the tokenizer (an unterminated quoted
 * string, say) ends the token list with an error token: everything after
 * it belongs to the broken construct.
 */
#include <string.h>

#include "util/mem.h"
#include "global/addr_list.h"

enum tok_type { TOK_ATOM, TOK_QSTR, TOK_DLIT, TOK_SPECIAL, TOK_ERROR };

typedef struct tok {
    enum tok_type type;
    int ch;       /* the special character, for TOK_SPECIAL */
    size_t start; /* raw text (inside the quotes for TOK_QSTR) */
    size_t len;
    const char *why; /* for TOK_ERROR */
} tok;

typedef struct tok_list {
    tok *v;
    size_t n, cap;
} tok_list;

typedef struct parser {
    const char *text;
    tok_list toks;
    addr_list *list;
    addr_list_status status;
    vstr *err;
    int err_set;
} parser;

/* RFC 5322 atext, plus 8-bit bytes (RFC 6532 allows UTF-8 there). */
static int is_atext(unsigned char c)
{
    if (c >= 0x80)
        return 1;
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return 1;
    return c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

static int is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void tok_push(tok_list *t, enum tok_type type, int ch, size_t start, size_t len,
                     const char *why)
{
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 16;
        t->v = mem_reallocarray(t->v, t->cap, sizeof(tok));
    }
    t->v[t->n++] = (tok){type, ch, start, len, why};
}

/* Record the first problem only: it is the one the user must fix first. */
static void parse_error(parser *p, size_t column, const char *why)
{
    if (p->status == ADDR_LIST_OK)
        p->status = ADDR_LIST_SYNTAX;
    if (!p->err_set && p->err) {
        vstr_set_fmt(p->err, "column %zu: %s", column + 1, why);
        p->err_set = 1;
    }
}

/* Index just past a quoted construct that started before i and ends at
 * close; or len when it never ends. Quoted pairs are skipped. */
static size_t skip_quoted(const char *s, size_t i, size_t len, char close)
{
    while (i < len) {
        if (s[i] == '\\') {
            i += 2;
            continue;
        }
        if (s[i] == close)
            return i;
        i++;
    }
    return len;
}

static void tokenize(parser *p, const char *s, size_t len)
{
    size_t i = 0;

    while (i < len) {
        unsigned char c = (unsigned char)s[i];

        if (is_space(c)) {
            i++;
        } else if (c == '(') {
            size_t start = i;
            int depth = 0;

            while (i < len) {
                if (s[i] == '\\') {
                    i += 2;
                    continue;
                }
                if (s[i] == '(' && ++depth > ADDR_LIST_DEPTH_MAX)
                    break;
                if (s[i] == ')' && --depth == 0)
                    break;
                i++;
            }
            if (i >= len || depth != 0) {
                tok_push(&p->toks, TOK_ERROR, 0, start, 0,
                         depth > ADDR_LIST_DEPTH_MAX ? "comments nested too deeply"
                                                     : "unterminated comment");
                return;
            }
            i++;
        } else if (c == '"') {
            size_t end = skip_quoted(s, i + 1, len, '"');

            if (end >= len) {
                tok_push(&p->toks, TOK_ERROR, 0, i, 0, "unterminated quoted string");
                return;
            }
            tok_push(&p->toks, TOK_QSTR, 0, i + 1, end - i - 1, NULL);
            i = end + 1;
        } else if (c == '[') {
            size_t end = skip_quoted(s, i + 1, len, ']');

            if (end >= len) {
                tok_push(&p->toks, TOK_ERROR, 0, i, 0, "unterminated domain literal");
                return;
            }
            tok_push(&p->toks, TOK_DLIT, 0, i, end + 1 - i, NULL);
            i = end + 1;
        } else if (strchr("<>@,;:.", c) && c) {
            tok_push(&p->toks, TOK_SPECIAL, c, i, 1, NULL);
            i++;
        } else if (is_atext(c)) {
            size_t start = i;

            while (i < len && is_atext((unsigned char)s[i]))
                i++;
            tok_push(&p->toks, TOK_ATOM, 0, start, i - start, NULL);
        } else {
            /* ')', ']', '\\' outside their constructs, or a control byte:
             * no reader could agree on what was meant. */
            tok_push(&p->toks, TOK_ERROR, 0, i, 0,
                     c == ')'    ? "unbalanced ')'"
                     : c == ']'  ? "unbalanced ']'"
                     : c == '\\' ? "backslash outside quotes"
                                 : "control character");
            /* Not fatal for the rest: the byte is one bad element. */
            i++;
        }
    }
}

static int is_special(const tok *t, int ch)
{
    return t->type == TOK_SPECIAL && t->ch == ch;
}

/* Append a quoted string's contents without quotes and quoted pairs; CR
 * and LF (folding inside the quotes) are dropped. */
static void append_unquoted(vstr *out, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\\' && i + 1 < len)
            i++;
        else if (s[i] == '\r' || s[i] == '\n')
            continue;
        vstr_append_char(out, s[i]);
    }
}

/* The display name: words joined by one space, quotes removed. Lenient,
 * as nothing but humans reads it. */
static char *make_display(parser *p, size_t from, size_t to)
{
    vstr out = VSTR_INIT;

    for (size_t i = from; i < to; i++) {
        const tok *t = &p->toks.v[i];

        if (vstr_len(&out) && !is_special(t, '.'))
            vstr_append_char(&out, ' ');
        if (t->type == TOK_QSTR)
            append_unquoted(&out, p->text + t->start, t->len);
        else
            vstr_append(&out, p->text + t->start, t->len);
    }
    return vstr_steal(&out);
}

/* The raw bytes a token covers: a quoted string with its quotes. */
static size_t tok_raw_start(const tok *t)
{
    return t->type == TOK_QSTR ? t->start - 1 : t->start;
}

static size_t tok_raw_end(const tok *t)
{
    return t->type == TOK_QSTR ? t->start + t->len + 1 : t->start + t->len;
}

/* Build the internal-form address from tokens [from, to); NULL and an
 * error when they are not one addr-spec. *spec is the index of its first
 * token (after a source route). */
static char *make_addr(parser *p, size_t from, size_t to, int in_angle, size_t *spec)
{
    vstr out = VSTR_INIT;
    size_t i = from, col = from < p->toks.n ? p->toks.v[from].start : 0;
    int want_word = 1, words = 0;
    const char *why = NULL;

    /* Obsolete source route: "@a,@b:" before the address. */
    if (in_angle && i < to && is_special(&p->toks.v[i], '@')) {
        while (i < to && !is_special(&p->toks.v[i], ':'))
            i++;
        if (i >= to) {
            why = "malformed source route";
            goto bad;
        }
        i++;
    }
    *spec = i;
    /* Local part: words separated by dots; dots alone are tolerated. */
    for (; i < to && !is_special(&p->toks.v[i], '@'); i++) {
        const tok *t = &p->toks.v[i];

        col = t->start;
        if (t->type == TOK_ATOM || t->type == TOK_QSTR) {
            if (!want_word) {
                why = "missing '.' or '@' between words";
                goto bad;
            }
            if (t->type == TOK_QSTR)
                append_unquoted(&out, p->text + t->start, t->len);
            else
                vstr_append(&out, p->text + t->start, t->len);
            want_word = 0;
            words++;
        } else if (is_special(t, '.')) {
            vstr_append_char(&out, '.');
            want_word = 1;
        } else {
            why = "unexpected character in local part";
            goto bad;
        }
    }
    if (words == 0) {
        why = "missing local part";
        goto bad;
    }
    if (i < to) {
        /* Domain: a literal, or atoms joined by single dots. */
        size_t dom_start = ++i;

        col = p->toks.v[i - 1].start;
        vstr_append_char(&out, '@');
        if (i < to && p->toks.v[i].type == TOK_DLIT) {
            const tok *t = &p->toks.v[i];

            /* Strict dtext: no white space, quoted pairs or '@', so that
             * the last '@' always starts the domain (addr_list_quote). */
            for (size_t k = 1; k + 1 < t->len; k++) {
                unsigned char c = (unsigned char)p->text[t->start + k];

                if (c <= ' ' || c >= 0x7f || c == '\\' || c == '@' || c == '[') {
                    why = "malformed domain literal";
                    goto bad;
                }
            }
            vstr_append(&out, p->text + t->start, t->len);
            i++;
        } else {
            want_word = 1;
            for (; i < to; i++) {
                const tok *t = &p->toks.v[i];

                col = t->start;
                if (t->type == TOK_ATOM && want_word) {
                    vstr_append(&out, p->text + t->start, t->len);
                    want_word = 0;
                } else if (is_special(t, '.') && !want_word) {
                    vstr_append_char(&out, '.');
                    want_word = 1;
                } else {
                    why = "malformed domain";
                    goto bad;
                }
            }
            if (want_word) {
                why = i == dom_start ? "missing domain after '@'" : "domain ends in '.'";
                goto bad;
            }
        }
        if (i < to) {
            col = p->toks.v[i].start;
            why = "text after the domain";
            goto bad;
        }
    } else if (memchr(vstr_str(&out), '@', vstr_len(&out))) {
        /* It would read as qualified once unquoted. */
        why = "'@' in an unqualified address";
        goto bad;
    }
    if (vstr_len(&out) == 0) {
        why = "empty address";
        goto bad;
    }
    if (vstr_len(&out) > ADDR_LIST_ADDR_MAX) {
        why = "address too long";
        goto bad;
    }
    for (size_t k = 0; k < vstr_len(&out); k++) {
        unsigned char c = (unsigned char)vstr_str(&out)[k];

        if (c < 0x20 || c == 0x7f) {
            why = "control character in address";
            goto bad;
        }
    }
    return vstr_steal(&out);

bad:
    parse_error(p, col, why);
    vstr_release(&out);
    return NULL;
}

/* Add an address whose addr-spec is tokens [spec, to). */
static void add_entry(parser *p, char *addr, char *display, const char *group, size_t spec,
                      size_t to)
{
    size_t off = tok_raw_start(&p->toks.v[spec]);
    size_t end = tok_raw_end(&p->toks.v[to - 1]);

    addr_list *l = p->list;

    if (l->count >= l->max) {
        p->status = ADDR_LIST_TOO_MANY;
        if (p->err && !p->err_set) {
            vstr_set_fmt(p->err, "more than %zu addresses", l->max);
            p->err_set = 1;
        }
        mem_free(addr);
        mem_free(display);
        return;
    }
    if (l->count == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 8;
        l->entries = mem_reallocarray(l->entries, l->cap, sizeof(addr_list_entry));
    }
    l->entries[l->count++] =
        (addr_list_entry){addr, display, group ? mem_strdup(group) : NULL, off, end - off};
}

/* One mailbox in tokens [from, to). */
static void parse_mailbox(parser *p, size_t from, size_t to, const char *group)
{
    size_t lt = to, gt = to, spec = from;
    char *addr;

    for (size_t i = from; i < to; i++) {
        if (p->toks.v[i].type == TOK_ERROR) {
            parse_error(p, p->toks.v[i].start, p->toks.v[i].why);
            return;
        }
    }
    for (size_t i = from; i < to; i++) {
        if (is_special(&p->toks.v[i], '<')) {
            lt = i;
            break;
        }
    }
    if (lt == to) {
        addr = make_addr(p, from, to, 0, &spec);
        if (addr)
            add_entry(p, addr, mem_strdup(""), group, spec, to);
        return;
    }
    for (size_t i = lt + 1; i < to; i++) {
        if (is_special(&p->toks.v[i], '>')) {
            gt = i;
            break;
        }
        if (is_special(&p->toks.v[i], '<')) {
            parse_error(p, p->toks.v[i].start, "'<' inside '<...>'");
            return;
        }
    }
    if (gt == to) {
        parse_error(p, p->toks.v[lt].start, "missing '>'");
        return;
    }
    if (gt + 1 < to) {
        parse_error(p, p->toks.v[gt + 1].start, "text after '>'");
        return;
    }
    for (size_t i = from; i < lt; i++) {
        const tok *t = &p->toks.v[i];

        if (t->type == TOK_SPECIAL && t->ch != '.' && t->ch != '@') {
            parse_error(p, t->start, "unexpected character in display name");
            return;
        }
    }
    if (gt == lt + 1)
        return; /* "<>": the null address names nobody */
    addr = make_addr(p, lt + 1, gt, 1, &spec);
    if (addr)
        add_entry(p, addr, make_display(p, from, lt), group, spec, gt);
}

/* End of the list element starting at i: the next ',' or ';' not inside
 * '<...>' (source routes have commas), or a group's ':' (only outside a
 * group, before any '<' or '@'), or the end. */
static size_t element_end(parser *p, size_t i, int in_group, int *is_group)
{
    int angle = 0, seen_at = 0;

    *is_group = 0;
    for (; i < p->toks.n; i++) {
        const tok *t = &p->toks.v[i];

        if (t->type != TOK_SPECIAL)
            continue;
        if (t->ch == '<')
            angle = 1;
        else if (t->ch == '>')
            angle = 0;
        else if (t->ch == '@')
            seen_at = 1;
        else if (angle)
            continue;
        else if (t->ch == ',' || t->ch == ';')
            return i;
        else if (t->ch == ':' && !in_group && !seen_at) {
            *is_group = 1;
            return i;
        }
    }
    return i;
}

static void parse_list(parser *p)
{
    size_t i = 0, n = p->toks.n;
    char *group = NULL;

    while (i < n && p->status != ADDR_LIST_TOO_MANY) {
        int is_group;
        size_t end = element_end(p, i, group != NULL, &is_group);

        if (is_group) {
            for (size_t k = i; k < end; k++)
                if (p->toks.v[k].type == TOK_ERROR)
                    parse_error(p, p->toks.v[k].start, p->toks.v[k].why);
            group = make_display(p, i, end);
            i = end + 1;
            continue;
        }
        if (end > i)
            parse_mailbox(p, i, end, group);
        if (end < n && is_special(&p->toks.v[end], ';') && group) {
            mem_free(group);
            group = NULL;
        }
        i = end + 1;
    }
    /* A group left open at the end is accepted: nothing follows it. */
    mem_free(group);
}

addr_list *addr_list_new(size_t max_entries)
{
    addr_list *l = mem_calloc(1, sizeof(*l));

    l->max = max_entries;
    return l;
}

void addr_list_reset(addr_list *list)
{
    for (size_t i = 0; i < list->count; i++) {
        mem_free(list->entries[i].addr);
        mem_free(list->entries[i].display);
        mem_free(list->entries[i].group);
    }
    list->count = 0;
}

void addr_list_free(addr_list *list)
{
    if (list == NULL)
        return;
    addr_list_reset(list);
    mem_free(list->entries);
    mem_free(list);
}

addr_list_status addr_list_parse(addr_list *list, const char *text, size_t len, vstr *err)
{
    parser p = {text, {NULL, 0, 0}, list, ADDR_LIST_OK, err, 0};

    tokenize(&p, text, len);
    parse_list(&p);
    mem_free(p.toks.v);
    return p.status;
}

/* A dot-atom: atext runs joined by single dots, non-empty. */
static int is_dot_atom(const char *s, size_t len)
{
    int want = 1;

    for (size_t i = 0; i < len; i++) {
        if (s[i] == '.') {
            if (want)
                return 0;
            want = 1;
        } else if (is_atext((unsigned char)s[i])) {
            want = 0;
        } else {
            return 0;
        }
    }
    return !want;
}

void addr_list_quote(vstr *out, const char *internal)
{
    const char *at = strrchr(internal, '@');
    size_t local_len = at ? (size_t)(at - internal) : strlen(internal);

    if (is_dot_atom(internal, local_len)) {
        vstr_append(out, internal, local_len);
    } else {
        vstr_append_char(out, '"');
        for (size_t i = 0; i < local_len; i++) {
            if (internal[i] == '"' || internal[i] == '\\')
                vstr_append_char(out, '\\');
            vstr_append_char(out, internal[i]);
        }
        vstr_append_char(out, '"');
    }
    if (at)
        vstr_append_str(out, at);
}
