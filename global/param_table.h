/*
 * param_table - every main.cf parameter Postern knows: name, type, default
 *
 * SYNOPSIS
 *   const param_def *p = param_lookup("message_size_limit");
 *   for (size_t i = 0; i < param_count(); i++) use(param_at(i));
 *
 * DESCRIPTION
 *   One row per parameter, sorted by name: its type, its compiled-in
 *   default text (with $name references, expanded by global/config), the
 *   bounds a typed value must meet, the unit a time value without one is
 *   in, and a one-line description. postconf -d, postconf(5) and
 *   config_validate all come from this table.
 *
 *   A default marked PARAM_F_DERIVED has no text here: global/config
 *   computes it (myhostname from the system, mydomain from myhostname,
 *   mynetworks from mynetworks_style and the host's addresses).
 *
 *   A PARAM_F_RAW value is never expanded by the configuration: it holds
 *   $names that a program fills in at run time (mailbox_command's
 *   $EXTENSION, default_rbl_reply's $rbl_code).
 */
#ifndef GLOBAL_PARAM_TABLE_H
#define GLOBAL_PARAM_TABLE_H

#include <limits.h>
#include <stddef.h>

#include "util/vstr.h"

typedef enum param_type {
    PARAM_STR,  /* text, often a list or a table name */
    PARAM_BOOL, /* yes or no */
    PARAM_INT,  /* a count */
    PARAM_TIME, /* a number and an optional unit: s, m, h, d, w */
    PARAM_SIZE, /* bytes */
} param_type;

#define PARAM_F_DERIVED 1 /* default computed at run time (def is NULL) */
#define PARAM_F_RAW 2     /* never expanded */
#define PARAM_F_LIST 4    /* choices apply to each element of a list */

/* No upper bound. */
#define PARAM_MAX LLONG_MAX

typedef struct param_def {
    const char *name;
    param_type type;
    const char *def;     /* default text; NULL when PARAM_F_DERIVED */
    long long min, max;  /* bounds for int, time (seconds) and size */
    char unit;           /* time: unit of a bare number ('s', 'm', 'h', 'd', 'w') */
    const char *choices; /* "a|b|c": the values allowed, or NULL for any */
    int flags;
    const char *desc; /* one line, for postconf(5) */
} param_def;

/* The row for name, or NULL. */
const param_def *param_lookup(const char *name);
/* The number of rows, and row i (rows are sorted by name). */
size_t param_count(void);
const param_def *param_at(size_t i);

/* Seconds in one unit ('s', 'm', 'h', 'd', 'w'); 0 for another character. */
long long param_unit_seconds(int unit);
/* Is word one of the "a|b|c" choices (ASCII case ignored)? */
int param_choice_ok(const char *choices, const char *word, size_t len);

/* The parameter list of postconf(5), in roff: one entry per row with its
 * default, its type and bounds, and its description. */
void param_table_roff(vstr *out);

#endif
