/*
 * NAME
 *   tls - OpenSSL for the SMTP server and client: contexts, sessions on a
 *   vstream, Postfix's protocol and cipher-grade syntax, log summaries
 *
 * SYNOPSIS
 *   #include "global/tls.h"
 *
 *   tls_params p;
 *   tls_params_from_config(&p, cfg, "smtpd", mandatory);   // smtpd_tls_*
 *   tls_ctx *ctx = tls_ctx_new(TLS_ROLE_SERVER, &p, &err);  // NULL: err says why
 *   tls_ctx_load_keys(ctx, chain_files, cert, key, eccert, eckey, &err);
 *
 *   tls_conn *c = tls_conn_new(ctx, stream);  // no plaintext may be buffered
 *   if (tls_conn_handshake(c, timeout_ms, &err) < 0) { log err; tls_conn_free(c); ... }
 *   ... vstream_get_line(stream, ...) and vstream_printf(stream, ...) now
 *       go through TLS ...
 *   tls_conn_summary(c, &text);      // "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256
 * bits)" tls_conn_peer_fingerprint(c, &fp); tls_conn_free(c);                // close_notify; the
 * stream is dead afterwards
 *
 * DESCRIPTION
 *   One layer for both sides. A tls_ctx is an SSL_CTX made from main.cf
 *   settings once per process, before the privilege drop (private keys
 *   may be readable by root only). A tls_conn is one TLS session over a
 *   vstream: after a successful handshake it installs itself with
 *   vstream_set_io, so the code that reads and writes SMTP does not
 *   change. The descriptor is made non-blocking (vstream's contract for
 *   layered I/O) and every read, write and the handshake wait with
 *   poll() against a deadline.
 *
 *   Protocols (*_tls_protocols, *_tls_mandatory_protocols), Postfix's
 *   syntax: names SSLv2 SSLv3 TLSv1 TLSv1.1 TLSv1.2 TLSv1.3, separated by
 *   white space, commas or colons; "NAME" includes (when any is given,
 *   only those), "!NAME" excludes, ">=NAME" and "<=NAME" bound the range.
 *   Empty means every version OpenSSL offers. SSLv2 and SSLv3 are
 *   accepted in the syntax and never enabled. A gap inside the range
 *   ("TLSv1 TLSv1.2") is kept out with OpenSSL's per-version switches.
 *
 *   Ciphers: the grade (*_tls_ciphers: export, low, medium, high, null)
 *   picks the OpenSSL cipher list of tls_<grade>_cipherlist; each entry
 *   of *_tls_exclude_ciphers (and, for mandatory TLS, of
 *   *_tls_mandatory_exclude_ciphers) is appended as ":!ENTRY". The grade
 *   applies to TLS 1.2 and below; TLS 1.3 suites are OpenSSL's defaults.
 *   A server also never offers anonymous (aNULL) suites: it always has a
 *   certificate, and such suites let an active attacker in the middle.
 *
 *   Resumption: none unless a server calls tls_ctx_enable_tickets (keys
 *   shared by every process through a file, global/tls_ticket.h). There
 *   is no session-ID cache.
 *
 *   Adding to this layer. A role's own settings live in their own file
 *   over the raw handles, without changing this interface:
 *   tls_ctx_ssl_ctx() gives the SSL_CTX (e.g. SSL_CTX_set_verify for the
 *   client's verification policy) and tls_conn_ssl() the SSL before the
 *   handshake (SNI with SSL_set_tlsext_host_name, host name checks with
 *   SSL_set1_host). tls_ctx_load_CA loads CAfile/CApath for either side.
 *   The client's policy (levels, match=, DANE) belongs in such a file,
 *   e.g. global/tls_client.c.
 *
 * DIAGNOSTICS
 *   Functions that can fail return -1 (or NULL) and put the reason in err,
 *   with OpenSSL's own reason and the file name where there is one. A
 *   failed read or write on the stream after the handshake sets errno
 *   EPROTO; tls_conn_error() says what OpenSSL reported.
 */
#ifndef GLOBAL_TLS_H
#define GLOBAL_TLS_H

#include <stdint.h>

#include "global/config.h"
#include "util/vstr.h"
#include "util/vstream.h"

/* The longest protocol or exclude-ciphers text accepted. */
#define TLS_SPEC_MAX 1024

/* Protocol bits of tls_protocols.mask. */
enum {
    TLS_PROTO_SSLv2 = 1 << 0,
    TLS_PROTO_SSLv3 = 1 << 1,
    TLS_PROTO_TLSv1 = 1 << 2,
    TLS_PROTO_TLSv1_1 = 1 << 3,
    TLS_PROTO_TLSv1_2 = 1 << 4,
    TLS_PROTO_TLSv1_3 = 1 << 5,
};

/* What a protocol text allows. */
typedef struct tls_protocols {
    int mask;        /* TLS_PROTO_* bits enabled (never SSLv2/SSLv3) */
    int min_version; /* OpenSSL's TLS1_VERSION ... TLS1_3_VERSION */
    int max_version;
} tls_protocols;

/* Parse Postfix's protocol syntax. 0, or -1 with err for an unknown name,
 * a malformed bound, an overlong text or nothing left enabled. */
int tls_protocols_parse(const char *spec, tls_protocols *out, vstr *err);
/* OpenSSL's SSL_OP_NO_* switches that keep out the versions p leaves out
 * inside its min..max range ("TLSv1 TLSv1.2": SSL_OP_NO_TLSv1_1), or 0. */
uint64_t tls_protocols_gap_options(const tls_protocols *p);

/* The OpenSSL cipher list for a grade's list (the value of
 * tls_<grade>_cipherlist) with the exclusions (a list, separated by white
 * space, commas or colons) appended. 0, or -1 with err for a malformed
 * exclusion. */
int tls_cipher_list(const char *grade_list, const char *exclude, vstr *out, vstr *err);

typedef enum tls_role { TLS_ROLE_SERVER, TLS_ROLE_CLIENT } tls_role;

/* The settings a context is made from; strings are borrowed. */
typedef struct tls_params {
    const char *protocols;          /* Postfix syntax, above */
    const char *grade_list;         /* tls_<grade>_cipherlist, expanded */
    const char *exclude;            /* exclusions, both lists joined */
    const char *fingerprint_digest; /* md5, sha1, sha256, sha512 */
    int loglevel;
    vstr exclude_buf; /* storage for exclude */
} tls_params;

/* Fill p from PREFIX_tls_protocols (or PREFIX_tls_mandatory_protocols when
 * mandatory), PREFIX_tls_ciphers (mandatory_ciphers), exclusions,
 * fingerprint digest and log level; cfg must outlive p. Release with
 * tls_params_release. */
void tls_params_from_config(tls_params *p, config *cfg, const char *prefix, int mandatory);
void tls_params_release(tls_params *p);

typedef struct tls_ctx tls_ctx;
typedef struct tls_conn tls_conn;

/* A context for role from p; NULL with err when a setting is unusable. */
tls_ctx *tls_ctx_new(tls_role role, const tls_params *p, vstr *err);
void tls_ctx_free(tls_ctx *ctx);
/* The OpenSSL context, for a role's own settings (see DESCRIPTION). */
struct ssl_ctx_st *tls_ctx_ssl_ctx(tls_ctx *ctx);
/* Keys and certificate chains: chain_files (a list of files, each with a
 * key and its chain, e.g. one RSA and one ECDSA) when not empty, else the
 * cert/key pair and the optional eccert/eckey pair. Empty names are
 * skipped. 0, or -1 with err naming the file and OpenSSL's reason. A
 * context with no key at all is not an error here: tls_ctx_has_key. */
int tls_ctx_load_keys(tls_ctx *ctx, const char *chain_files, const char *cert, const char *key,
                      const char *eccert, const char *eckey, vstr *err);
/* Has a key and certificate been loaded? */
int tls_ctx_has_key(const tls_ctx *ctx);
/* Trust anchors for verifying the peer; either may be empty. */
int tls_ctx_load_CA(tls_ctx *ctx, const char *CAfile, const char *CApath, vstr *err);
/* Server: ask every client for a certificate (any is accepted; whether it
 * verified is tls_conn_peer_verified), at most depth certificates deep. */
void tls_ctx_ask_client_cert(tls_ctx *ctx, int depth);
/* Server: require a client certificate that verifies; the handshake
 * fails without one. */
void tls_ctx_require_client_cert(tls_ctx *ctx, int depth);
/* Server: resumption with session tickets (RFC 5077, and TLS 1.3's),
 * keys shared by every process through key_file and rotated every
 * lifetime_s seconds (global/tls_ticket.h); tickets are valid for
 * id_context (e.g. the service name) alone. 0, or -1 with err. */
int tls_ctx_enable_tickets(tls_ctx *ctx, const char *key_file, int lifetime_s,
                           const char *id_context, vstr *err);

/* A session on stream (an open socket; nothing buffered unread: plaintext
 * before TLS must have been discarded, else msg_panic). */
tls_conn *tls_conn_new(tls_ctx *ctx, vstream *stream);
/* The OpenSSL session, for settings before the handshake. */
struct ssl_st *tls_conn_ssl(tls_conn *c);
/* Run the handshake within timeout_ms (0: the stream's timeout, and none
 * if that is 0). 0: the stream now speaks TLS. -1 with err: the session
 * cannot go on (the stream is left unusable only after tls_conn_free). */
int tls_conn_handshake(tls_conn *c, int timeout_ms, vstr *err);
/* "TLSv1.3 with cipher NAME (256/256 bits)". */
void tls_conn_summary(tls_conn *c, vstr *out);
/* "TLSv1.3", the cipher name and its bits, for queue-file attributes. */
const char *tls_conn_protocol(tls_conn *c);
const char *tls_conn_cipher(tls_conn *c);
int tls_conn_cipher_bits(tls_conn *c);
/* Did the peer present a certificate? */
int tls_conn_peer_has_cert(tls_conn *c);
/* Did the peer's certificate verify against the trust anchors? */
int tls_conn_peer_verified(tls_conn *c);
/* The peer certificate's fingerprint with the context's digest, as
 * "AB:CD:...". 1 when there is one, 0 without a certificate. */
int tls_conn_peer_fingerprint(tls_conn *c, vstr *out);
/* The peer certificate's subject and issuer common names ("" if none). */
void tls_conn_peer_names(tls_conn *c, vstr *subject_cn, vstr *issuer_cn);
/* What OpenSSL said about the last failed read or write ("" if nothing). */
const char *tls_conn_error(const tls_conn *c);
/* Send close_notify (best effort, without waiting), free the session, and
 * leave the stream unusable: every later read or write fails (EPIPE), so
 * nothing is ever sent in the clear after TLS. */
void tls_conn_free(tls_conn *c);

#endif
