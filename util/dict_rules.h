/*
 * dict_rules - tables that are ordered lists of patterns (pcre:, regexp:, cidr:)
 *
 * SYNOPSIS
 *   static const dict_rules_ops ops = {.type = "pcre", .compile = compile, ...};
 *   dict *dict_pcre_open(const char *name, int open_flags, int dict_flags, vstr *err)
 *   {
 *       return dict_rules_open(&ops, name, open_flags, dict_flags, err);
 *   }
 *
 * DESCRIPTION
 *   The file NAME holds one rule per logical line (util/dict_source):
 *
 *     PATTERN result          the first rule whose pattern matches answers
 *     !PATTERN result         matches when PATTERN does not
 *     if PATTERN              the rules up to the matching endif are tried
 *     if !PATTERN             only when PATTERN matches (does not match)
 *     endif
 *
 *   What a PATTERN is belongs to the type: ops->compile reads one at the
 *   start of a line. When ops->substitute is set, a result may name the
 *   pattern's groups, $1 or ${1} (any number up to the pattern's group
 *   count; a group that took no part in the match is empty), and $$ is
 *   one '$'; otherwise the result is literal text.
 *
 *   dict_rules_regex() splits the /regex/flags form that pcre: and
 *   regexp: share: any delimiter that is not a letter, digit, white space
 *   or backslash; a backslash keeps the next byte (an escaped delimiter
 *   stays in the regex, escaped).
 *
 * DIAGNOSTICS
 *   Every mistake in the file (an unknown flag, a regex that does not
 *   compile, a $ number beyond the pattern's groups, an endif too many,
 *   more than DICT_RULES_MAX rules or if nested deeper than
 *   DICT_RULES_DEPTH_MAX) makes the open fail with "TYPE:NAME, line N:
 *   reason", so the caller gets a table that answers DICT_ERROR
 *   (dict_surrogate) and defers mail, never one that says "not found"
 *   for keys a broken rule was meant to catch. A match that fails (PCRE's
 *   match limit) or a result longer than DICT_RULES_RESULT_MAX is a
 *   DICT_ERROR of that lookup.
 */
#ifndef UTIL_DICT_RULES_H
#define UTIL_DICT_RULES_H

#include <stddef.h>

#include "util/dict.h"

#define DICT_RULES_MAX 100000       /* rules (lines) in one table */
#define DICT_RULES_DEPTH_MAX 100    /* if ... endif nesting */
#define DICT_RULES_RESULT_MAX 65536 /* a result after substitution */
#define DICT_RULES_GROUPS_MAX 100   /* $1 .. $99 */

/* Where each group matched: start[i] is (size_t)-1 for a group that took
 * no part; groups counts the slots filled in. Index 0 is the whole match. */
typedef struct dict_rules_groups {
    size_t start[DICT_RULES_GROUPS_MAX];
    size_t end[DICT_RULES_GROUPS_MAX];
    int count;
} dict_rules_groups;

/* The key of one lookup, as every rule's match sees it. */
typedef struct dict_rules_key {
    const char *text;
    size_t len;    /* strlen(text) */
    void *scratch; /* the table's scratch (ops->scratch_new), after ops->prepare */
} dict_rules_key;

typedef struct dict_rules_ops {
    const char *type;
    /* Compile the pattern at the start of text: 0 with *pattern, *used (bytes
     * taken) and *groups (capture groups, for checking $n) set; -1 with a
     * reason in why. */
    int (*compile)(const char *text, size_t *used, void **pattern, int *groups, vstr *why);
    /* 1 when key matches (g filled in when not NULL), 0 when not, -1 with a
     * reason in why. */
    int (*match)(void *pattern, const dict_rules_key *key, dict_rules_groups *g, vstr *why);
    void (*release)(void *pattern);
    int substitute; /* results take $n */
    /* Optional: memory a table keeps for its lookups, made at open, freed
     * at close (pcre: one match block for all rules), so that no lookup
     * allocates per rule. */
    void *(*scratch_new)(void);
    void (*scratch_free)(void *scratch);
    /* Optional: work done once per lookup, not once per rule (cidr: the
     * key parsed as an address), leaving its result in scratch. */
    void (*prepare)(void *scratch, const char *key);
} dict_rules_ops;

/* Open a rules table of the type ops describes (the body of a dict_open_fn). */
dict *dict_rules_open(const dict_rules_ops *ops, const char *name, int open_flags, int dict_flags,
                      vstr *err);

/* Split "/regex/flags" at text: 0 with regex, flags and *used set, or -1. */
int dict_rules_regex(const char *text, size_t *used, vstr *regex, vstr *flags, vstr *why);

#endif
