/*
 * smtp_sasl - SMTP AUTH to the server, with smtp_sasl_password_maps
 *
 * With smtp_sasl_auth_enable, after EHLO, when the server offers AUTH
 * and smtp_sasl_password_maps has "user:password" for it, the client
 * logs in before MAIL. The password is found by these keys, first hit
 * wins: with smtp_sender_dependent_authentication, the sender address
 * (global/addr_find's order: user+ext@domain, user@domain, @domain;
 * never the null sender); then the next hop as qmgr wrote it
 * ("[relay.example]:587", "example.com"); then that without brackets and
 * port ("relay.example"); then the server's host name (an MX host). No
 * entry: no AUTH, as in Postfix.
 *
 * Cyrus chooses the mechanism from the server's list, filtered by
 * smtp_sasl_mechanism_filter, that meets smtp_sasl_security_options
 * (smtp_sasl_tls_security_options over TLS). The default,
 * "noplaintext, noanonymous", rules out PLAIN and LOGIN: over a
 * connection without TLS no password goes out in the clear unless the
 * administrator says so. When nothing is left the delivery fails for
 * now ("no mechanism"), it does not go on without authenticating.
 *
 * A refused login is a failure of that server: the next one is tried and,
 * when none is left, the mail is deferred with the server's reply. With
 * smtp_sasl_auth_soft_bounce = no a 5xx reply bounces it instead.
 *
 * Cyrus's client library needs no configuration file; it is started
 * before the privilege drop because it loads its mechanism plug-ins.
 */
#include <fcntl.h>
#include <string.h>
#include <strings.h>

#include "global/addr_find.h"
#include "global/maps.h"
#include "global/sasl_cli.h"
#include "global/sasl_cyrus.h"
#include "smtp/smtp.h"
#include "util/argv.h"
#include "util/msg.h"

static struct {
    int enable;
    int per_sender;
    int soft_bounce;
    unsigned flags, tls_flags;
    argv_t *filter; /* smtp_sasl_mechanism_filter; empty: all */
    maps *passwords;
    addr_find_opts opts;
} sasl;

void smtp_sasl_init(config *cfg)
{
    vstr err = VSTR_INIT;

    sasl.enable = !smtp_cf.lmtp && config_bool(cfg, "smtp_sasl_auth_enable");
    if (!sasl.enable)
        return;
    sasl.per_sender = config_bool(cfg, "smtp_sender_dependent_authentication");
    sasl.soft_bounce = config_bool(cfg, "smtp_sasl_auth_soft_bounce");
    if (sasl_security_flags(config_str(cfg, "smtp_sasl_security_options"), &sasl.flags, &err) < 0)
        msg_fatal("smtp_sasl_security_options: %s", vstr_str(&err));
    if (sasl_security_flags(config_str(cfg, "smtp_sasl_tls_security_options"), &sasl.tls_flags,
                            &err) < 0)
        msg_fatal("smtp_sasl_tls_security_options: %s", vstr_str(&err));
    sasl.filter = config_list(cfg, "smtp_sasl_mechanism_filter");
    addr_find_opts_from_config(&sasl.opts, cfg);
    /* Password tables are often readable by root alone: open them now. */
    sasl.passwords = maps_open("smtp_sasl_password_maps",
                               config_str(cfg, "smtp_sasl_password_maps"), O_RDONLY, 0);
    sasl_cyrus_set_config_path(config_str(cfg, "cyrus_sasl_config_path"));
    if (sasl_cli_init_lib(&err) < 0)
        msg_fatal("%s", vstr_str(&err));
    vstr_release(&err);
}

void smtp_sasl_free(void)
{
    if (!sasl.enable)
        return;
    maps_free(sasl.passwords);
    argv_free(sasl.filter);
    sasl_cli_done_lib();
}

int smtp_sasl_per_sender(void)
{
    return sasl.enable && sasl.per_sender;
}

/* Look key up; 1 found (value set), 0 not, -1 a table failed. */
static int lookup(const char *key, vstr *value)
{
    int st = maps_find(sasl.passwords, key, value, NULL);

    return st == DICT_FOUND ? 1 : st == DICT_NOTFOUND ? 0 : -1;
}

/* user:password for this request and server, by the keys above. */
static int find_password(smtp_request *r, vstr *value)
{
    const char *nexthop = r->req.nexthop;
    vstr bare = VSTR_INIT;
    int st = 0;

    if (sasl.per_sender && *r->req.sender) {
        st = addr_find(sasl.passwords, r->req.sender, &sasl.opts, 0, value, NULL);
        st = st == DICT_FOUND ? 1 : st == DICT_NOTFOUND ? 0 : -1;
    }
    if (st == 0)
        st = lookup(nexthop, value);
    if (st == 0) {
        /* "[host]:port" or "host:port" without the decoration. */
        const char *p = nexthop + (*nexthop == '[');
        size_t n = *nexthop == '[' ? strcspn(p, "]") : strcspn(p, ":");

        vstr_set(&bare, p, n);
        if (strcmp(vstr_str(&bare), nexthop) != 0)
            st = lookup(vstr_str(&bare), value);
    }
    if (st == 0 && r->server && r->server->host && strcasecmp(r->server->host, nexthop) != 0 &&
        strcasecmp(r->server->host, vstr_str(&bare)) != 0)
        st = lookup(r->server->host, value);
    vstr_release(&bare);
    return st;
}

/* The server's mechanisms that smtp_sasl_mechanism_filter lets through. */
static void filter_mechanisms(const char *offered, vstr *out)
{
    argv_t *list = argv_split(offered, " ");

    vstr_reset(out);
    for (size_t i = 0; i < list->argc; i++) {
        int ok = sasl.filter->argc == 0;

        for (size_t k = 0; k < sasl.filter->argc && !ok; k++)
            ok = strcasecmp(list->argv[i], sasl.filter->argv[k]) == 0;
        if (!ok)
            continue;
        if (vstr_len(out))
            vstr_append_char(out, ' ');
        vstr_append_str(out, list->argv[i]);
    }
    argv_free(list);
}

/* Send a response line: base64, "=" for an empty initial response. */
static void send_line(vstream *s, const char *prefix, const vstr *resp, int initial)
{
    vstr text = VSTR_INIT;

    sasl_base64_encode(vstr_str(resp), vstr_len(resp), &text);
    vstream_printf(s, "%s%s\r\n", prefix, vstr_len(&text) || !initial ? vstr_str(&text) : "=");
    vstr_release(&text);
}

/* The exchange after the mechanism is chosen. */
static smtp_sasl_status exchange(smtp_request *r, vstream *s, sasl_cli *a, smtp_reply *reply,
                                 vstr *why)
{
    vstr resp = VSTR_INIT, challenge = VSTR_INIT, err = VSTR_INIT;
    smtp_sasl_status st = SMTP_SASL_OK;

    for (;;) {
        if (smtp_reply_read(s, smtp_cf.helo_timeout, reply, &err) < 0) {
            vstr_set_fmt(why, "%s with %s while performing SASL authentication",
                         vstr_equals(&err, "timeout") ? "conversation timed out" : vstr_str(&err),
                         vstr_str(&r->relay));
            st = SMTP_SASL_BROKEN;
            break;
        }
        if (reply->code != 334)
            break;
        /* The challenge: the text of the (one) 334 line. */
        if (sasl_base64_decode(vstr_str(&reply->lines), strcspn(vstr_str(&reply->lines), "\n"),
                               &challenge) < 0 ||
            sasl_cli_step(a, vstr_str(&challenge), vstr_len(&challenge), &resp, &err) !=
                SASL_CLI_OK) {
            /* Cancel, and read the server's answer to that. */
            vstream_puts(s, "*\r\n");
            (void)smtp_reply_read(s, smtp_cf.helo_timeout, reply, &err);
            vstr_set_fmt(why, "SASL authentication failed; cannot authenticate to server %s: %s",
                         vstr_str(&r->relay), vstr_len(&err) ? vstr_str(&err) : "bad challenge");
            st = SMTP_SASL_FAIL;
            break;
        }
        send_line(s, "", &resp, 0);
    }
    if (st == SMTP_SASL_OK && reply->code / 100 != 2) {
        vstr_set_fmt(why, "SASL authentication failed; server %s said: %s", vstr_str(&r->relay),
                     vstr_str(&reply->text));
        st = reply->code / 100 == 5 && !sasl.soft_bounce ? SMTP_SASL_BOUNCE : SMTP_SASL_FAIL;
    }
    vstr_release(&resp);
    vstr_release(&challenge);
    vstr_release(&err);
    return st;
}

smtp_sasl_status smtp_sasl_login(smtp_request *r, vstream *s, const char *offered, int encrypted,
                                 smtp_reply *reply, vstr *why)
{
    vstr creds = VSTR_INIT, mechs = VSTR_INIT, mech = VSTR_INIT, resp = VSTR_INIT;
    vstr err = VSTR_INIT, cmd = VSTR_INIT;
    smtp_sasl_status st = SMTP_SASL_NONE;
    sasl_cli *a = NULL;
    const char *colon;
    int found, has_resp;

    if (!sasl.enable || offered == NULL || *offered == 0)
        goto out;
    /* A table rebuilt since (postmap) is opened again; one this process
     * can no longer read fails its lookups, and the mail is deferred
     * until the agent is restarted. */
    (void)maps_refresh(&sasl.passwords, config_str(smtp_cf.cfg, "smtp_sasl_password_maps"),
                       O_RDONLY, 0);
    if ((found = find_password(r, &creds)) < 0) {
        msg_warn("%s: %s", r->req.queue_id, maps_error(sasl.passwords));
        vstr_set_str(why, "smtp_sasl_password_maps lookup error");
        st = SMTP_SASL_FAIL;
        goto out;
    }
    if (found == 0)
        goto out;
    if ((colon = strchr(vstr_str(&creds), ':')) == NULL) {
        msg_warn("smtp_sasl_password_maps: the entry for %s is not user:password", r->req.nexthop);
        vstr_set_str(why, "smtp_sasl_password_maps entry without a password");
        st = SMTP_SASL_FAIL;
        goto out;
    }
    vstr_truncate(&creds, (size_t)(colon - vstr_str(&creds)));
    filter_mechanisms(offered, &mechs);
    a = sasl_cli_create("smtp", r->server && r->server->host ? r->server->host : r->req.nexthop,
                        vstr_str(&creds), colon + 1, encrypted ? sasl.tls_flags : sasl.flags,
                        &err);
    if (a == NULL) {
        msg_warn("%s", vstr_str(&err));
        vstr_set_fmt(why, "SASL authentication failed; cannot authenticate to server %s: %s",
                     vstr_str(&r->relay), vstr_str(&err));
        st = SMTP_SASL_FAIL;
        goto out;
    }
    if (sasl_cli_start(a, vstr_str(&mechs), &mech, &resp, &has_resp, &err) != SASL_CLI_OK) {
        vstr_set_fmt(why,
                     "SASL authentication failed; cannot authenticate to server %s: %s "
                     "(smtp_sasl_%ssecurity_options)",
                     vstr_str(&r->relay), vstr_str(&err), encrypted ? "tls_" : "");
        st = SMTP_SASL_FAIL;
        goto out;
    }
    vstr_set_fmt(&cmd, "AUTH %s%s", vstr_str(&mech), has_resp ? " " : "");
    if (has_resp)
        send_line(s, vstr_str(&cmd), &resp, 1);
    else
        vstream_printf(s, "%s\r\n", vstr_str(&cmd));
    st = exchange(r, s, a, reply, why);
out:
    if (creds.data)
        explicit_bzero(creds.data, creds.cap); /* the password too, past the NUL */
    sasl_cli_free(a);
    vstr_release(&creds);
    vstr_release(&mechs);
    vstr_release(&mech);
    vstr_release(&resp);
    vstr_release(&err);
    vstr_release(&cmd);
    return st;
}
