/*
 * NAME
 *   clock - monotonic and wall-clock time as integers
 *
 * SYNOPSIS
 *   #include "util/clock.h"
 *
 * DESCRIPTION
 *   Deadlines and delays are measured with the monotonic clock, which never
 *   jumps when the administrator (or NTP) sets the date; log and queue
 *   times use the wall clock. Integers rather than struct timespec, so that
 *   arithmetic on them is plain subtraction.
 */
#ifndef UTIL_CLOCK_H
#define UTIL_CLOCK_H

#include <stdint.h>

/* Monotonic time in milliseconds since an arbitrary start (boot). */
int64_t clock_mono_ms(void);
/* Monotonic time in microseconds since an arbitrary start (boot). */
int64_t clock_mono_us(void);
/* Wall-clock time in microseconds since the Unix epoch. */
int64_t clock_wall_us(void);

#endif
