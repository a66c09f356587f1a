/*
 * slow_start - destination concurrency feedback; see slow_start.h
 */
#include "global/slow_start.h"

/* Floating-point sums of 1/window drift; an epsilon keeps "five failures
 * at window five" a whole cohort. */
#define SLOW_START_EPSILON 1e-9

static int initial_window(const slow_start *s)
{
    int w = s->initial < 1 ? 1 : s->initial;

    if (s->limit > 0 && w > s->limit)
        w = s->limit;
    return w;
}

void slow_start_init(slow_start *s, int initial, int limit, int cohort_limit)
{
    s->initial = initial;
    s->limit = limit < 0 ? 0 : limit;
    s->cohort_limit = cohort_limit < 0 ? 0 : cohort_limit;
    s->fail_cohorts = 0;
    s->window = initial_window(s);
}

int slow_start_allowed(const slow_start *s)
{
    return (int)(s->window + SLOW_START_EPSILON);
}

int slow_start_dead(const slow_start *s)
{
    return s->window <= 0;
}

void slow_start_success(slow_start *s)
{
    if (slow_start_dead(s))
        return;
    s->fail_cohorts = 0;
    s->window += 1.0 / s->window;
    if (s->limit > 0 && s->window > s->limit)
        s->window = s->limit;
}

int slow_start_failure(slow_start *s)
{
    double step;

    if (slow_start_dead(s))
        return 0;
    step = 1.0 / s->window;
    s->fail_cohorts += step;
    if (s->cohort_limit > 0 && s->fail_cohorts + SLOW_START_EPSILON >= s->cohort_limit) {
        s->window = 0;
        return 1;
    }
    s->window -= step;
    if (s->window < 1)
        s->window = 1;
    return 0;
}

void slow_start_revive(slow_start *s)
{
    s->fail_cohorts = 0;
    s->window = initial_window(s);
}
