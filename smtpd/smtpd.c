/*
 * smtpd - the SMTP server
 *
 * SYNOPSIS
 *   master.cf:  smtp  inet  n  -  n  -  -  smtpd
 *
 * DESCRIPTION
 *   RFC 5321 with PIPELINING, SIZE, 8BITMIME, SMTPUTF8, DSN and
 *   ENHANCEDSTATUSCODES; mail is written to the queue through the shared
 *   queue-file writer (global/cleanup) and acknowledged only after it is
 *   committed. See smtpd.h for the files and man/man8/smtpd.8 for the
 *   behaviour and parameters.
 *
 *   This file reads the settings once per process, before the privilege
 *   drop (tables may be readable by root only), and runs each session:
 *   the client's name, the greeting (refused to a client that talks
 *   first), the command loop and its limits, and the disconnect line
 *   with per-command counts.
 */
#include <errno.h>
#include <poll.h>
#include <pwd.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "global/cleanup_checks.h"
#include "global/addr_rewrite.h"
#include "global/maps.h"
#include "global/server.h"
#include "smtpd/smtpd.h"
#include "util/mem.h"
#include "util/msg.h"

smtpd_settings smtpd_cf;

static void pre_init(config *cfg, const char *service, char **argv)
{
    vstr err = VSTR_INIT;
    argv_t *nets;
    struct passwd *pw;

    (void)argv;
    smtpd_cf.cfg = cfg;
    smtpd_cf.myhostname = config_str(cfg, "myhostname");
    /* The queue-file writer's rewriting tables, before the privilege drop. */
    (void)addr_rewrite_tables(cfg);
    vstr_init(&smtpd_cf.banner);
    if (config_expand_text(cfg, config_str(cfg, "smtpd_banner"), &smtpd_cf.banner, &err) < 0)
        msg_fatal("smtpd_banner: %s", vstr_str(&err));
    smtpd_cf.message_size_limit = config_size(cfg, "message_size_limit");
    smtpd_cf.line_length_limit = (size_t)config_size(cfg, "line_length_limit");
    smtpd_cf.recipient_limit = config_int(cfg, "smtpd_recipient_limit");
    smtpd_cf.hard_error_limit = config_int(cfg, "smtpd_hard_error_limit");
    smtpd_cf.soft_error_limit = config_int(cfg, "smtpd_soft_error_limit");
    smtpd_cf.junk_command_limit = config_int(cfg, "smtpd_junk_command_limit");
    smtpd_cf.error_sleep_s = (int)config_time(cfg, "smtpd_error_sleep_time");
    smtpd_cf.timeout_ms = (int)config_time(cfg, "smtpd_timeout") * 1000;
    smtpd_cf.disable_vrfy = config_bool(cfg, "disable_vrfy_command");
    smtpd_cf.forbid_unauth_pipelining = config_bool(cfg, "smtpd_forbid_unauth_pipelining");
    if (!config_bool(cfg, "smtpd_forbid_bare_newline"))
        msg_warn("smtpd_forbid_bare_newline = no is not implemented: bare newlines are still "
                 "refused");
    smtpd_cf.helo_required = config_bool(cfg, "smtpd_helo_required");
    smtpd_cf.peername_lookup = config_bool(cfg, "smtpd_peername_lookup");
    smtpd_cf.relay_reject_code = (int)config_int(cfg, "relay_domains_reject_code");
    smtpd_cf.unknown_local_code = (int)config_int(cfg, "unknown_local_recipient_reject_code");
    smtpd_cf.unknown_virtual_code = (int)config_int(cfg, "unknown_virtual_mailbox_reject_code");
    smtpd_cf.unknown_alias_code = (int)config_int(cfg, "unknown_virtual_alias_reject_code");
    smtpd_cf.non_fqdn_code = (int)config_int(cfg, "non_fqdn_reject_code");
    smtpd_cf.reject_code = (int)config_int(cfg, "reject_code");
    smtpd_cf.defer_code = (int)config_int(cfg, "defer_code");
    smtpd_cf.invalid_hostname_code = (int)config_int(cfg, "invalid_hostname_reject_code");
    smtpd_cf.unknown_client_code = (int)config_int(cfg, "unknown_client_reject_code");
    smtpd_cf.unknown_hostname_code = (int)config_int(cfg, "unknown_hostname_reject_code");
    smtpd_cf.unknown_address_code = (int)config_int(cfg, "unknown_address_reject_code");
    smtpd_cf.maps_rbl_code = (int)config_int(cfg, "maps_rbl_reject_code");
    smtpd_cf.access_map_reject_code = (int)config_int(cfg, "access_map_reject_code");
    smtpd_cf.access_map_defer_code = (int)config_int(cfg, "access_map_defer_code");
    smtpd_cf.reject_unlisted_recipient = config_bool(cfg, "smtpd_reject_unlisted_recipient");
    smtpd_cf.reject_unlisted_sender = config_bool(cfg, "smtpd_reject_unlisted_sender");
    nets = maps_split(config_str(cfg, "mynetworks"));
    if ((smtpd_cf.mynetworks = cidr_list_parse("mynetworks", nets, &err)) == NULL)
        msg_fatal("mynetworks: %s", vstr_str(&err));
    argv_free(nets);
    resolve_config_init(&smtpd_cf.resolve, cfg);
    addr_find_opts_from_config(&smtpd_cf.addr_opts, cfg);
    smtpd_cf.privileged = geteuid() == 0;
    if ((pw = getpwuid(getuid())) == NULL)
        msg_fatal("no account for uid %ld", (long)getuid());
    smtpd_cf.self_name = mem_strdup(pw->pw_name);
    smtpd_check_init(cfg);
    smtpd_peer_configure();
    smtpd_sasl_init(cfg);
    smtpd_cf.content_checks = cleanup_checks_open(cfg);
    smtpd_cf.hdr_clients = smtpd_hdr_clients_open(cfg);
    smtpd_tls_init(cfg, service);
    smtpd_anvil_configure(cfg);
    vstr_release(&err);
}

static void pre_exit(const char *service, char **argv)
{
    (void)service;
    (void)argv;
    smtpd_check_free();
    smtpd_peer_free();
    smtpd_sasl_free();
    cleanup_checks_free(smtpd_cf.content_checks);
    smtpd_hdr_clients_free(smtpd_cf.hdr_clients);
    smtpd_tls_free();
    smtpd_anvil_free();
    addr_rewrite_release();
    resolve_config_free(&smtpd_cf.resolve);
    cidr_list_free(smtpd_cf.mynetworks);
    vstr_release(&smtpd_cf.banner);
    mem_free(smtpd_cf.self_name);
}

void smtpd_reset_transaction(smtpd_state *s)
{
    if (s->cleanup != NULL) {
        cleanup_abort(s->cleanup);
        s->cleanup = NULL;
    }
    s->stage = SMTPD_STAGE_NO_MAIL;
    vstr_reset(&s->sender);
    s->sender_given = 0;
    s->mail_size = 0;
    vstr_reset(&s->defer_sender);
    vstr_reset(&s->last_rcpt);
    s->body_type = NULL;
    s->smtputf8 = 0;
    s->dsn_ret = NULL;
    vstr_reset(&s->dsn_envid);
    s->has_envid = 0;
    s->rcpt_count = 0;
    argv_free(s->actions);
    s->actions = NULL;
    s->session_actions_applied = 0;
    s->policy_instance = 0;
    s->in_bdat = 0;
    s->bdat_failed = 0;
    vstr_reset(&s->bdat_line);
}

const char *smtpd_protocol_name(const smtpd_state *s)
{
    static const char *const esmtp[2][2] = {{"ESMTP", "ESMTPA"}, {"ESMTPS", "ESMTPSA"}};

    if (strcmp(s->protocol, "ESMTP") != 0)
        return s->protocol;
    return esmtp[s->tls_active != 0][smtpd_sasl_authenticated(s) != 0];
}

/* Has the client sent anything yet? (Before our greeting it must not.)
 * A client that has only hung up has not. */
static int client_talked(smtpd_state *s)
{
    struct pollfd p = {.fd = vstream_fd(s->client), .events = POLLIN};
    char c;

    return vstream_read_pending(s->client) > 0 ||
           (poll(&p, 1, 0) > 0 && recv(p.fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) > 0);
}

/* A client that sends before it may (before the greeting, or more after a
 * command that must end a pipelined group): RFC 2920 forbids it, and
 * spamware does it. Logged as Postfix does; refused when
 * smtpd_forbid_unauth_pipelining is on. Returns 1 when the session ends. */
int smtpd_pipelining_violation(smtpd_state *s, const char *after)
{
    vstr excerpt = VSTR_INIT;

    s->ill_pipelining = 1;
    if (!smtpd_cf.forbid_unauth_pipelining) {
        /* The excerpt would consume input the session still needs. */
        msg_info("improper command pipelining after %s from %s", after, vstr_str(&s->namaddr));
        return 0;
    }
    smtpd_read_excerpt(s, &excerpt);
    msg_info("improper command pipelining after %s from %s: %s", after, vstr_str(&s->namaddr),
             vstr_str(&excerpt));
    vstr_release(&excerpt);
    smtpd_reply(s, "554 5.5.0 Error: SMTP protocol synchronization");
    s->quit = 1;
    return 1;
}

void smtpd_read_failed(smtpd_state *s, smtpd_read_status st)
{
    s->quit = 1;
    switch (st) {
    case SMTPD_READ_BARE_LF:
        msg_info("disconnect: bare <LF> received from %s after %s", vstr_str(&s->namaddr),
                 s->where);
        smtpd_reply(s, "521 5.5.2 %s Error: bare <LF> received", smtpd_cf.myhostname);
        break;
    case SMTPD_READ_TIMEOUT:
        msg_info("timeout after %s from %s", s->where, vstr_str(&s->namaddr));
        vstream_clear_error(s->client);
        smtpd_reply(s, "421 4.4.2 %s Error: timeout exceeded", smtpd_cf.myhostname);
        break;
    default:
        msg_info("lost connection after %s from %s", s->where, vstr_str(&s->namaddr));
        break;
    }
}

static void session(smtpd_state *s)
{
    vstr stats = VSTR_INIT;
    smtpd_read_status st;

    msg_info("connect from %s", vstr_str(&s->namaddr));
    s->where = "CONNECT";
    if (smtpd_tls_session_start(s) < 0) {
        s->quit = 1;
    } else if (!smtpd_cf.tls_wrappermode && client_talked(s) &&
               smtpd_pipelining_violation(s, "CONNECT")) {
        /* refused (in wrapper mode the client spoke first: its half of
         * the handshake) */
    } else if (smtpd_anvil_connect(s) < 0) {
        s->quit = 1; /* too many connections: the 421 was the greeting */
    } else if (smtpd_check_connect(s) < 0) {
        /* The refusal was the greeting; every command but QUIT gets 503. */
        s->access_denied = 1;
    } else {
        smtpd_reply(s, "220 %s", vstr_str(&smtpd_cf.banner));
    }
    while (!s->quit) {
        if (s->error_count >= smtpd_cf.hard_error_limit) {
            msg_info("too many errors after %s from %s", s->where, vstr_str(&s->namaddr));
            smtpd_reply(s, "421 4.7.0 %s Error: too many errors", smtpd_cf.myhostname);
            break;
        }
        switch ((st = smtpd_read_command(s))) {
        case SMTPD_READ_OK:
            smtpd_command(s);
            continue;
        case SMTPD_READ_TOOLONG:
            smtpd_reply(s, "500 5.5.2 Error: line too long");
            continue;
        default:
            smtpd_read_failed(s, st);
            break;
        }
        break;
    }
    smtpd_flush(s);
    smtpd_reset_transaction(s);
    smtpd_anvil_disconnect(s);
    smtpd_command_stats(s, &stats);
    msg_info("disconnect from %s%s", vstr_str(&s->namaddr), vstr_str(&stats));
    vstr_release(&stats);
}

static void serve(vstream *client, const char *service, char **argv)
{
    smtpd_state s;

    (void)service;
    (void)argv;
    /* All zero is a valid state: every vstr empty (VSTR_INIT). */
    memset(&s, 0, sizeof(s));
    s.client = client;
    s.protocol = "SMTP";
    s.stage = SMTPD_STAGE_NO_MAIL;
    vstream_set_timeout(client, smtpd_cf.timeout_ms);
    smtpd_check_refresh();
    cleanup_checks_refresh(smtpd_cf.content_checks);
    smtpd_hdr_clients_refresh(smtpd_cf.hdr_clients);
    smtpd_peer_init(&s);
    session(&s);
    smtpd_sasl_end(&s);
    smtpd_tls_session_end(&s);
    vstr_release(&s.tls_ccert_fingerprint);
    vstr_release(&s.tls_received);
    vstr_release(&s.tls_received_ccert);
    vstr_release(&s.name);
    vstr_release(&s.reverse_name);
    vstr_release(&s.defer_client);
    vstr_release(&s.defer_helo);
    vstr_release(&s.defer_sender);
    vstr_release(&s.last_rcpt);
    vstr_release(&s.addr);
    vstr_release(&s.namaddr);
    vstr_release(&s.helo);
    vstr_release(&s.sender);
    vstr_release(&s.dsn_envid);
    vstr_release(&s.line);
    vstr_release(&s.bdat_line);
    argv_free(s.session_actions);
}

int main(int argc, char **argv)
{
    static const server_service svc = {
        .name = "smtpd",
        .pre_init = pre_init,
        .pre_exit = pre_exit,
        .single = serve,
    };

    server_single_main(argc, argv, &svc);
}
