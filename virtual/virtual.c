/*
 * virtual - the virtual mailbox delivery agent
 *
 * SYNOPSIS
 *   master.cf:  virtual  unix  -  n  n  -  -  virtual
 *
 * DESCRIPTION
 *   Delivers mail for virtual_mailbox_domains: mailboxes that belong to
 *   no account, found in virtual_mailbox_maps under virtual_mailbox_base
 *   and owned by the uid and gid from virtual_uid_maps and
 *   virtual_gid_maps, as Postfix's virtual(8). No aliases, no .forward,
 *   no commands: those belong before the queue (virtual_alias_maps).
 *
 *   A single-client service on the daemon skeleton (global/server),
 *   speaking qmgr's delivery protocol (docs/PROTOCOLS.md, "qmgr and
 *   delivery agents"): each request names a queue file and recipients;
 *   virtual opens the file read-only, delivers each recipient, answers
 *   each as soon as it is done, then sends the final list. Requests follow
 *   one another on a connection until qmgr closes it.
 *
 *   Started as root, virtual stays root and switches its effective uid and
 *   gid for each delivery (virtual_mailbox.c), without a fork. Tables are
 *   opened before, and opened again before a request when their file
 *   changed (postmap).
 *
 * DIAGNOSTICS
 *   A peer that sends a malformed request has its connection closed, with
 *   a warning. A queue file that cannot be read defers every recipient of
 *   the request (4.3.0).
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "global/delivery_log.h"
#include "global/mail_copy.h"
#include "global/server.h"
#include "virtual/virtual.h"
#include "util/msg.h"

/* How long qmgr may take to send a request, once it has begun. */
#define VIRTUAL_REQUEST_TIMEOUT_MS (100 * 1000)
/* How long an idle connection waits for the next request. */
#define VIRTUAL_IDLE_TIMEOUT_MS (300 * 1000)

virtual_config virtual_cf;

void virtual_set_result(virtual_result *res, const char *dsn, const char *fmt, ...)
{
    va_list ap;

    snprintf(res->dsn, sizeof(res->dsn), "%s", dsn);
    vstr_reset(&res->reason);
    va_start(ap, fmt);
    vstr_append_vfmt(&res->reason, fmt, ap);
    va_end(ap);
}

static const char *action_of(const char *dsn)
{
    return dsn[0] == '2' ? "delivered" : dsn[0] == '5' ? "failed" : "deferred";
}

static int reply(vstream *client, const deliver_rcpt *rcpt, const virtual_result *res)
{
    deliver_result r = {
        .index = rcpt->index,
        .status = res->dsn,
        .action = action_of(res->dsn),
        .reason = vstr_str(&res->reason),
    };

    return deliver_reply(client, &r);
}

/* Log one recipient's result in Postfix's shape, relay=virtual. */
static void log_result(const virtual_message *msg, const deliver_rcpt *rcpt,
                       const virtual_result *res)
{
    delivery_log_times t = {.arrival = msg->arrival,
                            .received = msg->received,
                            .connected = msg->received,
                            .done = delivery_log_now()};

    delivery_log_status(msg->req->queue_id, rcpt->address, rcpt->orig_rcpt, "virtual", &t,
                        res->dsn, vstr_str(&res->reason));
}

/* Open the queue file and read what the deliveries need from it; -1 with
 * why. */
static int open_message(virtual_message *msg, vstr *why)
{
    const queue_envelope *env = deliver_open_message(
        virtual_cf.queue_directory, msg->req->queue_name, msg->req->queue_id, &msg->reader, why);

    if (env == NULL)
        return -1;
    /* The file's arrival time has microseconds; the request's is whole seconds. */
    msg->arrival = (double)env->arrival_sec + (double)env->arrival_usec / 1e6;
    msg->delivered_to = htable_new(8);
    return mail_copy_scan_delivered(msg->reader, msg->delivered_to, VIRTUAL_DELIVERED_MAX,
                                    VIRTUAL_LINE_BOUND, why);
}

static void close_message(virtual_message *msg)
{
    if (msg->reader)
        queue_file_close(msg->reader);
    if (msg->delivered_to)
        htable_free(msg->delivered_to, NULL);
}

static void refresh(maps **m, const char *name)
{
    (void)maps_refresh(m, config_str(virtual_cf.cfg, name), O_RDONLY, 0);
}

/* One request: 1 done (the connection may carry another), 0 closed or
 * broken. */
static int serve_request(vstream *client)
{
    deliver_request req;
    virtual_message msg;
    virtual_result res = {.reason = VSTR_INIT};
    vstr why = VSTR_INIT;
    int status, ok = 1, opened;

    status =
        deliver_request_read(client, &req, VIRTUAL_IDLE_TIMEOUT_MS, VIRTUAL_REQUEST_TIMEOUT_MS);
    if (status <= 0) {
        deliver_request_free(&req);
        return 0;
    }
    memset(&msg, 0, sizeof(msg));
    msg.req = &req;
    msg.arrival = req.arrival;
    msg.received = delivery_log_now();
    refresh(&virtual_cf.mailbox_maps, "virtual_mailbox_maps");
    refresh(&virtual_cf.uid_maps, "virtual_uid_maps");
    refresh(&virtual_cf.gid_maps, "virtual_gid_maps");
    opened = open_message(&msg, &why) == 0;
    if (!opened)
        msg_warn("%s: %s", req.queue_id, vstr_str(&why));
    for (size_t i = 0; i < req.rcpt_count && ok; i++) {
        if (opened) {
            virtual_deliver_rcpt(&msg, &req.rcpts[i], &res);
        } else {
            virtual_set_result(&res, "4.3.0", "%s", vstr_str(&why));
        }
        log_result(&msg, &req.rcpts[i], &res);
        ok = reply(client, &req.rcpts[i], &res) == 0;
    }
    close_message(&msg);
    deliver_request_free(&req);
    vstr_release(&why);
    vstr_release(&res.reason);
    if (!ok) {
        msg_warn("lost connection to qmgr while replying");
        return 0;
    }
    return deliver_done(client, NULL, NULL) == 0;
}

static void serve(vstream *client, const char *service, char **argv)
{
    (void)service;
    (void)argv;
    while (serve_request(client))
        ;
}

static maps *open_maps(const char *name)
{
    return maps_open(name, config_str(virtual_cf.cfg, name), O_RDONLY, 0);
}

/* Read the parameters and open the tables, still with the rights virtual
 * started with. */
static void pre_init(config *cfg, const char *service, char **argv)
{
    (void)service;
    (void)argv;
    virtual_cf.cfg = cfg;
    virtual_cf.queue_directory = config_str(cfg, "queue_directory");
    virtual_cf.myhostname = config_str(cfg, "myhostname");
    addr_find_opts_from_config(&virtual_cf.addr_opts, cfg);
    virtual_cf.mailbox_base = config_str(cfg, "virtual_mailbox_base");
    virtual_cf.minimum_uid = (long)config_int(cfg, "virtual_minimum_uid");
    virtual_cf.mailbox_limit = config_size(cfg, "virtual_mailbox_limit");
    virtual_cf.enable_original_recipient = config_bool(cfg, "enable_original_recipient");
    virtual_cf.lock.attempts = (long)config_int(cfg, "deliver_lock_attempts");
    virtual_cf.lock.delay_ms = (unsigned)(config_time(cfg, "deliver_lock_delay") * 1000);
    virtual_cf.lock.stale_secs = (unsigned)config_time(cfg, "stale_lock_time");
    mbox_lock_methods(&virtual_cf.lock, "virtual_mailbox_lock",
                      config_str(cfg, "virtual_mailbox_lock"));
    virtual_cf.mailbox_maps = open_maps("virtual_mailbox_maps");
    virtual_cf.uid_maps = open_maps("virtual_uid_maps");
    virtual_cf.gid_maps = open_maps("virtual_gid_maps");
}

/* After the skeleton's privilege step: root (keep_root), or the
 * instance's user, or mail_owner when master.cf made it unprivileged. */
static void post_init(config *cfg, const char *service, char **argv)
{
    (void)cfg;
    (void)service;
    (void)argv;
    virtual_cf.privileged = geteuid() == 0;
    if (virtual_cf.privileged && getuid() != 0)
        msg_fatal("running with effective uid 0 but real uid %lu", (unsigned long)getuid());
}

static void pre_exit(const char *service, char **argv)
{
    (void)service;
    (void)argv;
    maps_free(virtual_cf.mailbox_maps);
    maps_free(virtual_cf.uid_maps);
    maps_free(virtual_cf.gid_maps);
}

int main(int argc, char **argv)
{
    static const server_service svc = {
        .name = "virtual",
        .keep_root = 1,
        .pre_init = pre_init,
        .post_init = post_init,
        .pre_exit = pre_exit,
        .single = serve,
    };

    server_single_main(argc, argv, &svc);
}
