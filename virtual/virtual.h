/*
 * virtual - the virtual mailbox delivery agent's shared state
 *
 * DESCRIPTION
 *   virtual.c reads requests from qmgr and answers them; for each
 *   recipient virtual_recipient.c finds the mailbox and its owner
 *   (virtual_mailbox_maps, virtual_uid_maps, virtual_gid_maps) and
 *   virtual_mailbox.c writes the message into it (Maildir or mbox) as that
 *   owner. See man/man8/virtual.8.
 */
#ifndef VIRTUAL_VIRTUAL_H
#define VIRTUAL_VIRTUAL_H

#include <sys/types.h>

#include "global/addr_find.h"
#include "global/config.h"
#include "global/deliver_request.h"
#include "global/maps.h"
#include "global/mbox_lock.h"
#include "global/queue_file.h"
#include "util/htable.h"
#include "util/vstr.h"

/* Bound on content lines read from the queue file at once. */
#define VIRTUAL_LINE_BOUND (64 * 1024)
/* Most Delivered-To: headers remembered from one message. */
#define VIRTUAL_DELIVERED_MAX 1000

typedef struct virtual_config {
    config *cfg;
    const char *queue_directory;
    const char *myhostname;
    addr_find_opts addr_opts; /* recipient_delimiter, owner_request_special */
    const char *mailbox_base;
    long minimum_uid;
    long long mailbox_limit; /* virtual_mailbox_limit; 0: none */
    int enable_original_recipient;
    mbox_lock_policy lock; /* virtual_mailbox_lock, deliver_lock_*, stale_lock_time */
    maps *mailbox_maps;
    maps *uid_maps;
    maps *gid_maps;
    int privileged; /* running as root: write as each mailbox's owner */
} virtual_config;

extern virtual_config virtual_cf;

/* One message being delivered: the request and its open queue file. */
typedef struct virtual_message {
    const deliver_request *req;
    queue_reader *reader;
    double arrival;       /* from the queue file, with microseconds */
    double received;      /* when the request came */
    htable *delivered_to; /* lower-case Delivered-To: addresses of the message */
} virtual_message;

/* A recipient's answer: status code and reason. */
typedef struct virtual_result {
    char dsn[16];
    vstr reason;
} virtual_result;

/* Whose mailbox, and where. */
typedef struct virtual_mailbox {
    const char *address; /* the recipient, lower case */
    const char *orig_to; /* X-Original-To:, NULL for none */
    const char *path;    /* under virtual_mailbox_base; Maildir when it ends in '/' */
    uid_t uid;
    gid_t gid;
} virtual_mailbox;

/* Set a result: dsn ("2.0.0", "4.3.0", "5.1.1") and a reason. */
void virtual_set_result(virtual_result *res, const char *dsn, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* virtual_recipient.c: deliver one recipient of msg; fills res. */
void virtual_deliver_rcpt(const virtual_message *msg, const deliver_rcpt *rcpt,
                          virtual_result *res);

/* virtual_mailbox.c: write msg into box as its owner; fills res. */
void virtual_mailbox_deliver(const virtual_message *msg, const virtual_mailbox *box,
                             virtual_result *res);

#endif
