/*
 * delivery_log - the status line every delivery agent logs per recipient
 *
 * SYNOPSIS
 *   delivery_log_times t = {.arrival = a, .received = r, .connected = c, .done = now};
 *   delivery_log_status(id, "u@example.com", NULL, "mx.example.com[192.0.2.1]:25", &t,
 *                       "2.0.0", "250 2.0.0 Ok");
 *
 * DESCRIPTION
 *   Logs, in Postfix's shape,
 *     ID: to=<rcpt>, orig_to=<o>, relay=R, delay=D, delays=a/b/c/d, dsn=X, status=S (text)
 *   where delay is the whole time since arrival, a the time before the
 *   agent got the request, b 0 (Postern's qmgr hands a message on as
 *   soon as it has it), c connection setup (0 when received == connected)
 *   and d the transmission. status is sent, deferred or bounced from the
 *   class of dsn. orig_to is logged when it differs from to.
 *   delivery_log_status_conn adds ", conn_use=N" after relay= when an
 *   SMTP session carries its Nth request (N > 1), as Postfix does.
 */
#ifndef GLOBAL_DELIVERY_LOG_H
#define GLOBAL_DELIVERY_LOG_H

#include <stddef.h>

/* Moments in seconds since the epoch, with microseconds. */
typedef struct delivery_log_times {
    double arrival;   /* the message came in */
    double received;  /* the agent got the request */
    double connected; /* the session was ready to send (== received when none) */
    double done;      /* this result */
} delivery_log_times;

/* Seconds as Postfix writes them: 2 significant digits, no trailing zeros. */
void delivery_log_delay(char *buf, size_t size, double seconds);
/* The current time in seconds since the epoch, with microseconds. */
double delivery_log_now(void);
/* Log one recipient's result (orig_to may be NULL or ""). */
void delivery_log_status(const char *queue_id, const char *to, const char *orig_to,
                         const char *relay, const delivery_log_times *t, const char *dsn,
                         const char *text);
/* The same, for the conn_use-th request over one session (logged when > 1). */
void delivery_log_status_conn(const char *queue_id, const char *to, const char *orig_to,
                              const char *relay, int conn_use, const delivery_log_times *t,
                              const char *dsn, const char *text);

#endif
