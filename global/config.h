/*
 * config - main.cf: parameters with compiled-in defaults, lazy expansion
 *
 * SYNOPSIS
 *   config *cfg = config_load(config_directory(opt_c), &err);
 *   const char *host = config_str(cfg, "myhostname");
 *   long long limit = config_size(cfg, "message_size_limit");
 *
 * DESCRIPTION
 *   A config holds the text of every parameter set in DIR/main.cf (and any
 *   overrides, e.g. master.cf -o), over the defaults of the parameter table
 *   (global/param_table.c). Values are expanded when first asked for:
 *   $name, ${name}, ${name?text} (text when name is non-empty),
 *   ${name:text} (text when name is empty), $$ for a dollar. Results are
 *   cached. Expansion of a name that refers back to itself is an error that
 *   names the chain ("a -> b -> a"), never a hang.
 *
 *   Typed getters convert and check bounds: bool (yes/no/true/false/1/0),
 *   int, time (a number with unit s, m, h, d or w; the parameter's default
 *   unit when none), size (bytes).
 *
 * DIAGNOSTICS
 *   config_load and config_expand report "FILE, line N: reason" in err.
 *   The config_str family is for daemons: a bad value is fatal, with the
 *   same text. Unknown parameter names in main.cf are warnings naming the
 *   file and line (names referred to as $name elsewhere are not unknown).
 */
#ifndef GLOBAL_CONFIG_H
#define GLOBAL_CONFIG_H

#include <stddef.h>

#include "util/argv.h"
#include "util/vstr.h"

typedef struct config config;

/* Longest logical main.cf line (continuations joined) accepted. */
#define CONFIG_LINE_MAX (256 * 1024)
/* Largest main.cf or master.cf file accepted. */
#define CONFIG_FILE_MAX (16 * 1024 * 1024)
/* Default configuration directory of an installed system. */
#define CONFIG_DIR_DEFAULT "/etc/postern"
/* Longest expanded value; more is an error, so that a = $b$b, b = $c$c,
 * ... cannot exhaust memory. */
#define CONFIG_VALUE_MAX (4 * CONFIG_LINE_MAX)
/* Deepest nesting of $name references and ${name?...} texts. */
#define CONFIG_EXPAND_DEPTH 100

/* The directory to use: cmdline_dir (-c) if set, else $MAIL_CONFIG, else
 * CONFIG_DIR_DEFAULT. */
const char *config_directory(const char *cmdline_dir);

/* Read DIR/main.cf; NULL with a one-line reason in err on failure. A
 * missing main.cf is an error. */
config *config_load(const char *dir, vstr *err);
/* A configuration with no main.cf: every parameter at its default. */
config *config_new_defaults(const char *dir);
void config_free(config *cfg);

/* The configuration directory this config came from. */
const char *config_dir(const config *cfg);
/* The main.cf path (DIR/main.cf). */
const char *config_file(const config *cfg);

/* Set name = value over main.cf, as master.cf's -o does. Clears the cache. */
void config_override(config *cfg, const char *name, const char *value);

/* Text as set in main.cf or by override, unexpanded; NULL when not set. */
const char *config_raw(const config *cfg, const char *name);
/* The compiled-in default text, unexpanded; NULL for an unknown name. */
const char *config_default_text(const char *name);

/* The expanded value; NULL and a reason in err on an unknown name, an
 * expansion loop or a malformed ${...}. */
const char *config_expand(config *cfg, const char *name, vstr *err);
/* Expand arbitrary text against cfg (as postconf -x does for values). */
int config_expand_text(config *cfg, const char *text, vstr *out, vstr *err);

/* Typed getters for daemons: fatal, with the reason, on a bad value. */
const char *config_str(config *cfg, const char *name);
int config_bool(config *cfg, const char *name);
long long config_int(config *cfg, const char *name);
long long config_time(config *cfg, const char *name); /* seconds */
long long config_size(config *cfg, const char *name); /* bytes */
/* The value split on white space and commas (Postfix list syntax). */
argv_t *config_list(config *cfg, const char *name);

/* Check every parameter that is set: expansion, type and bounds. Returns
 * the number of problems; each is one line appended to errs. */
int config_validate(config *cfg, vstr *errs);

/* Names set in main.cf, in file order (for postconf -n). */
argv_t *config_names_set(const config *cfg);

/* Additions beyond the original interface. */

/* Parse main.cf text held in memory as if read from DIR/main.cf (tests,
 * fuzzing). Unlike config_load it neither reads master.cf nor warns about
 * unknown names; config_unknown lists them. */
config *config_load_text(const char *dir, const char *text, size_t len, vstr *err);
/* Append one line "FILE, line N: unknown parameter NAME" for each name set
 * in main.cf that is neither in the parameter table nor used as $NAME (in
 * main.cf or master.cf -o) nor a per-transport form of a table parameter
 * (relay_destination_concurrency_limit). Returns how many. config_load
 * logs these as warnings. */
int config_unknown(const config *cfg, vstr *lines);
/* Is name a parameter: in the table, set in main.cf and used as $name, or
 * a per-transport form of a table parameter? */
int config_name_known(const config *cfg, const char *name);
/* The main.cf line that sets name; 0 when it is not set there. */
int config_line(const config *cfg, const char *name);
/* The text in effect, unexpanded: as set, else the default (derived
 * defaults such as mydomain computed for this configuration). NULL with a
 * reason in err for an unknown name or when a derived default cannot be
 * computed. Valid until config_free. */
const char *config_text(config *cfg, const char *name, vstr *err);
/* Check value as a value of table parameter name, as config_validate
 * does: type, bounds and allowed words. Numbers (bool 0/1, int, time in
 * seconds, size) go to *out. 0, or -1 with a reason in why (without the
 * parameter's name). */
int config_convert(const char *name, const char *value, long long *out, vstr *why);

#endif
