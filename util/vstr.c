/*
 * vstr - length-carrying growable strings
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "util/mem.h"
#include "util/msg.h"
#include "util/vstr.h"

void vstr_init(vstr *v)
{
    v->data = NULL;
    v->len = 0;
    v->cap = 0;
}

void vstr_release(vstr *v)
{
    mem_free(v->data);
    vstr_init(v);
}

vstr *vstr_new(size_t hint)
{
    vstr *v = mem_alloc(sizeof(*v));

    vstr_init(v);
    if (hint)
        vstr_reserve(v, hint);
    return v;
}

void vstr_free(vstr *v)
{
    if (v) {
        mem_free(v->data);
        mem_free(v);
    }
}

char *vstr_steal(vstr *v)
{
    char *s;

    vstr_reserve(v, 0);
    s = v->data;
    vstr_init(v);
    return s;
}

void vstr_reserve(vstr *v, size_t extra)
{
    size_t need, cap;

    if (extra > SIZE_MAX - v->len - 1)
        msg_fatal("vstr_reserve: length overflow");
    need = v->len + extra + 1;
    if (need <= v->cap)
        return;
    cap = v->cap ? v->cap : 32;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    v->data = mem_realloc(v->data, cap);
    v->cap = cap;
    v->data[v->len] = 0;
}

void vstr_reset(vstr *v)
{
    vstr_truncate(v, 0);
}

void vstr_truncate(vstr *v, size_t len)
{
    if (len > v->len)
        msg_panic("vstr_truncate: %zu beyond length %zu", len, v->len);
    v->len = len;
    if (v->data)
        v->data[len] = 0;
}

void vstr_append(vstr *v, const void *data, size_t len)
{
    vstr_reserve(v, len);
    if (len)
        memcpy(v->data + v->len, data, len);
    v->len += len;
    v->data[v->len] = 0;
}

void vstr_append_str(vstr *v, const char *s)
{
    vstr_append(v, s, strlen(s));
}

void vstr_append_char(vstr *v, int c)
{
    vstr_reserve(v, 1);
    v->data[v->len++] = (char)c;
    v->data[v->len] = 0;
}

void vstr_append_vfmt(vstr *v, const char *fmt, va_list ap)
{
    va_list ap2;
    int n;

    vstr_reserve(v, 64);
    va_copy(ap2, ap);
    n = vsnprintf(v->data + v->len, v->cap - v->len, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        msg_panic("vstr_append_vfmt: bad format \"%s\"", fmt);
    if ((size_t)n >= v->cap - v->len) {
        vstr_reserve(v, (size_t)n);
        vsnprintf(v->data + v->len, v->cap - v->len, fmt, ap);
    }
    v->len += (size_t)n;
}

void vstr_append_fmt(vstr *v, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vstr_append_vfmt(v, fmt, ap);
    va_end(ap);
}

void vstr_set(vstr *v, const void *data, size_t len)
{
    vstr_reset(v);
    vstr_append(v, data, len);
}

void vstr_set_str(vstr *v, const char *s)
{
    vstr_set(v, s, strlen(s));
}

void vstr_set_fmt(vstr *v, const char *fmt, ...)
{
    va_list ap;

    vstr_reset(v);
    va_start(ap, fmt);
    vstr_append_vfmt(v, fmt, ap);
    va_end(ap);
}

void vstr_trim(vstr *v)
{
    size_t start = 0, end = v->len;

    while (start < end && isspace((unsigned char)v->data[start]))
        start++;
    while (end > start && isspace((unsigned char)v->data[end - 1]))
        end--;
    if (start > 0 && end > start)
        memmove(v->data, v->data + start, end - start);
    if (v->data)
        vstr_truncate(v, end - start);
}

/* ASCII only, as Postfix folds keys, whatever the locale; and without
 * tolower()'s call per byte (a measurable share of a table build). */
void vstr_lower(vstr *v)
{
    for (size_t i = 0; i < v->len; i++)
        if (v->data[i] >= 'A' && v->data[i] <= 'Z')
            v->data[i] = (char)(v->data[i] + ('a' - 'A'));
}

int vstr_equals(const vstr *v, const char *s)
{
    size_t n = strlen(s);

    return n == v->len && (n == 0 || memcmp(v->data, s, n) == 0);
}
