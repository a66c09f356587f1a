/*
 * dict_source - reading the text files that lookup tables are made from
 *
 * SYNOPSIS
 *   dict_source src;
 *   vstr why = VSTR_INIT, key = VSTR_INIT, value = VSTR_INIT;
 *
 *   if (dict_source_load(&src, "/etc/postern/virtual", &why) < 0) ... why ...
 *   while ((st = dict_source_next(&src, &why)) != 0) {
 *       if (st < 0) { ... why is "/etc/postern/virtual, line 7: ..." ...; continue; }
 *       if (dict_source_split(vstr_str(&src.line), &key, &value) < 0) ... no value ...
 *   }
 *   dict_source_free(&src);
 *
 * DESCRIPTION
 *   The source of every table type that is text (postmap input, texthash:,
 *   pcre:, regexp:, cidr:) has the same line syntax, util/cfgfile's: a
 *   line that starts with white space continues the one before it, blank
 *   lines and lines whose first non-blank character is '#' are skipped.
 *   As in Postfix, a continuation is joined as it stands (its white space
 *   kept, only the line break dropped; cfgfile's verbatim mode), and white
 *   space at the end of the logical line goes. dict_source_next() hands out one logical line at a time with the
 *   number of its first physical line in src.lineno.
 *
 *   postmap's format is "key whitespace value": dict_source_split() takes
 *   the key up to the first white space and the rest, trimmed, as value;
 *   dict_source_fill() stores every such line in a table.
 *
 * DIAGNOSTICS
 *   Every reason names the file (or the name given for a descriptor) and,
 *   for a line, its number. A file larger than DICT_SOURCE_FILE_MAX and a
 *   logical line longer than DICT_SOURCE_LINE_MAX are refused.
 */
#ifndef UTIL_DICT_SOURCE_H
#define UTIL_DICT_SOURCE_H

#include <sys/stat.h>

#include "util/cfgfile.h"
#include "util/dict.h"
#include "util/vstr.h"

/* Largest source file read (into memory). */
#define DICT_SOURCE_FILE_MAX (1024UL * 1024 * 1024)
/* Longest logical line, continuations included. */
#define DICT_SOURCE_LINE_MAX (64 * 1024)

typedef struct dict_source {
    char *path;     /* for messages */
    vstr text;      /* the whole file */
    struct stat st; /* of the file (dict_source_load only) */
    cfgfile_reader reader;
    vstr line;  /* the current logical line */
    int lineno; /* its first physical line */
} dict_source;

/* Read path; 0, or -1 with "PATH: reason" in why. */
int dict_source_load(dict_source *src, const char *path, vstr *why);
/* Read fd to its end (e.g. standard input), calling it name; 0 or -1. */
int dict_source_load_fd(dict_source *src, const char *name, int fd, vstr *why);
/* The next logical line in src->line: 1, 0 at the end, or -1 with
 * "PATH, line N: reason" in why (the caller may go on reading). */
int dict_source_next(dict_source *src, vstr *why);
/* Split "key value": 0, or -1 when there is no value. */
int dict_source_split(const char *line, vstr *key, vstr *value);
/* dict_source_fill: no warning for duplicate keys (postmap -w). */
#define DICT_SOURCE_QUIET 1

/* Store every "key value" line of src in d with dict_update. A line
 * without a value and a duplicate key (the first value stays) are warned
 * about and skipped, as Postfix's postmap does. *entries counts what was
 * stored. 0, or -1 with the reason in why (a line the reader refused, or
 * a table error): d should then be discarded. */
int dict_source_fill(dict_source *src, dict *d, int flags, long *entries, vstr *why);
/* Record the source file as the file behind d (for dict_changed). */
void dict_source_identify(const dict_source *src, dict *d);
void dict_source_free(dict_source *src);

#endif
