/*
 * smtpd_tls - STARTTLS and wrapper mode (port 465) for the SMTP server
 *
 * Settings (pre_init, as root: private keys may be readable by root
 * alone): smtpd_tls_security_level none, may (offer STARTTLS) or encrypt
 * (MAIL and VRFY wait for it: 530 5.7.0), smtpd_tls_wrappermode (TLS
 * from the first byte), the keys (smtpd_tls_chain_files, else the
 * cert/key and eccert/eckey pairs), protocols and ciphers (the mandatory
 * ones at encrypt and in wrapper mode, as Postfix), smtpd_tls_ask_ccert
 * with smtpd_tls_CAfile/CApath, smtpd_tls_req_ccert (at encrypt or in
 * wrapper mode: no handshake without a certificate that verifies),
 * relay_clientcerts for permit_tls_clientcerts, and session tickets for
 * smtpd_tls_session_cache_timeout (global/tls_ticket: one key file in
 * data_directory for every smtpd process, rotated at that interval).
 *
 * When TLS cannot be set up (no key, an unreadable file, a bad setting):
 * at "may" the server logs a warning naming the problem and does not
 * offer STARTTLS, as Postfix does; at "encrypt" or in wrapper mode,
 * where no session may go on in the clear, it logs the problem at start
 * and refuses every session (421 at encrypt; in wrapper mode the client
 * expects a TLS handshake, so the connection is closed) with a log line.
 *
 * STARTTLS: the reply is flushed, then every byte the client sent after
 * the command is thrown away before the handshake (CVE-2011-0411: text
 * pipelined after STARTTLS must not be run inside the TLS session as if
 * the client had sent it there). The session starts over: the HELO/EHLO
 * name, any transaction and any AUTH login are forgotten and a new EHLO
 * (or HELO) is needed before MAIL.
 */
#include <fcntl.h>
#include <string.h>

#include "global/maps.h"
#include "global/server.h"
#include "global/tls.h"
#include "smtpd/smtpd.h"
#include "util/mem.h"
#include "util/msg.h"

/* Session tickets (smtpd_tls_session_cache_timeout > 0): keys in
 * data_directory shared by every smtpd of the instance, valid for this
 * master.cf service alone. */
static int enable_tickets(tls_ctx *ctx, config *cfg, const char *service, vstr *err)
{
    int lifetime = (int)config_time(cfg, "smtpd_tls_session_cache_timeout");
    vstr path = VSTR_INIT;
    int status;

    if (lifetime <= 0)
        return 0;
    if (server_chrooted()) {
        /* The key file is written (rotated by rename) in data_directory,
         * outside the chroot: no descriptor kept from before would see
         * the next key. Postfix's chrooted smtpd relies on tlsmgr. */
        msg_info("TLS session tickets are off in a chrooted smtpd: the shared key file in "
                 "data_directory is outside the chroot (sessions are not resumed)");
        return 0;
    }
    vstr_set_fmt(&path, "%s/smtpd_tls_ticket_keys", config_str(cfg, "data_directory"));
    status = tls_ctx_enable_tickets(ctx, vstr_str(&path), lifetime, service, err);
    vstr_release(&path);
    return status;
}

/* Build the context from main.cf; NULL with err when TLS cannot work. */
static tls_ctx *server_context(config *cfg, const char *service, int mandatory, vstr *err)
{
    tls_params p;
    tls_ctx *ctx;
    int depth;

    tls_params_from_config(&p, cfg, "smtpd", mandatory);
    ctx = tls_ctx_new(TLS_ROLE_SERVER, &p, err);
    tls_params_release(&p);
    if (ctx == NULL)
        return NULL;
    if (tls_ctx_load_keys(
            ctx, config_str(cfg, "smtpd_tls_chain_files"), config_str(cfg, "smtpd_tls_cert_file"),
            config_str(cfg, "smtpd_tls_key_file"), config_str(cfg, "smtpd_tls_eccert_file"),
            config_str(cfg, "smtpd_tls_eckey_file"), err) < 0 ||
        tls_ctx_load_CA(ctx, config_str(cfg, "smtpd_tls_CAfile"),
                        config_str(cfg, "smtpd_tls_CApath"), err) < 0 ||
        enable_tickets(ctx, cfg, service, err) < 0) {
        tls_ctx_free(ctx);
        return NULL;
    }
    if (!tls_ctx_has_key(ctx)) {
        vstr_set_str(err, "no server certificate: set smtpd_tls_chain_files or "
                          "smtpd_tls_cert_file and smtpd_tls_key_file");
        tls_ctx_free(ctx);
        return NULL;
    }
    depth = (int)config_int(cfg, "smtpd_tls_ccert_verifydepth");
    if (mandatory && config_bool(cfg, "smtpd_tls_req_ccert"))
        tls_ctx_require_client_cert(ctx, depth);
    else if (config_bool(cfg, "smtpd_tls_ask_ccert"))
        tls_ctx_ask_client_cert(ctx, depth);
    return ctx;
}

void smtpd_tls_init(config *cfg, const char *service)
{
    const char *level = config_str(cfg, "smtpd_tls_security_level");
    vstr err = VSTR_INIT;
    int mandatory;

    smtpd_cf.tls_level = strcmp(level, "encrypt") == 0 ? SMTPD_TLS_ENCRYPT
                         : strcmp(level, "may") == 0   ? SMTPD_TLS_MAY
                                                       : SMTPD_TLS_NONE;
    smtpd_cf.tls_wrappermode = config_bool(cfg, "smtpd_tls_wrappermode");
    smtpd_cf.tls_loglevel = (int)config_int(cfg, "smtpd_tls_loglevel");
    smtpd_cf.tls_received_header = config_bool(cfg, "smtpd_tls_received_header");
    smtpd_cf.tls_ask_ccert = config_bool(cfg, "smtpd_tls_ask_ccert");
    if (config_bool(cfg, "smtpd_tls_req_ccert")) {
        /* As Postfix: only where TLS itself is mandatory. */
        if (strcmp(level, "encrypt") != 0 && !smtpd_cf.tls_wrappermode)
            msg_warn("smtpd_tls_req_ccert = yes is ignored unless smtpd_tls_security_level = "
                     "encrypt");
        else
            smtpd_cf.tls_ask_ccert = 1;
    }
    smtpd_cf.starttls_timeout_ms = (int)config_time(cfg, "smtpd_starttls_timeout") * 1000;
    smtpd_cf.relay_clientcerts =
        maps_open("relay_clientcerts", config_str(cfg, "relay_clientcerts"), O_RDONLY, 0);
    if (smtpd_cf.tls_level == SMTPD_TLS_NONE && !smtpd_cf.tls_wrappermode)
        return;
    if (*config_str(cfg, "smtpd_tls_session_cache_database"))
        msg_warn("smtpd_tls_session_cache_database is not implemented and is ignored: sessions "
                 "are resumed with tickets (smtpd_tls_session_cache_timeout)");
    mandatory = smtpd_cf.tls_level == SMTPD_TLS_ENCRYPT || smtpd_cf.tls_wrappermode;
    smtpd_cf.tls_ctx = server_context(cfg, service, mandatory, &err);
    if (smtpd_cf.tls_ctx == NULL) {
        if (mandatory) {
            smtpd_cf.tls_unavailable = vstr_steal(&err);
            msg_warn("TLS is required (%s) but cannot be used: %s; every session will be refused",
                     smtpd_cf.tls_wrappermode ? "smtpd_tls_wrappermode = yes"
                                              : "smtpd_tls_security_level = encrypt",
                     smtpd_cf.tls_unavailable);
        } else {
            msg_warn("cannot use TLS: %s; STARTTLS is not offered", vstr_str(&err));
        }
    }
    vstr_release(&err);
}

void smtpd_tls_free(void)
{
    tls_ctx_free(smtpd_cf.tls_ctx);
    maps_free(smtpd_cf.relay_clientcerts);
    mem_free(smtpd_cf.tls_unavailable);
}

int smtpd_tls_offered(const smtpd_state *s)
{
    return smtpd_cf.tls_ctx != NULL && !smtpd_cf.tls_wrappermode && !s->tls_active;
}

int smtpd_tls_required(const smtpd_state *s)
{
    return smtpd_cf.tls_level == SMTPD_TLS_ENCRYPT && !s->tls_active;
}

/* "Anonymous", "Untrusted" or "Trusted": what the client's certificate
 * (if any) is worth, in Postfix's words. */
static const char *peer_trust(tls_conn *c)
{
    if (!tls_conn_peer_has_cert(c))
        return "Anonymous";
    return tls_conn_peer_verified(c) ? "Trusted" : "Untrusted";
}

/* The Received: comment about the client's certificate. */
static void client_cert_comment(smtpd_state *s, vstr *out)
{
    vstr subject = VSTR_INIT, issuer = VSTR_INIT;

    if (!smtpd_cf.tls_ask_ccert) {
        vstr_set_str(out, "No client certificate requested");
    } else if (!tls_conn_peer_has_cert(s->tls)) {
        vstr_set_str(out, "Client did not present a certificate");
    } else {
        tls_conn_peer_names(s->tls, &subject, &issuer);
        vstr_set_fmt(out, "Client CN \"%s\", Issuer \"%s\" (%s)", vstr_str(&subject),
                     vstr_str(&issuer),
                     tls_conn_peer_verified(s->tls) ? "verified OK" : "not verified");
    }
    vstr_release(&subject);
    vstr_release(&issuer);
}

/* Handshake on the client's stream. 0: TLS is on; -1: logged, the
 * session cannot go on. */
static int start_tls(smtpd_state *s)
{
    vstr err = VSTR_INIT, summary = VSTR_INIT;

    s->tls = tls_conn_new(smtpd_cf.tls_ctx, s->client);
    if (tls_conn_handshake(s->tls, smtpd_cf.starttls_timeout_ms, &err) < 0) {
        msg_info("SSL_accept error from %s: %s", vstr_str(&s->namaddr), vstr_str(&err));
        vstr_release(&err);
        return -1;
    }
    s->tls_active = 1;
    if (tls_conn_peer_fingerprint(s->tls, &s->tls_ccert_fingerprint) && smtpd_cf.tls_loglevel >= 1)
        msg_info("%s: client certificate fingerprint=%s", vstr_str(&s->namaddr),
                 vstr_str(&s->tls_ccert_fingerprint));
    tls_conn_summary(s->tls, &summary);
    if (smtpd_cf.tls_loglevel >= 1)
        msg_info("%s TLS connection established from %s: %s", peer_trust(s->tls),
                 vstr_str(&s->namaddr), vstr_str(&summary));
    vstr_set_fmt(&s->tls_received, "using %s", vstr_str(&summary));
    client_cert_comment(s, &s->tls_received_ccert);
    vstr_release(&summary);
    vstr_release(&err);
    return 0;
}

int smtpd_tls_session_start(smtpd_state *s)
{
    if (smtpd_cf.tls_unavailable != NULL) {
        msg_warn("refusing %s: TLS is required but cannot be used: %s", vstr_str(&s->namaddr),
                 smtpd_cf.tls_unavailable);
        /* A wrapper-mode client waits for a handshake: no text to send it. */
        if (!smtpd_cf.tls_wrappermode)
            smtpd_reply(s,
                        "421 4.7.0 %s Error: TLS is required but not available; try again "
                        "later",
                        smtpd_cf.myhostname);
        return -1;
    }
    if (smtpd_cf.tls_wrappermode) {
        s->where = "CONNECT";
        return start_tls(s);
    }
    return 0;
}

void smtpd_tls_starttls(smtpd_state *s, const char *arg)
{
    size_t dropped;

    if (*arg) {
        smtpd_reply(s, "501 5.5.4 Syntax: STARTTLS");
        return;
    }
    if (s->tls_active) {
        smtpd_reply(s, "554 5.5.1 Error: TLS already active");
        return;
    }
    if (!smtpd_tls_offered(s)) {
        smtpd_reply(s, "502 5.5.1 Error: command not implemented");
        return;
    }
    if (s->stage != SMTPD_STAGE_NO_MAIL) {
        smtpd_reply(s, "503 5.5.1 Error: MAIL transaction in progress");
        return;
    }
    smtpd_reply(s, "220 2.0.0 Ready to start TLS");
    smtpd_flush(s);
    if ((dropped = vstream_discard_input(s->client)) > 0)
        msg_info("discarding %zu bytes sent after STARTTLS by %s", dropped, vstr_str(&s->namaddr));
    smtpd_reset_transaction(s);
    smtpd_sasl_end(s); /* a login before TLS is forgotten too (RFC 3207 4.2) */
    vstr_reset(&s->helo);
    s->protocol = "SMTP";
    if (start_tls(s) < 0) {
        msg_info("lost connection after STARTTLS from %s", vstr_str(&s->namaddr));
        s->quit = 1;
        s->last_code = 421; /* no reply can follow, but the command failed: starttls=0/1 */
    }
}

int smtpd_tls_client_cert_listed(smtpd_state *s, const char **why)
{
    vstr value = VSTR_INIT;
    int st;

    if (!s->tls_active || vstr_len(&s->tls_ccert_fingerprint) == 0)
        return 0;
    st = maps_find(smtpd_cf.relay_clientcerts, vstr_str(&s->tls_ccert_fingerprint), &value, NULL);
    vstr_release(&value);
    if (st == DICT_FOUND)
        return 1;
    if (st == DICT_NOTFOUND)
        return 0;
    *why = maps_error(smtpd_cf.relay_clientcerts);
    return -1;
}

void smtpd_tls_session_end(smtpd_state *s)
{
    tls_conn_free(s->tls);
    s->tls = NULL;
}
