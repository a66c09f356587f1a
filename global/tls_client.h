/*
 * NAME
 *   tls_client - the SMTP client's side of TLS: security levels, policy
 *   table entries, SNI, certificate name checks and the peer's trust
 *
 * SYNOPSIS
 *   #include "global/tls_client.h"
 *
 *   tls_policy pol;
 *   tls_policy_init(&pol);
 *   tls_policy_parse("verify match=hostname:nexthop protocols=>=TLSv1.3", &pol, &err);
 *
 *   tls_conn *c = tls_conn_new(ctx, stream);            // global/tls
 *   tls_client_prepare(c, "mx.example.com", names, protocols, cipherlist, &err);
 *   tls_conn_handshake(c, timeout_ms, &err);
 *   switch (tls_client_trust(c)) { case TLS_TRUST_VERIFIED: ... }
 *
 * DESCRIPTION
 *   Levels (Postfix's smtp_tls_security_level): none, may (TLS when
 *   offered, any certificate), encrypt (TLS required, any certificate),
 *   verify and secure (TLS required, the certificate must chain to a
 *   trust anchor and match one of the names), and the names dane,
 *   dane-only and fingerprint, which a caller that does not implement
 *   them must refuse or map itself.
 *
 *   A policy entry (the value of a smtp_tls_policy_maps lookup) is a
 *   level followed by attributes: match=NAME:NAME... (the names or
 *   strategies the certificate must match), protocols=... (Postfix's
 *   protocol syntax, global/tls) and ciphers=GRADE.
 *
 *   DANE (RFC 7672) uses OpenSSL's own TLSA matching: the caller looks
 *   the records up (validated), keeps the usable ones (tls_tlsa_parse)
 *   and hands them to tls_client_dane before the handshake.
 *
 *   Session resumption: tls_client_cache_enable makes the connections of
 *   a context keep the sessions servers give them (TLS 1.2 sessions, TLS
 *   1.3 tickets) in this process, under a key the caller builds from
 *   everything the handshake depends on; tls_client_resume offers the
 *   one cached under a key. A resumed session keeps the trust its full
 *   handshake found: a key must therefore name the level and the names
 *   checked, so that a session never stands in for a stricter check.
 *
 *   Trust after the handshake, as Postfix logs it: Anonymous (no
 *   certificate), Untrusted (the chain does not verify), Trusted (it
 *   verifies but matches none of the names, or no names were asked for),
 *   Verified (it verifies and matches). The handshake itself never fails
 *   on the certificate: the caller decides what its level needs.
 *
 * DIAGNOSTICS
 *   tls_policy_parse and tls_client_prepare return -1 with err.
 */
#ifndef GLOBAL_TLS_CLIENT_H
#define GLOBAL_TLS_CLIENT_H

#include "global/tls.h"
#include "util/argv.h"
#include "util/vstr.h"

/* The longest policy entry accepted. */
#define TLS_POLICY_MAX 2048

typedef enum tls_level {
    TLS_LEV_NONE,
    TLS_LEV_MAY,
    TLS_LEV_DANE,
    TLS_LEV_ENCRYPT,
    TLS_LEV_FINGERPRINT,
    TLS_LEV_VERIFY,
    TLS_LEV_SECURE,
    TLS_LEV_DANE_ONLY,
} tls_level;

typedef struct tls_policy {
    tls_level level;
    vstr match;     /* "" : the level's default (*_cert_match) */
    vstr protocols; /* "" : main.cf's */
    vstr ciphers;   /* a grade; "" : main.cf's */
} tls_policy;

void tls_policy_init(tls_policy *p);
void tls_policy_release(tls_policy *p);
/* A level name into out; 0, or -1 when it names none. */
int tls_level_parse(const char *name, tls_level *out);
const char *tls_level_name(tls_level level);
/* Does the level insist on TLS (encrypt and above, dane-only)? */
int tls_level_required(tls_level level);
/* Parse "level [match=...] [protocols=...] [ciphers=...]"; 0, or -1 with
 * err for an unknown level or attribute, a bad grade or overlong text. */
int tls_policy_parse(const char *text, tls_policy *out, vstr *err);

typedef enum tls_trust {
    TLS_TRUST_ANONYMOUS,
    TLS_TRUST_UNTRUSTED,
    TLS_TRUST_TRUSTED,
    TLS_TRUST_VERIFIED,
} tls_trust;

/* Before the handshake: SNI (NULL or "": none), the names the
 * certificate should match (a name starting with "." matches any name
 * below it; NULL or empty: none), and, when not NULL or empty, a
 * protocol text and an OpenSSL cipher list replacing the context's. 0,
 * or -1 with err. */
int tls_client_prepare(tls_conn *c, const char *sni, const argv_t *names, const char *protocols,
                       const char *cipherlist, vstr *err);
/* A TLSA record (RFC 6698) that DANE for SMTP can use. */
typedef struct tls_tlsa {
    int usage;    /* 2 DANE-TA, 3 DANE-EE (RFC 7672 uses no others) */
    int selector; /* 0 certificate, 1 public key */
    int mtype;    /* 0 exact, 1 SHA2-256, 2 SHA2-512 */
    const unsigned char *data;
    size_t len;
} tls_tlsa;

/* Parse a TLSA record's rdata: 0 when DANE for SMTP can use it, -1 when
 * it is malformed or of a usage, selector or matching type it cannot
 * (RFC 7672 3.1: such records are ignored). */
int tls_tlsa_parse(const unsigned char *rdata, size_t len, tls_tlsa *out);
/* Allow DANE on connections of ctx (once, before any tls_conn_new). */
int tls_ctx_dane_enable(tls_ctx *ctx, vstr *err);
/* Before the handshake: authenticate the server by these TLSA records
 * (n > 0), with base (the TLSA base domain) as its reference name; DANE-EE
 * matches skip name checks (RFC 7672 3.1.1). 0, or -1 with err. */
int tls_client_dane(tls_conn *c, const char *base, const tls_tlsa *recs, size_t n, vstr *err);

/* After the handshake: how far the server's certificate is trusted. With
 * DANE, Verified means a TLSA record matched. */
tls_trust tls_client_trust(tls_conn *c);
/* Session resumption (smtp_tls_session_cache_timeout): keep the sessions
 * servers give connections of ctx, in this process, for at most
 * timeout_s seconds (or the server's own lifetime, when shorter); 0: off. */
void tls_client_cache_enable(tls_ctx *ctx, int timeout_s);
/* Before the handshake, after tls_client_prepare: key names everything
 * the session depends on (server, address, port, SNI, level, names,
 * protocols, ciphers). Offers the session cached under key (1) or none
 * (0); the sessions this connection gets are cached under key. */
int tls_client_resume(tls_conn *c, const char *key);
/* After the handshake: was the session resumed? Its trust is then the
 * one the full handshake found (tls_client_trust). */
int tls_client_resumed(tls_conn *c);
/* Forget every cached session (before exit). */
void tls_client_cache_free(void);
/* The most sessions kept at once. */
#define TLS_CLIENT_CACHE_MAX 1000

/* "Anonymous", "Untrusted", "Trusted", "Verified". */
const char *tls_trust_name(tls_trust trust);

#endif
