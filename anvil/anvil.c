/*
 * anvil - connection counts and rates for all the processes of a service
 *
 * SYNOPSIS
 *   master.cf:  anvil  unix  -  -  n  -  1  anvil
 *
 * DESCRIPTION
 *   One process (global/server's multi-client skeleton) holds, in memory,
 *   the counting table of anvil/anvil_table.c and answers smtpd's
 *   requests (global/anvil_client.h has the protocol). Each client
 *   connection remembers the connections it had counted; when it closes,
 *   for whatever reason (the session ended, smtpd crashed or was killed),
 *   they are counted down. See man/man8/anvil.8.
 *
 *   A request is small; one that breaks the protocol (malformed, over the
 *   bounds, an unknown request, a bad ident) closes that client's
 *   connection with a log line. A client that starts a request and stalls
 *   holds the process for at most ANVIL_READ_TIMEOUT_MS.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <time.h>

#include "anvil/anvil_table.h"
#include "global/anvil_client.h"
#include "global/attr.h"
#include "global/server.h"
#include "util/clock.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/vstream.h"

/* Most idents held; beyond this new clients are not counted. */
#define ANVIL_MAX_ENTRIES 100000
/* Connections one client connection may have counted at once (smtpd: 1). */
#define ANVIL_CONN_IDENTS 8
/* A request started must be complete within this time. */
#define ANVIL_READ_TIMEOUT_MS 2000
/* Between two "table full" warnings. */
#define ANVIL_FULL_WARN_MS 60000

typedef struct anvil_conn {
    int fd;
    vstream *stream;
    char *idents[ANVIL_CONN_IDENTS]; /* counted here and not yet counted down */
    size_t ident_count;
} anvil_conn;

static struct {
    anvil_table *table;
    int64_t time_unit_ms;
    int64_t status_ms;   /* 0: no statistics lines */
    int64_t next_status; /* mono ms */
    int64_t next_expire; /* mono ms */
    int64_t last_full_warn;
    unsigned long not_counted; /* since the last warning */
    attr_list *req, *reply;
} anvil;

/* Requests: request, ident; nothing else is needed, a little is allowed. */
static const attr_limits anvil_request_limits = {8, 32, ANVIL_IDENT_MAX, 1024};

static void post_init(config *cfg, const char *service, char **argv)
{
    (void)service;
    (void)argv;
    anvil.time_unit_ms = config_time(cfg, "anvil_rate_time_unit") * 1000;
    anvil.status_ms = config_time(cfg, "anvil_status_update_time") * 1000;
    anvil.table = anvil_table_new(anvil.time_unit_ms, ANVIL_MAX_ENTRIES);
    anvil.req = attr_list_new();
    anvil.reply = attr_list_new();
    anvil.next_status = clock_mono_ms() + anvil.status_ms;
    anvil.next_expire = clock_mono_ms() + anvil.time_unit_ms;
}

/* ---- Statistics ---- */

/* "Nov 29 22:00:00" for a time on the table's (monotonic) clock. */
static void stats_time(int64_t when, char *buf, size_t len)
{
    time_t t = time(NULL) - (time_t)((clock_mono_ms() - when) / 1000);
    struct tm tm;

    localtime_r(&t, &tm);
    if (strftime(buf, len, "%b %d %H:%M:%S", &tm) == 0)
        buf[0] = 0;
}

static void stats_rate(const char *what, const anvil_max *m)
{
    char when[64];

    if (m->value == 0)
        return;
    stats_time(m->when, when, sizeof(when));
    msg_info("statistics: max %s rate %lld/%llds for (%s) at %s", what, m->value,
             (long long)(anvil.time_unit_ms / 1000), m->ident, when);
}

/* Log the maxima since the last report, Postfix's way, and forget them. */
static void stats_log(void)
{
    const anvil_stats *st = &anvil.table->stats;
    char when[64];

    stats_rate("connection", &st->conn_rate);
    if (st->count.value) {
        stats_time(st->count.when, when, sizeof(when));
        msg_info("statistics: max connection count %lld for (%s) at %s", st->count.value,
                 st->count.ident, when);
    }
    stats_rate("message", &st->mail_rate);
    stats_rate("recipient", &st->rcpt_rate);
    if (st->cache_size.value) {
        stats_time(st->cache_size.when, when, sizeof(when));
        msg_info("statistics: max cache size %lld at %s", st->cache_size.value, when);
    }
    anvil_table_stats_reset(anvil.table);
}

/* Timed work: give idle entries back, log statistics. */
static int loop(const char *service, char **argv)
{
    int64_t now = clock_mono_ms(), next;

    (void)service;
    (void)argv;
    if (now >= anvil.next_expire) {
        (void)anvil_table_expire(anvil.table, now);
        anvil.next_expire = now + anvil.time_unit_ms;
    }
    if (anvil.status_ms && now >= anvil.next_status) {
        stats_log();
        anvil.next_status = now + anvil.status_ms;
    }
    next = anvil.next_expire;
    if (anvil.status_ms && anvil.next_status < next)
        next = anvil.next_status;
    /* -1 would mean "nothing pending"; anvil never exits for idleness
     * (ignore_idle), so a wait bound is all this is. */
    return (int)(next - now > 0 ? next - now : 0);
}

static void pre_exit(const char *service, char **argv)
{
    (void)service;
    (void)argv;
    stats_log();
}

/* ---- Clients ---- */

static void conn_close(anvil_conn *c)
{
    int64_t now = clock_mono_ms();

    for (size_t i = 0; i < c->ident_count; i++) {
        (void)anvil_table_disconnect(anvil.table, c->idents[i], now);
        mem_free(c->idents[i]);
    }
    server_unwatch(c->fd);
    (void)vstream_close(c->stream);
    mem_free(c);
}

/* "service:address": printable, no white space, a colon after a name. */
static int ident_valid(const char *ident)
{
    const char *colon = strchr(ident, ':');

    if (colon == NULL || colon == ident || colon[1] == 0)
        return 0;
    for (const unsigned char *p = (const unsigned char *)ident; *p; p++)
        if (*p <= ' ' || *p >= 0x7f)
            return 0;
    return 1;
}

static void warn_full(const char *ident, int64_t now)
{
    anvil.not_counted++;
    if (anvil.last_full_warn && now - anvil.last_full_warn < ANVIL_FULL_WARN_MS)
        return;
    msg_warn("table full: %zu entries, the most anvil keeps; not counting %s "
             "(%lu requests not counted since the last warning)",
             anvil_table_size(anvil.table), ident, anvil.not_counted);
    anvil.last_full_warn = now;
    anvil.not_counted = 0;
}

/* Forget one counted connection of c to ident; 1 when it had one. */
static int conn_forget(anvil_conn *c, const char *ident)
{
    for (size_t i = 0; i < c->ident_count; i++) {
        if (strcmp(c->idents[i], ident) == 0) {
            mem_free(c->idents[i]);
            c->idents[i] = c->idents[--c->ident_count];
            return 1;
        }
    }
    return 0;
}

/* Carry out one request; 0, or -1 with a reason in why (close c). */
static int handle(anvil_conn *c, const char *request, const char *ident, vstr *why)
{
    int64_t now = clock_mono_ms();
    const anvil_entry *e;
    long long rate = 0;

    if (strcmp(request, ANVIL_REQ_CONNECT) == 0) {
        if (c->ident_count == ANVIL_CONN_IDENTS) {
            vstr_set_fmt(why, "more than %d connections counted on one client connection",
                         ANVIL_CONN_IDENTS);
            return -1;
        }
        if ((e = anvil_table_connect(anvil.table, ident, now)) != NULL) {
            c->idents[c->ident_count++] = mem_strdup(ident);
            rate = e->conn_rate;
        }
    } else if (strcmp(request, ANVIL_REQ_DISCONNECT) == 0) {
        /* Only a connection this client counted: it cannot count down
         * another process's. */
        if (conn_forget(c, ident))
            (void)anvil_table_disconnect(anvil.table, ident, now);
        e = anvil_table_lookup(anvil.table, ident, now);
        attr_set_int(anvil.reply, ANVIL_ATTR_STATUS, ANVIL_STAT_OK);
        attr_set_int(anvil.reply, ANVIL_ATTR_COUNT, e ? e->count : 0);
        attr_set_int(anvil.reply, ANVIL_ATTR_RATE, 0);
        return 0;
    } else if (strcmp(request, ANVIL_REQ_MESSAGE) == 0) {
        if ((e = anvil_table_message(anvil.table, ident, now)) != NULL)
            rate = e->mail_rate;
    } else if (strcmp(request, ANVIL_REQ_RECIPIENT) == 0) {
        if ((e = anvil_table_recipient(anvil.table, ident, now)) != NULL)
            rate = e->rcpt_rate;
    } else {
        vstr_set_fmt(why, "unknown request \"%.40s\"", request);
        return -1;
    }
    if (e == NULL)
        warn_full(ident, now);
    attr_set_int(anvil.reply, ANVIL_ATTR_STATUS, e ? ANVIL_STAT_OK : ANVIL_STAT_FULL);
    attr_set_int(anvil.reply, ANVIL_ATTR_COUNT, e ? e->count : 0);
    attr_set_int(anvil.reply, ANVIL_ATTR_RATE, rate);
    return 0;
}

/* Read, carry out and answer one request from c; -1 when c must close
 * (end of input, or a broken request: logged). */
static int serve_request(anvil_conn *c)
{
    vstr why = VSTR_INIT;
    const char *request, *ident;
    attr_status st;
    int ret = 0;

    st = attr_read(c->stream, anvil.req, &anvil_request_limits, &why);
    if (st == ATTR_EOF) {
        ret = -1;
    } else if (st != ATTR_OK) {
        msg_warn("closing a client connection: malformed request: %s", vstr_str(&why));
        ret = -1;
    } else if ((request = attr_get(anvil.req, ANVIL_ATTR_REQUEST)) == NULL ||
               (ident = attr_get(anvil.req, ANVIL_ATTR_IDENT)) == NULL || !ident_valid(ident)) {
        msg_warn("closing a client connection: a request without a valid %s and %s",
                 ANVIL_ATTR_REQUEST, ANVIL_ATTR_IDENT);
        ret = -1;
    } else {
        attr_list_reset(anvil.reply);
        if (handle(c, request, ident, &why) < 0) {
            msg_warn("closing a client connection: %s", vstr_str(&why));
            ret = -1;
        } else if (attr_write(c->stream, anvil.reply) < 0 || vstream_flush(c->stream) < 0) {
            msg_warn("closing a client connection: cannot send a reply: %s",
                     vstream_timed_out(c->stream) ? "timeout"
                                                  : strerror(vstream_errno(c->stream)));
            ret = -1;
        }
    }
    vstr_release(&why);
    return ret;
}

static void on_readable(int fd, int revents, void *context)
{
    anvil_conn *c = context;

    (void)fd;
    (void)revents;
    /* A client may have sent several requests at once: answer every one
     * already read, since poll will not report them again. */
    do {
        if (serve_request(c) < 0) {
            conn_close(c);
            return;
        }
    } while (vstream_read_pending(c->stream) > 0);
}

static void on_client(int fd, const char *service, char **argv)
{
    anvil_conn *c = mem_calloc(1, sizeof(*c));

    (void)service;
    (void)argv;
    c->fd = fd;
    c->stream = vstream_fdopen(fd, VSTREAM_READ | VSTREAM_WRITE);
    vstream_set_timeout(c->stream, ANVIL_READ_TIMEOUT_MS);
    server_watch(fd, POLLIN, on_readable, c);
}

int main(int argc, char **argv)
{
    static const server_service svc = {
        .name = "anvil",
        .ignore_idle = 1,
        .post_init = post_init,
        .loop = loop,
        .pre_exit = pre_exit,
        .multi = on_client,
    };

    server_multi_main(argc, argv, &svc);
}
