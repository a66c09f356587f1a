/*
 * tls - OpenSSL contexts and sessions over vstreams (see tls.h)
 *
 * Why the shapes below:
 *
 * - The session reads and writes through vstream_set_io with a
 *   non-blocking descriptor: OpenSSL reports WANT_READ / WANT_WRITE, which
 *   become EAGAIN with the poll event vstream must wait for. A TLS read
 *   can need the socket writable (renegotiation, key update) and a write
 *   readable; vstream waits on whichever the call asks for.
 * - tls_conn_free leaves dead I/O functions on the stream, not the plain
 *   system calls: after a TLS session, the server skeleton still flushes
 *   and closes the stream, and nothing of it may go out in the clear.
 * - Session resumption is off by default (no tickets, no cache): tickets
 *   under a key that one process made up would resume in that process
 *   alone. tls_ctx_enable_tickets turns them on with keys shared by every
 *   process through a file (global/tls_ticket); there is no session-ID
 *   cache.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "global/tls.h"
#include "global/tls_ticket.h"
#include "util/argv.h"
#include "util/clock.h"
#include "util/mem.h"
#include "util/msg.h"

struct tls_ctx {
    SSL_CTX *ssl_ctx;
    tls_role role;
    const EVP_MD *digest;
    int has_key;
    tls_tickets *tickets; /* NULL: no session tickets */
};

struct tls_conn {
    tls_ctx *ctx;
    SSL *ssl;
    vstream *stream;
    int established;
    vstr error;
};

/* ---- Protocols ---- */

static const struct {
    const char *name;
    int bit;
    int version; /* 0: never enabled here */
} protocol_names[] = {
    {"SSLv2", TLS_PROTO_SSLv2, 0},
    {"SSLv3", TLS_PROTO_SSLv3, 0},
    {"TLSv1", TLS_PROTO_TLSv1, TLS1_VERSION},
    {"TLSv1.1", TLS_PROTO_TLSv1_1, TLS1_1_VERSION},
    {"TLSv1.2", TLS_PROTO_TLSv1_2, TLS1_2_VERSION},
    {"TLSv1.3", TLS_PROTO_TLSv1_3, TLS1_3_VERSION},
};
#define NPROTOCOLS (sizeof(protocol_names) / sizeof(protocol_names[0]))
#define TLS_PROTO_ALL ((1 << NPROTOCOLS) - 1)
#define TLS_PROTO_SUPPORTED                                                                       \
    (TLS_PROTO_TLSv1 | TLS_PROTO_TLSv1_1 | TLS_PROTO_TLSv1_2 | TLS_PROTO_TLSv1_3)

/* Index of a protocol name of len bytes, or -1. */
static int protocol_index(const char *name, size_t len)
{
    for (size_t i = 0; i < NPROTOCOLS; i++)
        if (strlen(protocol_names[i].name) == len &&
            strncmp(name, protocol_names[i].name, len) == 0)
            return (int)i;
    return -1;
}

#define LIST_SEPARATORS " \t\r\n,:"

int tls_protocols_parse(const char *spec, tls_protocols *out, vstr *err)
{
    size_t spec_len = strlen(spec);
    int include = 0, exclude = 0, lo = 0, hi = (int)NPROTOCOLS - 1;
    int enabled, first = -1, last = -1;
    const char *p = spec;

    memset(out, 0, sizeof(*out));
    if (spec_len > TLS_SPEC_MAX) {
        vstr_set_fmt(err, "protocol list longer than %d bytes", TLS_SPEC_MAX);
        return -1;
    }
    for (;;) {
        size_t len;
        const char *name;
        int op = 0, idx;

        p += strspn(p, LIST_SEPARATORS);
        if (*p == 0)
            break;
        len = strcspn(p, LIST_SEPARATORS);
        name = p;
        if (*name == '!') {
            op = '!';
            name++;
        } else if ((*name == '>' || *name == '<') && len >= 2 && name[1] == '=') {
            op = *name;
            name += 2;
        }
        idx = protocol_index(name, len - (size_t)(name - p));
        if (idx < 0) {
            vstr_set_fmt(err,
                         "unknown TLS protocol \"%.*s\" (known: SSLv2 SSLv3 TLSv1 TLSv1.1 "
                         "TLSv1.2 TLSv1.3, with !, >= or <=)",
                         (int)(len > 64 ? 64 : len), p);
            return -1;
        }
        switch (op) {
        case '!':
            exclude |= protocol_names[idx].bit;
            break;
        case '>':
            lo = idx > lo ? idx : lo;
            break;
        case '<':
            hi = idx < hi ? idx : hi;
            break;
        default:
            include |= protocol_names[idx].bit;
            break;
        }
        p += len;
    }
    enabled = (include ? include : TLS_PROTO_ALL) & ~exclude & TLS_PROTO_SUPPORTED;
    for (int i = 0; i < (int)NPROTOCOLS; i++) {
        if (i < lo || i > hi)
            enabled &= ~protocol_names[i].bit;
        if (enabled & protocol_names[i].bit) {
            if (first < 0)
                first = i;
            last = i;
        }
    }
    if (enabled == 0) {
        vstr_set_fmt(err, "\"%s\" leaves no TLS protocol enabled (supported: TLSv1 to TLSv1.3)",
                     spec);
        return -1;
    }
    out->mask = enabled;
    out->min_version = protocol_names[first].version;
    out->max_version = protocol_names[last].version;
    return 0;
}

uint64_t tls_protocols_gap_options(const tls_protocols *p)
{
    uint64_t options = 0;

    if ((p->mask & TLS_PROTO_TLSv1_1) == 0 && p->min_version < TLS1_1_VERSION &&
        p->max_version > TLS1_1_VERSION)
        options |= SSL_OP_NO_TLSv1_1;
    if ((p->mask & TLS_PROTO_TLSv1_2) == 0 && p->min_version < TLS1_2_VERSION &&
        p->max_version > TLS1_2_VERSION)
        options |= SSL_OP_NO_TLSv1_2;
    return options;
}

/* ---- Ciphers ---- */

int tls_cipher_list(const char *grade_list, const char *exclude, vstr *out, vstr *err)
{
    const char *p = exclude;

    vstr_set_str(out, grade_list);
    if (strlen(exclude) > TLS_SPEC_MAX) {
        vstr_set_fmt(err, "cipher exclusion list longer than %d bytes", TLS_SPEC_MAX);
        return -1;
    }
    for (;;) {
        size_t len;

        p += strspn(p, LIST_SEPARATORS);
        if (*p == 0)
            break;
        len = strcspn(p, LIST_SEPARATORS);
        /* A name or a class ("aNULL", "DES-CBC3-SHA", "kRSA", "RC4+SHA"):
         * nothing that could change the list's meaning (!, @, -). */
        for (size_t i = 0; i < len; i++) {
            char c = p[i];

            if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_' || c == '.' || c == '+') ||
                (i == 0 && c == '-')) {
                vstr_set_fmt(err, "bad cipher exclusion \"%.*s\"", (int)(len > 64 ? 64 : len), p);
                return -1;
            }
        }
        vstr_append_str(out, ":!");
        vstr_append(out, p, len);
        p += len;
    }
    return 0;
}

void tls_params_from_config(tls_params *p, config *cfg, const char *prefix, int mandatory)
{
    vstr name = VSTR_INIT;
    const char *grade;

    memset(p, 0, sizeof(*p));
    vstr_init(&p->exclude_buf);
    vstr_set_fmt(&name, "%s_tls_%sprotocols", prefix, mandatory ? "mandatory_" : "");
    p->protocols = config_str(cfg, vstr_str(&name));
    vstr_set_fmt(&name, "%s_tls_%sciphers", prefix, mandatory ? "mandatory_" : "");
    grade = config_str(cfg, vstr_str(&name));
    vstr_set_fmt(&name, "tls_%s_cipherlist", grade);
    p->grade_list = config_str(cfg, vstr_str(&name));
    vstr_set_fmt(&name, "%s_tls_exclude_ciphers", prefix);
    vstr_set_str(&p->exclude_buf, config_str(cfg, vstr_str(&name)));
    if (mandatory) {
        vstr_set_fmt(&name, "%s_tls_mandatory_exclude_ciphers", prefix);
        vstr_append_char(&p->exclude_buf, ' ');
        vstr_append_str(&p->exclude_buf, config_str(cfg, vstr_str(&name)));
    }
    p->exclude = vstr_str(&p->exclude_buf);
    vstr_set_fmt(&name, "%s_tls_fingerprint_digest", prefix);
    p->fingerprint_digest = config_str(cfg, vstr_str(&name));
    vstr_set_fmt(&name, "%s_tls_loglevel", prefix);
    p->loglevel = (int)config_int(cfg, vstr_str(&name));
    vstr_release(&name);
}

void tls_params_release(tls_params *p)
{
    vstr_release(&p->exclude_buf);
}

/* ---- Contexts ---- */

/* OpenSSL's queued errors as one text ("reason; reason"), queue emptied. */
static void openssl_errors(vstr *out)
{
    unsigned long e;
    char buf[256];

    while ((e = ERR_get_error()) != 0) {
        ERR_error_string_n(e, buf, sizeof(buf));
        if (vstr_len(out))
            vstr_append_str(out, "; ");
        vstr_append_str(out, buf);
    }
}

/* err = "what: OpenSSL's reasons". */
static void openssl_fail(vstr *err, const char *what)
{
    vstr reasons = VSTR_INIT;

    openssl_errors(&reasons);
    vstr_set_fmt(err, "%s%s%s", what, vstr_len(&reasons) ? ": " : "", vstr_str(&reasons));
    vstr_release(&reasons);
}

/* Client certificates are asked for, never required: accept whatever the
 * chain looks like and let tls_conn_peer_verified report the result. */
static int accept_any_cert(int ok, X509_STORE_CTX *store)
{
    (void)ok;
    (void)store;
    return 1;
}

tls_ctx *tls_ctx_new(tls_role role, const tls_params *p, vstr *err)
{
    tls_protocols protos;
    vstr ciphers = VSTR_INIT, why = VSTR_INIT;
    const EVP_MD *digest;
    SSL_CTX *sc;
    tls_ctx *ctx;

    OPENSSL_init_ssl(0, NULL);
    if (tls_protocols_parse(p->protocols, &protos, &why) < 0) {
        vstr_set_fmt(err, "TLS protocols: %s", vstr_str(&why));
        vstr_release(&why);
        return NULL;
    }
    if ((digest = EVP_get_digestbyname(p->fingerprint_digest)) == NULL) {
        vstr_set_fmt(err, "unknown fingerprint digest \"%s\"", p->fingerprint_digest);
        vstr_release(&why);
        return NULL;
    }
    if (tls_cipher_list(p->grade_list, p->exclude, &ciphers, &why) < 0) {
        vstr_set_fmt(err, "TLS ciphers: %s", vstr_str(&why));
        vstr_release(&why);
        vstr_release(&ciphers);
        return NULL;
    }
    if (role == TLS_ROLE_SERVER)
        vstr_append_str(&ciphers, ":!aNULL");
    sc = SSL_CTX_new(role == TLS_ROLE_SERVER ? TLS_server_method() : TLS_client_method());
    if (sc == NULL) {
        openssl_fail(err, "cannot create a TLS context");
        vstr_release(&ciphers);
        vstr_release(&why);
        return NULL;
    }
    if (!SSL_CTX_set_min_proto_version(sc, protos.min_version) ||
        !SSL_CTX_set_max_proto_version(sc, protos.max_version)) {
        openssl_fail(err, "cannot set the TLS protocol range");
        goto fail;
    }
    SSL_CTX_set_options(sc, tls_protocols_gap_options(&protos));
    if (SSL_CTX_set_cipher_list(sc, vstr_str(&ciphers)) != 1) {
        vstr_set_fmt(&why, "no usable cipher in \"%s\"", vstr_str(&ciphers));
        openssl_fail(err, vstr_str(&why));
        goto fail;
    }
    SSL_CTX_set_options(sc, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_set_mode(sc, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (role == TLS_ROLE_SERVER) {
        SSL_CTX_set_options(sc, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_TICKET);
        SSL_CTX_set_num_tickets(sc, 0);
        SSL_CTX_set_session_cache_mode(sc, SSL_SESS_CACHE_OFF);
        SSL_CTX_set_dh_auto(sc, 1);
    } else {
        SSL_CTX_set_verify(sc, SSL_VERIFY_NONE, NULL);
    }
    vstr_release(&ciphers);
    vstr_release(&why);
    ctx = mem_calloc(1, sizeof(*ctx));
    ctx->ssl_ctx = sc;
    ctx->role = role;
    ctx->digest = digest;
    return ctx;

fail:
    vstr_release(&ciphers);
    vstr_release(&why);
    SSL_CTX_free(sc);
    return NULL;
}

void tls_ctx_free(tls_ctx *ctx)
{
    if (ctx == NULL)
        return;
    SSL_CTX_free(ctx->ssl_ctx);
    tls_tickets_free(ctx->tickets);
    mem_free(ctx);
}

struct ssl_ctx_st *tls_ctx_ssl_ctx(tls_ctx *ctx)
{
    return ctx->ssl_ctx;
}

/* One certificate chain and its key; both may be in the same file. */
static int load_pair(tls_ctx *ctx, const char *cert, const char *key, vstr *err)
{
    vstr what = VSTR_INIT;
    int status = -1;

    ERR_clear_error();
    if (SSL_CTX_use_certificate_chain_file(ctx->ssl_ctx, cert) != 1) {
        vstr_set_fmt(&what, "cannot load certificate chain from %s", cert);
        openssl_fail(err, vstr_str(&what));
    } else if (SSL_CTX_use_PrivateKey_file(ctx->ssl_ctx, key, SSL_FILETYPE_PEM) != 1) {
        vstr_set_fmt(&what, "cannot load private key from %s", key);
        openssl_fail(err, vstr_str(&what));
    } else if (SSL_CTX_check_private_key(ctx->ssl_ctx) != 1) {
        vstr_set_fmt(&what, "private key in %s does not match the certificate in %s", key, cert);
        openssl_fail(err, vstr_str(&what));
    } else {
        ctx->has_key = 1;
        status = 0;
    }
    vstr_release(&what);
    return status;
}

int tls_ctx_load_keys(tls_ctx *ctx, const char *chain_files, const char *cert, const char *key,
                      const char *eccert, const char *eckey, vstr *err)
{
    if (*chain_files) {
        argv_t *files = argv_split(chain_files, LIST_SEPARATORS);
        int status = 0;

        for (size_t i = 0; i < files->argc && status == 0; i++)
            status = load_pair(ctx, files->argv[i], files->argv[i], err);
        argv_free(files);
        return status;
    }
    if (*cert && load_pair(ctx, cert, *key ? key : cert, err) < 0)
        return -1;
    if (*eccert && load_pair(ctx, eccert, *eckey ? eckey : eccert, err) < 0)
        return -1;
    return 0;
}

int tls_ctx_has_key(const tls_ctx *ctx)
{
    return ctx->has_key;
}

int tls_ctx_load_CA(tls_ctx *ctx, const char *CAfile, const char *CApath, vstr *err)
{
    vstr what = VSTR_INIT;

    if (*CAfile == 0 && *CApath == 0)
        return 0;
    ERR_clear_error();
    if (SSL_CTX_load_verify_locations(ctx->ssl_ctx, *CAfile ? CAfile : NULL,
                                      *CApath ? CApath : NULL) != 1) {
        vstr_set_fmt(&what, "cannot load CA certificates from %s%s%s", CAfile,
                     *CAfile && *CApath ? " and " : "", CApath);
        openssl_fail(err, vstr_str(&what));
        vstr_release(&what);
        return -1;
    }
    /* A server names its CAs to clients choosing a certificate. */
    if (ctx->role == TLS_ROLE_SERVER && *CAfile) {
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(CAfile);

        if (names != NULL)
            SSL_CTX_set_client_CA_list(ctx->ssl_ctx, names);
    }
    vstr_release(&what);
    return 0;
}

void tls_ctx_ask_client_cert(tls_ctx *ctx, int depth)
{
    SSL_CTX_set_verify(ctx->ssl_ctx, SSL_VERIFY_PEER | SSL_VERIFY_CLIENT_ONCE, accept_any_cert);
    SSL_CTX_set_verify_depth(ctx->ssl_ctx, depth);
}

void tls_ctx_require_client_cert(tls_ctx *ctx, int depth)
{
    SSL_CTX_set_verify(ctx->ssl_ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    SSL_CTX_set_verify_depth(ctx->ssl_ctx, depth);
}

static int ticket_key_cb(SSL *ssl, unsigned char key_name[16], unsigned char *iv,
                         EVP_CIPHER_CTX *cipher_ctx, EVP_MAC_CTX *mac_ctx, int enc)
{
    tls_ctx *ctx = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));

    return tls_tickets_callback(ctx->tickets, key_name, iv, cipher_ctx, mac_ctx, enc);
}

int tls_ctx_enable_tickets(tls_ctx *ctx, const char *key_file, int lifetime_s,
                           const char *id_context, vstr *err)
{
    size_t len = strlen(id_context);

    if (ctx->role != TLS_ROLE_SERVER || lifetime_s <= 0)
        msg_panic("tls_ctx_enable_tickets: not a server or no lifetime");
    if (len > SSL_MAX_SID_CTX_LENGTH)
        len = SSL_MAX_SID_CTX_LENGTH;
    ERR_clear_error();
    if (SSL_CTX_set_session_id_context(ctx->ssl_ctx, (const unsigned char *)id_context,
                                       (unsigned)len) != 1 ||
        SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx->ssl_ctx, ticket_key_cb) != 1) {
        openssl_fail(err, "cannot enable session tickets");
        return -1;
    }
    tls_tickets_free(ctx->tickets);
    ctx->tickets = tls_tickets_new(key_file, lifetime_s);
    SSL_CTX_set_app_data(ctx->ssl_ctx, ctx);
    SSL_CTX_clear_options(ctx->ssl_ctx, SSL_OP_NO_TICKET);
    SSL_CTX_set_num_tickets(ctx->ssl_ctx, 1);
    SSL_CTX_set_timeout(ctx->ssl_ctx, (long)lifetime_s);
    return 0;
}

/* ---- Sessions ---- */

/* OpenSSL's answer to a failed call, in vstream's terms: -1 with errno
 * EAGAIN and *want, 0 at a clean or abrupt end of input, -1 with EPROTO. */
static ssize_t io_result(tls_conn *c, int ret, int *want)
{
    int err = SSL_get_error(c->ssl, ret);

    switch (err) {
    case SSL_ERROR_WANT_READ:
        *want = POLLIN;
        errno = EAGAIN;
        return -1;
    case SSL_ERROR_WANT_WRITE:
        *want = POLLOUT;
        errno = EAGAIN;
        return -1;
    case SSL_ERROR_ZERO_RETURN:
        return 0;
    case SSL_ERROR_SYSCALL:
        if (ERR_peek_error() == 0) {
            /* The peer closed without close_notify, or the socket failed. */
            if (errno == 0)
                return 0;
            vstr_set_str(&c->error, strerror(errno));
            return -1;
        }
        /* FALLTHROUGH */
    default:
        vstr_reset(&c->error);
        openssl_errors(&c->error);
        errno = EPROTO;
        return -1;
    }
}

static ssize_t tls_read(void *context, int fd, void *buf, size_t len, int *want)
{
    tls_conn *c = context;
    size_t got = 0;
    int ret;

    (void)fd;
    ERR_clear_error();
    errno = 0;
    ret = SSL_read_ex(c->ssl, buf, len, &got);
    if (ret == 1)
        return (ssize_t)got;
    return io_result(c, ret, want);
}

static ssize_t tls_write(void *context, int fd, const void *buf, size_t len, int *want)
{
    tls_conn *c = context;
    size_t put = 0;
    int ret;

    (void)fd;
    ERR_clear_error();
    errno = 0;
    ret = SSL_write_ex(c->ssl, buf, len, &put);
    if (ret == 1)
        return (ssize_t)put;
    if (io_result(c, ret, want) == 0) {
        errno = EPIPE; /* the peer ended the session: nothing more can go */
        return -1;
    }
    return -1;
}

static ssize_t dead_read(void *context, int fd, void *buf, size_t len, int *want)
{
    (void)context, (void)fd, (void)buf, (void)len, (void)want;
    errno = EPIPE;
    return -1;
}

static ssize_t dead_write(void *context, int fd, const void *buf, size_t len, int *want)
{
    (void)context, (void)fd, (void)buf, (void)len, (void)want;
    errno = EPIPE;
    return -1;
}

tls_conn *tls_conn_new(tls_ctx *ctx, vstream *stream)
{
    int fd = vstream_fd(stream);
    int flags = fcntl(fd, F_GETFL);
    tls_conn *c;

    if (vstream_read_pending(stream) > 0)
        msg_panic("tls_conn_new: %zu bytes of plaintext still buffered",
                  vstream_read_pending(stream));
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
        msg_fatal("tls_conn_new: cannot make descriptor %d non-blocking: %m", fd);
    c = mem_calloc(1, sizeof(*c));
    vstr_init(&c->error);
    c->ctx = ctx;
    c->stream = stream;
    if ((c->ssl = SSL_new(ctx->ssl_ctx)) == NULL || SSL_set_fd(c->ssl, fd) != 1)
        msg_fatal("tls_conn_new: cannot create a TLS session");
    return c;
}

struct ssl_st *tls_conn_ssl(tls_conn *c)
{
    return c->ssl;
}

/* Wait for events on fd until deadline (0: none). 0, or -1 on timeout. */
static int wait_until(int fd, int events, int64_t deadline)
{
    for (;;) {
        struct pollfd pfd = {.fd = fd, .events = (short)events};
        int wait_ms = -1, n;

        if (deadline) {
            int64_t left = deadline - clock_mono_ms();

            if (left <= 0)
                return -1;
            wait_ms = left > INT_MAX ? INT_MAX : (int)left;
        }
        n = poll(&pfd, 1, wait_ms);
        if (n > 0)
            return 0;
        if (n < 0 && errno != EINTR)
            return -1;
    }
}

int tls_conn_handshake(tls_conn *c, int timeout_ms, vstr *err)
{
    int fd = vstream_fd(c->stream);
    int64_t deadline;

    if (timeout_ms <= 0)
        timeout_ms = vstream_timeout(c->stream);
    deadline = timeout_ms > 0 ? clock_mono_ms() + timeout_ms : 0;
    if (vstream_flush(c->stream) < 0) {
        vstr_set_fmt(err, "cannot send before the handshake: %s", strerror(errno));
        return -1;
    }
    for (;;) {
        int want = 0, ret;

        ERR_clear_error();
        errno = 0;
        ret = c->ctx->role == TLS_ROLE_SERVER ? SSL_accept(c->ssl) : SSL_connect(c->ssl);
        if (ret == 1)
            break;
        if (io_result(c, ret, &want) < 0 && errno == EAGAIN) {
            if (wait_until(fd, want, deadline) < 0) {
                vstr_set_str(err, "timeout during the TLS handshake");
                return -1;
            }
            continue;
        }
        if (vstr_len(&c->error))
            vstr_set_fmt(err, "TLS handshake failed: %s", vstr_str(&c->error));
        else
            vstr_set_str(err, "lost connection during the TLS handshake");
        return -1;
    }
    c->established = 1;
    vstream_set_io(c->stream, tls_read, tls_write, c);
    return 0;
}

const char *tls_conn_protocol(tls_conn *c)
{
    return SSL_get_version(c->ssl);
}

const char *tls_conn_cipher(tls_conn *c)
{
    return SSL_CIPHER_get_name(SSL_get_current_cipher(c->ssl));
}

int tls_conn_cipher_bits(tls_conn *c)
{
    return SSL_CIPHER_get_bits(SSL_get_current_cipher(c->ssl), NULL);
}

void tls_conn_summary(tls_conn *c, vstr *out)
{
    const SSL_CIPHER *cipher = SSL_get_current_cipher(c->ssl);
    int alg_bits = 0;
    int bits = SSL_CIPHER_get_bits(cipher, &alg_bits);

    vstr_set_fmt(out, "%s with cipher %s (%d/%d bits)", SSL_get_version(c->ssl),
                 SSL_CIPHER_get_name(cipher), bits, alg_bits);
}

int tls_conn_peer_has_cert(tls_conn *c)
{
    X509 *cert = SSL_get1_peer_certificate(c->ssl);

    X509_free(cert);
    return cert != NULL;
}

int tls_conn_peer_verified(tls_conn *c)
{
    return tls_conn_peer_has_cert(c) && SSL_get_verify_result(c->ssl) == X509_V_OK;
}

int tls_conn_peer_fingerprint(tls_conn *c, vstr *out)
{
    X509 *cert = SSL_get1_peer_certificate(c->ssl);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;

    vstr_reset(out);
    if (cert == NULL)
        return 0;
    if (X509_digest(cert, c->ctx->digest, md, &len) != 1)
        msg_fatal("cannot compute a certificate fingerprint");
    X509_free(cert);
    for (unsigned int i = 0; i < len; i++)
        vstr_append_fmt(out, "%s%02X", i ? ":" : "", md[i]);
    return 1;
}

/* The common name of an X509 name, "" if it has none. */
static void common_name(X509_NAME *name, vstr *out)
{
    char buf[256];

    vstr_reset(out);
    if (name != NULL && X509_NAME_get_text_by_NID(name, NID_commonName, buf, sizeof(buf)) > 0)
        vstr_set_str(out, buf);
}

void tls_conn_peer_names(tls_conn *c, vstr *subject_cn, vstr *issuer_cn)
{
    X509 *cert = SSL_get1_peer_certificate(c->ssl);

    common_name(cert ? X509_get_subject_name(cert) : NULL, subject_cn);
    common_name(cert ? X509_get_issuer_name(cert) : NULL, issuer_cn);
    X509_free(cert);
}

const char *tls_conn_error(const tls_conn *c)
{
    return vstr_str(&c->error);
}

void tls_conn_free(tls_conn *c)
{
    if (c == NULL)
        return;
    if (c->established) {
        (void)vstream_flush(c->stream);
        ERR_clear_error();
        (void)SSL_shutdown(c->ssl);
    }
    vstream_set_io(c->stream, dead_read, dead_write, NULL);
    SSL_free(c->ssl);
    ERR_clear_error();
    vstr_release(&c->error);
    mem_free(c);
}
