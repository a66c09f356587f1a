/*
 * json_write - JSON strings from arbitrary bytes
 *
 * SYNOPSIS
 *   vstr out = VSTR_INIT;
 *   vstr_append_str(&out, "{\"sender\": ");
 *   json_write_string(&out, sender, strlen(sender));
 *   vstr_append_str(&out, "}\n");
 *
 * DESCRIPTION
 *   Appends one JSON string literal, quotes included, that any JSON
 *   parser accepts whatever the input bytes are (RFC 8259):
 *
 *   - '"' and '\' are escaped with a backslash; \b \f \n \r \t for those
 *     controls, \u00XX for every other byte below 0x20 and for 0x7f;
 *   - well-formed UTF-8 (shortest form, no surrogates, at most U+10FFFF)
 *     is copied as it is;
 *   - any other byte (a stray continuation byte, a truncated or overlong
 *     sequence, Latin-1 text) becomes \u00XX with XX its value, one
 *     escape per byte, so the output is valid and still shows what the
 *     byte was. Such a byte reads back as the code point U+00XX.
 *
 *   NUL bytes in the middle of the input are escaped like other controls.
 */
#ifndef UTIL_JSON_WRITE_H
#define UTIL_JSON_WRITE_H

#include <stddef.h>

#include "util/vstr.h"

/* Append s[0..len) to out as a quoted JSON string. */
void json_write_string(vstr *out, const char *s, size_t len);

/* Length of the well-formed UTF-8 sequence at s (at most len bytes), or 0
 * when the byte at s does not start one. */
size_t json_utf8_length(const unsigned char *s, size_t len);

#endif
