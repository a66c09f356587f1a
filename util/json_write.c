/*
 * json_write - JSON strings from arbitrary bytes; see json_write.h
 */
#include "util/json_write.h"

size_t json_utf8_length(const unsigned char *s, size_t len)
{
    unsigned char c = s[0];
    unsigned char lo = 0x80, hi = 0xbf; /* bounds of the second byte */
    size_t n;

    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        if (c == 0xe0)
            lo = 0xa0; /* overlong */
        else if (c == 0xed)
            hi = 0x9f; /* surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        if (c == 0xf0)
            lo = 0x90; /* overlong */
        else if (c == 0xf4)
            hi = 0x8f; /* above U+10FFFF */
    } else {
        return 0; /* continuation byte, 0xc0/0xc1, 0xf5 and up */
    }
    if (len < n || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return n;
}

void json_write_string(vstr *out, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;

    vstr_append_char(out, '"');
    while (i < len) {
        unsigned char c = p[i];
        size_t n;

        switch (c) {
        case '"':
            vstr_append_str(out, "\\\"");
            break;
        case '\\':
            vstr_append_str(out, "\\\\");
            break;
        case '\b':
            vstr_append_str(out, "\\b");
            break;
        case '\f':
            vstr_append_str(out, "\\f");
            break;
        case '\n':
            vstr_append_str(out, "\\n");
            break;
        case '\r':
            vstr_append_str(out, "\\r");
            break;
        case '\t':
            vstr_append_str(out, "\\t");
            break;
        default:
            if (c < 0x20 || c == 0x7f || (n = json_utf8_length(p + i, len - i)) == 0) {
                vstr_append_fmt(out, "\\u%04x", c);
                break;
            }
            vstr_append(out, p + i, n);
            i += n;
            continue;
        }
        i++;
    }
    vstr_append_char(out, '"');
}
