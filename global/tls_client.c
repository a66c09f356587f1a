/*
 * tls_client - the SMTP client's side of TLS (see tls_client.h)
 *
 * The certificate is checked during the handshake with SSL_VERIFY_NONE
 * and a verify callback that only records what failed: whether the chain
 * failed and, separately, whether the host name check failed. OpenSSL's
 * final verify result alone cannot tell "Trusted" from "Untrusted": with
 * verification going on past errors, a name mismatch found last hides a
 * chain error found first.
 */
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <string.h>
#include <strings.h>

#include "global/tls_client.h"
#include "util/clock.h"
#include "util/htable.h"
#include "util/mem.h"
#include "util/msg.h"

static const char *const level_names[] = {
    [TLS_LEV_NONE] = "none",       [TLS_LEV_MAY] = "may",
    [TLS_LEV_DANE] = "dane",       [TLS_LEV_ENCRYPT] = "encrypt",
    [TLS_LEV_FINGERPRINT] = "fingerprint", [TLS_LEV_VERIFY] = "verify",
    [TLS_LEV_SECURE] = "secure",   [TLS_LEV_DANE_ONLY] = "dane-only",
};

void tls_policy_init(tls_policy *p)
{
    p->level = TLS_LEV_NONE;
    vstr_init(&p->match);
    vstr_init(&p->protocols);
    vstr_init(&p->ciphers);
}

void tls_policy_release(tls_policy *p)
{
    vstr_release(&p->match);
    vstr_release(&p->protocols);
    vstr_release(&p->ciphers);
}

int tls_level_parse(const char *name, tls_level *out)
{
    for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
        if (strcasecmp(name, level_names[i]) == 0) {
            *out = (tls_level)i;
            return 0;
        }
    }
    return -1;
}

const char *tls_level_name(tls_level level)
{
    return level_names[level];
}

int tls_level_required(tls_level level)
{
    return level >= TLS_LEV_ENCRYPT;
}

int tls_policy_parse(const char *text, tls_policy *out, vstr *err)
{
    static const char *const grades[] = {"export", "low", "medium", "high", "null"};
    argv_t *words;
    int status = 0;

    vstr_reset(&out->match);
    vstr_reset(&out->protocols);
    vstr_reset(&out->ciphers);
    if (strlen(text) > TLS_POLICY_MAX) {
        vstr_set_fmt(err, "TLS policy longer than %d bytes", TLS_POLICY_MAX);
        return -1;
    }
    words = argv_split(text, " \t\r\n");
    if (words->argc == 0 || tls_level_parse(words->argv[0], &out->level) < 0) {
        vstr_set_fmt(err, "unknown TLS security level \"%s\"",
                     words->argc ? words->argv[0] : "");
        argv_free(words);
        return -1;
    }
    for (size_t i = 1; i < words->argc && status == 0; i++) {
        const char *w = words->argv[i];
        const char *eq = strchr(w, '=');
        size_t klen = eq ? (size_t)(eq - w) : 0;
        int known_grade = 0;

        if (eq && klen == 5 && strncasecmp(w, "match", 5) == 0) {
            vstr_set_str(&out->match, eq + 1);
        } else if (eq && klen == 9 && strncasecmp(w, "protocols", 9) == 0) {
            vstr_set_str(&out->protocols, eq + 1);
        } else if (eq && klen == 7 && strncasecmp(w, "ciphers", 7) == 0) {
            for (size_t g = 0; g < sizeof(grades) / sizeof(grades[0]); g++)
                known_grade |= strcasecmp(eq + 1, grades[g]) == 0;
            if (!known_grade) {
                vstr_set_fmt(err, "unknown cipher grade \"%s\"", eq + 1);
                status = -1;
            }
            vstr_set_str(&out->ciphers, eq + 1);
            vstr_lower(&out->ciphers);
        } else {
            vstr_set_fmt(err, "unknown TLS policy attribute \"%s\"", w);
            status = -1;
        }
    }
    argv_free(words);
    return status;
}

/* ---- The certificate check ---- */

/* What the verify callback saw, kept on the SSL; and, for the session
 * cache, the connection's key and the trust of the session offered. */
typedef struct check_state {
    int chain_failed;
    int name_failed;
    char *cache_key;        /* NULL: this connection's sessions are not cached */
    tls_trust cached_trust; /* of the session offered for resumption */
} check_state;

static int check_index = -1;

static int record_errors(int ok, X509_STORE_CTX *store)
{
    SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
    check_state *st = ssl ? SSL_get_ex_data(ssl, check_index) : NULL;

    if (!ok && st) {
        if (X509_STORE_CTX_get_error(store) == X509_V_ERR_HOSTNAME_MISMATCH)
            st->name_failed = 1;
        else
            st->chain_failed = 1;
    }
    return 1; /* go on: the caller decides */
}

static void free_state(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
                       void *argp)
{
    check_state *st = ptr;

    (void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
    if (st)
        OPENSSL_free(st->cache_key);
    OPENSSL_free(st);
}

int tls_client_prepare(tls_conn *c, const char *sni, const argv_t *names, const char *protocols,
                       const char *cipherlist, vstr *err)
{
    SSL *ssl = tls_conn_ssl(c);
    check_state *st;

    if (check_index < 0)
        check_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, free_state);
    st = OPENSSL_zalloc(sizeof(*st));
    if (st == NULL || check_index < 0 || SSL_set_ex_data(ssl, check_index, st) != 1)
        msg_fatal("tls_client_prepare: out of memory");
    SSL_set_verify(ssl, SSL_VERIFY_NONE, record_errors);
    if (sni && *sni && SSL_set_tlsext_host_name(ssl, sni) != 1) {
        vstr_set_fmt(err, "cannot use \"%s\" for SNI", sni);
        return -1;
    }
    SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    for (size_t i = 0; names && i < names->argc; i++) {
        if (SSL_add1_host(ssl, names->argv[i]) != 1) {
            vstr_set_fmt(err, "cannot match certificates against \"%s\"", names->argv[i]);
            return -1;
        }
    }
    if (protocols && *protocols) {
        tls_protocols p;

        if (tls_protocols_parse(protocols, &p, err) < 0)
            return -1;
        SSL_set_min_proto_version(ssl, p.min_version);
        SSL_set_max_proto_version(ssl, p.max_version);
        SSL_set_options(ssl, tls_protocols_gap_options(&p));
    }
    if (cipherlist && *cipherlist && SSL_set_cipher_list(ssl, cipherlist) != 1) {
        vstr_set_fmt(err, "no usable cipher in \"%s\"", cipherlist);
        return -1;
    }
    return 0;
}

/* ---- DANE ---- */

int tls_tlsa_parse(const unsigned char *rdata, size_t len, tls_tlsa *out)
{
    static const size_t digest_len[] = {0, 32, 64};

    if (len < 4)
        return -1;
    out->usage = rdata[0];
    out->selector = rdata[1];
    out->mtype = rdata[2];
    out->data = rdata + 3;
    out->len = len - 3;
    if ((out->usage != 2 && out->usage != 3) || out->selector > 1 || out->mtype > 2)
        return -1;
    if (out->mtype > 0 && out->len != digest_len[out->mtype])
        return -1;
    return 0;
}

int tls_ctx_dane_enable(tls_ctx *ctx, vstr *err)
{
    if (SSL_CTX_dane_enable(tls_ctx_ssl_ctx(ctx)) <= 0) {
        vstr_set_str(err, "cannot enable DANE in the TLS context");
        return -1;
    }
    return 0;
}

int tls_client_dane(tls_conn *c, const char *base, const tls_tlsa *recs, size_t n, vstr *err)
{
    SSL *ssl = tls_conn_ssl(c);
    size_t added = 0;

    if (SSL_dane_enable(ssl, base) <= 0) {
        vstr_set_fmt(err, "cannot enable DANE for %s", base);
        return -1;
    }
    SSL_dane_set_flags(ssl, DANE_FLAG_NO_DANE_EE_NAMECHECKS);
    for (size_t i = 0; i < n; i++)
        if (SSL_dane_tlsa_add(ssl, (uint8_t)recs[i].usage, (uint8_t)recs[i].selector,
                              (uint8_t)recs[i].mtype, recs[i].data, recs[i].len) > 0)
            added++;
    if (added == 0) {
        vstr_set_fmt(err, "no usable TLSA record for %s", base);
        return -1;
    }
    return 0;
}

/* The trust of ssl's server after the handshake. A resumed session
 * carries no new certificate check: it has the trust it was cached with. */
static tls_trust ssl_trust(SSL *ssl)
{
    check_state *st = check_index >= 0 ? SSL_get_ex_data(ssl, check_index) : NULL;

    if (st && SSL_session_reused(ssl))
        return st->cached_trust;
    if (SSL_get0_peer_certificate(ssl) == NULL)
        return TLS_TRUST_ANONYMOUS;
    if (st == NULL || st->chain_failed)
        return TLS_TRUST_UNTRUSTED;
    /* A TLSA record matched, and no name check failed: DANE's verdict. */
    if (!st->name_failed && SSL_get0_dane_authority(ssl, NULL, NULL) >= 0)
        return TLS_TRUST_VERIFIED;
    /* SSL_get0_peername: the name that matched; none when none was asked. */
    if (st->name_failed || SSL_get0_peername(ssl) == NULL)
        return TLS_TRUST_TRUSTED;
    return TLS_TRUST_VERIFIED;
}

tls_trust tls_client_trust(tls_conn *c)
{
    return ssl_trust(tls_conn_ssl(c));
}

/* ---- Session resumption ---- */

/* A session the server gave us, the trust its full handshake found, and
 * when it stops being offered (monotonic). */
typedef struct cached_session {
    SSL_SESSION *session;
    tls_trust trust;
    int64_t expires_ms;
} cached_session;

static htable *session_cache; /* NULL: caching is off */
static int session_timeout_s;

static void cached_session_free(void *ptr)
{
    cached_session *cs = ptr;

    SSL_SESSION_free(cs->session);
    mem_free(cs);
}

/* Drop the sessions that have expired. */
static void session_cache_purge(int64_t now)
{
    htable_entry **all = htable_list(session_cache);

    for (htable_entry **e = all; *e; e++)
        if (((cached_session *)(*e)->value)->expires_ms <= now)
            htable_delete(session_cache, (*e)->key, cached_session_free);
    mem_free(all);
}

/* OpenSSL has a session that can be resumed (after the handshake in TLS
 * 1.2; with each ticket, after it, in TLS 1.3): keep it under the
 * connection's key. 1: the reference is ours. */
static int session_new(SSL *ssl, SSL_SESSION *session)
{
    check_state *st = check_index >= 0 ? SSL_get_ex_data(ssl, check_index) : NULL;
    int64_t now = clock_mono_ms();
    long lifetime = SSL_SESSION_get_timeout(session);
    cached_session *cs;

    if (session_cache == NULL || st == NULL || st->cache_key == NULL ||
        !SSL_SESSION_is_resumable(session))
        return 0;
    if (lifetime <= 0 || lifetime > session_timeout_s)
        lifetime = session_timeout_s;
    htable_delete(session_cache, st->cache_key, cached_session_free);
    if (session_cache->used >= TLS_CLIENT_CACHE_MAX)
        session_cache_purge(now);
    if (session_cache->used >= TLS_CLIENT_CACHE_MAX)
        return 0;
    cs = mem_calloc(1, sizeof(*cs));
    cs->session = session;
    cs->trust = ssl_trust(ssl);
    cs->expires_ms = now + (int64_t)lifetime * 1000;
    htable_enter(session_cache, st->cache_key, cs);
    return 1;
}

void tls_client_cache_enable(tls_ctx *ctx, int timeout_s)
{
    SSL_CTX *sc = tls_ctx_ssl_ctx(ctx);

    if (timeout_s <= 0)
        return;
    if (session_cache == NULL)
        session_cache = htable_new(64);
    session_timeout_s = timeout_s;
    SSL_CTX_set_session_cache_mode(sc, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(sc, session_new);
}

void tls_client_cache_free(void)
{
    if (session_cache)
        htable_free(session_cache, cached_session_free);
    session_cache = NULL;
}

int tls_client_resume(tls_conn *c, const char *key)
{
    SSL *ssl = tls_conn_ssl(c);
    check_state *st = check_index >= 0 ? SSL_get_ex_data(ssl, check_index) : NULL;
    cached_session *cs;

    if (session_cache == NULL || st == NULL)
        return 0;
    OPENSSL_free(st->cache_key);
    st->cache_key = OPENSSL_strdup(key);
    if (st->cache_key == NULL)
        msg_fatal("tls_client_resume: out of memory");
    cs = htable_find(session_cache, key);
    if (cs == NULL)
        return 0;
    if (cs->expires_ms <= clock_mono_ms()) {
        htable_delete(session_cache, key, cached_session_free);
        return 0;
    }
    if (SSL_set_session(ssl, cs->session) != 1)
        return 0;
    st->cached_trust = cs->trust;
    return 1;
}

int tls_client_resumed(tls_conn *c)
{
    return SSL_session_reused(tls_conn_ssl(c)) == 1;
}

const char *tls_trust_name(tls_trust trust)
{
    switch (trust) {
    case TLS_TRUST_ANONYMOUS:
        return "Anonymous";
    case TLS_TRUST_UNTRUSTED:
        return "Untrusted";
    case TLS_TRUST_TRUSTED:
        return "Trusted";
    case TLS_TRUST_VERIFIED:
        break;
    }
    return "Verified";
}
