/*
 * backoff - when to retry deferred mail, when to give up, when to warn
 *
 * SYNOPSIS
 *   next = now + backoff_delay(now, arrival, min_backoff, max_backoff);
 *   if (backoff_expired(now, arrival, lifetime)) ... bounce ...
 *   if (backoff_warning_due(now, arrival, delay_warning_time)) ... delay DSN ...
 *
 * DESCRIPTION
 *   Postfix's schedule: after a failed attempt, wait as long as the
 *   message has already been queued, but at least minimal_backoff_time
 *   and at most maximal_backoff_time. Because each wait equals the age
 *   at the attempt, the age doubles from one attempt to the next: with
 *   300s and 4000s the attempts fall at 0, 300, 600, 1200, 2400, 4800,
 *   8800, ... seconds after arrival. Pure arithmetic on seconds.
 */
#ifndef GLOBAL_BACKOFF_H
#define GLOBAL_BACKOFF_H

/* Seconds to wait after an attempt at now for a message that arrived at
 * arrival: the age, clamped to [min_backoff, max_backoff] (max_backoff
 * below min_backoff counts as min_backoff). */
long long backoff_delay(long long now, long long arrival, long long min_backoff,
                        long long max_backoff);

/* True when a message that arrived at arrival has been queued for lifetime
 * seconds or more (lifetime 0: one attempt only). */
int backoff_expired(long long now, long long arrival, long long lifetime);

/* True when the delay warning is due: warning_time > 0 and the message is
 * at least that old. The caller remembers that it sent one. */
int backoff_warning_due(long long now, long long arrival, long long warning_time);

#endif
