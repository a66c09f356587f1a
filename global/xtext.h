/*
 * NAME
 *   xtext - RFC 3461 xtext, as ENVID, ORCPT and AUTH= carry it
 *
 * SYNOPSIS
 *   xtext_encode(&line, "a+b");                      appends "a+2Bb"
 *   if (xtext_decode(text, len, XTEXT_MAX, &out) < 0) ... 501 ...
 *
 * DESCRIPTION
 *   xtext is printable US-ASCII (33..126) except '+' and '=', with any
 *   other byte written "+XX" (two upper-case hex digits). The encoder
 *   writes every byte that needs it that way. The decoder parses hostile
 *   input (an SMTP client's or sendmail -bs's MAIL/RCPT parameters): it
 *   reads exactly len bytes, and refuses malformed text (a NUL included),
 *   lower-case hex, a decoded control character (one could end a queue
 *   record or a log line) and a result over max bytes.
 *
 * DIAGNOSTICS
 *   xtext_decode returns 0, or -1 (out then holds a partial result).
 */
#ifndef GLOBAL_XTEXT_H
#define GLOBAL_XTEXT_H

#include <stddef.h>

#include "util/vstr.h"

/* The longest decoded ENVID or ORCPT address we take (RFC 3461 4.4 and
 * 4.2 allow 100 and 500 characters). */
#define XTEXT_MAX 500

/* Append text to out as xtext. */
void xtext_encode(vstr *out, const char *text);
/* Decode the len bytes of text into out: 0, or -1
 * when malformed, a control character, or over max bytes decoded. */
int xtext_decode(const char *text, size_t len, size_t max, vstr *out);

#endif
