/*
 * cfgfile - the line syntax of main.cf and master.cf, no mail knowledge
 *
 * SYNOPSIS
 *   vstr buf = VSTR_INIT, line = VSTR_INIT, why = VSTR_INIT;
 *   cfgfile_reader r;
 *   cfgfile_line at;
 *
 *   if (cfgfile_read(path, max_bytes, &buf, &why) < 0) ...
 *   cfgfile_reader_init(&r, vstr_str(&buf), vstr_len(&buf), max_line);
 *   while ((st = cfgfile_next(&r, &line, &at, &why)) != 0)
 *       if (st < 0) report "PATH, line at.lineno: why";
 *
 * DESCRIPTION
 *   A file is a sequence of logical lines. A physical line that starts with
 *   white space continues the logical line before it; blank lines, and
 *   lines whose first non-blank character is '#', are skipped wherever they
 *   are (also between a line and its continuation). A '#' anywhere else is
 *   data: "name = a # b" has the value "a # b". Continuations are joined
 *   with one space in place of the line break and the white space around
 *   it; white space at the end of a physical line (a CR too) is dropped.
 *
 *   With reader.verbatim set (after cfgfile_reader_init), a continuation
 *   is appended as it stands, its leading white space and the previous
 *   line's trailing white space kept, only the line break dropped: how
 *   Postfix joins the lines of lookup-table sources (postmap, pcre).
 *
 *   cfgfile_split takes "name = value" apart: the name is [A-Za-z0-9_]+,
 *   white space around the name and the value is dropped.
 *
 * DIAGNOSTICS
 *   The reader refuses a logical line longer than its bound, a NUL byte
 *   (naming the physical line that holds it) and a continuation line with
 *   nothing to continue. After an error it has consumed the whole logical
 *   line, so the caller may go on to collect further errors.
 */
#ifndef UTIL_CFGFILE_H
#define UTIL_CFGFILE_H

#include <stddef.h>

#include "util/vstr.h"

typedef struct cfgfile_reader {
    const char *buf;
    size_t len;
    size_t pos;      /* start of the next physical line */
    int lineno;      /* physical lines consumed so far */
    size_t line_max; /* longest logical line accepted, in bytes */
    int verbatim;    /* join continuations as they are (see below) */
} cfgfile_reader;

/* Where a logical line sits in the buffer. */
typedef struct cfgfile_line {
    int lineno;      /* its first physical line, counted from 1 */
    int last_lineno; /* its last physical line (the last continuation) */
    size_t start;    /* offset of its first byte */
    size_t end;      /* offset just past its last physical line's newline */
} cfgfile_line;

/* Read all of path into out; -1 with "PATH: reason" in err (errno kept)
 * when it cannot be opened or read, is not a regular file, or is larger
 * than max bytes. */
int cfgfile_read(const char *path, size_t max, vstr *out, vstr *err);

/* Read logical lines from buf[0..len), each at most line_max bytes. */
void cfgfile_reader_init(cfgfile_reader *r, const char *buf, size_t len, size_t line_max);

/* The next logical line into text: 1, or 0 at the end, or -1 with a reason
 * (no file name or line number) in why. at is filled in for 1 and -1; on
 * -1 at->lineno is the line the reason is about. */
int cfgfile_next(cfgfile_reader *r, vstr *text, cfgfile_line *at, vstr *why);

/* Is c a character of a parameter name? */
int cfgfile_name_char(int c);

/* Split "name = value" into name and value; -1 with a reason in why. */
int cfgfile_split(const char *line, size_t len, vstr *name, vstr *value, vstr *why);

#endif
