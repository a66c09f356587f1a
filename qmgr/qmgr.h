/*
 * qmgr - the queue manager's shared state and the functions its files export
 *
 * DESCRIPTION
 *   One qmgr process per instance. Its state lives in one struct qmgr,
 *   owned by qmgr.c and handed to everything else:
 *
 *   - messages in the active queue (qmgr_message.c), each with the
 *     recipients it still has to deliver;
 *   - transports (master.cf services: local, smtp, relay, ...) and under
 *     each its destinations (nexthops), each with a to-do list of
 *     recipients and a slow-start concurrency window (qmgr_sched.c);
 *   - deliveries in flight: one connection to private/TRANSPORT each
 *     (qmgr_deliver.c);
 *   - the directory scans of incoming, deferred and (at start) active
 *     (qmgr_scan.c).
 *
 *   Results (from agents, or decided here: resolution errors, dead
 *   transports, expiry) go through a qmgr_batch (qmgr_defer.c), which
 *   writes the delivery status logs, marks recipients done in the queue
 *   file and tells the message how many recipients are finished. When a
 *   message has none left to try in this pass it is finished
 *   (qmgr_message_done): notifications sent, then removed or moved to
 *   deferred with its next retry time as mtime.
 */
#ifndef QMGR_QMGR_H
#define QMGR_QMGR_H

#include <stddef.h>
#include <stdint.h>

#include "util/argv.h"
#include "util/htable.h"
#include "util/vstr.h"
#include "util/vstream.h"
#include "global/config.h"
#include "global/dsn_log.h"
#include "global/queue_id.h"
#include "global/resolve.h"
#include "global/resolve_config.h"
#include "global/route_tables.h"
#include "global/slow_start.h"

/* Settings from main.cf, read once at start. */
typedef struct qmgr_settings {
    const char *queue_dir;
    long long queue_run_delay;  /* seconds between deferred scans */
    long long min_backoff;      /* minimal_backoff_time */
    long long max_backoff;      /* maximal_backoff_time */
    long long max_lifetime;     /* maximal_queue_lifetime */
    long long bounce_lifetime;  /* bounce_queue_lifetime */
    long long delay_warning;    /* delay_warning_time; 0: off */
    long long transport_retry;  /* transport_retry_time */
    long long ipc_timeout;      /* a started reply list must arrive within this */
    long long delivery_timeout; /* a whole delivery request (daemon_timeout) */
    long long active_limit;     /* qmgr_message_active_limit */
    long long rcpt_limit;       /* qmgr_message_recipient_limit */
    int process_limit;          /* default_process_limit */
    int dest_concurrency;       /* default_destination_concurrency_limit */
    int dest_rcpt_limit;        /* default_destination_recipient_limit */
    int initial_concurrency;    /* initial_destination_concurrency */
    int cohort_limit;           /* default_destination_concurrency_failed_cohort_limit */
} qmgr_settings;

typedef struct qmgr_message qmgr_message;
typedef struct qmgr_transport qmgr_transport;
typedef struct qmgr_dest qmgr_dest;
typedef struct qmgr_delivery qmgr_delivery;
typedef struct qmgr_scan qmgr_scan;

/* A recipient still to be delivered in this pass. */
typedef struct qmgr_rcpt {
    char *address;
    char *orig_rcpt; /* NULL when none */
    char *dsn_orcpt; /* NULL when none */
    int dsn_notify;
    long long offset; /* of its R record */
    qmgr_message *msg;
    qmgr_dest *dest;        /* while waiting or in flight */
    struct qmgr_rcpt *next; /* in its destination's to-do list */
} qmgr_rcpt;

struct qmgr_message {
    char id[QUEUE_ID_SIZE];
    char *sender;
    long long arrival; /* seconds */
    long long content_offset;
    long long content_size;
    long long rcpt_total; /* R and D records in the file */
    argv_t *attr_names;   /* envelope A records, passed on to agents */
    argv_t *attr_values;
    qmgr_rcpt *rcpts; /* the R records, in file order */
    size_t rcpt_count;
    size_t unfinished;         /* recipients not yet finished in this pass */
    size_t marked_done;        /* recipients marked D in this pass */
    int deferred;              /* a recipient was deferred (or could not be marked) */
    long long warned;          /* when the delay notice went out; 0: not yet */
    int forced_expire;         /* postsuper -e: deferrals of this pass bounce */
    dsn_log deferrals;         /* this pass's deferrals, for expiry and the delay notice */
    qmgr_message *prev, *next; /* the active queue */
};

struct qmgr_transport {
    char *name;
    int process_limit; /* deliveries at once */
    int dest_limit;    /* per destination */
    int rcpt_limit;    /* recipients per request; 1: a destination per recipient */
    int initial;
    int cohort_limit;
    int busy;           /* deliveries in flight */
    int64_t dead_until; /* monotonic ms; 0: alive */
    int64_t retry_at;   /* monotonic ms: connect said "busy", try again then */
    char *dead_reason;  /* when dead */
    htable *dests;      /* nexthop (or recipient) -> qmgr_dest */
    qmgr_dest *ready;   /* destinations with work to do, a circular list */
    qmgr_transport *next;
};

struct qmgr_dest {
    char *key;     /* the htable key */
    char *nexthop; /* what goes to the agent */
    qmgr_transport *transport;
    slow_start window;
    int busy;
    int64_t dead_until; /* monotonic ms; 0: alive */
    char *dead_reason;
    qmgr_rcpt *todo_head, *todo_tail;
    size_t todo_count;
    int in_ready; /* on the transport's ready list */
    qmgr_dest *ready_prev, *ready_next;
};

/* The whole queue manager. */
typedef struct qmgr {
    config *cfg;
    qmgr_settings set;
    resolve_config resolve; /* main.cf's routing rules (global/resolve_config) */
    route_tables *routes;   /* transport_maps, relocated_maps, sender relayhosts */
    /* The active queue. */
    qmgr_message *active_head, *active_tail;
    htable *active_ids; /* queue id -> message: one copy of a message in memory */
    int skipped_busy;   /* a scan skipped a file whose id is in memory */
    size_t active_count;
    size_t active_rcpts;
    /* Transports by name, and as a list. */
    htable *transports;
    qmgr_transport *transport_list;
    /* Deliveries in flight. */
    qmgr_delivery *deliveries;
    size_t delivery_count;
    /* Scans. */
    qmgr_scan *scan_active, *scan_incoming, *scan_deferred;
    int64_t next_deferred_scan; /* monotonic ms */
    int sched_wanted;           /* something changed: run the scheduler */
    size_t dead_dests;          /* destinations now dead, over all transports */
} qmgr;

/* ---- qmgr.c ---- */

/* Monotonic milliseconds and wall-clock seconds, for everyone. */
int64_t qmgr_now_ms(void);
long long qmgr_now(void);

/* ---- qmgr_scan.c ---- */

/* A scan of QUEUE_DIR/NAME; flush: ignore next-retry times (deferred). */
qmgr_scan *qmgr_scan_new(const char *name);
void qmgr_scan_free(qmgr_scan *s);
/* Ask for a (new) pass over the directory; flush as above. */
void qmgr_scan_request(qmgr_scan *s, int flush);
/* Ask for a pass (deferred) that also takes the messages with a recipient
 * in domain site (lower case) and the message called id, whatever their
 * retry times; either may be NULL. */
void qmgr_scan_request_pick(qmgr_scan *s, const char *site, const char *id);
/* True while a pass is asked for or under way. */
int qmgr_scan_busy(const qmgr_scan *s);
/* Take messages from the scans into the active queue while there is room. */
void qmgr_scan_run(qmgr *q);

/* ---- qmgr_message.c ---- */

/* Take QUEUE_DIR/active/ID into memory (it is there already) and queue
 * its recipients. 0, or -1 when the file is gone or corrupt (dealt with
 * here). */
int qmgr_message_load(qmgr *q, const char *id);
/* Keep msg alive while a caller works on it (a delivery in flight, the
 * resolver): it cannot be finished until released. */
void qmgr_message_hold(qmgr_message *msg);
/* Undo a hold; finishes the message when nothing else is left. */
void qmgr_message_release(qmgr *q, qmgr_message *msg);
/* True when the active queue has room for another message. */
int qmgr_message_room(const qmgr *q);
/* Every recipient of the message is finished for this pass: notify,
 * then remove the message or move it to deferred. Frees msg. */
void qmgr_message_done(qmgr *q, qmgr_message *msg);
/* Free a message (also at exit). */
void qmgr_message_free(qmgr *q, qmgr_message *msg);

/* ---- qmgr_resolve.c ---- */

/* Fill q->resolve from main.cf and open the domain lists' tables and the
 * routing tables (before the privilege drop). */
void qmgr_resolve_init(qmgr *q);
void qmgr_resolve_free(qmgr *q);
/* Resolve every recipient of msg: queue it at its destination (the
 * message's content_filter, else transport_maps, else its class), or
 * finish it (an address that cannot be delivered or has moved bounces; a
 * table error defers). */
void qmgr_resolve_message(qmgr *q, qmgr_message *msg);

/* ---- qmgr_sched.c ---- */

/* The transport called name, made on first use. */
qmgr_transport *qmgr_transport_get(qmgr *q, const char *name);
/* Queue a recipient at (transport, nexthop). */
void qmgr_sched_enqueue(qmgr *q, qmgr_rcpt *r, const char *transport, const char *nexthop);
/* Start deliveries while limits allow. */
void qmgr_sched_run(qmgr *q);
/* A delivery to dest ended; site_ok: the destination worked (feedback). */
void qmgr_sched_done(qmgr *q, qmgr_dest *dest, int site_ok, const char *site_status,
                     const char *site_reason);
/* The transport's service is unavailable: defer its mail for a while. */
void qmgr_transport_throttle(qmgr *q, qmgr_transport *t, const char *reason);
/* Bring dead transports and destinations back whose time has come (all
 * when flush is set). */
void qmgr_sched_revive(qmgr *q, int flush);
/* The earliest monotonic time at which something dead revives; 0: none. */
int64_t qmgr_sched_next_event(const qmgr *q);
void qmgr_sched_free(qmgr *q);

/* ---- qmgr_deliver.c ---- */

/* Send the recipients (all of one message, all to dest, off the to-do
 * list) to the transport's agent. 0: the delivery is under way, and ends
 * (qmgr_sched_done) from the event loop, never before this returns. 1:
 * the agent's backlog is full; nothing happened. -1: the agent cannot be
 * reached (why says so); nothing happened. */
int qmgr_deliver(qmgr *q, qmgr_dest *dest, qmgr_rcpt **rcpts, size_t count, vstr *why);
/* Deliveries past their deadline are given up. */
void qmgr_deliver_timeouts(qmgr *q);
/* The earliest delivery deadline, monotonic ms; 0: none. */
int64_t qmgr_deliver_next_deadline(const qmgr *q);
/* Drop every delivery (at exit). */
void qmgr_deliver_free_all(qmgr *q);

/* ---- qmgr_defer.c ---- */

/* Results for recipients of one message, applied together. */
typedef struct qmgr_batch {
    qmgr *q;
    qmgr_message *msg;
    long long *marks; /* offsets of R records to mark done */
    qmgr_rcpt **marked;
    size_t nmarks, cap;
    size_t finished; /* recipients finished (marked, deferred or failed to mark) */
} qmgr_batch;

/* What happened to one recipient. */
typedef struct qmgr_result {
    const char *status; /* enhanced code: its class decides */
    const char *action; /* NULL: from the class */
    const char *reason;
    const char *diag_type; /* from a remote server; may be NULL */
    const char *diag_text;
    const char *mta;
    const char *relay; /* non-NULL: qmgr decided this itself and logs it (relay=...) */
} qmgr_result;

void qmgr_batch_init(qmgr_batch *b, qmgr *q, qmgr_message *msg);
/* Record one recipient's result: logs appended, a done mark queued. */
void qmgr_batch_add(qmgr_batch *b, qmgr_rcpt *r, const qmgr_result *res);
/* Write the done marks, and finish the recipients with the message; with
 * release set, also drop the caller's hold (qmgr_message_hold). This may
 * complete the message: do not touch b->msg afterwards unless a hold
 * remains. */
void qmgr_batch_flush(qmgr_batch *b, int release);
/* Defer one recipient on qmgr's own authority (relay=none) and finish it. */
void qmgr_defer_now(qmgr *q, qmgr_rcpt *r, const char *status, const char *reason);
/* Expiry: the deferrals of this pass become failures (bounce log, done
 * marks). 0 when every one was marked done. */
int qmgr_defer_expire(qmgr *q, qmgr_message *msg);
/* A deferred message's fate at the end of its pass: its next retry time
 * (wall seconds), and whether it has expired. */
long long qmgr_defer_next_retry(const qmgr *q, const qmgr_message *msg, long long now);
int qmgr_defer_expired(const qmgr *q, const qmgr_message *msg, long long now);
/* Log "ID: to=<...>, relay=..., delay=..., dsn=..., status=... (reason)". */
void qmgr_log_status(const qmgr_message *msg, const qmgr_rcpt *r, const char *relay,
                     const char *dsn, const char *status, const char *reason);

#endif
