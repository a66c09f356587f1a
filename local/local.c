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
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "global/attr.h"
#include "global/deliver_request.h"
#include "global/queue_id.h"
#include "global/server.h"
#include "local/local.h"
#include "util/mem.h"
#include "util/msg.h"

/* Most recipients in one request. */
#define LOCAL_RCPT_MAX 10000
/* How long qmgr may take to send a request, once it has begun. */
#define LOCAL_REQUEST_TIMEOUT_MS (100 * 1000)
/* How long an idle connection waits for the next request. */
#define LOCAL_IDLE_TIMEOUT_MS (300 * 1000)

double local_now(void)
{
    struct timeval tv;

    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static char *attr_dup(const attr_list *list, const char *name)
{
    const char *v = attr_get(list, name);

    return mem_strdup(v ? v : "");
}

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
    attr_list *list = attr_list_new();
    vstr err = VSTR_INIT;
    long long count, value;
    attr_status st;
    int status = -1;

    vstream_set_timeout(client, LOCAL_IDLE_TIMEOUT_MS);
    st = attr_read(client, list, NULL, &err);
    if (st == ATTR_EOF) {
        status = 0;
        goto done;
    }
    if (st != ATTR_OK) {
        msg_warn("malformed request from qmgr: %s", vstr_str(&err));
        goto done;
    }
    vstream_set_timeout(client, LOCAL_REQUEST_TIMEOUT_MS);
    if (attr_get(list, "queue_name") == NULL || attr_get(list, "queue_id") == NULL ||
        attr_get(list, "sender") == NULL ||
        attr_get_int(list, "rcpt_count", 1, LOCAL_RCPT_MAX, &count) != ATTR_OK) {
        msg_warn("malformed request from qmgr: missing queue_name, queue_id, sender or "
                 "rcpt_count");
        goto done;
    }
    req->queue_name = attr_dup(list, "queue_name");
    req->queue_id = attr_dup(list, "queue_id");
    req->sender = attr_dup(list, "sender");
    req->nexthop = attr_dup(list, "nexthop");
    if (!deliver_queue_name_ok(req->queue_name) || !queue_id_valid(req->queue_id)) {
        msg_warn("malformed request from qmgr: bad queue name or id");
        goto done;
    }
    req->arrival =
        attr_get_int(list, "arrival_time", 0, (long long)1 << 40, &value) == ATTR_OK ? value : 0.0;
    req->rcpts = mem_calloc((size_t)count, sizeof(local_rcpt));
    for (long long i = 0; i < count; i++) {
        local_rcpt *r = &req->rcpts[i];

        st = attr_read(client, list, NULL, &err);
        if (st != ATTR_OK || attr_get(list, "address") == NULL ||
            attr_get_int(list, "index", 0, count - 1, &value) != ATTR_OK) {
            msg_warn("malformed recipient from qmgr: %s",
                     st != ATTR_OK ? vstr_str(&err) : "missing address or index");
            goto done;
        }
        for (long long j = 0; j < i; j++)
            if (req->rcpts[j].index == value) {
                msg_warn("malformed request from qmgr: recipient index %lld twice", value);
                goto done;
            }
        r->index = (long)value;
        r->address = attr_dup(list, "address");
        r->orig_rcpt = attr_dup(list, "original_recipient");
        r->dsn_orcpt = attr_dup(list, "dsn_orcpt");
        r->dsn_notify =
            attr_get_int(list, "dsn_notify", 0, 15, &value) == ATTR_OK ? (int)value : 0;
        r->offset =
            attr_get_int(list, "offset", 0, (long long)1 << 62, &value) == ATTR_OK ? value : 0;
        vstr_init(&r->reason);
        req->rcpt_count++;
    }
    status = 1;

done:
    attr_list_free(list);
    vstr_release(&err);
    return status;
}

static int reply(vstream *client, const local_rcpt *r)
{
    attr_list *list = attr_list_new();
    int status;

    attr_set_int(list, "index", r->index);
    attr_set_str(list, "status", r->dsn);
    attr_set_str(list, "action", r->action);
    attr_set_str(list, "reason", vstr_str(&r->reason));
    status = attr_write(client, list) < 0 || vstream_flush(client) < 0 ? -1 : 0;
    attr_list_free(list);
    return status;
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
        attr_list *final;
        int status, ok = 1;

        memset(&req, 0, sizeof(req));
        status = read_request(client, &req);
        if (status <= 0) {
            request_free(&req);
            return;
        }
        req.received_f = local_now();
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
        final = attr_list_new();
        attr_set_int(final, "done", 1);
        ok = attr_write(client, final) == 0 && vstream_flush(client) == 0;
        attr_list_free(final);
        if (!ok)
            return;
    }
}

static void pre_init(config *cfg, const char *service, char **argv)
{
    (void)service;
    (void)argv;
    local_config_init(cfg);
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
