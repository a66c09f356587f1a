/*
 * alias_parse - the aliases(5) format, and alias target lists
 *
 * SYNOPSIS
 *   alias_parse_ops ops = {on_entry, on_warning};
 *   if (alias_parse(text, len, "/etc/postern/aliases", &ops, ctx, &err) < 0)
 *       ... vstr_str(&err): "/etc/postern/aliases, line 7: line longer than ..." ...
 *
 *   argv_t *targets = argv_new();
 *   if (alias_targets(value, targets, &err) < 0) ...
 *   switch (alias_target_type(targets->argv[i])) ...
 *
 * DESCRIPTION
 *   alias_parse() reads an aliases file held in memory: "name: value"
 *   entries; a line that starts with white space continues the one
 *   before; blank lines and lines whose first non-blank character is '#'
 *   are skipped wherever they are (also between continuation lines). A
 *   name may be quoted ("john smith": ...). Names are returned unquoted
 *   and folded to lower case; the value is normalised as Postfix's
 *   postalias stores it: list elements separated by ", ", runs of white
 *   space outside quotes made one space, quotes kept. The first entry for
 *   a name wins; a later one is reported and skipped.
 *
 *   alias_targets() splits a value (or one line of a .forward or
 *   :include: file) into targets: "|command", "/file", ":include:/file",
 *   or an address in internal form (quotes, comments and angle brackets
 *   removed). A target quoted as a whole ("|cmd arg, x") keeps its commas
 *   and white space. A leading backslash ("\user": deliver to the
 *   mailbox, skip aliases and .forward) is kept for the caller.
 *
 *   alias_list_parse() reads a whole .forward or :include: file: targets
 *   separated by commas or newlines, '#' comment lines skipped.
 *
 *   Everything is bounded: ALIAS_LINE_MAX bytes per logical line,
 *   ALIAS_TARGETS_MAX targets per value or file.
 *
 * DIAGNOSTICS
 *   An entry that cannot be used (no "name:", an empty value, a name with
 *   a domain, a duplicate) is passed to ops->warn as "FILE, line N:
 *   reason" and skipped; parsing goes on. Input that is not an aliases
 *   file at all (a NUL byte, a logical line over ALIAS_LINE_MAX) stops
 *   the parse: -1 with "FILE, line N: reason" in err.
 */
#ifndef GLOBAL_ALIAS_PARSE_H
#define GLOBAL_ALIAS_PARSE_H

#include <stddef.h>

#include "util/argv.h"
#include "util/vstr.h"

/* Longest logical line (continuation lines joined) accepted. */
#define ALIAS_LINE_MAX (256 * 1024)
/* Most targets in one alias value, .forward or :include: file. */
#define ALIAS_TARGETS_MAX 10000

typedef struct alias_parse_ops {
    /* An entry: name unquoted and in lower case, value normalised, line of
     * the name. */
    void (*entry)(void *ctx, const char *name, const char *value, long line);
    /* A skipped entry: "FILE, line N: reason". May be NULL. */
    void (*warn)(void *ctx, const char *text);
} alias_parse_ops;

/* Parse an aliases file; 0 (warnings may have been given), or -1 with
 * the reason in err. */
int alias_parse(const char *text, size_t len, const char *filename, const alias_parse_ops *ops,
                void *ctx, vstr *err);

/* Normalise an alias value the way alias_parse() stores it. */
void alias_value_normalize(const char *value, size_t len, vstr *out);

/* What a target is. */
typedef enum alias_target_kind {
    ALIAS_TARGET_ADDRESS, /* user, user@domain, \user */
    ALIAS_TARGET_COMMAND, /* |command */
    ALIAS_TARGET_FILE,    /* /path */
    ALIAS_TARGET_INCLUDE, /* :include:/path */
} alias_target_kind;

/* Append the targets in value to out; 0, or -1 with the reason in err
 * (too many targets: those that fit are kept). */
int alias_targets(const char *value, argv_t *out, vstr *err);
/* Append the targets of a .forward or :include: file's text to out; 0, or
 * -1 with the reason in err ("line N: ..."). */
int alias_list_parse(const char *text, size_t len, argv_t *out, vstr *err);
/* Classify a target from alias_targets(). */
alias_target_kind alias_target_type(const char *target);

#endif
