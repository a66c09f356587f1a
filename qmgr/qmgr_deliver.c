/*
 * qmgr_deliver - one request to a delivery agent, and its results
 *
 * DESCRIPTION
 *   docs/PROTOCOLS.md, "qmgr and delivery agents": connect to
 *   queue_directory/private/TRANSPORT (non-blocking; a UNIX-domain
 *   connect either succeeds at once, finds the backlog full, or finds
 *   nobody there), send the request list and one list per recipient
 *   (global/attr), and watch the connection from the event loop.
 *
 *   Whenever the connection is readable, qmgr reads reply lists until
 *   none is buffered: a result per recipient, then the final list. A
 *   list that has begun must be complete within a short deadline
 *   (QMGR_LIST_TIMEOUT, or ipc_timeout if lower), so a stuck agent
 *   cannot stall the queue; the request as a whole may take
 *   daemon_timeout, the agents' own limit.
 *
 *   The agent is not trusted to be right: an index out of range or
 *   answered twice, a status that is not an enhanced code, a final list
 *   before every recipient has an answer, garbage, or a broken
 *   connection all close the connection, and every recipient without an
 *   answer is deferred ("delivery agent failed"). Results are applied in
 *   batches (qmgr_defer.c), one per readable event, so the done marks of
 *   several results share one fsync.
 *
 *   Feedback for the destination's concurrency window: a request that
 *   ends with a final list is a success unless the final list reports a
 *   site failure (site_status 4.x.x: the destination as a whole did not
 *   work, e.g. its servers did not answer); a request that ends any
 *   other way is a failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "util/mem.h"
#include "util/msg.h"
#include "global/attr.h"
#include "global/dsn.h"
#include "global/server.h"
#include "qmgr/qmgr.h"

/* Longest wait for the rest of a reply list once it has begun. */
#define QMGR_LIST_TIMEOUT 60

struct qmgr_delivery {
    qmgr *q;
    qmgr_dest *dest;
    qmgr_message *msg;
    qmgr_rcpt **rcpts;
    size_t count;
    char *answered;
    size_t nanswered;
    vstream *stream;
    int64_t deadline; /* monotonic ms */
    attr_list *reply;
    qmgr_delivery *prev, *next;
};

/* ---- Ending a delivery ---- */

static void unlink_delivery(qmgr *q, qmgr_delivery *d)
{
    if (d->prev)
        d->prev->next = d->next;
    else
        q->deliveries = d->next;
    if (d->next)
        d->next->prev = d->prev;
    q->delivery_count--;
}

static void free_delivery(qmgr_delivery *d)
{
    if (d->stream) {
        server_unwatch(vstream_fd(d->stream));
        (void)vstream_close(d->stream);
    }
    attr_list_free(d->reply);
    mem_free(d->rcpts);
    mem_free(d->answered);
    mem_free(d);
}

/* Finish: defer what has no answer, apply the batch, release the message,
 * tell the scheduler. */
static void end_delivery(qmgr_delivery *d, qmgr_batch *b, const char *unanswered_reason,
                         int site_ok, const char *site_status, const char *site_reason)
{
    qmgr *q = d->q;
    qmgr_dest *dest = d->dest;

    unlink_delivery(q, d);
    for (size_t i = 0; i < d->count; i++) {
        if (!d->answered[i]) {
            qmgr_result res = {
                .status = "4.3.0", .reason = unanswered_reason, .relay = dest->transport->name};

            qmgr_batch_add(b, d->rcpts[i], &res);
        }
        d->rcpts[i]->dest = NULL;
    }
    free_delivery(d);
    /* The delivery's hold ends with its last results. */
    qmgr_batch_flush(b, 1);
    qmgr_sched_done(q, dest, site_ok, site_status, site_reason ? site_reason : unanswered_reason);
}

/* A protocol violation or a broken connection. */
static void fail_delivery(qmgr_delivery *d, qmgr_batch *b, const char *what)
{
    msg_warn("%s: transport %s: %s", d->msg->id, d->dest->transport->name, what);
    end_delivery(d, b, "delivery agent failed", 0, "4.3.0", "delivery agent failed");
}

/* ---- Reading results ---- */

/* One result list: 0, or -1 after a protocol violation (reason in why). */
static int take_result(qmgr_delivery *d, qmgr_batch *b, vstr *why)
{
    const attr_list *l = d->reply;
    const char *status = attr_get(l, "status");
    long long index;
    qmgr_result res;

    if (attr_get_int(l, "index", 0, (long long)d->count - 1, &index) != ATTR_OK) {
        vstr_set_fmt(why, "result with a missing or out-of-range index");
        return -1;
    }
    if (d->answered[index]) {
        vstr_set_fmt(why, "recipient %lld answered twice", index);
        return -1;
    }
    if (status == NULL || !dsn_status_valid(status)) {
        vstr_set_fmt(why, "result with a bad status \"%.20s\"", status ? status : "");
        return -1;
    }
    memset(&res, 0, sizeof(res));
    res.status = status;
    res.action = attr_get(l, "action");
    res.reason = attr_get(l, "reason");
    res.diag_type = attr_get(l, "diag_type");
    res.diag_text = attr_get(l, "diag_text");
    res.mta = attr_get(l, "mta");
    /* Only the words of RFC 3464 go into a notification. */
    if (res.action && strcmp(res.action, "delivered") != 0 && strcmp(res.action, "relayed") != 0 &&
        strcmp(res.action, "expanded") != 0 && strcmp(res.action, "failed") != 0 &&
        strcmp(res.action, "delayed") != 0 && strcmp(res.action, "deferred") != 0)
        res.action = NULL;
    if (res.action && strcmp(res.action, "deferred") == 0)
        res.action = NULL;
    d->answered[index] = 1;
    d->nanswered++;
    qmgr_batch_add(b, d->rcpts[index], &res);
    return 0;
}

static void readable(int fd, int revents, void *context)
{
    qmgr_delivery *d = context;
    qmgr_batch b;
    vstr err = VSTR_INIT;
    attr_status st;

    (void)fd;
    (void)revents;
    qmgr_batch_init(&b, d->q, d->msg);
    do {
        st = attr_read(d->stream, d->reply, NULL, &err);
        if (st == ATTR_EOF || st == ATTR_ERR_IO || st == ATTR_ERR_TRUNCATED) {
            fail_delivery(d, &b, "lost connection with the delivery agent");
            goto out;
        }
        if (st != ATTR_OK) {
            vstr_set_fmt(&err, "bad reply from the delivery agent: %s", attr_strerror(st));
            fail_delivery(d, &b, vstr_str(&err));
            goto out;
        }
        if (attr_find(d->reply, "done") != NULL) {
            const char *site_status = attr_get(d->reply, "site_status");
            const char *site_reason = attr_get(d->reply, "site_reason");
            int site_ok = site_status == NULL || site_status[0] != '4';

            if (d->nanswered < d->count) {
                fail_delivery(d, &b, "final reply before a result for every recipient");
                goto out;
            }
            end_delivery(d, &b, "delivery agent failed", site_ok, site_status,
                         site_reason ? site_reason : "destination failed");
            goto out;
        }
        if (take_result(d, &b, &err) < 0) {
            fail_delivery(d, &b, vstr_str(&err));
            goto out;
        }
    } while (vstream_read_pending(d->stream) > 0);
    qmgr_batch_flush(&b, 0);
out:
    vstr_release(&err);
}

/* ---- Starting a delivery ---- */

static void put_request(qmgr_delivery *d, attr_list *l)
{
    static const char *const fixed[] = {
        "queue_name",     "queue_id",     "sender",       "nexthop",   "rcpt_count",
        "content_offset", "content_size", "arrival_time", "dsn_envid", "dsn_ret",
    };
    qmgr_message *msg = d->msg;

    attr_list_reset(l);
    /* Envelope attributes first, so that the fixed names below win. */
    for (size_t i = 0; i < msg->attr_names->argc; i++) {
        const char *name = msg->attr_names->argv[i];
        int clash = 0;

        for (size_t j = 0; j < sizeof(fixed) / sizeof(fixed[0]); j++)
            clash |= strcmp(name, fixed[j]) == 0;
        if (!clash && attr_name_valid(name))
            attr_set_str(l, name, msg->attr_values->argv[i]);
    }
    attr_set_str(l, "queue_name", "active");
    attr_set_str(l, "queue_id", msg->id);
    attr_set_str(l, "sender", msg->sender);
    attr_set_str(l, "nexthop", d->dest->nexthop);
    attr_set_int(l, "rcpt_count", (long long)d->count);
    attr_set_int(l, "content_offset", msg->content_offset);
    attr_set_int(l, "content_size", msg->content_size);
    attr_set_int(l, "arrival_time", msg->arrival);
    for (size_t i = 0; i < msg->attr_names->argc; i++) {
        if (strcmp(msg->attr_names->argv[i], "dsn_envid") == 0 ||
            strcmp(msg->attr_names->argv[i], "dsn_ret") == 0)
            attr_set_str(l, msg->attr_names->argv[i], msg->attr_values->argv[i]);
    }
}

static void put_rcpt(attr_list *l, size_t index, const qmgr_rcpt *r)
{
    attr_list_reset(l);
    attr_set_int(l, "index", (long long)index);
    attr_set_str(l, "address", r->address);
    if (r->orig_rcpt)
        attr_set_str(l, "original_recipient", r->orig_rcpt);
    if (r->dsn_orcpt)
        attr_set_str(l, "dsn_orcpt", r->dsn_orcpt);
    if (r->dsn_notify)
        attr_set_int(l, "dsn_notify", r->dsn_notify);
    attr_set_int(l, "offset", r->offset);
}

/* Connect to private/TRANSPORT without blocking: the descriptor, -1 when
 * nobody listens (why says so), -2 when the backlog is full. */
static int connect_agent(qmgr *q, const char *transport, vstr *why)
{
    struct sockaddr_un sun;
    int fd;

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    if ((size_t)snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/private/%s", q->set.queue_dir,
                         transport) >= sizeof(sun.sun_path)) {
        vstr_set_fmt(why, "socket path %s/private/%s is too long", q->set.queue_dir, transport);
        return -1;
    }
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0) {
        vstr_set_fmt(why, "socket: %s", strerror(errno));
        return -1;
    }
    if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
        int saved = errno;

        close(fd);
        if (saved == EAGAIN || saved == EINTR)
            return -2;
        vstr_set_fmt(why, "connect to %s: %s", sun.sun_path, strerror(saved));
        return -1;
    }
    return fd;
}

int qmgr_deliver(qmgr *q, qmgr_dest *dest, qmgr_rcpt **rcpts, size_t count, vstr *why)
{
    qmgr_delivery *d;
    attr_list *l;
    long long list_timeout;
    int fd, bad = 0;

    if ((fd = connect_agent(q, dest->transport->name, why)) < 0)
        return fd == -2 ? 1 : -1;

    d = mem_calloc(1, sizeof(*d));
    d->q = q;
    d->dest = dest;
    d->msg = rcpts[0]->msg;
    d->count = count;
    d->rcpts = mem_calloc(count, sizeof(*d->rcpts));
    memcpy(d->rcpts, rcpts, count * sizeof(*rcpts));
    d->answered = mem_calloc(count, 1);
    d->reply = attr_list_new();
    d->stream = vstream_fdopen(fd, VSTREAM_READ | VSTREAM_WRITE);
    list_timeout = q->set.ipc_timeout < QMGR_LIST_TIMEOUT ? q->set.ipc_timeout : QMGR_LIST_TIMEOUT;
    vstream_set_timeout(d->stream, (int)list_timeout * 1000);
    d->deadline = qmgr_now_ms() + q->set.delivery_timeout * 1000;
    qmgr_message_hold(d->msg);

    d->next = q->deliveries;
    if (q->deliveries)
        q->deliveries->prev = d;
    q->deliveries = d;
    q->delivery_count++;

    l = attr_list_new();
    put_request(d, l);
    bad = attr_write(d->stream, l) < 0;
    for (size_t i = 0; i < count && !bad; i++) {
        put_rcpt(l, i, rcpts[i]);
        bad = attr_write(d->stream, l) < 0;
    }
    if (!bad)
        bad = vstream_flush(d->stream) < 0;
    attr_list_free(l);
    /* A failed write shows up as a broken connection when the event loop
     * reads it: the delivery never ends before this function returns. */
    if (bad && msg_verbose_level())
        msg_debug("%s: transport %s: write request: %s", d->msg->id, dest->transport->name,
                  strerror(vstream_errno(d->stream)));
    server_watch(fd, POLLIN, readable, d);
    if (msg_verbose_level())
        msg_debug("%s: %zu recipient(s) to %s:%s", d->msg->id, count, dest->transport->name,
                  dest->nexthop);
    return 0;
}

/* ---- Deadlines ---- */

void qmgr_deliver_timeouts(qmgr *q)
{
    int64_t now = qmgr_now_ms();
    qmgr_delivery *d = q->deliveries, *next;

    for (; d != NULL; d = next) {
        next = d->next;
        if (now >= d->deadline) {
            qmgr_batch b;

            qmgr_batch_init(&b, q, d->msg);
            msg_warn("%s: transport %s: no reply within %llds; giving up on this attempt",
                     d->msg->id, d->dest->transport->name, q->set.delivery_timeout);
            end_delivery(d, &b, "delivery agent timed out", 0, "4.4.2",
                         "delivery agent timed out");
            /* Ending may have ended others' messages, never other
             * deliveries: next is still valid. */
        }
    }
}

int64_t qmgr_deliver_next_deadline(const qmgr *q)
{
    int64_t next = 0;

    for (const qmgr_delivery *d = q->deliveries; d != NULL; d = d->next)
        if (next == 0 || d->deadline < next)
            next = d->deadline;
    return next;
}

void qmgr_deliver_free_all(qmgr *q)
{
    while (q->deliveries != NULL) {
        qmgr_delivery *d = q->deliveries;

        unlink_delivery(q, d);
        free_delivery(d);
    }
}
