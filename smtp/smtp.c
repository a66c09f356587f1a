/*
 * smtp - the SMTP and LMTP delivery agent
 *
 * SYNOPSIS
 *   master.cf:  smtp   unix  -  -  n  -  -  smtp
 *               relay  unix  -  -  n  -  -  smtp
 *               lmtp   unix  -  -  n  -  -  lmtp
 *
 * DESCRIPTION
 *   A single-client service on the daemon skeleton (global/server). Each
 *   connection from qmgr carries delivery requests (docs/PROTOCOLS.md,
 *   "qmgr and delivery agents"). For each, smtp opens the queue file,
 *   resolves the next hop (smtp_addr.c), delivers in one session
 *   (smtp_proto.c), answers each recipient as its result is known
 *   (smtp_result.c) and ends with the final list, which tells qmgr when
 *   no server of the destination could be used. A session kept from the
 *   previous request to the same next hop is tried before the next hop is
 *   resolved; the skeleton's loop hook closes it when it has been idle
 *   too long.
 *
 *   The same program speaks LMTP when its service name (-n, from
 *   master.cf) or its program name is lmtp.
 *
 * DIAGNOSTICS
 *   A malformed request closes the connection with a warning. A queue
 *   file that cannot be read defers the request's recipients (4.3.0).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "global/dns.h"
#include "global/server.h"
#include "smtp/smtp.h"
#include "util/mem.h"
#include "util/msg.h"

/* How long qmgr may take to send a request, once it has begun. */
#define SMTP_REQUEST_TIMEOUT_MS (100 * 1000)
/* How long an idle connection waits for the next request. */
#define SMTP_IDLE_TIMEOUT_MS (300 * 1000)

smtp_config smtp_cf;

static int timeout_ms(const char *name)
{
    long long s = config_time(smtp_cf.cfg, name);

    return s > 0 && s < 86400 ? (int)(s * 1000) : s <= 0 ? 0 : 86400 * 1000;
}

static int family_of(const char *name)
{
    const char *v = config_str(smtp_cf.cfg, name);

    return strcasecmp(v, "ipv4") == 0   ? AF_INET
           : strcasecmp(v, "ipv6") == 0 ? AF_INET6
                                        : AF_UNSPEC;
}

static void smtp_config_init(config *cfg, const char *service)
{
    smtp_cf.cfg = cfg;
    smtp_cf.lmtp = service && strcmp(service, "lmtp") == 0;
    smtp_cf.queue_directory = config_str(cfg, "queue_directory");
    smtp_cf.helo_name = config_str(cfg, smtp_cf.lmtp ? "lmtp_lhlo_name" : "smtp_helo_name");
    smtp_cf.myhostname = config_str(cfg, "myhostname");
    dns_configure(cfg);
    smtp_cf.default_port = config_str(cfg, smtp_cf.lmtp ? "lmtp_tcp_port" : "smtp_tcp_port");
    smtp_cf.address_preference = family_of("smtp_address_preference");
    smtp_cf.inet_protocols = family_of("inet_protocols");
    smtp_cf.never_send_ehlo = config_bool(cfg, "smtp_never_send_ehlo");
    smtp_cf.skip_5xx_greeting = config_bool(cfg, "smtp_skip_5xx_greeting");
    /* LMTP has no fallback relay (as in Postfix). */
    smtp_cf.fallback_relay = smtp_cf.lmtp ? "" : config_str(cfg, "smtp_fallback_relay");
    smtp_cf.mx_address_limit = config_int(cfg, "smtp_mx_address_limit");
    smtp_cf.connect_timeout =
        timeout_ms(smtp_cf.lmtp ? "lmtp_connect_timeout" : "smtp_connect_timeout");
    smtp_cf.helo_timeout = timeout_ms(smtp_cf.lmtp ? "lmtp_lhlo_timeout" : "smtp_helo_timeout");
    smtp_cf.mail_timeout = timeout_ms("smtp_mail_timeout");
    smtp_cf.rcpt_timeout = timeout_ms("smtp_rcpt_timeout");
    smtp_cf.data_init_timeout = timeout_ms("smtp_data_init_timeout");
    smtp_cf.data_xfer_timeout = timeout_ms("smtp_data_xfer_timeout");
    smtp_cf.data_done_timeout = timeout_ms("smtp_data_done_timeout");
    smtp_cf.quit_timeout = timeout_ms("smtp_quit_timeout");
    smtp_cf.starttls_timeout = timeout_ms("smtp_starttls_timeout");
    smtp_cf.tls_wrappermode = config_bool(cfg, "smtp_tls_wrappermode");
    smtp_cf.tls_note_starttls_offer = config_bool(cfg, "smtp_tls_note_starttls_offer");
    smtp_cf.cache_on_demand = config_bool(cfg, "smtp_connection_cache_on_demand");
    smtp_cf.cache_time_limit = timeout_ms("smtp_connection_cache_time_limit");
    smtp_cf.reuse_time_limit = timeout_ms("smtp_connection_reuse_time_limit");
    smtp_cf.reuse_count_limit = config_int(cfg, "smtp_connection_reuse_count_limit");
}

/* Open and check the queue file; 0, or -1 with why. */
static int open_message(smtp_request *r, vstr *why)
{
    r->env = deliver_open_message(smtp_cf.queue_directory, r->req.queue_name, r->req.queue_id,
                                  &r->reader, why);
    if (r->env == NULL)
        return -1;
    /* The file's arrival time has microseconds; the request's is whole
     * seconds. */
    r->times.arrival = (double)r->env->arrival_sec + (double)r->env->arrival_usec / 1e6;
    return 0;
}

/* One request, from resolution to the last recipient's answer. Returns 1
 * when the site as a whole failed, with site_status and site_reason for
 * the final list. */
static int deliver_one(smtp_request *r, char site_status[16], vstr *site_reason)
{
    smtp_servers servers;
    vstr why = VSTR_INIT;
    int site_failed = 0;

    int tls_status = smtp_cf.lmtp ? 0 : smtp_tls_policy(r->req.nexthop, &r->tls, &why);

    if (tls_status < 0) {
        msg_warn("%s: %s", r->req.queue_id, vstr_str(&why));
        smtp_result_rest(r, tls_status == -2 ? "4.7.5" : "4.3.0", NULL, "%s", vstr_str(&why));
    } else if (open_message(r, &why) < 0) {
        msg_warn("%s: %s", r->req.queue_id, vstr_str(&why));
        smtp_result_rest(r, "4.3.0", NULL, "%s", vstr_str(&why));
    } else if (!smtp_deliver_cached(r)) {
        smtp_addr_status st = smtp_addr_resolve(r->req.nexthop, &servers, site_status, &why);

        /* A destination that cannot be reached now (a temporary DNS
         * failure, or no server that answers) has the fallback relays
         * tried after its own servers; one that refuses for good has not. */
        if (st != SMTP_ADDR_FAIL && *smtp_cf.fallback_relay)
            smtp_addr_add_fallback(&servers);
        if (st == SMTP_ADDR_FAIL) {
            smtp_result_rest(r, site_status, NULL, "%s", vstr_str(&why));
        } else if (servers.count == 0) {
            site_failed = 1;
            vstr_set_str(site_reason, vstr_str(&why));
            smtp_result_rest(r, site_status, NULL, "%s", vstr_str(&why));
        } else {
            site_failed = smtp_deliver(r, &servers);
            if (site_failed) {
                snprintf(site_status, 16, "4.4.1");
                vstr_set_str(site_reason, vstr_str(&r->rs[0].reason));
            }
        }
        smtp_servers_free(&servers);
    }
    vstr_release(&why);
    return site_failed;
}

static void serve(vstream *client, const char *service, char **argv)
{
    (void)service;
    (void)argv;
    for (;;) {
        smtp_request r;
        vstr site_reason = VSTR_INIT;
        char site[16];
        int status, site_failed;

        memset(&r, 0, sizeof(r));
        status =
            deliver_request_read(client, &r.req, SMTP_IDLE_TIMEOUT_MS, SMTP_REQUEST_TIMEOUT_MS);
        if (status <= 0) {
            deliver_request_free(&r.req);
            return;
        }
        r.client = client;
        r.times.arrival = r.req.arrival;
        r.times.received = delivery_log_now();
        vstr_init(&r.relay);
        vstr_set_str(&r.relay, "none");
        r.rs = mem_calloc(r.req.rcpt_count, sizeof(smtp_rcpt_state));
        tls_policy_init(&r.tls);
        site_failed = deliver_one(&r, site, &site_reason);
        status = r.qmgr_lost
                     ? -1
                     : deliver_done(client, site_failed ? site : NULL, vstr_str(&site_reason));
        for (size_t i = 0; i < r.req.rcpt_count; i++)
            vstr_release(&r.rs[i].reason);
        mem_free(r.rs);
        tls_policy_release(&r.tls);
        smtp_tls_server_release(&r);
        vstr_release(&r.relay);
        vstr_release(&site_reason);
        if (r.reader)
            queue_file_close(r.reader);
        deliver_request_free(&r.req);
        if (status < 0)
            return;
    }
}

static void pre_init(config *cfg, const char *service, char **argv)
{
    (void)argv;
    smtp_config_init(cfg, service);
    /* LMTP has its own lmtp_tls_* settings, not implemented: no TLS. */
    if (!smtp_cf.lmtp)
        smtp_tls_init(cfg);
    smtp_sasl_init(cfg);
    srand((unsigned)time(NULL) ^ (unsigned)getpid());
}

static int loop(const char *service, char **argv)
{
    (void)service;
    (void)argv;
    return smtp_cache_expire();
}

static void pre_exit(const char *service, char **argv)
{
    (void)service;
    (void)argv;
    smtp_cache_close();
    smtp_sasl_free();
}

int main(int argc, char **argv)
{
    server_service svc = {
        .name = "smtp",
        .pre_init = pre_init,
        .loop = loop,
        .pre_exit = pre_exit,
        .single = serve,
    };

    /* LMTP logs as lmtp, as its service is named. */
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], "-n") == 0 && strcmp(argv[i + 1], "lmtp") == 0)
            svc.name = "lmtp";
    server_single_main(argc, argv, &svc);
}
