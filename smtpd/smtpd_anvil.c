/*
 * smtpd_anvil - client connection and rate limits, counted by anvil
 *
 * DESCRIPTION
 *   smtpd_client_connection_count_limit, smtpd_client_connection_rate_limit,
 *   smtpd_client_message_rate_limit and smtpd_client_recipient_rate_limit
 *   span every smtpd process of a service, so the counting is anvil's
 *   (anvil/, global/anvil_client.h). A session whose client is not in
 *   smtpd_client_event_limit_exceptions, with any limit set, opens one
 *   connection to anvil and keeps it to the end: closing it is the
 *   disconnect, so a session that ends any way at all (QUIT, an error, a
 *   timeout, a killed process) frees its slot.
 *
 *   Replies and log lines are Postfix's, so that log watchers and
 *   fail2ban filters keep working. When anvil cannot be asked, smtpd logs
 *   a warning and serves the client unlimited, as Postfix does: a broken
 *   counter must not stop the mail.
 */
#include <string.h>

#include "global/anvil_client.h"
#include "global/server.h"
#include "smtpd/smtpd.h"
#include "util/msg.h"

/* How long smtpd waits for anvil (connect, each request). */
#define SMTPD_ANVIL_TIMEOUT_MS 5000

static struct {
    const char *queue_dir;
    long long conn_count_limit, conn_rate_limit, mail_rate_limit, rcpt_rate_limit;
    cidr_list *exceptions; /* smtpd_client_event_limit_exceptions */
} lim;

void smtpd_anvil_configure(config *cfg)
{
    vstr err = VSTR_INIT;
    argv_t *nets;

    lim.queue_dir = config_str(cfg, "queue_directory");
    lim.conn_count_limit = config_int(cfg, "smtpd_client_connection_count_limit");
    lim.conn_rate_limit = config_int(cfg, "smtpd_client_connection_rate_limit");
    lim.mail_rate_limit = config_int(cfg, "smtpd_client_message_rate_limit");
    lim.rcpt_rate_limit = config_int(cfg, "smtpd_client_recipient_rate_limit");
    nets = maps_split(config_str(cfg, "smtpd_client_event_limit_exceptions"));
    if ((lim.exceptions = cidr_list_parse("smtpd_client_event_limit_exceptions", nets, &err)) ==
        NULL)
        msg_fatal("smtpd_client_event_limit_exceptions: %s", vstr_str(&err));
    argv_free(nets);
    vstr_release(&err);
}

void smtpd_anvil_free(void)
{
    cidr_list_free(lim.exceptions);
    lim.exceptions = NULL;
}

/* Do the limits apply to this client? */
static int limited(smtpd_state *s)
{
    vstr why = VSTR_INIT;
    int listed;

    if (lim.conn_count_limit == 0 && lim.conn_rate_limit == 0 && lim.mail_rate_limit == 0 &&
        lim.rcpt_rate_limit == 0)
        return 0;
    if (vstr_len(&s->addr) == 0)
        return 0; /* not a network client */
    listed = cidr_list_match(lim.exceptions, vstr_str(&s->addr), &why);
    if (listed < 0)
        msg_warn("smtpd_client_event_limit_exceptions: %s: applying the limits to %s",
                 vstr_str(&why), vstr_str(&s->namaddr));
    vstr_release(&why);
    return listed != 1;
}

/* Ask anvil; 0 with *count and *rate, -1 when it could not be asked
 * (warned once per session; the session goes on without limits). */
static int ask(smtpd_state *s, const char *request, long long *count, long long *rate)
{
    vstr err = VSTR_INIT;
    int st;

    if (s->anvil == NULL)
        return -1;
    st = anvil_client_request(s->anvil, request, server_service_name(), vstr_str(&s->addr), count,
                              rate, &err);
    if (st < 0) {
        msg_warn("problem talking to service %s/%s: %s", "private", ANVIL_SERVICE, vstr_str(&err));
        anvil_client_close(s->anvil);
        s->anvil = NULL;
    }
    vstr_release(&err);
    /* 1: anvil's table is full and it did not count; it said so in its log. */
    return st == 0 ? 0 : -1;
}

int smtpd_anvil_connect(smtpd_state *s)
{
    vstr err = VSTR_INIT;
    long long count, rate;

    if (!limited(s))
        return 0;
    s->anvil = anvil_client_open(lim.queue_dir, SMTPD_ANVIL_TIMEOUT_MS, &err);
    if (s->anvil == NULL)
        msg_warn("problem talking to service %s/%s: %s", "private", ANVIL_SERVICE, vstr_str(&err));
    vstr_release(&err);
    if ((lim.conn_count_limit == 0 && lim.conn_rate_limit == 0) ||
        ask(s, ANVIL_REQ_CONNECT, &count, &rate) < 0)
        return 0;
    if (lim.conn_count_limit > 0 && count > lim.conn_count_limit)
        msg_warn("Connection concurrency limit exceeded: %lld from %s for service %s", count,
                 vstr_str(&s->namaddr), server_service_name());
    else if (lim.conn_rate_limit > 0 && rate > lim.conn_rate_limit)
        msg_warn("Connection rate limit exceeded: %lld from %s for service %s", rate,
                 vstr_str(&s->namaddr), server_service_name());
    else
        return 0;
    smtpd_reply(s, "421 4.7.0 %s Error: too many connections from %s", smtpd_cf.myhostname,
                vstr_str(&s->addr));
    return -1;
}

/* Count one event of request; -1 when it is over limit (reply sent and
 * the warning "WHAT rate limit exceeded" logged). */
static int rate_check(smtpd_state *s, const char *request, long long limit, const char *what,
                      const char *reply)
{
    long long count, rate;

    if (limit == 0 || ask(s, request, &count, &rate) < 0 || rate <= limit)
        return 0;
    msg_warn("%s rate limit exceeded: %lld from %s for service %s", what, rate,
             vstr_str(&s->namaddr), server_service_name());
    smtpd_reply(s, "450 4.7.1 Error: %s from %s", reply, vstr_str(&s->addr));
    return -1;
}

int smtpd_anvil_message(smtpd_state *s)
{
    return rate_check(s, ANVIL_REQ_MESSAGE, lim.mail_rate_limit, "Message delivery request",
                      "too much mail");
}

int smtpd_anvil_recipient(smtpd_state *s)
{
    return rate_check(s, ANVIL_REQ_RECIPIENT, lim.rcpt_rate_limit, "Recipient address",
                      "too many recipients");
}

void smtpd_anvil_disconnect(smtpd_state *s)
{
    anvil_client_close(s->anvil);
    s->anvil = NULL;
}
