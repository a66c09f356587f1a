/*
 * smtpd_policy - check_policy_service: ask a policy server (Postfix's
 * SMTPD_POLICY_README protocol) and act on its answer
 *
 * DESCRIPTION
 *   check_policy_service SERVER, where SERVER is unix:PATH, inet:HOST:PORT,
 *   HOST:PORT or PATH; a relative PATH is below queue_directory
 *   (unix:private/policy). The request (smtpd_policy.h) describes the
 *   session and the command; the reply's action is an access(5) action,
 *   applied as check_*_access applies a table's (smtpd_access.c), naming
 *   the subject of the current list ("<rcpt>: Recipient address
 *   rejected: text").
 *
 *   One connection per server per smtpd process, reused by later
 *   requests and sessions: closed after smtpd_policy_service_max_idle
 *   unused, smtpd_policy_service_max_ttl after it was made, after
 *   smtpd_policy_service_request_limit requests (0: no limit), after any
 *   failure, and when the server has closed it meanwhile (found before
 *   the request is sent: no failure, no retry). A request (connect, write, read the reply) takes at most
 *   smtpd_policy_service_timeout; a failure is logged and the request is
 *   tried again on a new connection, smtpd_policy_service_try_limit tries
 *   in all, smtpd_policy_service_retry_delay apart. When every try fails
 *   the action is smtpd_policy_service_default_action.
 *
 *   "instance" is the same for every request of one message (from the
 *   first request until the transaction ends), and new for the next.
 *   "size" is MAIL's SIZE= (0 without it); "policy_context" is
 *   smtpd_policy_service_policy_context; sasl_sender and stress are
 *   sent empty (not kept here).
 */
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "global/tls.h"
#include "smtpd/smtpd_check.h"
#include "smtpd/smtpd_policy.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/sock.h"

/* A server's connection, kept between requests. */
typedef struct policy_conn {
    char *server;
    vstream *stream; /* NULL: not connected */
    time_t opened, used;
    long long requests;
} policy_conn;

static struct {
    int timeout_ms;
    long long max_idle, max_ttl, request_limit, try_limit, retry_delay;
    char *default_action;
    const char *policy_context; /* smtpd_policy_service_policy_context */
    const char *queue_dir;
} pol;

static policy_conn *conns;
static size_t nconns;
static unsigned long instance_seq;
static time_t process_start;

void check_policy_init(config *cfg)
{
    pol.timeout_ms = (int)config_time(cfg, "smtpd_policy_service_timeout") * 1000;
    pol.max_idle = config_time(cfg, "smtpd_policy_service_max_idle");
    pol.max_ttl = config_time(cfg, "smtpd_policy_service_max_ttl");
    pol.request_limit = config_int(cfg, "smtpd_policy_service_request_limit");
    pol.try_limit = config_int(cfg, "smtpd_policy_service_try_limit");
    pol.retry_delay = config_time(cfg, "smtpd_policy_service_retry_delay");
    pol.default_action = mem_strdup(config_str(cfg, "smtpd_policy_service_default_action"));
    pol.queue_dir = config_str(cfg, "queue_directory");
    pol.policy_context = config_str(cfg, "smtpd_policy_service_policy_context");
    process_start = time(NULL);
}

static void conn_close(policy_conn *c)
{
    if (c->stream != NULL)
        (void)vstream_close(c->stream);
    c->stream = NULL;
}

void check_policy_free(void)
{
    for (size_t i = 0; i < nconns; i++) {
        conn_close(&conns[i]);
        mem_free(conns[i].server);
    }
    mem_free(conns);
    conns = NULL;
    nconns = 0;
    mem_free(pol.default_action);
    pol.default_action = NULL;
}

static policy_conn *conn_find(const char *server)
{
    for (size_t i = 0; i < nconns; i++)
        if (strcmp(conns[i].server, server) == 0)
            return &conns[i];
    conns = mem_realloc(conns, (nconns + 1) * sizeof(*conns));
    memset(&conns[nconns], 0, sizeof(*conns));
    conns[nconns].server = mem_strdup(server);
    return &conns[nconns++];
}

/* Connect to server (its forms are above); the descriptor or -1. */
static int server_connect(const char *server, vstr *err)
{
    vstr path = VSTR_INIT;
    const char *colon = strchr(server, ':');
    int fd;

    if (strncmp(server, "inet:", 5) == 0)
        return sock_connect_inet(server + 5, pol.timeout_ms, err);
    if (strncmp(server, "unix:", 5) == 0)
        server += 5;
    else if (colon != NULL && strchr(server, '/') == NULL)
        return sock_connect_inet(server, pol.timeout_ms, err);
    if (server[0] == '/')
        vstr_set_str(&path, server);
    else
        vstr_set_fmt(&path, "%s/%s", pol.queue_dir, server);
    fd = sock_connect_unix(vstr_str(&path), pol.timeout_ms, err);
    vstr_release(&path);
    return fd;
}

/* Has the server hung up (or sent something unasked) since the last
 * reply? Then the connection is not to be used again. */
static int conn_dropped(const policy_conn *c)
{
    struct pollfd p = {.fd = vstream_fd(c->stream), .events = POLLIN};

    return vstream_read_pending(c->stream) > 0 || poll(&p, 1, 0) != 0;
}

/* Is a kept connection still to be used? */
static int conn_fresh(const policy_conn *c, time_t now)
{
    return c->stream != NULL && now - c->used < pol.max_idle && now - c->opened < pol.max_ttl &&
           (pol.request_limit <= 0 || c->requests < pol.request_limit) && !conn_dropped(c);
}

/* Send req and read the reply's action: 0, or -1 with why. */
static int query(policy_conn *c, const vstr *req, vstr *action, vstr *why)
{
    time_t now = time(NULL);
    vstr line = VSTR_INIT;
    policy_reply r;
    int st = 0;
    int fd;

    if (!conn_fresh(c, now))
        conn_close(c);
    if (c->stream == NULL) {
        if ((fd = server_connect(c->server, why)) < 0)
            return -1;
        (void)sock_set_cloexec(fd, 1);
        c->stream = vstream_fdopen(fd, VSTREAM_READ | VSTREAM_WRITE);
        vstream_set_timeout(c->stream, pol.timeout_ms);
        c->opened = now;
        c->requests = 0;
    }
    c->used = now;
    c->requests++;
    policy_reply_init(&r);
    vstream_begin_deadline(c->stream, pol.timeout_ms);
    if (vstream_write(c->stream, vstr_str(req), vstr_len(req)) < 0 ||
        vstream_flush(c->stream) < 0) {
        vstr_set_str(why, vstream_timed_out(c->stream) ? "timeout while sending the request"
                                                       : "cannot send the request");
        st = -1;
    }
    while (st == 0) {
        vstream_status rs = vstream_get_line(c->stream, &line, POLICY_LINE_MAX + 2);

        if (rs == VSTREAM_OK || rs == VSTREAM_TOOLONG) {
            size_t len = vstr_len(&line);

            if (rs == VSTREAM_OK && len > 0 && vstr_str(&line)[len - 1] == '\n')
                len--;
            st = policy_reply_line(&r, vstr_str(&line), len, why);
        } else {
            vstr_set_str(why, rs == VSTREAM_TIMEOUT ? "timeout while reading the reply"
                              : rs == VSTREAM_EOF   ? "the server closed the connection"
                                                    : "cannot read the reply");
            st = -1;
        }
    }
    vstream_end_deadline(c->stream);
    if (st == 1)
        vstr_set(action, vstr_str(&r.action), vstr_len(&r.action));
    else
        conn_close(c); /* the reply's rest, if any, is not to be read as the next one */
    policy_reply_release(&r);
    vstr_release(&line);
    return st == 1 ? 0 : -1;
}

static void add_int(vstr *req, const char *name, long long n)
{
    char buf[32];

    snprintf(buf, sizeof(buf), "%lld", n);
    policy_request_add(req, name, buf);
}

/* The TLS attributes: empty without TLS, as Postfix sends them. */
static void add_tls(vstr *req, smtpd_state *s)
{
    int on = s->tls_active && s->tls != NULL;

    vstr subject = VSTR_INIT, issuer = VSTR_INIT;

    if (on)
        tls_conn_peer_names(s->tls, &subject, &issuer);
    policy_request_add(req, "ccert_subject", vstr_str(&subject));
    policy_request_add(req, "ccert_issuer", vstr_str(&issuer));
    vstr_release(&subject);
    vstr_release(&issuer);
    policy_request_add(req, "ccert_fingerprint", vstr_str(&s->tls_ccert_fingerprint));
    policy_request_add(req, "ccert_pubkey_fingerprint", "");
    policy_request_add(req, "encryption_protocol", on ? tls_conn_protocol(s->tls) : "");
    policy_request_add(req, "encryption_cipher", on ? tls_conn_cipher(s->tls) : "");
    if (on)
        add_int(req, "encryption_keysize", tls_conn_cipher_bits(s->tls));
    else
        policy_request_add(req, "encryption_keysize", "0");
}

/* The request for this command, ended by its empty line. */
static void build_request(check_ctx *x, vstr *req)
{
    smtpd_state *s = x->s;
    vstr local = VSTR_INIT, instance = VSTR_INIT;
    int local_port = 0;

    if (s->policy_instance == 0)
        s->policy_instance = ++instance_seq;
    vstr_set_fmt(&instance, "%lx.%llx.%lx", (unsigned long)getpid(), (long long)process_start,
                 s->policy_instance);
    if (sock_local_addr(vstream_fd(s->client), &local, &local_port) < 0)
        vstr_set_str(&local, "");
    policy_request_add(req, "request", "smtpd_access_policy");
    policy_request_add(req, "protocol_state", x->cmd);
    policy_request_add(req, "protocol_name", s->protocol);
    policy_request_add(req, "helo_name", x->helo ? x->helo : vstr_str(&s->helo));
    policy_request_add(req, "queue_id", s->cleanup ? cleanup_id(s->cleanup) : "");
    policy_request_add(req, "sender", x->sender ? x->sender : "");
    policy_request_add(req, "recipient", x->rcpt ? x->rcpt : "");
    add_int(req, "recipient_count", s->rcpt_count);
    policy_request_add(req, "client_address", vstr_str(&s->addr));
    policy_request_add(req, "client_name", vstr_str(&s->name));
    policy_request_add(req, "reverse_client_name", vstr_str(&s->reverse_name));
    add_int(req, "client_port", s->port);
    policy_request_add(req, "server_address", vstr_str(&local));
    add_int(req, "server_port", local_port);
    policy_request_add(req, "instance", vstr_str(&instance));
    policy_request_add(req, "sasl_method", vstr_str(&s->sasl_method));
    policy_request_add(req, "sasl_username", vstr_str(&s->sasl_username));
    policy_request_add(req, "sasl_sender", "");
    add_int(req, "size", s->mail_size);
    add_tls(req, s);
    policy_request_add(req, "etrn_domain", "");
    policy_request_add(req, "stress", "");
    policy_request_add(req, "policy_context", pol.policy_context);
    vstr_append_char(req, '\n');
    vstr_release(&local);
    vstr_release(&instance);
}

check_result check_policy_service(check_ctx *x, const check_item *it)
{
    policy_conn *c = conn_find(it->arg);
    vstr req = VSTR_INIT, action = VSTR_INIT, why = VSTR_INIT;
    check_result res;
    int ok = -1;

    build_request(x, &req);
    for (long long try = 0; ok < 0 && try < (pol.try_limit > 0 ? pol.try_limit : 1); try++) {
        if (try > 0 && pol.retry_delay > 0)
            sleep((unsigned)pol.retry_delay);
        if ((ok = query(c, &req, &action, &why)) < 0)
            msg_warn("problem talking to policy server %s: %s", it->arg, vstr_str(&why));
    }
    if (ok < 0) {
        msg_warn("policy server %s: no answer; using smtpd_policy_service_default_action \"%s\"",
                 it->arg, pol.default_action);
        vstr_set_str(&action, pol.default_action);
    }
    res = check_access_result(x, vstr_str(&action), x->reply_name, x->reply_class);
    vstr_release(&req);
    vstr_release(&action);
    vstr_release(&why);
    return res;
}
