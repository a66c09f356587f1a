/*
 * maps - a list of lookup tables searched in order (alias_maps = a, b, ...)
 *
 * SYNOPSIS
 *   maps *m = maps_open("alias_maps", config_str(cfg, "alias_maps"), O_RDONLY, 0);
 *   switch (maps_find(m, "postmaster", &value, &which)) {
 *   case DICT_FOUND:    ... value; which is the table that answered ...
 *   case DICT_NOTFOUND: ...
 *   case DICT_ERROR:    ... maps_error(m): "alias_maps: hash:/x: ..."; defer ...
 *   }
 *
 * DESCRIPTION
 *   A parameter that names tables lists "type:name" entries separated by
 *   commas or white space; braces group ("inline:{ a=b, c=d }" is one
 *   entry). Tables are opened once, before any privilege drop. A table
 *   that cannot be opened does not stop the daemon: it is logged and
 *   replaced by a surrogate whose every lookup is an error with the
 *   reason, so mail that needs it is deferred, never bounced or
 *   delivered as if the key were unknown.
 *
 *   maps_find() asks each table in turn: the first that has the key
 *   answers. An error stops the search (a later table must not answer
 *   for a key the broken one might hold).
 */
#ifndef GLOBAL_MAPS_H
#define GLOBAL_MAPS_H

#include "global/config.h"
#include "util/argv.h"
#include "util/dict.h"
#include "util/vstr.h"

typedef struct maps {
    char *title; /* the parameter name, for diagnostics */
    dict **dicts;
    size_t count;
    vstr error;
} maps;

/* Split a table list on commas and white space, keeping {...} together. */
argv_t *maps_split(const char *list);
/* Open every table in list (may be empty: no tables). */
maps *maps_open(const char *title, const char *list, int open_flags, int dict_flags);
/* The tables named by the main.cf parameter param (read-only; param is
 * also the title). */
maps *maps_open_param(config *cfg, const char *param);
/* DICT_FOUND (value set; *which, if not NULL, is the table), DICT_NOTFOUND,
 * DICT_ERROR (maps_error says why). */
int maps_find(maps *m, const char *key, vstr *value, dict **which);
/* As maps_find, skipping pattern tables (pcre:, regexp:, cidr:): Postfix
 * gives those the whole address only, never the partial keys tried after
 * it (global/addr_find). */
int maps_find_fixed(maps *m, const char *key, vstr *value, dict **which);
/* Why the last maps_find returned DICT_ERROR. */
const char *maps_error(const maps *m);
/* True when a table file changed since it was opened, or a table could
 * not be opened: opening the list again may give a different answer. */
int maps_changed(const maps *m);
/* When a table of *m changed since it was opened, or could not be opened,
 * open list again in its place (logging "TITLE: table has changed --
 * opening it again" for a table that had been open), so the next lookup
 * sees the rebuilt file. Returns 1 when it reopened, else 0. A table the
 * process may no longer read becomes a surrogate, as at start. */
int maps_refresh(maps **m, const char *list, int open_flags, int dict_flags);
/* maps_refresh for a list opened with maps_open_param. */
int maps_refresh_param(maps **m, config *cfg, const char *param);
/* True for the stand-in of a table that could not be opened. */
int maps_is_surrogate(const dict *d);
void maps_free(maps *m);

#endif
