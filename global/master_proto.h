/*
 * NAME
 *   master_proto - what master and its children agree on
 *
 * SYNOPSIS
 *   #include "global/master_proto.h"
 *
 * DESCRIPTION
 *   The descriptors a child inherits, the status message it writes to
 *   master, the trigger bytes and the options master puts on a child's
 *   command line (docs/PROTOCOLS.md, "Master and its children"). Only
 *   master/ and the daemon skeleton (global/server*) include this.
 */
#ifndef GLOBAL_MASTER_PROTO_H
#define GLOBAL_MASTER_PROTO_H

#include <sys/types.h>

/* Inherited descriptors. */
#define MASTER_LISTEN_FD 3   /* the service's listening socket, non-blocking */
#define MASTER_STATUS_FD 4   /* write end of the service's status pipe */
#define MASTER_LIFELINE_FD 5 /* read end of the service's lifeline: EOF = exit */

/* Status a child reports: written as one struct in one write(). */
#define MASTER_STAT_BUSY 'B' /* took a client */
#define MASTER_STAT_IDLE 'I' /* ready for the next one */

typedef struct master_status {
    pid_t pid;
    char status; /* MASTER_STAT_BUSY or MASTER_STAT_IDLE */
} master_status;

/* Trigger bytes, written to public/SERVICE by a client that then closes. */
#define TRIGGER_WAKEUP 'W' /* periodic wakeup from master */
#define TRIGGER_NEW 'A'    /* new mail (postdrop -> pickup, pickup -> qmgr) */
#define TRIGGER_FLUSH 'F'  /* qmgr: retry deferred mail now */
#define TRIGGER_SCAN_DEFERRED 'D' /* qmgr: take deferred mail that is due now */
/* qmgr requests with an argument: the byte, the argument, a newline, in
 * one write (docs/PROTOCOLS.md, "Trigger services"). */
#define TRIGGER_FLUSH_SITE 'S' /* retry deferred mail with a recipient in this domain */
#define TRIGGER_FLUSH_ID 'I'   /* retry this deferred message */
#define TRIGGER_ARG_MAX 255    /* longest argument */

/* Service types of master.cf as passed with -t. */
#define MASTER_TYPE_INET "inet"
#define MASTER_TYPE_UNIX "unix"

/* Directory names under queue_directory for unix services. */
#define MASTER_PRIVATE_DIR "private"
#define MASTER_PUBLIC_DIR "public"

/* Does master_service_disable (a list of service/type, service.type or
 * type) leave out the service name of type type_name? master skips it,
 * postern start does not wait for its socket. */
int master_service_disabled(const char *disable_list, const char *name, const char *type_name);

#endif
