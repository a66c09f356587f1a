/*
 * delivery_log - format and log a delivery agent's per-recipient status
 *
 * See delivery_log.h.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>

#include "global/delivery_log.h"
#include "util/msg.h"
#include "util/vstr.h"

void delivery_log_delay(char *buf, size_t size, double seconds)
{
    char *p;

    if (seconds < 0)
        seconds = 0;
    if (seconds >= 10)
        snprintf(buf, size, "%.0f", seconds);
    else if (seconds >= 1)
        snprintf(buf, size, "%.1f", seconds);
    else if (seconds >= 0.01 || seconds == 0)
        snprintf(buf, size, "%.2f", seconds);
    else
        snprintf(buf, size, "%.2g", seconds);
    /* "0.50" -> "0.5", "1.0" -> "1"; "5e-03" keeps its digits. */
    if (strchr(buf, '.') != NULL && strchr(buf, 'e') == NULL) {
        for (p = buf + strlen(buf) - 1; *p == '0'; p--)
            *p = 0;
        if (*p == '.')
            *p = 0;
    }
}

double delivery_log_now(void)
{
    struct timeval tv;

    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

void delivery_log_status(const char *queue_id, const char *to, const char *orig_to,
                         const char *relay, const delivery_log_times *t, const char *dsn,
                         const char *text)
{
    delivery_log_status_conn(queue_id, to, orig_to, relay, 0, t, dsn, text);
}

void delivery_log_status_conn(const char *queue_id, const char *to, const char *orig_to,
                              const char *relay, int conn_use, const delivery_log_times *t,
                              const char *dsn, const char *text)
{
    char delay[32], a[32], c[32], d[32], use[32] = "";
    vstr orig = VSTR_INIT;

    if (orig_to && *orig_to && strcasecmp(orig_to, to) != 0)
        vstr_set_fmt(&orig, ", orig_to=<%s>", orig_to);
    delivery_log_delay(delay, sizeof(delay), t->done - t->arrival);
    delivery_log_delay(a, sizeof(a), t->received - t->arrival);
    delivery_log_delay(c, sizeof(c), t->connected - t->received);
    delivery_log_delay(d, sizeof(d), t->done - t->connected);
    if (conn_use > 1)
        snprintf(use, sizeof(use), ", conn_use=%d", conn_use);
    msg_info("%s: to=<%s>%s, relay=%s%s, delay=%s, delays=%s/0/%s/%s, dsn=%s, status=%s (%s)",
             queue_id, to, vstr_str(&orig), relay, use, delay, a, c, d, dsn,
             dsn[0] == '2'   ? "sent"
             : dsn[0] == '4' ? "deferred"
                             : "bounced",
             text);
    vstr_release(&orig);
}
