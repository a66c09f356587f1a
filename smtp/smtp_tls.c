/*
 * smtp_tls - the SMTP client's TLS policy and handshake
 *
 * Policy. A request's level comes from smtp_tls_policy_maps, looked up
 * by the next hop as qmgr gave it ("[host]:port", "domain",
 * "domain:port"), then, for a domain, by each parent with a leading dot
 * (".example.com"); without an entry, smtp_tls_security_level applies.
 * An entry's match=, protocols= and ciphers= replace the main.cf
 * settings for that destination. A table that cannot be read defers the
 * request (4.3.0), as does an entry that cannot be parsed.
 *
 * Levels: none (no STARTTLS); may (STARTTLS when offered, any
 * certificate; a failed handshake is retried once in plaintext on a new
 * connection to the same server, as Postfix does); encrypt (TLS
 * required, any certificate); verify and secure (the certificate must
 * chain to smtp_tls_CAfile / smtp_tls_CApath and match
 * smtp_tls_verify_cert_match / smtp_tls_secure_cert_match, or the
 * policy's match=); dane and dane-only (below). "fingerprint" is not
 * implemented: such a destination is deferred with 4.7.5 and says so,
 * never sent with less protection than asked for.
 *
 * Match strategies: hostname (the server's name: the MX host, or the
 * relay host), nexthop (the next-hop domain), dot-nexthop (any name
 * below it); anything else is a literal name (".example.com" matches
 * below it). Opportunistic levels use smtp_tls_protocols and
 * smtp_tls_ciphers, mandatory ones (encrypt and above) the
 * smtp_tls_mandatory_* settings.
 *
 * DANE (RFC 7672), levels dane and dane-only, with smtp_dns_support_level
 * = dnssec (without it, dane is may and dane-only defers). For each
 * server whose MX and address records were validated (smtp_addr's
 * dnssec flag), the TLSA records of _PORT._tcp.HOST are looked up; only
 * a validated answer (the resolver's AD bit) counts. Usable records
 * (DANE-TA or DANE-EE): TLS is required and the certificate must match
 * one, with SNI and the reference name set to HOST (and the next-hop
 * domain), DANE-EE without name checks. Records present but none usable:
 * TLS without authentication (encrypt). No validated records, or a
 * server not reached through validated records: dane is may, dane-only
 * skips the server (4.7.5). A TLSA lookup that fails for now makes the
 * server unusable (4.7.5): it cannot be told that it has none.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <string.h>
#include <strings.h>

#include "global/dns.h"
#include "global/maps.h"
#include "smtp/smtp.h"
#include "util/argv.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/sock.h"

static struct {
    config *cfg;
    tls_level level;      /* smtp_tls_security_level */
    maps *policy_maps;    /* NULL: none */
    tls_ctx *opportunistic, *mandatory;
    const char *servername;
    const char *verify_match, *secure_match;
    int loglevel;
    int dnssec; /* smtp_dns_support_level = dnssec */
} st;

/* A context from the smtp_tls_* settings; fatal when they are unusable
 * (a daemon with a broken TLS configuration must not send mail). */
static tls_ctx *make_ctx(config *cfg, int mandatory)
{
    tls_params p;
    vstr err = VSTR_INIT;
    tls_ctx *ctx;

    tls_params_from_config(&p, cfg, "smtp", mandatory);
    ctx = tls_ctx_new(TLS_ROLE_CLIENT, &p, &err);
    tls_params_release(&p);
    if (ctx == NULL ||
        tls_ctx_load_CA(ctx, config_str(cfg, "smtp_tls_CAfile"), config_str(cfg, "smtp_tls_CApath"),
                        &err) < 0 ||
        tls_ctx_load_keys(ctx, config_str(cfg, "smtp_tls_chain_files"),
                          config_str(cfg, "smtp_tls_cert_file"),
                          config_str(cfg, "smtp_tls_key_file"), "", "", &err) < 0)
        msg_fatal("smtp TLS: %s", vstr_str(&err));
    vstr_release(&err);
    return ctx;
}

void smtp_tls_init(config *cfg)
{
    const char *maps_list = config_str(cfg, "smtp_tls_policy_maps");

    st.cfg = cfg;
    if (tls_level_parse(config_str(cfg, "smtp_tls_security_level"), &st.level) < 0)
        st.level = TLS_LEV_NONE; /* the parameter table's bounds refuse that earlier */
    st.servername = config_str(cfg, "smtp_tls_servername");
    st.verify_match = config_str(cfg, "smtp_tls_verify_cert_match");
    st.secure_match = config_str(cfg, "smtp_tls_secure_cert_match");
    st.loglevel = (int)config_int(cfg, "smtp_tls_loglevel");
    if (*maps_list)
        st.policy_maps = maps_open("smtp_tls_policy_maps", maps_list, O_RDONLY, 0);
    /* Contexts (and keys) are made before the chroot and privilege drop;
     * only when some destination may use TLS. */
    st.dnssec = strcasecmp(config_str(cfg, "smtp_dns_support_level"), "dnssec") == 0;
    if (st.level != TLS_LEV_NONE || st.policy_maps || config_bool(cfg, "smtp_tls_wrappermode")) {
        vstr err = VSTR_INIT;
        int cache_timeout = (int)config_time(cfg, "smtp_tls_session_cache_timeout");

        st.opportunistic = make_ctx(cfg, 0);
        st.mandatory = make_ctx(cfg, 1);
        tls_client_cache_enable(st.opportunistic, cache_timeout);
        tls_client_cache_enable(st.mandatory, cache_timeout);
        if (*config_str(cfg, "smtp_tls_session_cache_database"))
            msg_warn("smtp_tls_session_cache_database is not implemented and is ignored: "
                     "each smtp process keeps its own sessions (smtp_tls_session_cache_timeout)");
        if (st.dnssec && tls_ctx_dane_enable(st.mandatory, &err) < 0)
            msg_fatal("smtp TLS: %s", vstr_str(&err));
        vstr_release(&err);
    }
}

/* The host part of a next hop: "[host]:port" -> host, "dom:port" -> dom. */
static void nexthop_domain(const char *nexthop, vstr *out)
{
    const char *p = strncmp(nexthop, "inet:", 5) == 0 ? nexthop + 5 : nexthop;

    if (*p == '[') {
        const char *close = strchr(p, ']');

        vstr_set(out, p + 1, close ? (size_t)(close - p - 1) : strlen(p + 1));
    } else {
        const char *colon = strrchr(p, ':');

        vstr_set(out, p, colon ? (size_t)(colon - p) : strlen(p));
    }
    vstr_lower(out);
}

int smtp_tls_policy(const char *nexthop, tls_policy *out, vstr *why)
{
    vstr key = VSTR_INIT, value = VSTR_INIT;
    int found = DICT_NOTFOUND, status = 0;

    out->level = st.level;
    if (st.policy_maps) {
        vstr_set_str(&key, nexthop);
        vstr_lower(&key);
        found = maps_find(st.policy_maps, vstr_str(&key), &value, NULL);
        if (found == DICT_NOTFOUND && nexthop[0] != '[') {
            /* Parent domains: ".example.com" for "mx.example.com". */
            vstr dom = VSTR_INIT;
            const char *d;

            nexthop_domain(nexthop, &dom);
            for (d = strchr(vstr_str(&dom), '.'); d && found == DICT_NOTFOUND;
                 d = strchr(d + 1, '.'))
                found = maps_find(st.policy_maps, d, &value, NULL);
            vstr_release(&dom);
        }
    }
    if (found == DICT_ERROR) {
        vstr_set_fmt(why, "smtp_tls_policy_maps lookup of %s failed: %s", nexthop,
                     maps_error(st.policy_maps));
        status = -1;
    } else if (found == DICT_FOUND && tls_policy_parse(vstr_str(&value), out, why) < 0) {
        vstr_set_fmt(&key, "smtp_tls_policy_maps entry for %s: %s", nexthop, vstr_str(why));
        vstr_set(why, vstr_str(&key), vstr_len(&key));
        status = -1;
    }
    if (status == 0 && out->level == TLS_LEV_DANE && !st.dnssec)
        out->level = TLS_LEV_MAY; /* as Postfix: DANE needs validated DNS */
    if (status == 0 && out->level == TLS_LEV_DANE_ONLY && !st.dnssec) {
        vstr_set_fmt(why, "TLS security level \"dane-only\" for %s needs "
                          "smtp_dns_support_level = dnssec", nexthop);
        status = -2;
    }
    if (status == 0 && out->level == TLS_LEV_FINGERPRINT) {
        vstr_set_fmt(why, "TLS security level \"%s\" for %s is not supported by this client",
                     tls_level_name(out->level), nexthop);
        status = -2;
    }
    if (status == 0 && out->level != TLS_LEV_NONE && st.opportunistic == NULL) {
        vstr_set_fmt(why, "TLS for %s: no TLS context", nexthop);
        status = -1;
    }
    vstr_release(&key);
    vstr_release(&value);
    return status;
}

/* The names a certificate must match for the request's level. */
static argv_t *match_names(const smtp_request *r, const smtp_server *srv)
{
    const tls_policy *pol = &r->tls;
    const char *spec = vstr_len(&pol->match)           ? vstr_str(&pol->match)
                       : pol->level == TLS_LEV_SECURE ? st.secure_match
                                                       : st.verify_match;
    argv_t *strategies = argv_split(spec, ", \t:");
    argv_t *names = argv_new();
    vstr dom = VSTR_INIT;

    nexthop_domain(r->req.nexthop, &dom);
    for (size_t i = 0; i < strategies->argc; i++) {
        const char *s = strategies->argv[i];

        if (strcasecmp(s, "hostname") == 0)
            argv_add(names, srv->host);
        else if (strcasecmp(s, "nexthop") == 0)
            argv_add(names, vstr_str(&dom));
        else if (strcasecmp(s, "dot-nexthop") == 0) {
            vstr dot = VSTR_INIT;

            vstr_set_fmt(&dot, ".%s", vstr_str(&dom));
            argv_add(names, vstr_str(&dot));
            vstr_release(&dot);
        } else
            argv_add(names, s);
    }
    vstr_release(&dom);
    argv_free(strategies);
    return names;
}

/* SNI per smtp_tls_servername; "" when none or an address. */
static void sni_name(const smtp_request *r, const smtp_server *srv, vstr *out)
{
    unsigned char buf[16];

    if (strcasecmp(st.servername, "hostname") == 0)
        vstr_set_str(out, srv->host);
    else if (strcasecmp(st.servername, "nexthop") == 0)
        nexthop_domain(r->req.nexthop, out);
    else
        vstr_set_str(out, st.servername);
    if (inet_pton(AF_INET, vstr_str(out), buf) == 1 || inet_pton(AF_INET6, vstr_str(out), buf) == 1)
        vstr_reset(out);
}

void smtp_tls_server_release(smtp_request *r)
{
    dns_answer_free(&r->tlsa_answer);
    mem_free(r->tlsa);
    r->tlsa = NULL;
    r->tlsa_count = 0;
}

/* The TLSA records of srv into r: 1 usable ones found, 0 none (or none
 * validated), -1 with why when the lookup failed for now. */
static int tlsa_lookup(smtp_request *r, const smtp_server *srv, vstr *why)
{
    vstr name = VSTR_INIT, err = VSTR_INIT, addr = VSTR_INIT;
    int port = 0, found = 0;
    dns_status ds;

    sock_addr_text((const struct sockaddr *)&srv->sa, srv->salen, &addr, &port);
    vstr_set_fmt(&name, "_%d._tcp.%s", port, srv->host);
    ds = dns_lookup(vstr_str(&name), DNS_T_TLSA, dns_deadline(), &r->tlsa_answer, &err);
    if (ds == DNS_RETRY || ds == DNS_FAIL) {
        vstr_set_fmt(why, "TLSA lookup error for %s:%d: %s", srv->host, port, vstr_str(&err));
        found = -1;
    } else if (ds == DNS_OK && r->tlsa_answer.authentic) {
        r->tlsa = mem_calloc(r->tlsa_answer.count, sizeof(tls_tlsa));
        for (size_t i = 0; i < r->tlsa_answer.count; i++)
            if (tls_tlsa_parse(r->tlsa_answer.rr[i].data, r->tlsa_answer.rr[i].len,
                               &r->tlsa[r->tlsa_count]) == 0)
                r->tlsa_count++;
        /* Records, but none usable: RFC 7672 2.2, TLS without
         * authentication. */
        found = r->tlsa_count > 0 ? 1 : 2;
    }
    vstr_release(&name);
    vstr_release(&err);
    vstr_release(&addr);
    return found;
}

int smtp_tls_server_level(smtp_request *r, const smtp_server *srv, tls_level *level, vstr *why)
{
    int found;

    smtp_tls_server_release(r);
    *level = r->tls.level;
    if (*level != TLS_LEV_DANE && *level != TLS_LEV_DANE_ONLY)
        return 0;
    found = srv->dnssec ? tlsa_lookup(r, srv, why) : 0;
    if (found < 0)
        return -1;
    if (found == 1) {
        *level = TLS_LEV_DANE_ONLY; /* from here on: authenticate by TLSA */
        return 0;
    }
    if (found == 2) {
        *level = TLS_LEV_ENCRYPT;
        return 0;
    }
    if (*level == TLS_LEV_DANE_ONLY) {
        vstr_set_fmt(why, "no validated TLSA records for %s (dane-only)", srv->host);
        return -1;
    }
    *level = TLS_LEV_MAY;
    return 0;
}

/* Offer the session cached for this server and everything the handshake
 * depends on (a session must not stand in for a stricter check). DANE's
 * sessions are not cached: their trust hangs on this lookup's records.
 * 1 when a session is offered, else 0. */
static int resume(tls_conn *c, const smtp_request *r, tls_level level, const char *sni,
                  const argv_t *names, const char *ciphers)
{
    vstr key = VSTR_INIT;
    int offered;

    vstr_set_fmt(&key, "%s&%s&%s&%s&%s&", tls_level_name(level), vstr_str(&r->relay), sni,
                 vstr_str(&r->tls.protocols), ciphers);
    for (size_t i = 0; names && i < names->argc; i++)
        vstr_append_fmt(&key, "%s,", names->argv[i]);
    offered = tls_client_resume(c, vstr_str(&key));
    vstr_release(&key);
    return offered;
}

tls_conn *smtp_tls_handshake(smtp_request *r, vstream *s, tls_level level, tls_trust *trust,
                             vstr *why)
{
    const tls_policy *pol = &r->tls;
    int mandatory = tls_level_required(level);
    int dane = r->tlsa_count > 0 && level == TLS_LEV_DANE_ONLY;
    tls_conn *c = tls_conn_new(mandatory ? st.mandatory : st.opportunistic, s);
    argv_t *names = NULL;
    vstr sni = VSTR_INIT, ciphers = VSTR_INIT, err = VSTR_INIT, summary = VSTR_INIT;
    int ok = 0;

    if (dane) {
        /* RFC 7672 3.2: SNI and the reference names are the TLSA base
         * domain, and the next-hop domain. */
        names = argv_new();
        nexthop_domain(r->req.nexthop, &sni);
        argv_add(names, vstr_str(&sni));
        vstr_set_str(&sni, r->server->host);
    } else {
        names = level >= TLS_LEV_VERIFY ? match_names(r, r->server) : NULL;
        sni_name(r, r->server, &sni);
    }
    if (vstr_len(&pol->ciphers)) {
        vstr name = VSTR_INIT;

        vstr_set_fmt(&name, "tls_%s_cipherlist", vstr_str(&pol->ciphers));
        if (tls_cipher_list(config_str(st.cfg, vstr_str(&name)),
                            config_str(st.cfg, "smtp_tls_exclude_ciphers"), &ciphers, &err) < 0)
            vstr_reset(&ciphers);
        vstr_release(&name);
    }
    if ((dane && tls_client_dane(c, r->server->host, r->tlsa, r->tlsa_count, &err) < 0) ||
        tls_client_prepare(c, vstr_str(&sni), names, vstr_str(&pol->protocols), vstr_str(&ciphers),
                           &err) < 0 ||
        (!dane && resume(c, r, level, vstr_str(&sni), names, vstr_str(&ciphers)) < 0) ||
        tls_conn_handshake(c, smtp_cf.starttls_timeout, &err) < 0) {
        vstr_set_fmt(why, "Cannot start TLS: handshake failure with %s: %s", vstr_str(&r->relay),
                     vstr_str(&err));
    } else {
        ok = 1;
        *trust = tls_client_trust(c);
        if (st.loglevel >= 2 && tls_client_resumed(c))
            msg_info("%s: Reusing old session", vstr_str(&r->relay));
        if (st.loglevel >= 1) {
            tls_conn_summary(c, &summary);
            msg_info("%s TLS connection established to %s: %s", tls_trust_name(*trust),
                     vstr_str(&r->relay), vstr_str(&summary));
        }
    }
    if (names)
        argv_free(names);
    vstr_release(&sni);
    vstr_release(&ciphers);
    vstr_release(&err);
    vstr_release(&summary);
    if (!ok) {
        tls_conn_free(c);
        return NULL;
    }
    return c;
}
