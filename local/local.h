/*
 * local - the local delivery agent's shared state
 *
 * DESCRIPTION
 *   local.c reads a request from qmgr, opens the queue file and calls
 *   local_deliver_rcpt() for each recipient. That walks the recipient
 *   through loop checks, aliases (local_alias.c), .forward
 *   (local_dotforward.c) and finally a mailbox (local_mbox.c,
 *   local_maildir.c, local_command.c), recursing for every address a
 *   table or file names; addresses outside this host's domains are
 *   collected and sent on as new mail (local_forward.c). Every leaf
 *   delivery is logged; the results fold into one answer per recipient.
 *
 *   Privileges (local_priv.c): started as root, local stays root only to
 *   read tables and to fork. Each write, file read and command on a
 *   user's behalf runs in a child that has become that user for good
 *   (local_as). See man/man8/local.8.
 */
#ifndef LOCAL_LOCAL_H
#define LOCAL_LOCAL_H

#include <sys/types.h>
#include <time.h>

#include "global/config.h"
#include "global/maps.h"
#include "global/mbox.h"
#include "global/mbox_lock.h"
#include "global/queue_file.h"
#include "util/argv.h"
#include "util/htable.h"
#include "util/vstr.h"

/* Deepest alias/.forward/:include: nesting before a bounce (5.4.6). */
#define LOCAL_EXPANSION_DEPTH 20
/* Most leaf deliveries and forwarded addresses one recipient may fan out to. */
#define LOCAL_EXPANSION_LIMIT 1000
/* Largest .forward or :include: file read. */
#define LOCAL_LIST_FILE_MAX (1024 * 1024)
/* Bound on content lines read from the queue file at once. */
#define LOCAL_LINE_BOUND (64 * 1024)
/* Most Delivered-To: headers remembered from one message. */
#define LOCAL_DELIVERED_MAX 1000

/* ---- The configuration local uses, read once at start-up ---- */

/* Whose rights a file or command delivery uses. */
typedef struct local_priv {
    uid_t uid;
    gid_t gid;
    const char *name; /* login name, for USER/LOGNAME */
    const char *home;
    const char *shell;
} local_priv;

typedef struct local_config {
    config *cfg;
    const char *queue_directory;
    const char *myhostname;
    const char *myorigin;
    argv_t *mydestination;
    const char *recipient_delimiter;
    const char *home_mailbox;
    const char *mail_spool_directory;
    const char *mailbox_command;
    const char *forward_path;
    const char *command_expansion_filter;
    const char *local_command_shell;
    const char *command_execution_directory;
    argv_t *export_environment;
    long long mailbox_size_limit;
    long command_time_limit;
    mbox_lock_policy lock; /* mailbox_delivery_lock, deliver_lock_*, stale_lock_time */
    int allow_commands;    /* LOCAL_CLASS_* bits */
    int allow_files;
    int delivered_header; /* LOCAL_CLASS_* bits of prepend_delivered_header */
    int strict_ownership;
    int owner_request_special;
    int enable_original_recipient;
    const char *luser_relay;
    maps *alias_maps;
    maps *mailbox_command_maps;
    /* Who we are. */
    int privileged;    /* started as root */
    uid_t self_uid;    /* an unprivileged instance: its user */
    char *self_name;   /* that user's login name */
    uid_t default_uid; /* default_privs */
    gid_t default_gid;
    char *default_name;
    uid_t mail_owner_uid; /* forwarded mail is written as mail_owner */
    gid_t mail_owner_gid;
    local_priv default_priv;
} local_config;

/* Delivery classes, for allow_mail_to_* and prepend_delivered_header. */
#define LOCAL_CLASS_ALIAS 1
#define LOCAL_CLASS_FORWARD 2
#define LOCAL_CLASS_INCLUDE 4
#define LOCAL_CLASS_COMMAND 8
#define LOCAL_CLASS_FILE 16

extern local_config local_cf;

/* Fill local_cf from the configuration; open tables (before any privilege
 * drop). Fatal on a bad setting. */
void local_config_init(config *cfg);
/* Who local runs as, default_privs and mail_owner (after privilege drop). */
void local_identity_init(void);
/* Open again the tables whose files changed since they were opened. */
void local_config_refresh(void);
/* Release what local_config_init opened (at exit). */
void local_config_free(void);

/* ---- One request and its message ---- */

typedef struct local_rcpt {
    long index;
    char *address;
    char *orig_rcpt; /* may be "" */
    char *dsn_orcpt;
    int dsn_notify;
    long long offset;
    /* The answer. */
    char dsn[16];
    const char *action;
    vstr reason;
    int answered;
} local_rcpt;

typedef struct local_request {
    char *queue_name;
    char *queue_id;
    char *sender;
    char *nexthop;
    double arrival;  /* seconds since the epoch */
    time_t received; /* when local got the request */
    double received_f;
    local_rcpt *rcpts;
    size_t rcpt_count;
    /* The message. */
    queue_reader *reader;
    const queue_envelope *env;
    htable *delivered_to; /* lower-case addresses from Delivered-To: headers */
} local_request;

/* ---- Delivering one recipient ---- */

/* A local user found in the password database (or the instance's user). */
typedef struct local_user {
    char *name;
    char *home;
    char *shell;
    uid_t uid;
    gid_t gid;
} local_user;

/* One node of the expansion chain: the address being delivered and why. */
typedef struct local_state {
    local_request *req;
    local_rcpt *rcpt;    /* the top-level recipient */
    int level;           /* 0 for the recipient itself */
    const char *address; /* lower case, qualified */
    const struct local_state *parent;
    const char *sender;     /* envelope sender for forwarded copies (owner- aliases) */
    const local_priv *priv; /* rights for files and commands at this level */
    int delivered_class;    /* LOCAL_CLASS_* of the table or file we came from */
    const char *user;       /* the local part without extension */
    const char *extension;  /* "" when none */
    const char *domain;
    const char *local_part; /* with extension */
} local_state;

/* What delivering one recipient came to, folded over all its leaves. */
typedef struct local_outcome {
    local_request *req;
    local_rcpt *rcpt;
    char *top_address; /* the recipient, qualified and in lower case */
    int deferred;      /* any 4.x.x */
    int bounced;       /* any 5.x.x */
    int delivered;     /* any 2.x.x */
    int expanded;      /* went through an alias or .forward */
    int leaves;        /* deliveries attempted, for LOCAL_EXPANSION_LIMIT */
    char dsn[16];      /* of the first result of the worst class */
    vstr reason;
    htable *done; /* addresses and targets already delivered for this recipient */
    /* Addresses to send on as new mail, and the envelope sender of each. */
    argv_t *forward;
    argv_t *forward_sender;
} local_outcome;

/* Deliver one recipient of the request; fills rcpt's answer. */
void local_deliver_rcpt(local_request *req, local_rcpt *rcpt);
/* Deliver an address at the given state's level (recursion for aliases). */
void local_deliver_address(const local_state *parent, local_outcome *out, const char *addr,
                           const local_priv *priv, int delivered_class, const char *sender);
/* Deliver one alias/.forward/:include: target. */
void local_deliver_target(const local_state *state, local_outcome *out, const char *target,
                          const local_priv *priv, int from_class);

/* Record a leaf result: log it and fold it into out. dsn "2.0.0", "4.x.x",
 * "5.x.x". */
void local_result(const local_state *state, local_outcome *out, const char *dsn, const char *fmt,
                  ...) __attribute__((format(printf, 4, 5)));

/* local_alias.c: 1 when addr was an alias and has been expanded (results
 * in out), 0 when it is no alias. */
int local_alias(const local_state *state, local_outcome *out);
/* local_dotforward.c: 1 when the user's .forward was used, 0 when there is
 * none (or it was refused: a warning is logged and the mailbox is used). */
int local_dotforward(const local_state *state, local_outcome *out, const local_user *user);
/* local_include.c: deliver to the targets in an :include: file. */
void local_include(const local_state *state, local_outcome *out, const char *path,
                   const local_priv *priv, int from_class);
/* local_mbox.c: deliver to the user's mailbox (spool mbox, home mbox or
 * Maildir, or mailbox_command). */
void local_mailbox(const local_state *state, local_outcome *out, const local_user *user);
/* local_mbox.c: append to /file (mbox format; Maildir when it ends in /). */
void local_file(const local_state *state, local_outcome *out, const char *path,
                const local_priv *priv);
/* local_maildir.c: deliver into the Maildir dir (ending in '/') as priv;
 * is_file: an alias or .forward destination rather than a mailbox. */
void local_maildir(const local_state *state, local_outcome *out, const char *dir,
                   const local_priv *priv, int is_file, long long limit);
/* local_mbox.c: append to the mbox at path as priv (owner: the owner the
 * file must have, or SAFE_OPEN_ANY_OWNER); limit: bytes, 0 for none. */
void local_mbox_path(const local_state *state, local_outcome *out, const char *path,
                     const local_priv *priv, uid_t owner, long long limit);
/* local_command.c: run |command as priv. */
void local_command(const local_state *state, local_outcome *out, const char *command,
                   const local_priv *priv, const local_user *user);
/* local_forward.c: send out->forward on as new mail. */
void local_forward_flush(local_outcome *out);

/* local_user.c: look a user up; 1 found, 0 unknown, -1 error (reason set). */
int local_user_find(const char *name, local_user *user, vstr *reason);
void local_user_free(local_user *user);
/* local_user.c: the account with this uid; 1 found, else 0. */
int local_user_by_uid(uid_t uid, local_user *user);
/* local_user.c: split addr into local part, user, extension and domain. */
void local_split_address(const char *addr, vstr *local_part, vstr *user, vstr *extension,
                         vstr *domain);
/* local_user.c: true when domain is one of mydestination ("" counts). */
int local_domain_is_local(const char *domain);
/* local_user.c: expand forward_path / mailbox_command style text for state. */
int local_expand(const local_state *state, const local_user *user, const char *text,
                 const char *filter, vstr *out, vstr *err);
/* local_user.c: the priv for an account (default_privs when root). */
void local_priv_for_user(const local_user *user, local_priv *priv);
/* local_user.c: default_privs as a priv. */
const local_priv *local_default_priv(void);

/* local_priv.c: run fn as priv; fn fills dsn and reason. Inline when not
 * privileged; in a child that has become priv's user otherwise. */
typedef void (*local_as_fn)(void *arg, vstr *dsn, vstr *reason);
void local_as(const local_priv *priv, local_as_fn fn, void *arg, vstr *dsn, vstr *reason);
/* local_priv.c: read a file as priv: 0 with contents and owner, -1 with
 * errno-style error in *err_no and a reason. Bounded by max bytes. */
int local_read_file_as(const local_priv *priv, const char *path, size_t max, vstr *contents,
                       uid_t *owner, mode_t *mode, int *err_no, vstr *reason);

/* local_copy.c: write the message to w: Return-Path:, X-Original-To:,
 * Delivered-To: (when delivered_to is not NULL), then the content. 0, or
 * -1 with a reason (a queue-file read error). */
int local_copy(const local_state *state, mbox_writer *w, const char *delivered_to, vstr *reason);
/* local_copy.c: read the message's Delivered-To: headers into req. */
int local_scan_delivered(local_request *req, vstr *reason);

#endif
