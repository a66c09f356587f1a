/*
 * qmgr_sched - transports, destinations and the choice of the next delivery
 *
 * DESCRIPTION
 *   A transport is a master.cf service (local, smtp, relay); qmgr makes
 *   one on first use and reads its limits, with a per-transport override
 *   where main.cf sets one (TRANSPORT_destination_concurrency_limit,
 *   TRANSPORT_destination_recipient_limit,
 *   TRANSPORT_initial_destination_concurrency,
 *   TRANSPORT_destination_concurrency_failed_cohort_limit), as Postfix
 *   does. At most default_process_limit deliveries per transport run at
 *   once, master.cf's default maxproc.
 *
 *   A destination is a nexthop of a transport; when the transport takes
 *   one recipient per request (local_destination_recipient_limit = 1) it
 *   is the recipient itself, so the concurrency limit applies per
 *   mailbox, again as in Postfix. Each destination has a FIFO of
 *   recipients, in message order, and a slow-start window
 *   (global/slow_start). A request takes the first recipients of one
 *   message, up to the recipient limit.
 *
 *   The scheduler goes round the destinations of each transport that
 *   have work (the "ready" ring), one request each per turn, while the
 *   transport and the destination have room.
 *
 *   Failure handling:
 *   - the agent's socket cannot be reached: the transport is dead for
 *     transport_retry_time; its waiting mail and any that arrives meanwhile
 *     is deferred with "mail transport unavailable";
 *   - a destination whose window collapses (whole windows of failed
 *     requests, see slow_start) is dead for minimal_backoff_time, and its
 *     mail is deferred with the last failure's reason.
 *   postern flush brings both back at once.
 */
#include <stdlib.h>
#include <string.h>

#include "util/mem.h"
#include "util/msg.h"
#include "global/dsn.h"
#include "global/param_table.h"
#include "qmgr/qmgr.h"

/* How long to wait before connecting again when an agent's socket says its
 * backlog is full. */
#define QMGR_BUSY_RETRY_MS 1000
/* Recipients per request when the recipient limit is 0 ("no limit"). */
#define QMGR_RCPT_LIMIT_NONE 1000

/* A per-transport parameter: NAME_SUFFIX when main.cf sets it (or the
 * table knows it, as local_destination_concurrency_limit), else the
 * default. generic names the parameter whose type and bounds apply. */
static int transport_param(qmgr *q, const char *transport, const char *suffix, const char *generic,
                           int dflt)
{
    vstr name = VSTR_INIT, err = VSTR_INIT, why = VSTR_INIT;
    const char *value;
    long long n = dflt;

    vstr_set_fmt(&name, "%s_%s", transport, suffix);
    if (param_lookup(vstr_str(&name)) != NULL) {
        n = config_int(q->cfg, vstr_str(&name));
    } else if (config_raw(q->cfg, vstr_str(&name)) != NULL) {
        value = config_expand(q->cfg, vstr_str(&name), &err);
        if (value == NULL)
            msg_warn("%s: %s; using %d", vstr_str(&name), vstr_str(&err), dflt);
        else if (config_convert(generic, value, &n, &why) < 0) {
            msg_warn("%s: %s; using %d", vstr_str(&name), vstr_str(&why), dflt);
            n = dflt;
        }
    }
    vstr_release(&name);
    vstr_release(&err);
    vstr_release(&why);
    return n > 1000000 ? 1000000 : n < 0 ? 0 : (int)n;
}

qmgr_transport *qmgr_transport_get(qmgr *q, const char *name)
{
    qmgr_transport *t = htable_find(q->transports, name);

    if (t != NULL)
        return t;
    t = mem_calloc(1, sizeof(*t));
    t->name = mem_strdup(name);
    t->process_limit = q->set.process_limit > 0 ? q->set.process_limit : 1;
    t->dest_limit =
        transport_param(q, name, "destination_concurrency_limit",
                        "default_destination_concurrency_limit", q->set.dest_concurrency);
    t->rcpt_limit = transport_param(q, name, "destination_recipient_limit",
                                    "default_destination_recipient_limit", q->set.dest_rcpt_limit);
    t->initial = transport_param(q, name, "initial_destination_concurrency",
                                 "initial_destination_concurrency", q->set.initial_concurrency);
    t->cohort_limit = transport_param(q, name, "destination_concurrency_failed_cohort_limit",
                                      "default_destination_concurrency_failed_cohort_limit",
                                      q->set.cohort_limit);
    t->dests = htable_new(16);
    htable_enter(q->transports, name, t);
    t->next = q->transport_list;
    q->transport_list = t;
    if (msg_verbose_level())
        msg_debug("transport %s: process limit %d, destination concurrency %d (initial %d), "
                  "%d recipients per request",
                  name, t->process_limit, t->dest_limit, t->initial, t->rcpt_limit);
    return t;
}

/* ---- Destinations ---- */

static void ready_add(qmgr_transport *t, qmgr_dest *d)
{
    if (d->in_ready)
        return;
    d->in_ready = 1;
    if (t->ready == NULL) {
        d->ready_prev = d->ready_next = d;
        t->ready = d;
    } else {
        /* Just before the current head: served last in this round. */
        d->ready_next = t->ready;
        d->ready_prev = t->ready->ready_prev;
        d->ready_prev->ready_next = d;
        t->ready->ready_prev = d;
    }
}

static void ready_remove(qmgr_transport *t, qmgr_dest *d)
{
    if (!d->in_ready)
        return;
    d->in_ready = 0;
    if (d->ready_next == d) {
        t->ready = NULL;
    } else {
        d->ready_prev->ready_next = d->ready_next;
        d->ready_next->ready_prev = d->ready_prev;
        if (t->ready == d)
            t->ready = d->ready_next;
    }
    d->ready_prev = d->ready_next = NULL;
}

static void dest_free(void *ptr)
{
    qmgr_dest *d = ptr;

    mem_free(d->key);
    mem_free(d->nexthop);
    mem_free(d->dead_reason);
    mem_free(d);
}

/* Forget a destination that has nothing to do and nothing to remember. */
static void dest_maybe_free(qmgr_dest *d)
{
    qmgr_transport *t = d->transport;

    if (d->todo_head != NULL || d->busy > 0 || d->dead_until != 0)
        return;
    ready_remove(t, d);
    htable_delete(t->dests, d->key, dest_free);
}

static qmgr_dest *dest_get(qmgr *q, qmgr_transport *t, const char *key, const char *nexthop)
{
    qmgr_dest *d = htable_find(t->dests, key);

    (void)q;
    if (d != NULL)
        return d;
    d = mem_calloc(1, sizeof(*d));
    d->key = mem_strdup(key);
    d->nexthop = mem_strdup(nexthop);
    d->transport = t;
    slow_start_init(&d->window, t->initial, t->dest_limit, t->cohort_limit);
    htable_enter(t->dests, key, d);
    return d;
}

static qmgr_rcpt *todo_pop(qmgr_dest *d)
{
    qmgr_rcpt *r = d->todo_head;

    if (r == NULL)
        return NULL;
    d->todo_head = r->next;
    if (d->todo_head == NULL)
        d->todo_tail = NULL;
    d->todo_count--;
    r->next = NULL;
    return r;
}

static void todo_push_back(qmgr_dest *d, qmgr_rcpt *r)
{
    r->next = NULL;
    if (d->todo_tail)
        d->todo_tail->next = r;
    else
        d->todo_head = r;
    d->todo_tail = r;
    d->todo_count++;
}

/* Put recipients back at the head, in their order. */
static void todo_push_front(qmgr_dest *d, qmgr_rcpt **rcpts, size_t n)
{
    for (size_t i = n; i-- > 0;) {
        rcpts[i]->next = d->todo_head;
        d->todo_head = rcpts[i];
        if (d->todo_tail == NULL)
            d->todo_tail = rcpts[i];
        d->todo_count++;
    }
}

/* Defer everything waiting at d. */
static void defer_todo(qmgr *q, qmgr_dest *d, const char *status, const char *reason)
{
    qmgr_rcpt *r;

    ready_remove(d->transport, d);
    while ((r = todo_pop(d)) != NULL) {
        r->dest = NULL;
        qmgr_defer_now(q, r, status, reason);
    }
}

void qmgr_sched_enqueue(qmgr *q, qmgr_rcpt *r, const char *transport, const char *nexthop)
{
    qmgr_transport *t = qmgr_transport_get(q, transport);
    vstr key = VSTR_INIT;
    qmgr_dest *d;

    if (t->dead_until) {
        qmgr_defer_now(q, r, "4.3.0", t->dead_reason);
        return;
    }
    if (t->rcpt_limit == 1) {
        vstr_set_str(&key, r->address);
        vstr_lower(&key);
    } else {
        vstr_set_str(&key, nexthop);
    }
    d = dest_get(q, t, vstr_str(&key), nexthop);
    vstr_release(&key);
    if (d->dead_until) {
        qmgr_defer_now(q, r, "4.4.1", d->dead_reason);
        return;
    }
    r->dest = d;
    todo_push_back(d, r);
    ready_add(t, d);
    q->sched_wanted = 1;
}

/* ---- Choosing deliveries ---- */

/* Take the next request's recipients off d: the head message's first ones. */
static size_t take_request(qmgr_dest *d, qmgr_rcpt **out, size_t max)
{
    qmgr_message *msg = d->todo_head ? d->todo_head->msg : NULL;
    size_t n = 0;

    while (n < max && d->todo_head != NULL && d->todo_head->msg == msg)
        out[n++] = todo_pop(d);
    return n;
}

static size_t ring_size(const qmgr_transport *t)
{
    size_t n = 0;
    const qmgr_dest *d = t->ready;

    if (d == NULL)
        return 0;
    do {
        n++;
        d = d->ready_next;
    } while (d != t->ready);
    return n;
}

/* The agent cannot be reached: the request's recipients and everything
 * else waiting for the transport are deferred. */
static void transport_unreachable(qmgr *q, qmgr_transport *t, qmgr_rcpt **rcpts, size_t n,
                                  const char *why)
{
    /* Throttle first: it logs why, before the deferrals it causes. */
    qmgr_transport_throttle(q, t, why);
    for (size_t i = 0; i < n; i++) {
        rcpts[i]->dest = NULL;
        qmgr_defer_now(q, rcpts[i], "4.3.0", t->dead_reason);
    }
}

/* Start deliveries for one transport: rounds over its ready ring, one
 * request per destination and round, while anything can start. */
static void run_transport(qmgr *q, qmgr_transport *t, int64_t now)
{
    /* A recipient limit of 0 means none, as in Postfix; a request still
     * has to fit in memory and in an agent's patience. */
    size_t max = t->rcpt_limit > 0 ? (size_t)t->rcpt_limit : QMGR_RCPT_LIMIT_NONE;
    qmgr_rcpt **rcpts = mem_calloc(max, sizeof(*rcpts));
    vstr why = VSTR_INIT;
    int progress = 1;

    while (progress && t->busy < t->process_limit && t->ready != NULL && !t->dead_until &&
           !(t->retry_at && now < t->retry_at)) {
        size_t count = ring_size(t);
        qmgr_dest *d = t->ready;

        progress = 0;
        for (size_t i = 0; i < count; i++) {
            qmgr_dest *next = d->ready_next;
            size_t n;
            int rc;

            if (!d->dead_until && d->busy < slow_start_allowed(&d->window)) {
                n = take_request(d, rcpts, max);
                if (d->todo_head == NULL)
                    ready_remove(t, d);
                rc = qmgr_deliver(q, d, rcpts, n, &why);
                if (rc > 0) {
                    /* The agent's backlog is full: back on the list. */
                    todo_push_front(d, rcpts, n);
                    ready_add(t, d);
                    t->retry_at = now + QMGR_BUSY_RETRY_MS;
                    goto out;
                }
                if (rc < 0) {
                    transport_unreachable(q, t, rcpts, n, vstr_str(&why));
                    goto out;
                }
                d->busy++;
                t->busy++;
                progress = 1;
                if (t->busy >= t->process_limit)
                    break;
            }
            if (next == d || !next->in_ready)
                break;
            d = next;
        }
        /* Round robin: the next round starts where this one stopped. */
        if (t->ready != NULL && d->in_ready)
            t->ready = d->ready_next;
    }
out:
    mem_free(rcpts);
    vstr_release(&why);
}

void qmgr_sched_run(qmgr *q)
{
    int64_t now = qmgr_now_ms();

    q->sched_wanted = 0;
    for (qmgr_transport *t = q->transport_list; t != NULL; t = t->next)
        run_transport(q, t, now);
}

void qmgr_sched_done(qmgr *q, qmgr_dest *d, int site_ok, const char *site_status,
                     const char *site_reason)
{
    qmgr_transport *t = d->transport;

    d->busy--;
    t->busy--;
    q->sched_wanted = 1;
    if (site_ok) {
        slow_start_success(&d->window);
    } else if (slow_start_failure(&d->window)) {
        int64_t until = qmgr_now_ms() + q->set.min_backoff * 1000;

        msg_info("%s destination %s: too many failures in a row; deferring its mail for %llds "
                 "(%s)",
                 t->name, d->nexthop, q->set.min_backoff, site_reason);
        d->dead_until = until > 0 ? until : 1;
        mem_free(d->dead_reason);
        d->dead_reason = mem_strdup(site_reason);
        q->dead_dests++;
        defer_todo(q, d,
                   site_status && dsn_status_valid(site_status) && site_status[0] == '4'
                       ? site_status
                       : "4.4.1",
                   d->dead_reason);
    }
    if (d->todo_head != NULL)
        ready_add(t, d);
    dest_maybe_free(d);
}

void qmgr_transport_throttle(qmgr *q, qmgr_transport *t, const char *reason)
{
    htable_entry **all;
    int64_t until = qmgr_now_ms() + q->set.transport_retry * 1000;

    t->dead_until = until > 0 ? until : 1;
    mem_free(t->dead_reason);
    t->dead_reason = mem_strdup("mail transport unavailable");
    msg_warn("transport %s: %s; deferring its mail for %llds", t->name, reason,
             q->set.transport_retry);
    all = htable_list(t->dests);
    for (htable_entry **e = all; *e != NULL; e++)
        defer_todo(q, (*e)->value, "4.3.0", t->dead_reason);
    for (htable_entry **e = all; *e != NULL; e++)
        dest_maybe_free((*e)->value);
    mem_free(all);
}

void qmgr_sched_revive(qmgr *q, int flush)
{
    int64_t now = qmgr_now_ms();

    for (qmgr_transport *t = q->transport_list; t != NULL; t = t->next) {
        htable_entry **all;

        if (t->dead_until && (flush || now >= t->dead_until)) {
            t->dead_until = 0;
            q->sched_wanted = 1;
        }
        if (t->retry_at && (flush || now >= t->retry_at)) {
            t->retry_at = 0;
            q->sched_wanted = 1;
        }
        if (q->dead_dests == 0)
            continue;
        all = htable_list(t->dests);
        for (htable_entry **e = all; *e != NULL; e++) {
            qmgr_dest *d = (*e)->value;

            if (d->dead_until && (flush || now >= d->dead_until)) {
                d->dead_until = 0;
                q->dead_dests--;
                slow_start_revive(&d->window);
                if (d->todo_head)
                    ready_add(t, d);
                dest_maybe_free(d);
                q->sched_wanted = 1;
            }
        }
        mem_free(all);
    }
}

int64_t qmgr_sched_next_event(const qmgr *q)
{
    int64_t next = 0;

    for (const qmgr_transport *t = q->transport_list; t != NULL; t = t->next) {
        htable_entry **all;

        if (t->dead_until && (next == 0 || t->dead_until < next))
            next = t->dead_until;
        if (t->retry_at && (next == 0 || t->retry_at < next))
            next = t->retry_at;
        if (q->dead_dests == 0)
            continue;
        all = htable_list(t->dests);
        for (htable_entry **e = all; *e != NULL; e++) {
            const qmgr_dest *d = (*e)->value;

            if (d->dead_until && (next == 0 || d->dead_until < next))
                next = d->dead_until;
        }
        mem_free(all);
    }
    return next;
}

static void transport_free(void *ptr)
{
    qmgr_transport *t = ptr;

    htable_free(t->dests, dest_free);
    mem_free(t->name);
    mem_free(t->dead_reason);
    mem_free(t);
}

void qmgr_sched_free(qmgr *q)
{
    if (q->transports)
        htable_free(q->transports, transport_free);
    q->transports = NULL;
    q->transport_list = NULL;
}
