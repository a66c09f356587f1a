/*
 * qmgr - the queue manager: main, settings, triggers and the event loop
 *
 * SYNOPSIS
 *   qmgr -c CONFIG_DIR -n qmgr -t unix      (started by master, see master.cf)
 *   qmgr -c CONFIG_DIR -S unix:PATH -w 300  (stand-alone, for tests)
 *
 * DESCRIPTION
 *   A trigger service on the daemon skeleton (global/server.h) that never
 *   exits on its own: its state is the active queue in memory. The
 *   skeleton's loop polls the trigger socket, master's lifeline and the
 *   delivery-agent connections (server_watch); before each wait the
 *   loop hook here does the timed work and says how long the wait may
 *   last:
 *
 *   1. deliveries past their deadline are given up (qmgr_deliver.c);
 *   2. dead transports and destinations whose time has come revive;
 *   3. every queue_run_delay seconds the deferred queue is scanned;
 *   4. scans take messages into the active queue while it has room;
 *   5. the scheduler starts deliveries while limits allow.
 *
 *   Triggers: 'A' (new mail) and 'W' (master's wakeup) scan incoming;
 *   'D' (postsuper -H, -e) scans deferred for what is due; 'F' (postern
 *   flush, postqueue -f) makes everything deferred due now, revives dead
 *   transports and destinations, and scans incoming too. Requests with
 *   an argument, "S" SITE LF (postqueue -s) and "I" ID LF (postqueue
 *   -i), revive what is dead and pick the deferred messages for that
 *   domain, or that one message, whatever their retry times.
 *
 *   At start, messages left in active by a crash come first: they are
 *   taken up again, never lost (a recipient may get a message twice).
 *
 * DIAGNOSTICS
 *   Problems with one message are logged with its queue id and never
 *   stop the daemon; configuration errors at start are fatal.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "util/clock.h"
#include "util/mem.h"
#include "util/msg.h"
#include "global/master_proto.h"
#include "global/queue_id.h"
#include "global/addr_rewrite.h"
#include "global/server.h"
#include "qmgr/qmgr.h"

static qmgr qm;

int64_t qmgr_now_ms(void)
{
    return clock_mono_ms();
}

long long qmgr_now(void)
{
    return (long long)time(NULL);
}

static int clamp_int(long long v)
{
    return v > 1000000 ? 1000000 : v < 0 ? 0 : (int)v;
}

static void read_settings(qmgr *q)
{
    config *cfg = q->cfg;
    qmgr_settings *s = &q->set;

    s->queue_dir = config_str(cfg, "queue_directory");
    s->queue_run_delay = config_time(cfg, "queue_run_delay");
    s->min_backoff = config_time(cfg, "minimal_backoff_time");
    s->max_backoff = config_time(cfg, "maximal_backoff_time");
    s->max_lifetime = config_time(cfg, "maximal_queue_lifetime");
    s->bounce_lifetime = config_time(cfg, "bounce_queue_lifetime");
    s->delay_warning = config_time(cfg, "delay_warning_time");
    s->transport_retry = config_time(cfg, "transport_retry_time");
    s->ipc_timeout = config_time(cfg, "ipc_timeout");
    s->delivery_timeout = config_time(cfg, "daemon_timeout");
    s->active_limit = config_int(cfg, "qmgr_message_active_limit");
    s->rcpt_limit = config_int(cfg, "qmgr_message_recipient_limit");
    s->process_limit = clamp_int(config_int(cfg, "default_process_limit"));
    s->dest_concurrency = clamp_int(config_int(cfg, "default_destination_concurrency_limit"));
    s->dest_rcpt_limit = clamp_int(config_int(cfg, "default_destination_recipient_limit"));
    s->initial_concurrency = clamp_int(config_int(cfg, "initial_destination_concurrency"));
    s->cohort_limit =
        clamp_int(config_int(cfg, "default_destination_concurrency_failed_cohort_limit"));
    if (s->max_backoff < s->min_backoff) {
        msg_warn("maximal_backoff_time (%llds) is below minimal_backoff_time (%llds); using "
                 "the latter",
                 s->max_backoff, s->min_backoff);
        s->max_backoff = s->min_backoff;
    }
}

/* As started (root in a system install): what mail_owner may not read. */
static void qmgr_pre_init(config *cfg, const char *service, char **argv)
{
    (void)service;
    (void)argv;
    memset(&qm, 0, sizeof(qm));
    qm.cfg = cfg;
    read_settings(&qm);
    qmgr_resolve_init(&qm);
    /* The queue-file writer's rewriting tables, before the privilege drop. */
    (void)addr_rewrite_tables(cfg);
}

static void qmgr_post_init(config *cfg, const char *service, char **argv)
{
    (void)cfg;
    (void)service;
    (void)argv;
    qm.transports = htable_new(16);
    qm.active_ids = htable_new(64);
    qm.scan_active = qmgr_scan_new("active");
    qm.scan_incoming = qmgr_scan_new("incoming");
    qm.scan_deferred = qmgr_scan_new("deferred");
    /* Mail a crash left behind comes first, then new mail, then what is
     * due for a retry. */
    qmgr_scan_request(qm.scan_active, 1);
    qmgr_scan_request(qm.scan_incoming, 0);
    qmgr_scan_request(qm.scan_deferred, 0);
    qm.next_deferred_scan = qmgr_now_ms() + qm.set.queue_run_delay * 1000;
    qm.sched_wanted = 1;
}

/* "S" SITE LF or "I" ID LF at bytes (n bytes left); returns the bytes
 * used. A request must arrive in one piece (the client sends it in one
 * write, far below the read size): a piece without its LF is dropped. */
static size_t request_with_arg(const char *bytes, size_t n)
{
    const char *nl = memchr(bytes, '\n', n);
    char arg[TRIGGER_ARG_MAX + 1];
    size_t len;

    if (nl == NULL || (len = (size_t)(nl - bytes) - 1) == 0 || len > TRIGGER_ARG_MAX) {
        msg_warn("malformed '%c' request: dropped", bytes[0]);
        return nl ? (size_t)(nl - bytes) + 1 : n;
    }
    memcpy(arg, bytes + 1, len);
    arg[len] = 0;
    if (bytes[0] == TRIGGER_FLUSH_ID && !queue_id_valid(arg)) {
        msg_warn("flush request for an invalid queue id: dropped");
    } else {
        for (char *p = arg; *p; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f)
                *p = '?';
        msg_info("flush: retrying deferred %s %s now",
                 bytes[0] == TRIGGER_FLUSH_SITE ? "mail for" : "message", arg);
        qmgr_sched_revive(&qm, 1);
        qmgr_scan_request_pick(qm.scan_deferred, bytes[0] == TRIGGER_FLUSH_SITE ? arg : NULL,
                               bytes[0] == TRIGGER_FLUSH_ID ? arg : NULL);
        qm.sched_wanted = 1;
    }
    return len + 2;
}

static void qmgr_trigger(const char *bytes, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        switch (bytes[i]) {
        case TRIGGER_FLUSH_SITE:
        case TRIGGER_FLUSH_ID:
            i += request_with_arg(bytes + i, n - i) - 1;
            break;
        case TRIGGER_SCAN_DEFERRED:
            qmgr_scan_request(qm.scan_deferred, 0);
            break;
        case TRIGGER_NEW:
        case TRIGGER_WAKEUP:
            qmgr_scan_request(qm.scan_incoming, 0);
            break;
        case TRIGGER_FLUSH:
            msg_info("flush: retrying deferred mail now");
            qmgr_sched_revive(&qm, 1);
            qmgr_scan_request(qm.scan_deferred, 1);
            qmgr_scan_request(qm.scan_incoming, 0);
            qm.sched_wanted = 1;
            break;
        default:
            if (msg_verbose_level())
                msg_debug("ignoring trigger byte 0x%02x", (unsigned char)bytes[i]);
            break;
        }
    }
}

/* The earlier of two monotonic times, 0 meaning none. */
static int64_t earlier(int64_t a, int64_t b)
{
    if (a == 0)
        return b;
    if (b == 0)
        return a;
    return a < b ? a : b;
}

static int qmgr_loop(const char *service, char **argv)
{
    int64_t now, next;

    (void)service;
    (void)argv;
    qmgr_deliver_timeouts(&qm);
    qmgr_sched_revive(&qm, 0);
    now = qmgr_now_ms();
    if (now >= qm.next_deferred_scan) {
        qmgr_scan_request(qm.scan_deferred, 0);
        qm.next_deferred_scan = now + qm.set.queue_run_delay * 1000;
    }
    qmgr_scan_run(&qm);
    qmgr_sched_run(&qm);

    /* How long poll may sleep: until the next timer, or not at all while
     * a scan still has messages to take in. */
    if ((qmgr_scan_busy(qm.scan_active) || qmgr_scan_busy(qm.scan_incoming) ||
         qmgr_scan_busy(qm.scan_deferred)) &&
        qmgr_message_room(&qm))
        return 0;
    next = earlier(qm.next_deferred_scan, qmgr_sched_next_event(&qm));
    next = earlier(next, qmgr_deliver_next_deadline(&qm));
    now = qmgr_now_ms();
    if (next <= now)
        return 0;
    return next - now > 3600000 ? 3600000 : (int)(next - now);
}

static void qmgr_pre_exit(const char *service, char **argv)
{
    (void)service;
    (void)argv;
    /* Messages in flight stay in active and are taken up at the next
     * start; nothing to write. Free what we hold, for leak checkers. */
    qmgr_deliver_free_all(&qm);
    while (qm.active_head != NULL)
        qmgr_message_free(&qm, qm.active_head);
    qmgr_sched_free(&qm);
    qmgr_scan_free(qm.scan_active);
    qmgr_scan_free(qm.scan_incoming);
    qmgr_scan_free(qm.scan_deferred);
    addr_rewrite_release();
    htable_free(qm.active_ids, NULL);
    qmgr_resolve_free(&qm);
}

int main(int argc, char **argv)
{
    static const server_service svc = {
        .name = "qmgr",
        .ignore_idle = 1,
        .pre_init = qmgr_pre_init,
        .post_init = qmgr_post_init,
        .loop = qmgr_loop,
        .pre_exit = qmgr_pre_exit,
        .trigger = qmgr_trigger,
    };

    server_trigger_main(argc, argv, &svc);
}
