/*
 * trigger - wake a trigger service (pickup, qmgr) through public/SERVICE
 *
 * SYNOPSIS
 *   vstr err = VSTR_INIT;
 *   if (trigger_send(queue_dir, "qmgr", TRIGGER_NEW, 1000, &err) < 0)
 *       ... not fatal: the service looks on its next wakeup anyway ...
 *
 * DESCRIPTION
 *   The client side of docs/PROTOCOLS.md's trigger services: connect to
 *   QUEUE_DIR/public/SERVICE, write one byte (global/master_proto.h's
 *   TRIGGER_*), close; or, for a request with an argument, the byte,
 *   the argument and a newline in one write. The connection is bounded by timeout_ms; the
 *   write never raises SIGPIPE.
 *
 * DIAGNOSTICS
 *   0, or -1 with a reason in err (no such socket, nobody listening, a
 *   timeout). A failed trigger loses nothing: every trigger service also
 *   wakes up on master's timer.
 */
#ifndef GLOBAL_TRIGGER_H
#define GLOBAL_TRIGGER_H

#include "util/vstr.h"

/* Send byte to QUEUE_DIR/public/SERVICE; 0, or -1 with a reason in err. */
int trigger_send(const char *queue_dir, const char *service, char byte, int timeout_ms, vstr *err);
/* Send a request with an argument (TRIGGER_FLUSH_SITE, TRIGGER_FLUSH_ID):
 * byte, arg, newline, in one write. arg must be 1 to TRIGGER_ARG_MAX
 * bytes without control characters or spaces; -1 with a reason in err. */
int trigger_send_arg(const char *queue_dir, const char *service, char byte, const char *arg,
                     int timeout_ms, vstr *err);

#endif
