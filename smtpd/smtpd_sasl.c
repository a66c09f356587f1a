/*
 * smtpd_sasl - SMTP AUTH (RFC 4954) over Cyrus SASL
 *
 * Cyrus reads smtpd_sasl_path.conf (smtpd.conf by default) from
 * cyrus_sasl_config_path, or its own directories, and loads its
 * mechanism plug-ins in smtpd_sasl_init(), which runs as root before the
 * privilege drop and chroot. The password back end is opened later, at
 * AUTH, by the unprivileged process: a sasldb file must be readable by
 * mail_owner (and inside the chroot, if there is one), a saslauthd
 * socket reachable by it.
 *
 * A SASL context is made at EHLO when AUTH is offered, with
 * smtpd_sasl_security_options, or smtpd_sasl_tls_security_options once
 * the session is encrypted; the mechanisms it allows are the EHLO list.
 * A failed or cancelled exchange throws the context away and the next
 * AUTH gets a fresh one.
 *
 * The exchange reads its own lines with smtpd_read_command(): the same
 * line_length_limit, bare-LF refusal and timeout as commands. Every
 * failure is a 4xx/5xx reply, so it counts towards the error limits and
 * the tarpit (smtpd_reply.c).
 */
#include <string.h>
#include <strings.h>

#include "global/maps.h"
#include "global/sasl_cyrus.h"
#include "global/sasl_srv.h"
#include "smtpd/smtpd.h"
#include "util/msg.h"

/* RFC 4422 3.1: 1 to 20 of A-Z 0-9 - _ (we also take lower case). */
#define MECH_NAME_MAX 20

void smtpd_sasl_init(config *cfg)
{
    vstr err = VSTR_INIT;
    argv_t *nets;

    smtpd_cf.sasl_enable = config_bool(cfg, "smtpd_sasl_auth_enable");
    smtpd_cf.tls_auth_only = config_bool(cfg, "smtpd_tls_auth_only");
    smtpd_cf.broken_sasl_clients = config_bool(cfg, "broken_sasl_auth_clients");
    smtpd_cf.sasl_header = config_bool(cfg, "smtpd_sasl_authenticated_header");
    if (!smtpd_cf.sasl_enable)
        return;
    if (sasl_security_flags(config_str(cfg, "smtpd_sasl_security_options"), &smtpd_cf.sasl_flags,
                            &err) < 0)
        msg_fatal("smtpd_sasl_security_options: %s", vstr_str(&err));
    if (sasl_security_flags(config_str(cfg, "smtpd_sasl_tls_security_options"),
                            &smtpd_cf.sasl_tls_flags, &err) < 0)
        msg_fatal("smtpd_sasl_tls_security_options: %s", vstr_str(&err));
    nets = maps_split(config_str(cfg, "smtpd_sasl_exceptions_networks"));
    if ((smtpd_cf.sasl_exceptions =
             cidr_list_parse("smtpd_sasl_exceptions_networks", nets, &err)) == NULL)
        msg_fatal("smtpd_sasl_exceptions_networks: %s", vstr_str(&err));
    argv_free(nets);
    if (sasl_srv_init_lib(config_str(cfg, "smtpd_sasl_path"),
                          config_str(cfg, "cyrus_sasl_config_path"), &err) < 0)
        msg_fatal("%s", vstr_str(&err));
    vstr_release(&err);
}

void smtpd_sasl_free(void)
{
    if (!smtpd_cf.sasl_enable)
        return;
    cidr_list_free(smtpd_cf.sasl_exceptions);
    sasl_srv_done_lib();
}

/* Is the session encrypted (STARTTLS or wrapper mode, smtpd_tls.c)? */
static int session_encrypted(const smtpd_state *s)
{
    return s->tls_active;
}

/* May AUTH be used in this session now? Not before TLS with
 * smtpd_tls_auth_only, nor where TLS is required (encrypt) and not yet
 * on: credentials never cross in the clear there. */
static int auth_allowed(const smtpd_state *s)
{
    return smtpd_cf.sasl_enable &&
           (session_encrypted(s) || (!smtpd_cf.tls_auth_only && !smtpd_tls_required(s)));
}

/* A fresh context for the next exchange. 0, or -1 (logged). */
static int new_context(smtpd_state *s)
{
    vstr err = VSTR_INIT;
    unsigned flags = session_encrypted(s) ? smtpd_cf.sasl_tls_flags : smtpd_cf.sasl_flags;

    sasl_srv_free(s->sasl);
    s->sasl = sasl_srv_create(config_str(smtpd_cf.cfg, "smtpd_sasl_service"), smtpd_cf.myhostname,
                              config_str(smtpd_cf.cfg, "smtpd_sasl_local_domain"), flags, &err);
    if (s->sasl == NULL)
        msg_warn("%s", vstr_str(&err));
    vstr_release(&err);
    return s->sasl ? 0 : -1;
}

/* Is the client in smtpd_sasl_exceptions_networks? A table that cannot be
 * read counts as "no" (AUTH is announced), as in Postfix. */
static int sasl_excepted(const smtpd_state *s)
{
    vstr why = VSTR_INIT;
    int m = cidr_list_match(smtpd_cf.sasl_exceptions, vstr_str(&s->addr), &why);

    if (m < 0)
        msg_warn("smtpd_sasl_exceptions_networks: %s", vstr_str(&why));
    vstr_release(&why);
    return m == 1;
}

void smtpd_sasl_ehlo(smtpd_state *s, vstr *text)
{
    vstr mechs = VSTR_INIT;

    if (!auth_allowed(s) || smtpd_sasl_authenticated(s) || new_context(s) < 0)
        return;
    if (sasl_srv_mechanisms(s->sasl, &mechs) < 0) {
        msg_warn("no SASL authentication mechanisms: check smtpd_sasl_security_options and "
                 "mech_list in %s.conf",
                 config_str(smtpd_cf.cfg, "smtpd_sasl_path"));
    } else if (sasl_excepted(s)) {
        /* smtpd_sasl_exceptions_networks: not announced (for clients that
         * would insist on it), yet accepted, as in Postfix. */
    } else {
        vstr_append_fmt(text, "250 AUTH %s\n", vstr_str(&mechs));
        if (smtpd_cf.broken_sasl_clients)
            vstr_append_fmt(text, "250 AUTH=%s\n", vstr_str(&mechs));
    }
    vstr_release(&mechs);
}

int smtpd_sasl_authenticated(const smtpd_state *s)
{
    return vstr_len(&s->sasl_username) > 0;
}

void smtpd_sasl_end(smtpd_state *s)
{
    sasl_srv_free(s->sasl);
    s->sasl = NULL;
    vstr_release(&s->sasl_method);
    vstr_release(&s->sasl_username);
}

/* Is mech (len bytes) one of the space-separated names in list? */
static int mech_offered(const char *list, const char *mech, size_t len)
{
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, " ");

        if (n == len && strncasecmp(p, mech, len) == 0)
            return 1;
        p += n + strspn(p + n, " ");
    }
    return 0;
}

/* The client's next response line into out (decoded). 1: a response;
 * 0: the exchange is over and the reply has been sent. */
static int read_response(smtpd_state *s, vstr *out)
{
    smtpd_read_status st = smtpd_read_command(s);

    if (st == SMTPD_READ_TOOLONG) {
        smtpd_reply(s, "500 5.5.6 Authentication exchange line is too long");
        return 0;
    }
    if (st != SMTPD_READ_OK) {
        smtpd_read_failed(s, st);
        return 0;
    }
    if (strcmp(vstr_str(&s->line), "*") == 0) {
        smtpd_reply(s, "501 5.7.0 Authentication aborted");
        return 0;
    }
    if (sasl_base64_decode(vstr_str(&s->line), vstr_len(&s->line), out) < 0) {
        smtpd_reply(s, "501 5.5.2 Cannot decode response");
        return 0;
    }
    return 1;
}

/* Run the exchange from its first result to the end; reply. */
static void exchange(smtpd_state *s, const char *mech, sasl_srv_status st, vstr *challenge,
                     vstr *reason)
{
    vstr resp = VSTR_INIT, text = VSTR_INIT;

    while (st == SASL_SRV_CONTINUE) {
        sasl_base64_encode(vstr_str(challenge), vstr_len(challenge), &text);
        smtpd_reply(s, "334 %s", vstr_str(&text));
        smtpd_flush(s);
        if (!read_response(s, &resp))
            break;
        st = sasl_srv_step(s->sasl, vstr_str(&resp), vstr_len(&resp), challenge, reason);
    }
    switch (st) {
    case SASL_SRV_CONTINUE:
        break; /* cancelled or broken off: replied */
    case SASL_SRV_OK:
        vstr_set_str(&s->sasl_method, mech);
        vstr_set_str(&s->sasl_username, sasl_srv_username(s->sasl));
        if (vstr_len(&s->sasl_username) == 0) /* never empty once authenticated */
            vstr_set_str(&s->sasl_username, "anonymous");
        smtpd_reply(s, "235 2.7.0 Authentication successful");
        break;
    case SASL_SRV_ERROR:
        msg_warn("%s: SASL %s authentication failed: %s", vstr_str(&s->namaddr), mech,
                 sasl_srv_detail(s->sasl));
        smtpd_reply(s, "454 4.7.0 Temporary authentication failure: %s", vstr_str(reason));
        break;
    default:
        msg_warn("%s: SASL %s authentication failed: %s", vstr_str(&s->namaddr), mech,
                 sasl_srv_detail(s->sasl));
        smtpd_reply(s, "535 5.7.8 Error: authentication failed: %s", vstr_str(reason));
        break;
    }
    if (!smtpd_sasl_authenticated(s))
        (void)new_context(s);
    vstr_release(&resp);
    vstr_release(&text);
}

void smtpd_sasl_auth(smtpd_state *s, const char *arg)
{
    vstr mechs = VSTR_INIT, resp = VSTR_INIT, challenge = VSTR_INIT, reason = VSTR_INIT;
    size_t mlen = strcspn(arg, " ");
    const char *init = arg + mlen + strspn(arg + mlen, " ");
    char mech[MECH_NAME_MAX + 1];

    if (!auth_allowed(s)) {
        smtpd_reply(s, "503 5.5.1 Error: authentication not enabled");
    } else if (strcmp(s->protocol, "ESMTP") != 0) {
        smtpd_reply(s, "503 5.5.1 Error: send EHLO first");
    } else if (s->sasl == NULL) {
        /* EHLO could not make a context (logged), and offered no AUTH. */
        smtpd_reply(s, "454 4.7.0 Temporary authentication failure");
    } else if (smtpd_sasl_authenticated(s)) {
        smtpd_reply(s, "503 5.5.1 Error: already authenticated");
    } else if (s->stage != SMTPD_STAGE_NO_MAIL) {
        smtpd_reply(s, "503 5.5.1 Error: MAIL transaction in progress");
    } else if (mlen == 0 || mlen > MECH_NAME_MAX || strchr(init, ' ') != NULL) {
        smtpd_reply(s, "501 5.5.4 Syntax: AUTH mechanism [initial-response]");
    } else if (sasl_srv_mechanisms(s->sasl, &mechs) < 0 ||
               !mech_offered(vstr_str(&mechs), arg, mlen)) {
        smtpd_reply(s, "504 5.5.4 Unrecognized authentication type");
    } else if (*init && strcmp(init, "=") != 0 &&
               sasl_base64_decode(init, strlen(init), &resp) < 0) {
        smtpd_reply(s, "501 5.5.2 Cannot decode response");
    } else {
        memcpy(mech, arg, mlen);
        mech[mlen] = 0;
        for (char *p = mech; *p; p++)
            if (*p >= 'a' && *p <= 'z')
                *p = (char)(*p - 'a' + 'A');
        /* No initial response differs from an empty one ("="). */
        exchange(s, mech,
                 sasl_srv_start(s->sasl, mech, *init ? vstr_str(&resp) : NULL, vstr_len(&resp),
                                &challenge, &reason),
                 &challenge, &reason);
    }
    vstr_release(&mechs);
    vstr_release(&resp);
    vstr_release(&challenge);
    vstr_release(&reason);
}
