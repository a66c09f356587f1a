/*
 * deliver_request - a delivery agent's side of the qmgr protocol
 *
 * SYNOPSIS
 *   deliver_request req;
 *   switch (deliver_request_read(client, &req, idle_ms, request_ms)) {
 *   case 0: ... qmgr closed the connection ...
 *   case -1: ... malformed (warned); close ...
 *   }
 *   for each recipient: deliver_reply(client, &result);
 *   deliver_done(client, site_status, site_reason);
 *   deliver_request_free(&req);
 *
 * DESCRIPTION
 *   docs/PROTOCOLS.md, "qmgr and delivery agents": the request list and
 *   one list per recipient, checked (queue name, queue id, index range,
 *   no index twice) before the agent acts on them; the per-recipient
 *   result lists and the final list. Envelope attributes other than the
 *   fixed ones stay in req->attrs for the agent to look at.
 *
 * DIAGNOSTICS
 *   A malformed request is logged as a warning and reported as -1; write
 *   errors as -1.
 */
#ifndef GLOBAL_DELIVER_REQUEST_H
#define GLOBAL_DELIVER_REQUEST_H

#include "global/attr.h"
#include "global/queue_file.h"
#include "util/vstream.h"

/* Most recipients in one request. */
#define DELIVER_RCPT_MAX 10000

typedef struct deliver_rcpt {
    long index;
    char *address;
    char *orig_rcpt; /* "" when none */
    char *dsn_orcpt; /* "" when none */
    int dsn_notify;  /* REC_DSN_NOTIFY_* bits, 0 when none */
    long long offset;
} deliver_rcpt;

typedef struct deliver_request {
    char *queue_name;
    char *queue_id;
    char *sender;
    char *nexthop;
    char *dsn_envid;  /* "" when none */
    char *dsn_ret;    /* "FULL", "HDRS" or "" */
    double arrival;   /* seconds since the epoch */
    attr_list *attrs; /* the whole request list */
    deliver_rcpt *rcpts;
    size_t rcpt_count;
} deliver_request;

/* One recipient's answer; diag_type, diag_text and mta may be NULL. */
typedef struct deliver_result {
    long index;
    const char *status; /* "2.0.0", "4.4.1", "5.1.1" */
    const char *action; /* delivered, relayed, deferred, failed */
    const char *reason;
    const char *diag_type;
    const char *diag_text;
    const char *mta;
} deliver_result;

/* Read a request into req (zeroed here), waiting idle_ms for it to start
 * and request_ms for the rest: 1 read, 0 the peer closed, -1 malformed. In
 * every case deliver_request_free(req) is needed after. */
int deliver_request_read(vstream *client, deliver_request *req, int idle_ms, int request_ms);
void deliver_request_free(deliver_request *req);
/* Send one recipient's result and flush; 0 or -1. */
int deliver_reply(vstream *client, const deliver_result *res);
/* Send the final list (site_status NULL: the site did not fail); 0 or -1. */
int deliver_done(vstream *client, const char *site_status, const char *site_reason);
/* Open a request's queue file read-only and read its envelope: the
 * envelope, or NULL with why ("cannot open/read queue file ..."). *reader
 * is set when the file was opened, for the caller to close. */
const queue_envelope *deliver_open_message(const char *queue_dir, const char *queue_name,
                                           const char *queue_id, queue_reader **reader, vstr *why);
/* True when name is one of the queue directories, never a path. */
int deliver_queue_name_ok(const char *name);

#endif
