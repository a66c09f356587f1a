/*
 * local - the local delivery agent
 *
 * SYNOPSIS
 *   master.cf:  local  unix  -  n  n  -  -  local
 *
 * DESCRIPTION
 *   A single-client service on the daemon skeleton (global/server). Each
 *   connection from qmgr carries delivery requests (docs/PROTOCOLS.md,
 *   "qmgr and delivery agents"): a request list, then one list per
 *   recipient. local opens the queue file read-only, delivers each
 *   recipient (local_deliver.c) and answers each recipient as soon as it
 *   is done, then sends the final list. Requests follow one another on a
 *   connection until qmgr closes it.
 *
 *   Started as root, local stays root (keep_root) and becomes each
 *   recipient for the work done on their behalf (local_priv.c).
 *
 *   When a table file changes (postalias, newaliases), local opens it
 *   again before the next request, so every delivery sees the table as it
 *   is when the request arrives.
 *
 * DIAGNOSTICS
 *   A peer that sends a malformed request has its connection closed, with
 *   a warning. A queue file that cannot be read defers every recipient of
 *   the request (4.3.0) with the reason.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "global/deliver_request.h"
#include "global/delivery_log.h"
#include "global/addr_rewrite.h"
#include "global/server.h"
#include "local/local.h"
#include "util/mem.h"
#include "util/msg.h"

/* How long qmgr may take to send a request, once it has begun. */
#define LOCAL_REQUEST_TIMEOUT_MS (100 * 1000)
/* How long an idle connection waits for the next request. */
#define LOCAL_IDLE_TIMEOUT_MS (300 * 1000)

static void request_free(local_request *req)
{
    for (size_t i = 0; i < req->rcpt_count; i++) {
        mem_free(req->rcpts[i].address);
        mem_free(req->rcpts[i].orig_rcpt);
        mem_free(req->rcpts[i].dsn_orcpt);
        vstr_release(&req->rcpts[i].reason);
    }
    mem_free(req->rcpts);
    mem_free(req->queue_name);
    mem_free(req->queue_id);
    mem_free(req->sender);
    mem_free(req->nexthop);
    if (req->reader)
        queue_file_close(req->reader);
    if (req->delivered_to)
        htable_free(req->delivered_to, NULL);
}

/* Read a request: 1 read, 0 the peer closed, -1 garbage (close). */
static int read_request(vstream *client, local_request *req)
{
    deliver_request dr;
    int status =
        deliver_request_read(client, &dr, LOCAL_IDLE_TIMEOUT_MS, LOCAL_REQUEST_TIMEOUT_MS);

    if (status == 1) {
        req->queue_name = mem_strdup(dr.queue_name);
        req->queue_id = mem_strdup(dr.queue_id);
        req->sender = mem_strdup(dr.sender);
        req->nexthop = mem_strdup(dr.nexthop);
        req->arrival = dr.arrival;
        req->rcpts = mem_calloc(dr.rcpt_count, sizeof(local_rcpt));
        for (size_t i = 0; i < dr.rcpt_count; i++) {
            local_rcpt *r = &req->rcpts[i];
            const deliver_rcpt *d = &dr.rcpts[i];

            r->index = d->index;
            r->address = mem_strdup(d->address);
            r->orig_rcpt = mem_strdup(d->orig_rcpt);
            r->dsn_orcpt = mem_strdup(d->dsn_orcpt);
            r->dsn_notify = d->dsn_notify;
            r->offset = d->offset;
            vstr_init(&r->reason);
        }
        req->rcpt_count = dr.rcpt_count;
    }
    deliver_request_free(&dr);
    return status;
}

static int reply(vstream *client, const local_rcpt *r)
{
    deliver_result res = {
        .index = r->index,
        .status = r->dsn,
        .action = r->action,
        .reason = vstr_str(&r->reason),
    };

    return deliver_reply(client, &res);
}

/* Open and check the queue file; on failure every recipient gets why. */
static int open_message(local_request *req, vstr *why)
{
    req->env = deliver_open_message(local_cf.queue_directory, req->queue_name, req->queue_id,
                                    &req->reader, why);
    if (req->env == NULL)
        return -1;
    /* The file's arrival time has microseconds; the request's is whole
     * seconds. */
    req->arrival = (double)req->env->arrival_sec + (double)req->env->arrival_usec / 1e6;
    req->delivered_to = htable_new(8);
    return local_scan_delivered(req, why);
}

static void serve(vstream *client, const char *service, char **argv)
{
    (void)service;
    (void)argv;
    for (;;) {
        local_request req;
        vstr why = VSTR_INIT;
        int status, ok = 1;

        memset(&req, 0, sizeof(req));
        status = read_request(client, &req);
        if (status <= 0) {
            request_free(&req);
            return;
        }
        req.received_f = delivery_log_now();
        req.received = (time_t)req.received_f;
        local_config_refresh();
        if (open_message(&req, &why) < 0) {
            msg_warn("%s: %s", req.queue_id, vstr_str(&why));
            for (size_t i = 0; i < req.rcpt_count && ok; i++) {
                local_rcpt *r = &req.rcpts[i];

                snprintf(r->dsn, sizeof(r->dsn), "4.3.0");
                r->action = "deferred";
                vstr_set_str(&r->reason, vstr_str(&why));
                ok = reply(client, r) == 0;
            }
        } else {
            for (size_t i = 0; i < req.rcpt_count && ok; i++) {
                local_deliver_rcpt(&req, &req.rcpts[i]);
                ok = reply(client, &req.rcpts[i]) == 0;
            }
        }
        vstr_release(&why);
        request_free(&req);
        if (!ok) {
            msg_warn("lost connection to qmgr while replying");
            return;
        }
        if (deliver_done(client, NULL, NULL) < 0)
            return;
    }
}

static void pre_init(config *cfg, const char *service, char **argv)
{
    (void)service;
    (void)argv;
    local_config_init(cfg);
    /* The queue-file writer's rewriting tables, before the privilege drop. */
    (void)addr_rewrite_tables(cfg);
}

static void post_init(config *cfg, const char *service, char **argv)
{
    (void)cfg;
    (void)service;
    (void)argv;
    local_identity_init();
}

/* Close the tables: Berkeley DB keeps its buffers where a leak checker
 * cannot see them, and a clean exit should leave nothing behind. */
static void pre_exit(const char *service, char **argv)
{
    (void)service;
    (void)argv;
    local_config_free();
    addr_rewrite_release();
}

int main(int argc, char **argv)
{
    static const server_service svc = {
        .name = "local",
        .keep_root = 1,
        .pre_init = pre_init,
        .post_init = post_init,
        .pre_exit = pre_exit,
        .single = serve,
    };

    server_single_main(argc, argv, &svc);
}
