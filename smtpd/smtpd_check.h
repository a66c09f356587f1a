/*
 * smtpd_check.h - what the restriction engine and its restrictions share
 *
 * DESCRIPTION
 *   smtpd_check.c evaluates restriction lists (smtpd_*_restrictions,
 *   smtpd_restriction_classes, restriction lists found in access tables)
 *   for one command at a time. A restriction is a function that looks at
 *   the check context and answers: no decision (the next restriction),
 *   permit (the rest of this list is skipped), reject (with a reply that
 *   the engine may still turn into a warning or a deferral: warn_if_reject,
 *   defer_if_reject), or error (a configuration or table failure, whose
 *   4xx reply is always sent).
 *
 *   The restrictions live by concern: smtpd_generic.c (permit, reject,
 *   mynetworks, destinations, HELO and address syntax, pipelining, client
 *   names), smtpd_unlisted.c (local and virtual recipient tables),
 *   smtpd_access.c (check_*_access, with smtpd_access_keys.c and
 *   smtpd_access_action.c), smtpd_server_access.c (the MX, NS and A hosts
 *   of a domain in an access table), smtpd_policy.c (check_policy_service, with
 *   smtpd_policy_proto.c), smtpd_login.c (sender login mismatch),
 *   smtpd_domain.c (names that must exist in the DNS), smtpd_dnsbl.c
 *   (DNS block and allow lists).
 *   Their names are one table in smtpd_check.c.
 */
#ifndef SMTPD_SMTPD_CHECK_H
#define SMTPD_SMTPD_CHECK_H

#include "global/maps.h"
#include "global/resolve.h"
#include "smtpd/smtpd.h"
#include "smtpd/smtpd_access.h"
#include "util/vstr.h"

typedef enum check_result {
    CHECK_DUNNO,  /* no decision: the next restriction */
    CHECK_PERMIT, /* the list permits */
    CHECK_REJECT, /* refused: x->reply holds "CODE D.S.N text" */
    CHECK_ERROR,  /* a configuration or lookup failure: x->reply, always sent */
} check_result;

typedef struct check_list check_list;
typedef struct check_item check_item;

/* One evaluation: a command and the lists applied to it. */
typedef struct check_ctx {
    smtpd_state *s;
    const char *cmd;    /* "CONNECT", "HELO", "MAIL", "RCPT", "DATA", "END-OF-MESSAGE" */
    const char *helo;   /* NULL: not known (yet) */
    const char *sender; /* NULL: no MAIL yet; "" the null sender */
    const char *rcpt;   /* NULL: not at RCPT */
    resolve_result res; /* of rcpt */
    /* The list being evaluated: generic replies name its subject. */
    const char *param;       /* "smtpd_client_restrictions" */
    const char *reply_name;  /* "name[addr]", the HELO name, an address, "DATA" */
    const char *reply_class; /* "Client host", "Helo command", ... */
    vstr reply;              /* of CHECK_REJECT and CHECK_ERROR */
    int warn_next;           /* warn_if_reject: only log the next restriction's reject */
    int defer_if_reject;     /* turn a later 5xx reject into defer_code */
    int defer_if_permit;     /* a permit at the end becomes the saved 4xx */
    vstr permit_defer;       /* ... that reply */
    int depth;               /* nesting of classes and access-table lists */
} check_ctx;

/* A restriction: the item carries its argument (a table, a DNS zone). */
typedef check_result (*check_fn)(check_ctx *x, const check_item *it);

/* Flags of a restriction name. */
#define CHECK_GUARDS 1 /* can refuse mail for a foreign destination */
#define CHECK_TABLE 2  /* takes a lookup table argument: check_x_access TABLE */
#define CHECK_ARG 4    /* takes a word argument: reject_rbl_client ZONE */

typedef struct check_restriction {
    const char *name;
    check_fn fn;
    int flags;
} check_restriction;

struct check_item {
    const check_restriction *r; /* NULL: a restriction class */
    char *name;                 /* as written */
    char *arg;                  /* the argument, or NULL */
    maps *table;                /* CHECK_TABLE: opened at start-up */
};

struct check_list {
    char *param;
    check_item *items;
    size_t count;
    char *error; /* a malformed list: why (evaluating it is a configuration error) */
};

/* ---- smtpd_check.c (the engine) ---- */
/* Set x->reply and return CHECK_REJECT. */
check_result check_reject(check_ctx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The generic "CODE DSN <name>: class rejected: text" reject of the list. */
check_result check_reject_generic(check_ctx *x, int code, const char *dsn, const char *text);
/* A configuration error naming why: logged, 451 4.3.5. */
check_result check_config_error(check_ctx *x, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* A lookup failure: logged, 451 4.3.0 <name>: Temporary lookup failure. */
check_result check_lookup_error(check_ctx *x, const char *name, const char *why);
/* Compile restrictions (a list value) into l; a table-taking restriction
 * is refused unless tables may be opened (at start-up). 0, or -1 with
 * l->error set. */
int check_list_compile(check_list *l, const char *param, const char *text, int open_tables);
void check_list_release(check_list *l);
/* Evaluate a list (an access-table result, a class) inside the current one. */
check_result check_list_eval(check_ctx *x, const check_list *l);
/* Is name a restriction class? */
const check_list *check_class_find(const char *name);

/* Log "ID|NOQUEUE: WHAT: CMD from name[addr]: TEXT; from=<> to=<> proto= helo=<>". */
void check_log(const check_ctx *x, const char *what, const char *text);

/* ---- smtpd_access.c ---- */
check_result check_client_access(check_ctx *x, const check_item *it);
check_result check_reverse_client_access(check_ctx *x, const check_item *it);
check_result check_helo_access(check_ctx *x, const check_item *it);
check_result check_sender_access(check_ctx *x, const check_item *it);
check_result check_recipient_access(check_ctx *x, const check_item *it);
/* Search the item's table for the keys in order and act on the first found
 * for name (of class cls); an OK found is refused (logged, no decision)
 * unless ok_allowed. */
check_result check_access_search(check_ctx *x, const check_item *it, const access_keys *k,
                                 const char *name, const char *cls, int ok_allowed);
/* Act on an access(5) action found for name (of class cls: "Client host"),
 * from a table or a policy server. */
check_result check_access_result(check_ctx *x, const char *value, const char *name,
                                 const char *cls);

/* ---- smtpd_server_access.c ---- */
check_result check_client_mx_access(check_ctx *x, const check_item *it);
check_result check_client_ns_access(check_ctx *x, const check_item *it);
check_result check_client_a_access(check_ctx *x, const check_item *it);
check_result check_reverse_client_mx_access(check_ctx *x, const check_item *it);
check_result check_reverse_client_ns_access(check_ctx *x, const check_item *it);
check_result check_reverse_client_a_access(check_ctx *x, const check_item *it);
check_result check_helo_mx_access(check_ctx *x, const check_item *it);
check_result check_helo_ns_access(check_ctx *x, const check_item *it);
check_result check_helo_a_access(check_ctx *x, const check_item *it);
check_result check_sender_mx_access(check_ctx *x, const check_item *it);
check_result check_sender_ns_access(check_ctx *x, const check_item *it);
check_result check_sender_a_access(check_ctx *x, const check_item *it);
check_result check_recipient_mx_access(check_ctx *x, const check_item *it);
check_result check_recipient_ns_access(check_ctx *x, const check_item *it);
check_result check_recipient_a_access(check_ctx *x, const check_item *it);

/* ---- smtpd_policy.c ---- */
check_result check_policy_service(check_ctx *x, const check_item *it);
/* Read the smtpd_policy_service_* settings; close the connections. */
void check_policy_init(config *cfg);
void check_policy_free(void);

/* ---- smtpd_generic.c ---- */
check_result check_permit(check_ctx *x, const check_item *it);
check_result check_reject_all(check_ctx *x, const check_item *it);
check_result check_defer_all(check_ctx *x, const check_item *it);
check_result check_defer_if_permit(check_ctx *x, const check_item *it);
check_result check_defer_if_reject(check_ctx *x, const check_item *it);
check_result check_warn_if_reject(check_ctx *x, const check_item *it);
check_result check_permit_mynetworks(check_ctx *x, const check_item *it);
check_result check_permit_sasl_authenticated(check_ctx *x, const check_item *it);
check_result check_permit_tls_clientcerts(check_ctx *x, const check_item *it);
check_result check_permit_auth_destination(check_ctx *x, const check_item *it);
check_result check_reject_unauth_destination(check_ctx *x, const check_item *it);
check_result check_defer_unauth_destination(check_ctx *x, const check_item *it);
check_result check_reject_unauth_pipelining(check_ctx *x, const check_item *it);
check_result check_reject_non_fqdn_helo(check_ctx *x, const check_item *it);
check_result check_reject_invalid_helo(check_ctx *x, const check_item *it);
check_result check_reject_non_fqdn_sender(check_ctx *x, const check_item *it);
check_result check_reject_non_fqdn_recipient(check_ctx *x, const check_item *it);
check_result check_reject_unknown_client(check_ctx *x, const check_item *it);
check_result check_reject_unknown_reverse_client(check_ctx *x, const check_item *it);
/* Is the recipient's destination ours (not relaying)? 1, 0, or -1 with a
 * CHECK_ERROR reply set in x. */
int check_auth_destination(check_ctx *x);

/* ---- smtpd_login.c ---- */
check_result check_reject_sender_login_mismatch(check_ctx *x, const check_item *it);
check_result check_reject_authenticated_sender_login_mismatch(check_ctx *x, const check_item *it);
check_result check_reject_unauthenticated_sender_login_mismatch(check_ctx *x,
                                                                const check_item *it);
/* Open and refresh smtpd_sender_login_maps. */
void check_login_init(config *cfg);
void check_login_refresh(void);
void check_login_free(void);

/* ---- smtpd_domain.c ---- */
check_result check_reject_unknown_helo(check_ctx *x, const check_item *it);
check_result check_reject_unknown_sender_domain(check_ctx *x, const check_item *it);
check_result check_reject_unknown_recipient_domain(check_ctx *x, const check_item *it);

/* ---- smtpd_dnsbl.c ---- */
check_result check_reject_rbl_client(check_ctx *x, const check_item *it);
check_result check_permit_dnswl_client(check_ctx *x, const check_item *it);
check_result check_reject_rhsbl_client(check_ctx *x, const check_item *it);
check_result check_reject_rhsbl_reverse_client(check_ctx *x, const check_item *it);
check_result check_reject_rhsbl_helo(check_ctx *x, const check_item *it);
check_result check_reject_rhsbl_sender(check_ctx *x, const check_item *it);
check_result check_reject_rhsbl_recipient(check_ctx *x, const check_item *it);
/* Open rbl_reply_maps; close it. */
void check_dnsbl_init(config *cfg);
void check_dnsbl_free(void);

/* ---- smtpd_unlisted.c ---- */
check_result check_reject_unlisted_recipient(check_ctx *x, const check_item *it);
check_result check_reject_unlisted_sender(check_ctx *x, const check_item *it);
/* Open and refresh local_recipient_maps and virtual_mailbox_maps. */
void check_unlisted_init(config *cfg);
void check_unlisted_refresh(void);
void check_unlisted_free(void);

#endif
