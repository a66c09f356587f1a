/*
 * cfgfile - the line syntax of main.cf and master.cf
 *
 * The reader works on a buffer held in memory (files are bounded by the
 * caller's size limit), so looking ahead past comment lines for a
 * continuation costs nothing and offsets into the buffer can be handed to
 * an editor (postconf -e) that rewrites a file line by line.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/cfgfile.h"

/* Shown names are cut to this many bytes, so that an error about a huge
 * line stays one short log line. */
#define CFGFILE_SHOW_MAX 64

enum { LINE_START, LINE_CONT, LINE_SKIP };

int cfgfile_read(const char *path, size_t max, vstr *out, vstr *err)
{
    struct stat st;
    int fd, saved;

    vstr_reset(out);
    /* O_NONBLOCK: a FIFO in place of the file must not hang us; it is
     * refused below as not a regular file. */
    if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) < 0) {
        saved = errno;
        vstr_set_fmt(err, "%s: %s", path, strerror(saved));
        errno = saved;
        return -1;
    }
    if (fstat(fd, &st) < 0) {
        saved = errno;
        vstr_set_fmt(err, "%s: %s", path, strerror(saved));
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        saved = EINVAL;
        vstr_set_fmt(err, "%s: not a regular file", path);
        goto fail;
    }
    if ((unsigned long long)st.st_size > max) {
        saved = EFBIG;
        vstr_set_fmt(err, "%s: file is larger than %zu bytes", path, max);
        goto fail;
    }
    vstr_reserve(out, (size_t)st.st_size);
    for (;;) {
        ssize_t n;

        /* Read one byte beyond the bound to notice a file that grew. */
        vstr_reserve(out, 8192);
        n = read(fd, out->data + out->len, out->cap - out->len - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            saved = errno;
            vstr_set_fmt(err, "%s: read: %s", path, strerror(saved));
            goto fail;
        }
        if (n == 0)
            break;
        out->len += (size_t)n;
        out->data[out->len] = 0;
        if (out->len > max) {
            saved = EFBIG;
            vstr_set_fmt(err, "%s: file is larger than %zu bytes", path, max);
            goto fail;
        }
    }
    close(fd);
    return 0;

fail:
    close(fd);
    vstr_reset(out);
    errno = saved;
    return -1;
}

void cfgfile_reader_init(cfgfile_reader *r, const char *buf, size_t len, size_t line_max)
{
    r->buf = buf;
    r->len = len;
    r->pos = 0;
    r->lineno = 0;
    r->line_max = line_max;
    r->verbatim = 0;
}

static int blank(int c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

int cfgfile_name_char(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* The physical line at pos: its text ends at *end (the newline or the end
 * of the buffer), the next line starts at *next. */
static void physical_line(const cfgfile_reader *r, size_t pos, size_t *end, size_t *next)
{
    const char *nl = memchr(r->buf + pos, '\n', r->len - pos);

    *end = nl ? (size_t)(nl - r->buf) : r->len;
    *next = nl ? *end + 1 : r->len;
}

static int classify(const char *p, size_t n)
{
    size_t i = 0;

    while (i < n && blank((unsigned char)p[i]))
        i++;
    if (i == n || p[i] == '#')
        return LINE_SKIP;
    return i == 0 ? LINE_START : LINE_CONT;
}

/* Remember the first problem of a logical line; later ones are noise. */
static void note_error(int *bad, vstr *why, cfgfile_line *at, int lineno, const char *reason)
{
    if (*bad)
        return;
    *bad = 1;
    at->lineno = lineno;
    vstr_set_str(why, reason);
}

/* Append a physical line's text to the logical line (after a space for a
 * continuation), within the bound. */
static void append_piece(cfgfile_reader *r, vstr *text, int space, const char *p, size_t n,
                         int *bad, vstr *why, cfgfile_line *at)
{
    if (*bad)
        return;
    /* Trailing white space (a CR of a CRLF line end too) goes. */
    while (n > 0 && blank((unsigned char)p[n - 1]) && !r->verbatim)
        n--;
    if (r->verbatim && n > 0 && p[n - 1] == '\r')
        n--;
    if (r->verbatim)
        space = 0;
    if (vstr_len(text) + (size_t)space + n > r->line_max) {
        char reason[80];

        /* The line number is that of the logical line's start. */
        snprintf(reason, sizeof(reason), "logical line longer than %zu bytes", r->line_max);
        note_error(bad, why, at, at->lineno, reason);
        return;
    }
    if (space)
        vstr_append_char(text, ' ');
    vstr_append(text, p, n);
}

int cfgfile_next(cfgfile_reader *r, vstr *text, cfgfile_line *at, vstr *why)
{
    size_t end, next, i;
    int kind, bad = 0;

    vstr_reset(text);
    /* Skip to the first physical line of a logical line. */
    for (;;) {
        if (r->pos >= r->len)
            return 0;
        physical_line(r, r->pos, &end, &next);
        r->lineno++;
        kind = classify(r->buf + r->pos, end - r->pos);
        if (memchr(r->buf + r->pos, 0, end - r->pos) != NULL && kind == LINE_SKIP) {
            at->lineno = at->last_lineno = r->lineno;
            at->start = r->pos;
            at->end = next;
            r->pos = next;
            vstr_set_str(why, "NUL byte in line");
            return -1;
        }
        if (kind != LINE_SKIP)
            break;
        r->pos = next;
    }
    at->lineno = at->last_lineno = r->lineno;
    at->start = r->pos;
    at->end = next;
    if (memchr(r->buf + r->pos, 0, end - r->pos) != NULL)
        note_error(&bad, why, at, r->lineno, "NUL byte in line");
    if (kind == LINE_CONT)
        note_error(&bad, why, at, r->lineno,
                   "line starts with white space but there is no line to continue");
    append_piece(r, text, 0, r->buf + r->pos, end - r->pos, &bad, why, at);
    r->pos = next;

    /* Take continuations, looking past comment and blank lines for one. */
    for (;;) {
        size_t p = r->pos, cend = 0, cnext = 0;

        kind = LINE_SKIP;
        while (p < r->len) {
            physical_line(r, p, &cend, &cnext);
            if ((kind = classify(r->buf + p, cend - p)) != LINE_SKIP)
                break;
            p = cnext;
        }
        if (p >= r->len || kind != LINE_CONT)
            break;
        /* Consume the skipped lines and the continuation. */
        while (r->pos < cnext) {
            physical_line(r, r->pos, &end, &next);
            r->lineno++;
            if (memchr(r->buf + r->pos, 0, end - r->pos) != NULL)
                note_error(&bad, why, at, r->lineno, "NUL byte in line");
            r->pos = next;
        }
        for (i = p; i < cend && blank((unsigned char)r->buf[i]) && !r->verbatim; i++)
            ;
        append_piece(r, text, 1, r->buf + i, cend - i, &bad, why, at);
        at->last_lineno = r->lineno;
        at->end = cnext;
    }
    if (bad) {
        vstr_reset(text);
        return -1;
    }
    return 1;
}

/* Append s (n bytes) for a message, cut to CFGFILE_SHOW_MAX bytes. */
static void show(vstr *why, const char *s, size_t n)
{
    if (n > CFGFILE_SHOW_MAX) {
        vstr_append(why, s, CFGFILE_SHOW_MAX);
        vstr_append_str(why, "...");
    } else {
        vstr_append(why, s, n);
    }
}

int cfgfile_split(const char *line, size_t len, vstr *name, vstr *value, vstr *why)
{
    size_t i = 0, start, tok_end;

    while (i < len && blank((unsigned char)line[i]))
        i++;
    start = i;
    while (i < len && cfgfile_name_char((unsigned char)line[i]))
        i++;
    /* The would-be name runs to white space or '='. */
    for (tok_end = i; tok_end < len && !blank((unsigned char)line[tok_end]) &&
                      line[tok_end] != '=' && line[tok_end] != 0;
         tok_end++)
        ;
    if (tok_end == start) {
        vstr_set_str(why, "missing parameter name before '='");
        return -1;
    }
    if (tok_end != i) {
        vstr_set_str(why, "bad parameter name \"");
        show(why, line + start, tok_end - start);
        vstr_append_str(why, "\": use letters, digits and underscores");
        return -1;
    }
    vstr_set(name, line + start, i - start);
    while (i < len && blank((unsigned char)line[i]))
        i++;
    if (i >= len || line[i] != '=') {
        vstr_set_str(why, "missing '=' after parameter name \"");
        show(why, line + start, tok_end - start);
        vstr_append_str(why, "\"");
        return -1;
    }
    i++;
    vstr_set(value, line + i, len - i);
    vstr_trim(value);
    return 0;
}
