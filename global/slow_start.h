/*
 * slow_start - per-destination concurrency: grow on success, shrink on failure
 *
 * SYNOPSIS
 *   slow_start ss;
 *   slow_start_init(&ss, initial_destination_concurrency, limit, cohort_limit);
 *   while (busy < slow_start_allowed(&ss)) ... start a delivery ...
 *   slow_start_success(&ss);                  a delivery went through
 *   if (slow_start_failure(&ss)) ... dead: defer its mail, revive later ...
 *   slow_start_revive(&ss);                   after the back-off, or a flush
 *
 * DESCRIPTION
 *   Postfix's scheduler feedback, with its defaults. A destination starts
 *   at initial_destination_concurrency parallel deliveries (never more
 *   than its limit). Each successful delivery adds 1/window to the
 *   window, so a full window of successes raises it by one, up to the
 *   destination's concurrency limit; each failed one takes 1/window away
 *   (never below one). Failures also add 1/window to a count of "failed
 *   cohorts" that a success resets: when a destination has failed
 *   cohort_limit whole windows in a row it is dead (throttled) and
 *   allows nothing until revived, which restarts it at the initial
 *   window. A limit of 0 means no limit of its own.
 */
#ifndef GLOBAL_SLOW_START_H
#define GLOBAL_SLOW_START_H

typedef struct slow_start {
    double window;       /* deliveries allowed at once; 0 when dead */
    int initial;         /* window at start and after revival */
    int limit;           /* upper bound of the window; 0: none */
    int cohort_limit;    /* failed windows in a row that make it dead; 0: never */
    double fail_cohorts; /* failed windows since the last success */
} slow_start;

/* Start a destination: window min(initial, limit), at least 1. */
void slow_start_init(slow_start *s, int initial, int limit, int cohort_limit);
/* How many deliveries may run at once now: the window rounded down; 0
 * when dead. */
int slow_start_allowed(const slow_start *s);
/* True when dead (throttled). */
int slow_start_dead(const slow_start *s);
/* Positive feedback. */
void slow_start_success(slow_start *s);
/* Negative feedback; returns 1 when this failure made the destination dead. */
int slow_start_failure(slow_start *s);
/* Back to life at the initial window. */
void slow_start_revive(slow_start *s);

#endif
