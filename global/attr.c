/*
 * attr - named-attribute lists, the IPC request/reply encoding
 *
 * The decoder reads names a byte at a time (they are short and buffered)
 * and values with one vstream_read_exact each, after checking the
 * announced length against the bounds. Names are checked against their
 * character set as they arrive, so an error message may quote them.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "global/attr.h"
#include "util/mem.h"
#include "util/msg.h"

const attr_limits attr_default_limits = {
    .max_count = 1024,
    .max_name = 64,
    .max_value = 64 * 1024,
    .max_total = 4 * 1024 * 1024,
};

/* Digits in the longest length field a reader accepts (SIZE_MAX has 20). */
#define ATTR_LENGTH_DIGITS_MAX 19

static const char *const attr_status_text[] = {
    [ATTR_OK] = "success",
    [ATTR_EOF] = "end of input",
    [ATTR_ERR_TRUNCATED] = "input ended inside an attribute list",
    [ATTR_ERR_SYNTAX] = "malformed attribute list",
    [ATTR_ERR_LIMIT] = "attribute list over a size limit",
    [ATTR_ERR_DUPLICATE] = "duplicate attribute name",
    [ATTR_ERR_TIMEOUT] = "timeout while reading an attribute list",
    [ATTR_ERR_IO] = "read error",
    [ATTR_ERR_MISSING] = "attribute missing",
    [ATTR_ERR_VALUE] = "attribute value not a number in range",
};

const char *attr_strerror(attr_status status)
{
    if ((size_t)status < sizeof(attr_status_text) / sizeof(attr_status_text[0]) &&
        attr_status_text[status])
        return attr_status_text[status];
    return "unknown attribute status";
}

/* ---- The container ---- */

attr_list *attr_list_new(void)
{
    return mem_calloc(1, sizeof(attr_list));
}

void attr_list_reset(attr_list *list)
{
    for (size_t i = 0; i < list->count; i++) {
        mem_free(list->items[i].name);
        mem_free(list->items[i].value);
    }
    list->count = 0;
}

void attr_list_free(attr_list *list)
{
    if (list == NULL)
        return;
    attr_list_reset(list);
    mem_free(list->items);
    mem_free(list);
}

static int attr_name_char(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-' || c == '.';
}

int attr_name_valid(const char *name)
{
    if (*name == 0)
        return 0;
    for (const char *p = name; *p; p++)
        if (!attr_name_char((unsigned char)*p))
            return 0;
    return 1;
}

static size_t attr_index(const attr_list *list, const char *name)
{
    for (size_t i = 0; i < list->count; i++)
        if (strcmp(list->items[i].name, name) == 0)
            return i;
    return SIZE_MAX;
}

/* Append without checks; takes ownership of name and value. */
static void attr_append(attr_list *list, char *name, char *value, size_t len)
{
    if (list->count == list->cap) {
        list->cap = list->cap ? list->cap * 2 : 8;
        list->items = mem_reallocarray(list->items, list->cap, sizeof(attr));
    }
    list->items[list->count++] = (attr){name, value, len};
}

void attr_set(attr_list *list, const char *name, const void *value, size_t len)
{
    size_t i;

    if (!attr_name_valid(name))
        msg_panic("attr_set: invalid attribute name \"%s\"", name);
    if ((i = attr_index(list, name)) != SIZE_MAX) {
        mem_free(list->items[i].value);
        list->items[i].value = mem_memdup0(value, len);
        list->items[i].len = len;
        return;
    }
    attr_append(list, mem_strdup(name), mem_memdup0(value, len), len);
}

void attr_set_str(attr_list *list, const char *name, const char *value)
{
    attr_set(list, name, value, strlen(value));
}

void attr_set_int(attr_list *list, const char *name, long long value)
{
    char buf[32];
    int n = snprintf(buf, sizeof(buf), "%lld", value);

    attr_set(list, name, buf, (size_t)n);
}

const attr *attr_find(const attr_list *list, const char *name)
{
    size_t i = attr_index(list, name);

    return i == SIZE_MAX ? NULL : &list->items[i];
}

const char *attr_get(const attr_list *list, const char *name)
{
    const attr *a = attr_find(list, name);

    if (a == NULL || memchr(a->value, 0, a->len) != NULL)
        return NULL;
    return a->value;
}

attr_status attr_get_int(const attr_list *list, const char *name, long long min, long long max,
                         long long *out)
{
    const attr *a = attr_find(list, name);
    const char *p;
    char *end;
    long long n;

    if (a == NULL)
        return ATTR_ERR_MISSING;
    /* Strictly -?[0-9]+: strtoll alone would also take spaces and '+'. */
    p = a->value[0] == '-' ? a->value + 1 : a->value;
    if (*p == 0 || strspn(p, "0123456789") != strlen(p) || strlen(a->value) != a->len)
        return ATTR_ERR_VALUE;
    errno = 0;
    n = strtoll(a->value, &end, 10);
    if (errno != 0 || *end != 0 || n < min || n > max)
        return ATTR_ERR_VALUE;
    *out = n;
    return ATTR_OK;
}

/* ---- Encoding ---- */

int attr_write(vstream *stream, const attr_list *list)
{
    for (size_t i = 0; i < list->count; i++) {
        const attr *a = &list->items[i];

        vstream_write(stream, a->name, strlen(a->name) + 1); /* with its NUL */
        vstream_printf(stream, "%zu:", a->len);
        vstream_write(stream, a->value, a->len);
        vstream_putc(stream, ',');
    }
    /* Errors are sticky: checking the last write covers every one. */
    return vstream_putc(stream, 0);
}

/* ---- Decoding ---- */

typedef struct reader {
    vstream *stream;
    const attr_limits *limits;
    vstr *err;
    size_t index; /* of the attribute being read, for messages */
} reader;

static attr_status read_fail(reader *r, attr_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static attr_status read_fail(reader *r, attr_status status, const char *fmt, ...)
{
    if (r->err) {
        va_list ap;

        vstr_set_fmt(r->err, "attribute %zu: ", r->index + 1);
        va_start(ap, fmt);
        vstr_append_vfmt(r->err, fmt, ap);
        va_end(ap);
    }
    return status;
}

/* The status for a read that came up short. */
static attr_status short_read(reader *r, const char *where)
{
    if (vstream_timed_out(r->stream))
        return read_fail(r, ATTR_ERR_TIMEOUT, "timeout reading %s", where);
    if (vstream_error(r->stream))
        return read_fail(r, ATTR_ERR_IO, "reading %s: %s", where,
                         strerror(vstream_errno(r->stream)));
    return read_fail(r, ATTR_ERR_TRUNCATED, "input ended in %s", where);
}

/* Read a name into name, starting with byte first (or a fresh byte when
 * first < 0); an empty name (the end of the list) is ATTR_OK too. */
static attr_status read_name(reader *r, vstr *name, int first)
{
    int c = first;

    vstr_reset(name);
    for (;;) {
        if (c < 0 && (c = vstream_getc(r->stream)) < 0)
            return short_read(r, "name");
        if (c == 0)
            return ATTR_OK;
        if (!attr_name_char(c))
            return read_fail(r, ATTR_ERR_SYNTAX, "byte 0x%02x in name after \"%s\"", c,
                             vstr_str(name));
        if (vstr_len(name) >= r->limits->max_name)
            return read_fail(r, ATTR_ERR_LIMIT, "name \"%.20s...\" longer than %zu bytes",
                             vstr_str(name), r->limits->max_name);
        vstr_append_char(name, c);
        c = -1;
    }
}

static attr_status read_length(reader *r, const char *name, size_t *len)
{
    size_t n = 0, digits = 0;
    int c;

    for (;;) {
        if ((c = vstream_getc(r->stream)) < 0)
            return short_read(r, "length");
        if (c == ':')
            break;
        if (c < '0' || c > '9')
            return read_fail(r, ATTR_ERR_SYNTAX, "\"%s\": byte 0x%02x in length", name, c);
        if (digits == 1 && n == 0)
            return read_fail(r, ATTR_ERR_SYNTAX, "\"%s\": length with a leading zero", name);
        if (++digits > ATTR_LENGTH_DIGITS_MAX)
            return read_fail(r, ATTR_ERR_LIMIT, "\"%s\": value length over limit %zu", name,
                             r->limits->max_value);
        n = n * 10 + (size_t)(c - '0');
    }
    if (digits == 0)
        return read_fail(r, ATTR_ERR_SYNTAX, "\"%s\": empty length", name);
    if (n > r->limits->max_value)
        return read_fail(r, ATTR_ERR_LIMIT, "\"%s\": value length %zu over limit %zu", name, n,
                         r->limits->max_value);
    *len = n;
    return ATTR_OK;
}

static attr_status read_list(reader *r, attr_list *list)
{
    vstr name = VSTR_INIT;
    size_t total = 0, len = 0;
    attr_status status;
    char *value;
    int c;

    /* A clean close between lists is not an error: say so distinctly. */
    if ((c = vstream_getc(r->stream)) < 0) {
        if (vstream_eof(r->stream) && !vstream_error(r->stream)) {
            if (r->err)
                vstr_set_str(r->err, "end of input");
            return ATTR_EOF;
        }
        return short_read(r, "name");
    }
    for (;;) {
        if ((status = read_name(r, &name, c)) != ATTR_OK || vstr_len(&name) == 0)
            break; /* an error, or the end of the list */
        c = -1;
        if (list->count >= r->limits->max_count) {
            status =
                read_fail(r, ATTR_ERR_LIMIT, "more than %zu attributes", r->limits->max_count);
            break;
        }
        if (attr_index(list, vstr_str(&name)) != SIZE_MAX) {
            status = read_fail(r, ATTR_ERR_DUPLICATE, "\"%s\" appears twice", vstr_str(&name));
            break;
        }
        if ((status = read_length(r, vstr_str(&name), &len)) != ATTR_OK)
            break;
        total += vstr_len(&name);
        if (len > r->limits->max_total || total > r->limits->max_total - len) {
            status =
                read_fail(r, ATTR_ERR_LIMIT, "list longer than %zu bytes", r->limits->max_total);
            break;
        }
        total += len;
        value = mem_alloc(len + 1);
        if (vstream_read_exact(r->stream, value, len, NULL) != VSTREAM_OK) {
            mem_free(value);
            status = short_read(r, "value");
            break;
        }
        value[len] = 0;
        if ((c = vstream_getc(r->stream)) != ',') {
            mem_free(value);
            status = c < 0 ? short_read(r, "value")
                           : read_fail(r, ATTR_ERR_SYNTAX, "\"%s\": byte 0x%02x after value",
                                       vstr_str(&name), c);
            break;
        }
        c = -1;
        attr_append(list, mem_strdup(vstr_str(&name)), value, len);
        r->index++;
    }
    vstr_release(&name);
    return status;
}

attr_status attr_read(vstream *stream, attr_list *list, const attr_limits *limits, vstr *err)
{
    reader r = {stream, limits ? limits : &attr_default_limits, err, 0};
    attr_status status;
    int own_deadline;

    /* One deadline for the whole list: a peer that trickles a byte at a
     * time within each read's timeout still cannot hold us for long. */
    own_deadline = vstream_begin_deadline(stream, 0);
    attr_list_reset(list);
    status = read_list(&r, list);
    if (own_deadline)
        vstream_end_deadline(stream);
    if (status != ATTR_OK)
        attr_list_reset(list);
    return status;
}
