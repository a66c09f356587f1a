/*
 * smtpd - the SMTP server: what its files share
 *
 * DESCRIPTION
 *   One process serves one SMTP session at a time (global/server's
 *   single-client skeleton). The files, one concern each:
 *
 *     smtpd.c        settings (read once, before the privilege drop) and
 *                    the session: connect, greeting, command loop,
 *                    disconnect
 *     smtpd_peer.c   the client's name: hosts file, then reverse DNS,
 *                    forward-confirmed, under one deadline
 *     smtpd_read.c   one command line from the client: bounds, bare CR/LF
 *     smtpd_reply.c  replies: buffering for PIPELINING, error counting and
 *                    tarpit, Postfix-shaped reject log lines
 *     smtpd_cmd.c    the command table and every handler but DATA's
 *     smtpd_data.c   DATA: content to the queue file through cleanup
 *     smtpd_check.c  the restriction engine: lists, stages, classes,
 *                    warn_if_reject / defer_if_* (smtpd_check.h)
 *     smtpd_generic.c  restrictions without tables: permit, reject,
 *                    relay control, HELO and address syntax, client names
 *     smtpd_unlisted.c local and virtual recipient tables, relocated_maps
 *     smtpd_hdr_clients.c local_header_rewrite_clients (rewrite context)
 *     smtpd_domain.c   reject_unknown_{helo_hostname,sender,recipient_domain}
 *     smtpd_dnsbl.c    reject_rbl_client, reject_rhsbl_*, permit_dnswl_client
 *     smtpd_sasl.c   AUTH (Cyrus SASL through global/sasl_srv): the EHLO
 *                    keyword, the exchange, the session's login
 *     smtpd_access.c   check_*_access (smtpd_access.h: the lookup keys in
 *                    smtpd_access_keys.c, the action parser in
 *                    smtpd_access_action.c)
 *     smtpd_addr.c   MAIL FROM:/RCPT TO: argument parser (pure)
 *     smtpd_tls.c    STARTTLS and wrapper mode over global/tls
 *     smtpd_anvil.c  client connection and rate limits, counted by anvil
 */
#ifndef SMTPD_SMTPD_H
#define SMTPD_SMTPD_H

typedef struct smtpd_hdr_clients smtpd_hdr_clients;

#include <stddef.h>

#include "global/addr_find.h"
#include "global/cidr_match.h"
#include "global/cleanup.h"
#include "global/config.h"
#include "global/maps.h"
#include "global/resolve_config.h"
#include "global/sasl_srv.h"
#include "global/tls.h"
#include "util/argv.h"
#include "util/vstr.h"
#include "util/vstream.h"

/* Read once per process from main.cf (and master.cf -o). */
typedef struct smtpd_settings {
    config *cfg;
    const char *myhostname;
    vstr banner;                  /* smtpd_banner, expanded */
    long long message_size_limit; /* 0: no limit */
    size_t line_length_limit;     /* longest command line */
    long long recipient_limit;
    long long hard_error_limit, soft_error_limit;
    long long junk_command_limit;
    int error_sleep_s;
    int timeout_ms;
    int disable_vrfy;
    int forbid_unauth_pipelining;
    int helo_required;
    int peername_lookup;
    int relay_reject_code;    /* relay_domains_reject_code */
    int unknown_local_code;   /* unknown_local_recipient_reject_code */
    int unknown_virtual_code; /* unknown_virtual_mailbox_reject_code */
    int unknown_alias_code;   /* unknown_virtual_alias_reject_code */
    int non_fqdn_code;        /* non_fqdn_reject_code */
    int reject_code;          /* reject_code: the reject restriction */
    int defer_code;           /* defer_code: defer, defer_if_* */
    int invalid_hostname_code; /* invalid_hostname_reject_code */
    int unknown_client_code;  /* unknown_client_reject_code */
    int unknown_hostname_code;  /* unknown_hostname_reject_code */
    int unknown_address_code;   /* unknown_address_reject_code */
    int maps_rbl_code;          /* maps_rbl_reject_code */
    int access_map_reject_code; /* REJECT in an access table */
    int access_map_defer_code;  /* DEFER in an access table */
    int reject_unlisted_recipient; /* smtpd_reject_unlisted_recipient */
    int reject_unlisted_sender;    /* smtpd_reject_unlisted_sender */
    cidr_list *mynetworks;
    resolve_config resolve; /* the same domain classes qmgr uses */
    /* local_recipient_maps */
    int local_rcpt_check;  /* 0 when local_recipient_maps is empty */
    int local_rcpt_self;   /* unprivileged: unix:passwd.byname is self_name alone */
    char *local_rcpt_list; /* its tables (the rest of them, when local_rcpt_self) */
    maps *local_rcpt_maps; /* ... opened */
    maps *virtual_mailbox_maps;
    struct route_tables *routes; /* relocated_maps, as qmgr routes */
    addr_find_opts addr_opts; /* recipient_delimiter, owner_request_special: every address lookup */
    int privileged;  /* started as root: every account is a user */
    char *self_name; /* else only the one that runs the instance */
    /* AUTH (smtpd_sasl.c) */
    int sasl_enable;
    unsigned sasl_flags, sasl_tls_flags; /* smtpd_sasl_(tls_)security_options */
    int tls_auth_only;
    int broken_sasl_clients; /* also "AUTH=mech ..." in the EHLO reply */
    int sasl_header;         /* smtpd_sasl_authenticated_header */
    cidr_list *sasl_exceptions; /* smtpd_sasl_exceptions_networks: AUTH not announced */
    struct cleanup_checks *content_checks; /* header/body checks for cleanup */
    smtpd_hdr_clients *hdr_clients;        /* local_header_rewrite_clients */
    /* TLS (smtpd_tls.c) */
    int tls_level;         /* SMTPD_TLS_* from smtpd_tls_security_level */
    int tls_wrappermode;   /* TLS from the first byte (port 465) */
    tls_ctx *tls_ctx;      /* NULL: TLS not configured or not usable */
    char *tls_unavailable; /* TLS is required but not usable: why */
    int tls_loglevel;
    int tls_received_header;
    int tls_ask_ccert;
    int starttls_timeout_ms;
    maps *relay_clientcerts; /* fingerprints for permit_tls_clientcerts */
} smtpd_settings;

/* smtpd_tls_security_level */
enum { SMTPD_TLS_NONE, SMTPD_TLS_MAY, SMTPD_TLS_ENCRYPT };

extern smtpd_settings smtpd_cf;

/* The stages of a session a command may require (smtpd_cmd.c's table). */
enum {
    SMTPD_STAGE_ANY = 0,
    SMTPD_STAGE_NO_MAIL, /* not inside a transaction (MAIL) */
    SMTPD_STAGE_MAIL,    /* after MAIL (RCPT) */
    SMTPD_STAGE_RCPT,    /* after an accepted RCPT (DATA) */
};

typedef struct smtpd_state {
    vstream *client;
    /* The client. */
    vstr name;    /* verified reverse name, or "unknown" */
    vstr reverse_name; /* the PTR name even if not verified, or "unknown" */
    int name_status;         /* SMTPD_PEER_*: how name was found, or why not */
    int reverse_name_status; /* SMTPD_PEER_*, of reverse_name */
    vstr addr;    /* "192.0.2.1" */
    vstr namaddr; /* "name[addr]", for logs */
    int port;
    /* The session. */
    const char *where;    /* the last command, for "lost connection after X" */
    vstr helo;            /* the HELO/EHLO argument; "" before */
    const char *protocol; /* "SMTP" or "ESMTP" */
    long long error_count;
    long long junk_count;               /* NOOP, RSET, VRFY */
    int last_code;                      /* of the last reply sent */
    int quit;                           /* end the session after this reply */
    unsigned cmd_total[16], cmd_ok[16]; /* per command table entry, for the disconnect line */
    unsigned unknown_total;
    int ill_pipelining; /* sent commands ahead where it may not (reject_unauth_pipelining) */
    int access_denied;  /* smtpd_client_restrictions refused the connection */
    struct anvil_client *anvil; /* the session's connection to anvil, or NULL */
    /* With smtpd_delay_reject = no: a defer_if_permit of the client, HELO
     * and sender stages waits for RCPT, as in Postfix ("" when none). */
    vstr defer_client, defer_helo, defer_sender;
    /* AUTH (smtpd_sasl.c) */
    sasl_srv *sasl;     /* made at EHLO when AUTH is offered */
    vstr sasl_method;   /* "" until authenticated */
    vstr sasl_username; /* "" until authenticated */
    /* TLS: set once the handshake (STARTTLS or wrapper mode) succeeded. */
    int tls_active;
    tls_conn *tls;
    vstr tls_ccert_fingerprint; /* the client certificate's, "" without one */
    vstr tls_received;          /* "using TLSv1.3 with cipher ..." */
    vstr tls_received_ccert;    /* "No client certificate requested", ... */
    /* The transaction. */
    int stage;
    vstr sender; /* internal form */
    int sender_given;
    long long mail_size; /* MAIL's SIZE=, 0 when not given */
    const char *body_type; /* "8BITMIME" or NULL */
    int smtputf8;
    const char *dsn_ret;
    vstr dsn_envid;
    int has_envid;
    cleanup *cleanup; /* opened at the first accepted recipient */
    long long rcpt_count;
    vstr last_rcpt;              /* the last accepted recipient (DATA's log line) */
    argv_t *actions;             /* access-table HOLD, DISCARD, ... for this message */
    argv_t *session_actions;     /* ... found at CONNECT or HELO: for every message */
    int session_actions_applied; /* to this message's queue file */
    unsigned long policy_instance; /* check_policy_service's "instance"; 0: none yet */
    int in_bdat;     /* BDAT chunks have begun: no DATA now */
    int bdat_failed; /* a chunk was refused: discard the rest until RSET */
    vstr bdat_line;  /* a line not yet ended at the end of a chunk */
    /* Buffers reused for every command. */
    vstr line;
} smtpd_state;

/* ---- smtpd.c ---- */
/* Abandon the transaction (RSET, EHLO, the end of DATA, disconnect). */
void smtpd_reset_transaction(smtpd_state *s);
/* The client sent more than it may before our reply (after is the command,
 * or CONNECT): log it; with smtpd_forbid_unauth_pipelining refuse and end
 * the session (returns 1). */
int smtpd_pipelining_violation(smtpd_state *s, const char *after);

/* "SMTP", "ESMTP", "ESMTPS", "ESMTPA" or "ESMTPSA" (RFC 3848), for logs,
 * Received: and the queue file. */
const char *smtpd_protocol_name(const smtpd_state *s);

/* ---- smtpd_tls.c ---- */
/* Read the TLS settings and keys (pre_init, before the privilege drop)
 * for the master.cf service. */
void smtpd_tls_init(config *cfg, const char *service);
void smtpd_tls_free(void);
/* At connect: 0 to go on (in wrapper mode, after the handshake); -1 when
 * the session must end (logged, and answered when that is possible). */
int smtpd_tls_session_start(smtpd_state *s);
/* End TLS (close_notify); the stream is unusable afterwards. */
void smtpd_tls_session_end(smtpd_state *s);
/* Is STARTTLS offered now? */
int smtpd_tls_offered(const smtpd_state *s);
/* Must the client start TLS before this command (security level encrypt)? */
int smtpd_tls_required(const smtpd_state *s);
/* The STARTTLS command. */
void smtpd_tls_starttls(smtpd_state *s, const char *arg);
/* Is the client's certificate fingerprint in relay_clientcerts? 1 yes,
 * 0 no (or no certificate), -1 a table failed (*why says how). */
int smtpd_tls_client_cert_listed(smtpd_state *s, const char **why);

/* ---- smtpd_peer.c ---- */
/* smtpd_anvil.c: the limits and exceptions, once per process. */
void smtpd_anvil_configure(config *cfg);
void smtpd_anvil_free(void);
/* At connect: count the connection; -1 when a limit refuses it (421 sent
 * and logged: end the session). */
int smtpd_anvil_connect(smtpd_state *s);
/* At MAIL and RCPT: count it; -1 when the rate limit refuses it (450
 * sent and logged). */
int smtpd_anvil_message(smtpd_state *s);
int smtpd_anvil_recipient(smtpd_state *s);
/* At the end of the session: anvil counts the connection down. */
void smtpd_anvil_disconnect(smtpd_state *s);

/* Name statuses, Postfix's: found; failed for now (450 for
 * reject_unknown_*client_hostname); failed; the name does not resolve
 * back to the address. */
enum { SMTPD_PEER_OK, SMTPD_PEER_TEMP, SMTPD_PEER_PERM, SMTPD_PEER_FORGED };
/* Read the hosts file (pre_init, before the chroot). */
void smtpd_peer_configure(void);
void smtpd_peer_free(void);
/* Fill in name, addr, namaddr and port from the client's socket, and the
 * name statuses; the lookups take at most dns_lookup_timeout. */
void smtpd_peer_init(smtpd_state *s);

/* ---- smtpd_read.c ---- */
typedef enum smtpd_read_status {
    SMTPD_READ_OK,      /* s->line holds the command, without CR LF */
    SMTPD_READ_TOOLONG, /* over line_length_limit; the line was skipped */
    SMTPD_READ_BARE_LF, /* a bare LF (or bare CR) in the line */
    SMTPD_READ_EOF,     /* the client hung up */
    SMTPD_READ_TIMEOUT,
    SMTPD_READ_ERROR,
} smtpd_read_status;
smtpd_read_status smtpd_read_command(smtpd_state *s);
/* (smtpd.c) The client broke off (timeout, hang-up, bare LF): log, reply
 * and end the session as the command loop does; also for AUTH's lines. */
void smtpd_read_failed(smtpd_state *s, smtpd_read_status st);
/* A log-safe excerpt of pending input, after a pipelining violation. */
void smtpd_read_excerpt(smtpd_state *s, vstr *out);
/* Does line (len bytes, without its LF) end in CR with no other CR in it? */
int smtpd_line_is_clean(const char *line, size_t len);

/* ---- smtpd_reply.c ---- */
/* Send "CODE DSN text" (one line, or several for 250-ehlo lists: pass the
 * whole reply text, lines separated by '\n'). Counts 4xx/5xx as errors and
 * sleeps smtpd_error_sleep_time once the soft limit is reached. Flushed
 * when the client has nothing more pending (PIPELINING). */
void smtpd_reply(smtpd_state *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* As smtpd_reply, and log it with smtpd_log_event's "reject". */
void smtpd_reject(smtpd_state *s, const char *cmd, const char *rcpt, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Log "ID|NOQUEUE: WHAT: CMD from namaddr: TEXT; from=<> to=<> proto= helo=<>",
 * from= only after MAIL, to= only with rcpt, helo= only after HELO, as
 * Postfix's lines. */
void smtpd_log_event(const smtpd_state *s, const char *what, const char *cmd, const char *rcpt,
                     const char *text);
/* Write out buffered replies now. */
void smtpd_flush(smtpd_state *s);

/* ---- smtpd_cmd.c ---- */
/* Handle one command line (s->line). */
void smtpd_command(smtpd_state *s);
/* "ehlo=1 mail=1 rcpt=0/1 ... commands=N/M" for the disconnect line. */
void smtpd_command_stats(const smtpd_state *s, vstr *out);

/* ---- smtpd_data.c ---- */
/* After "354": read content to the final dot into the queue file; reply. */
void smtpd_data(smtpd_state *s);
/* BDAT size [LAST] (RFC 3030): one chunk; the last one commits. */
void smtpd_bdat(smtpd_state *s, const char *arg);

/* ---- smtpd_sasl.c ---- */
/* Read the AUTH settings and start Cyrus SASL (before the privilege drop). */
void smtpd_sasl_init(config *cfg);
void smtpd_sasl_free(void);
/* At EHLO: the "AUTH ..." lines (none when AUTH is not offered now). */
void smtpd_sasl_ehlo(smtpd_state *s, vstr *text);
/* AUTH mechanism [initial-response] */
void smtpd_sasl_auth(smtpd_state *s, const char *arg);
/* Has the client authenticated? */
int smtpd_sasl_authenticated(const smtpd_state *s);
/* The end of the session: forget the login and the SASL context. */
void smtpd_sasl_end(smtpd_state *s);

/* ---- smtpd_check.c ---- */
/* Load the lists and tables (before the privilege drop). */
void smtpd_check_init(config *cfg);
/* Close the tables (at exit). */
void smtpd_check_free(void);
/* Open tables that were rebuilt since (postalias, postmap) again. */
void smtpd_check_refresh(void);
/* The checks return 0 (go on) or -1: refused, the reply has been sent
 * and logged. With smtpd_delay_reject = no: the client restrictions at
 * the connection (after -1 the greeting was the refusal), the HELO
 * restrictions for helo given with verb (HELO or EHLO; before it becomes
 * the session's), the sender
 * restrictions at MAIL (s->sender set); else those wait for RCPT. */
int smtpd_check_connect(smtpd_state *s);
int smtpd_check_helo(smtpd_state *s, const char *verb, const char *helo);
int smtpd_check_mail(smtpd_state *s);
/* Decide on recipient addr (internal form). */
int smtpd_check_rcpt(smtpd_state *s, const char *addr);
/* smtpd_data_restrictions at DATA or the first BDAT chunk. */
int smtpd_check_data(smtpd_state *s);
/* smtpd_end_of_data_restrictions, the content received, before commit. */
int smtpd_check_eod(smtpd_state *s);

/* ---- smtpd_access.c ---- */
/* Give the access-table actions found so far (HOLD, DISCARD, REDIRECT,
 * FILTER, PREPEND) to the message's queue file, once it exists. */
void smtpd_access_apply(smtpd_state *s);
/* Is the client in mynetworks? 1 or 0; -1 with the reason in why when a
 * table in the list could not be read. */
int smtpd_check_mynetworks(const smtpd_state *s, vstr *why);

/* ---- smtpd_hdr_clients.c ---- */
/* Parse local_header_rewrite_clients and open its tables (pre_init). */
smtpd_hdr_clients *smtpd_hdr_clients_open(config *cfg);
/* Open the tables again that were rebuilt. */
void smtpd_hdr_clients_refresh(smtpd_hdr_clients *hc);
void smtpd_hdr_clients_free(smtpd_hdr_clients *hc);
/* Are the client's headers rewritten as local mail's ("local" context)? */
int smtpd_hdr_clients_local(const smtpd_hdr_clients *hc, smtpd_state *s);

#endif
