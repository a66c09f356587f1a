/*
 * backoff - retry schedule, expiry and delay warnings; see backoff.h
 */
#include "global/backoff.h"

long long backoff_delay(long long now, long long arrival, long long min_backoff,
                        long long max_backoff)
{
    long long age = now - arrival;

    /* A clock that went backwards, or an arrival time from the future, is
     * treated as a new message rather than one retried never or at once. */
    if (age < 0)
        age = 0;
    if (max_backoff < min_backoff)
        max_backoff = min_backoff;
    if (age > max_backoff)
        age = max_backoff;
    if (age < min_backoff)
        age = min_backoff;
    return age;
}

int backoff_expired(long long now, long long arrival, long long lifetime)
{
    return now - arrival >= lifetime;
}

int backoff_warning_due(long long now, long long arrival, long long warning_time)
{
    return warning_time > 0 && now - arrival >= warning_time;
}
