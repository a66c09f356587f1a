/*
 * vstr - length-carrying growable strings
 *
 * A vstr holds len bytes (any byte, NUL included) in a buffer that always
 * has a NUL after the last byte, so vstr_str() can go to C APIs directly.
 * Growth is geometric; allocation failure is fatal (util/mem).
 *
 * A vstr may live on the stack (VSTR_INIT / vstr_init, then vstr_release)
 * or on the heap (vstr_new / vstr_free).
 */
#ifndef UTIL_VSTR_H
#define UTIL_VSTR_H

#include <stdarg.h>
#include <stddef.h>

typedef struct vstr {
    char *data; /* len bytes and a NUL; NULL until first growth */
    size_t len;
    size_t cap; /* bytes allocated, NUL included */
} vstr;

#define VSTR_INIT {NULL, 0, 0}

/* Prepare an embedded vstr. */
void vstr_init(vstr *v);
/* Free an embedded vstr's buffer; v is empty and reusable after. */
void vstr_release(vstr *v);
/* Allocate an empty vstr with room for hint bytes. */
vstr *vstr_new(size_t hint);
/* Free a vstr from vstr_new; NULL is fine. */
void vstr_free(vstr *v);
/* Hand the buffer to the caller (NUL-terminated, caller frees); v is reset. */
char *vstr_steal(vstr *v);

/* The contents as a NUL-terminated string ("" when empty). */
static inline const char *vstr_str(const vstr *v)
{
    return v->data ? v->data : "";
}
static inline size_t vstr_len(const vstr *v)
{
    return v->len;
}

/* Make room for extra more bytes. */
void vstr_reserve(vstr *v, size_t extra);
/* Empty v, keeping its buffer. */
void vstr_reset(vstr *v);
/* Cut v to len bytes (len <= vstr_len). */
void vstr_truncate(vstr *v, size_t len);

void vstr_append(vstr *v, const void *data, size_t len);
void vstr_append_str(vstr *v, const char *s);
void vstr_append_char(vstr *v, int c);
void vstr_append_fmt(vstr *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void vstr_append_vfmt(vstr *v, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Replace the contents. */
void vstr_set(vstr *v, const void *data, size_t len);
void vstr_set_str(vstr *v, const char *s);
void vstr_set_fmt(vstr *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Remove white space at both ends. */
void vstr_trim(vstr *v);
/* Fold ASCII letters to lower case in place. */
void vstr_lower(vstr *v);
/* True when v holds exactly the string s. */
int vstr_equals(const vstr *v, const char *s);

#endif
