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

/* What the verify callback saw, kept on the SSL. */
typedef struct check_state {
    int chain_failed;
    int name_failed;
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
    (void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
    OPENSSL_free(ptr);
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
        if ((p.mask & TLS_PROTO_TLSv1_1) == 0 && p.min_version < TLS1_1_VERSION &&
            p.max_version > TLS1_1_VERSION)
            SSL_set_options(ssl, SSL_OP_NO_TLSv1_1);
        if ((p.mask & TLS_PROTO_TLSv1_2) == 0 && p.min_version < TLS1_2_VERSION &&
            p.max_version > TLS1_2_VERSION)
            SSL_set_options(ssl, SSL_OP_NO_TLSv1_2);
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

tls_trust tls_client_trust(tls_conn *c)
{
    SSL *ssl = tls_conn_ssl(c);
    check_state *st = check_index >= 0 ? SSL_get_ex_data(ssl, check_index) : NULL;

    if (!tls_conn_peer_has_cert(c))
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
