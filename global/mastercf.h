/*
 * mastercf - master.cf: the services master runs
 *
 * SYNOPSIS
 *   mastercf *mcf = mastercf_load(config_dir(cfg), &err);
 *   for (size_t i = 0; i < mcf->count; i++) start(mcf->services[i]);
 *   mastercf_apply(svc, cfg);          (in the child: its -o overrides)
 *   mastercf_free(mcf);
 *
 * DESCRIPTION
 *   One service per logical line (util/cfgfile syntax: continuation lines
 *   start with white space, '#' lines are comments):
 *
 *     service type private unpriv chroot wakeup maxproc command args...
 *
 *   type is inet, unix, unix-dgram, fifo or pass. A "-" in the private,
 *   unpriv, chroot, wakeup or maxproc column means its default (y, y, n,
 *   0, default_process_limit). wakeup may end in "?" (wake only a service
 *   that has been used). Among the arguments, "-o name=value" and
 *   "-o { name = value with spaces }" override main.cf for this service;
 *   any argument may be written "{ text with spaces }".
 *
 * DIAGNOSTICS
 *   mastercf_load and mastercf_parse return NULL with one line
 *   "FILE, line N: reason" per bad line in err (several lines when several
 *   are bad). A second service with the same name and type is an error.
 */
#ifndef GLOBAL_MASTERCF_H
#define GLOBAL_MASTERCF_H

#include <stddef.h>

#include "global/config.h"
#include "util/argv.h"
#include "util/vstr.h"

typedef enum mastercf_type {
    MASTERCF_INET,
    MASTERCF_UNIX,
    MASTERCF_UNIX_DGRAM,
    MASTERCF_FIFO,
    MASTERCF_PASS,
} mastercf_type;

typedef struct mastercf_service {
    char *name;      /* port, host:port, or socket name */
    char *type_name; /* the type column as written */
    mastercf_type type;
    char *columns[5];        /* private .. maxproc as written, "-" included */
    int is_private;          /* socket in private/ (else public/) */
    int is_unpriv;           /* runs as mail_owner (else root) */
    int is_chroot;           /* chroot to queue_directory */
    int wakeup;              /* seconds between wake-up triggers; 0: none */
    int wakeup_if_used;      /* the wakeup column ends in '?' */
    int maxproc;             /* most processes; 0: no limit; -1: default_process_limit */
    argv_t *argv;            /* command and arguments, in order; -o NAME=VALUE kept */
    argv_t *override_names;  /* -o names, in order */
    argv_t *override_values; /* -o values, same order */
    int lineno;              /* where the service starts in master.cf */
} mastercf_service;

typedef struct mastercf {
    char *path;
    mastercf_service **services; /* in file order */
    size_t count;
} mastercf;

/* Read and parse DIR/master.cf; NULL with the reasons in err. */
mastercf *mastercf_load(const char *dir, vstr *err);
/* Parse master.cf text; path names the file in messages. */
mastercf *mastercf_parse(const char *path, const char *text, size_t len, vstr *err);
void mastercf_free(mastercf *mcf);

/* The service with this name and type name, or NULL. */
const mastercf_service *mastercf_find(const mastercf *mcf, const char *name, const char *type);
/* The service as postconf -M prints it: normalized columns, then the
 * command and its arguments on the same line (no newline). */
void mastercf_format(const mastercf_service *svc, vstr *out);
/* Apply the service's -o overrides to cfg. */
void mastercf_apply(const mastercf_service *svc, config *cfg);

#endif
