/*
 * smtp - the SMTP and LMTP delivery agent's shared state
 *
 * DESCRIPTION
 *   smtp.c reads a request from qmgr (global/deliver_request) and opens
 *   the queue file; smtp_addr.c turns the next hop into a list of server
 *   addresses (MX, A/AAAA, a literal, or a UNIX-domain socket for LMTP);
 *   smtp_proto.c tries them in turn and runs one session: greeting,
 *   EHLO/LHLO, STARTTLS by the next hop's TLS policy (smtp_tls.c), AUTH
 *   when a password is known (smtp_sasl.c), MAIL, RCPT, DATA, QUIT,
 *   reading replies with smtp_reply.c and sending the content with
 *   smtp_data.c; smtp_result.c logs and
 *   answers each recipient. A session that ended cleanly is kept open
 *   for the next request to the same next hop (smtp_proto.c, "Connection
 *   reuse"). See man/man8/smtp.8.
 */
#ifndef SMTP_SMTP_H
#define SMTP_SMTP_H

#include <sys/socket.h>

#include "global/config.h"
#include "global/deliver_request.h"
#include "global/dns.h"
#include "global/delivery_log.h"
#include "global/queue_file.h"
#include "global/tls_client.h"
#include "util/vstr.h"
#include "util/vstream.h"

/* Longest reply line kept, and most lines in one reply. */
#define SMTP_REPLY_LINE_MAX 2048
#define SMTP_REPLY_LINES_MAX 100
/* Bound on content lines read from the queue file at once. */
#define SMTP_CONTENT_BOUND (64 * 1024)

typedef struct smtp_config {
    config *cfg;
    int lmtp; /* the service is lmtp */
    const char *queue_directory;
    const char *helo_name;
    const char *myhostname; /* an MX list that names it loops back to us */
    const char *default_port;
    int address_preference; /* AF_INET, AF_INET6 or AF_UNSPEC */
    int inet_protocols;     /* AF_INET, AF_INET6 or AF_UNSPEC */
    int never_send_ehlo;
    int skip_5xx_greeting;
    const char *fallback_relay; /* next hops tried after the destination's */
    long long mx_address_limit;
    /* Time limits in milliseconds. */
    int connect_timeout;
    int helo_timeout;
    int mail_timeout;
    int rcpt_timeout;
    int data_init_timeout;
    int data_xfer_timeout;
    int data_done_timeout;
    int quit_timeout;
    int starttls_timeout;
    int tls_wrappermode;         /* TLS from the first byte (port 465), not STARTTLS */
    int tls_note_starttls_offer; /* log servers offering STARTTLS we do not use */
    /* Connection reuse (smtp_proto.c). Limits in milliseconds. */
    int cache_on_demand;
    int cache_time_limit;
    int reuse_time_limit;
    long long reuse_count_limit; /* 0: no limit */
} smtp_config;

extern smtp_config smtp_cf;

/* ---- Next hop (smtp_addr.c) ---- */

typedef struct smtp_server {
    char *host; /* its name, for relay= and Remote-MTA */
    struct sockaddr_storage sa;
    socklen_t salen;
    char *path; /* a UNIX-domain socket (LMTP); NULL for inet */
    int dnssec; /* its MX and address records were DNSSEC-validated */
} smtp_server;

typedef struct smtp_servers {
    smtp_server *list;
    size_t count;
} smtp_servers;

/* Outcome of resolving a next hop. */
typedef enum smtp_addr_status {
    SMTP_ADDR_OK = 0,
    SMTP_ADDR_RETRY, /* a temporary failure: defer */
    SMTP_ADDR_FAIL,  /* permanent: bounce with the dsn set */
} smtp_addr_status;

/* Servers for nexthop in the order to try them; on failure dsn (16 bytes)
 * and why say what happened. */
smtp_addr_status smtp_addr_resolve(const char *nexthop, smtp_servers *out, char *dsn, vstr *why);
/* Append the servers of each smtp_fallback_relay next hop (those that
 * resolve; the others are logged and skipped). */
void smtp_addr_add_fallback(smtp_servers *out);
void smtp_servers_free(smtp_servers *s);
/* "host[addr]:port" or "host[path]" for logs. */
void smtp_server_text(const smtp_server *s, vstr *out);

/* ---- One request ---- */

typedef struct smtp_rcpt_state {
    char dsn[16];
    vstr reason;  /* for the log and qmgr */
    int done;     /* has its final result */
    int accepted; /* RCPT got 2xx (waiting for the data result) */
} smtp_rcpt_state;

typedef struct smtp_request {
    deliver_request req;
    vstream *client; /* to qmgr */
    queue_reader *reader;
    const queue_envelope *env;
    smtp_rcpt_state *rs;
    delivery_log_times times;
    const smtp_server *server; /* the one we talk to, NULL before */
    vstr relay;                /* host[addr]:port, "none" before a connection */
    int server_dsn;            /* the server offered DSN */
    int conn_use;              /* requests the session has carried, this one included */
    int qmgr_lost;             /* a reply to qmgr failed */
    tls_policy tls;            /* for this next hop (smtp_tls.c) */
    int tls_plain;             /* may: the handshake failed, this server again without */
    dns_answer tlsa_answer;    /* DANE: the server's TLSA records, */
    tls_tlsa *tlsa;            /* the usable ones (pointing into it) */
    size_t tlsa_count;
} smtp_request;

/* ---- TLS (smtp_tls.c) ---- */

/* Contexts and policy tables, before the chroot; fatal when unusable. */
void smtp_tls_init(config *cfg);
/* The TLS policy for nexthop into out (made with tls_policy_init): 0; -1 with
 * why when the table failed or the entry is bad (defer 4.3.0); -2 with
 * why for a level this client cannot give (defer 4.7.5). */
int smtp_tls_policy(const char *nexthop, tls_policy *out, vstr *why);
/* The level r's policy gives its current server srv: the policy's own,
 * or for dane and dane-only what srv's TLSA records allow (may, encrypt,
 * or dane-only meaning "authenticate by the TLSA records kept in r").
 * 0, or -1 with why when srv cannot be used (4.7.5). */
int smtp_tls_server_level(smtp_request *r, const smtp_server *srv, tls_level *level, vstr *why);
/* Free the TLSA records kept in r. */
void smtp_tls_server_release(smtp_request *r);
/* STARTTLS was accepted on s: the handshake at level (from
 * smtp_tls_server_level) with r's policy (SNI, names, protocols,
 * ciphers, TLSA records), the "... TLS connection established" log line,
 * and the peer's trust. The session, or NULL with why (s is then
 * unusable). */
tls_conn *smtp_tls_handshake(smtp_request *r, vstream *s, tls_level level, tls_trust *trust,
                             vstr *why);

/* ---- Replies (smtp_reply.c) ---- */

typedef struct smtp_reply {
    int code;     /* 250; 0 when none came */
    char dsn[16]; /* from the text, else derived from code */
    vstr text;    /* all lines joined with spaces */
    vstr lines;   /* the lines, each ended by \n (EHLO keywords) */
} smtp_reply;

void smtp_reply_init(smtp_reply *r);
void smtp_reply_release(smtp_reply *r);
/* Read one reply within timeout_ms; 0, or -1 with why (lost, timeout,
 * garbage). */
int smtp_reply_read(vstream *s, int timeout_ms, smtp_reply *r, vstr *why);

/* ---- Content (smtp_data.c) ---- */

/* Send the message content with CRLF line ends and dot-stuffing and the
 * final dot; 0, -1 when the queue file failed (why says so), -2 when
 * the server's connection failed. */
int smtp_data_send(vstream *s, queue_reader *reader, vstr *why);

/* ---- The session (smtp_proto.c) ---- */

/* Deliver the request's recipients, trying servers in turn; every
 * recipient has a result after it. Returns 1 when no server could be
 * used (the site failed), else 0. */
int smtp_deliver(smtp_request *r, const smtp_servers *servers);

/* Deliver over the session kept from an earlier request to the same next
 * hop, if there is one and it still answers RSET with 250. 1: it was used
 * and every recipient has a result; 0: a fresh session is needed (nobody
 * has been answered). */
int smtp_deliver_cached(smtp_request *r);
/* The loop hook: QUIT the kept session once idle for
 * smtp_connection_cache_time_limit. Milliseconds until then, or -1 with
 * no session kept. */
int smtp_cache_expire(void);
/* QUIT and close the kept session, if any (before the process exits). */
void smtp_cache_close(void);

/* ---- SMTP AUTH (smtp_sasl.c) ---- */

typedef enum smtp_sasl_status {
    SMTP_SASL_NONE,   /* not needed: disabled, not offered, no password for this server */
    SMTP_SASL_OK,     /* logged in */
    SMTP_SASL_FAIL,   /* this server will not do: try the next (why says why) */
    SMTP_SASL_BOUNCE, /* a 5xx with smtp_sasl_auth_soft_bounce = no: reply decides */
    SMTP_SASL_BROKEN, /* the connection failed (why) */
} smtp_sasl_status;

/* Read the settings, open smtp_sasl_password_maps and start Cyrus
 * (before the privilege drop). */
void smtp_sasl_init(config *cfg);
void smtp_sasl_free(void);
/* Log in after EHLO when offered (the AUTH keyword's mechanisms) and a
 * password is known; encrypted: TLS is on (smtp_sasl_tls_security_options).
 * reply holds the server's last reply. */
smtp_sasl_status smtp_sasl_login(smtp_request *r, vstream *s, const char *offered, int encrypted,
                                 smtp_reply *reply, vstr *why);
/* Is the login chosen by sender (a session must not carry another
 * sender's mail)? */
int smtp_sasl_per_sender(void);

/* ---- Results (smtp_result.c) ---- */

/* Give recipient i its final result: log it and answer qmgr. diag is the
 * server's reply or NULL. */
void smtp_result(smtp_request *r, size_t i, const char *dsn, const char *diag, const char *fmt,
                 ...) __attribute__((format(printf, 5, 6)));
/* Every recipient still without a result gets this one. */
void smtp_result_rest(smtp_request *r, const char *dsn, const char *diag, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
