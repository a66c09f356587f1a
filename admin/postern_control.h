/*
 * postern_control - the verbs that run an instance: start, stop, abort,
 * reload, status, flush
 *
 * DESCRIPTION
 *   Handlers for postern.c's verb table (admin/postern.h's
 *   postern_handler). Each works on the instance of opts->config_dir and
 *   talks to its master through the pid lock (global/master_pid), signals
 *   and, for flush, the qmgr trigger socket.
 */
#ifndef ADMIN_POSTERN_CONTROL_H
#define ADMIN_POSTERN_CONTROL_H

#include "admin/postern.h"

/* Check, start master, return once it holds its lock and listens. */
int postern_start(const postern_opts *opts, int argc, char **argv);
/* SIGTERM master; return once it and its children are gone. */
int postern_stop(const postern_opts *opts, int argc, char **argv);
/* Stop at once: children are killed, not asked. */
int postern_abort(const postern_opts *opts, int argc, char **argv);
/* SIGHUP master: re-read main.cf and master.cf. */
int postern_reload(const postern_opts *opts, int argc, char **argv);
/* Say whether master runs (exit 0) or not (exit 1). */
int postern_status(const postern_opts *opts, int argc, char **argv);
/* Ask qmgr to retry deferred mail now. */
int postern_flush(const postern_opts *opts, int argc, char **argv);

#endif
