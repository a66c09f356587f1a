/*
 * xtext - RFC 3461 xtext encoding and decoding (see xtext.h)
 */
#include <string.h>

#include "global/xtext.h"

static const char xtext_hex[] = "0123456789ABCDEF";

static int xtext_plain(unsigned char c)
{
    return c >= 33 && c <= 126 && c != '+' && c != '=';
}

void xtext_encode(vstr *out, const char *text)
{
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (xtext_plain(*p)) {
            vstr_append_char(out, *p);
        } else {
            vstr_append_char(out, '+');
            vstr_append_char(out, xtext_hex[*p >> 4]);
            vstr_append_char(out, xtext_hex[*p & 15]);
        }
    }
}

/* The value of an upper-case hex digit, or -1. */
static int xtext_digit(char c)
{
    const char *p = c ? strchr(xtext_hex, c) : NULL;

    return p ? (int)(p - xtext_hex) : -1;
}

int xtext_decode(const char *text, size_t len, size_t max, vstr *out)
{
    vstr_reset(out);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];

        if (c == '+') {
            int hi = len - i >= 3 ? xtext_digit(text[i + 1]) : -1;
            int lo = hi >= 0 ? xtext_digit(text[i + 2]) : -1;

            if (lo < 0)
                return -1;
            c = (unsigned char)(hi * 16 + lo);
            i += 2;
            if (c < 0x20 || c == 0x7f)
                return -1;
        } else if (!xtext_plain(c)) {
            return -1;
        }
        vstr_append_char(out, c);
        if (vstr_len(out) > max)
            return -1;
    }
    return 0;
}
