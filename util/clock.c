/*
 * clock - monotonic and wall-clock time as integers
 *
 * clock_gettime cannot fail for these clocks on Linux with valid arguments;
 * a failure would be a broken system, hence msg_panic.
 */
#include <time.h>

#include "util/clock.h"
#include "util/msg.h"

static int64_t clock_read_us(clockid_t id)
{
    struct timespec ts;

    if (clock_gettime(id, &ts) < 0)
        msg_panic("clock_gettime(%d): %m", (int)id);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t clock_mono_ms(void)
{
    return clock_read_us(CLOCK_MONOTONIC) / 1000;
}

int64_t clock_mono_us(void)
{
    return clock_read_us(CLOCK_MONOTONIC);
}

int64_t clock_wall_us(void)
{
    return clock_read_us(CLOCK_REALTIME);
}
