/*
 * var_expand - fill $name references in with per-delivery values
 *
 * SYNOPSIS
 *   static const char *attr(void *ctx, const char *name) { ... value or NULL ... }
 *   if (var_expand("$home/.forward${recipient_delimiter}${extension}", attr, ctx,
 *                  NULL, &path, &err) < 0) ...
 *
 * DESCRIPTION
 *   The expansion local(8) applies to forward_path, mailbox_command and
 *   the like, with Postfix's syntax: $name and ${name} give the value;
 *   ${name?text} gives text when the value is non-empty, ${name:text}
 *   when it is empty (text is expanded in turn); $$ is a dollar. A name
 *   the lookup does not know (returns NULL) is an error; a known name
 *   with an empty value expands to nothing.
 *
 *   With a filter (command_expansion_filter), every byte of a substituted
 *   value that is not in it becomes '_', so an address chosen by a
 *   remote sender cannot put shell syntax into a command. Literal text
 *   is never filtered.
 *
 *   With VAR_EXPAND_KEEP_UNKNOWN a name the lookup does not know is kept
 *   as written ("$EXTENSION" in a command is the shell's to expand).
 *
 * DIAGNOSTICS
 *   -1 with the reason in err: an unknown name, a "${" without "}", or
 *   nesting deeper than VAR_EXPAND_DEPTH.
 */
#ifndef GLOBAL_VAR_EXPAND_H
#define GLOBAL_VAR_EXPAND_H

#include "util/vstr.h"

#define VAR_EXPAND_DEPTH 10

/* flags */
#define VAR_EXPAND_KEEP_UNKNOWN 1

/* The value of name, or NULL when name is unknown. */
typedef const char *(*var_lookup_fn)(void *ctx, const char *name);

/* Expand text into out (replacing it); 0, or -1 with the reason in err. */
int var_expand(const char *text, var_lookup_fn lookup, void *ctx, const char *filter, int flags,
               vstr *out, vstr *err);

#endif
