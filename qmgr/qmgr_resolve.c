/*
 * qmgr_resolve - main.cf to resolution rules; each recipient to its destination
 *
 * DESCRIPTION
 *   The rules of global/resolve come from mydestination, the three
 *   domain lists, the four *_transport parameters and relayhost, read
 *   once at start (reload restarts qmgr). A "/file" element is replaced by
 *   the names in the file; a "type:table" element is opened before the
 *   privilege drop and a domain matches when it is a key in the table
 *   (Postfix's rule). A table that cannot be opened stands in as one
 *   whose every lookup fails: mail for domains it might list is deferred,
 *   not misrouted. transport_maps come later.
 *
 *   An address that cannot be delivered as written (a routing trick
 *   aimed at this host, a malformed domain) bounces at once with the
 *   resolver's status. A transport name that could escape private/ is a
 *   configuration error: its mail is deferred, never bounced, until the
 *   administrator fixes main.cf.
 */
#include <string.h>

#include "util/msg.h"
#include "qmgr/qmgr.h"

void qmgr_resolve_init(qmgr *q)
{
    resolve_config_init(&q->resolve, q->cfg);
}

void qmgr_resolve_free(qmgr *q)
{
    resolve_config_free(&q->resolve);
}

/* A transport is a socket name under private/: a plain file name. */
static int transport_name_ok(const char *name)
{
    return *name && strcmp(name, ".") != 0 && strcmp(name, "..") != 0 &&
           strchr(name, '/') == NULL && strlen(name) < 100;
}

void qmgr_resolve_message(qmgr *q, qmgr_message *msg)
{
    resolve_result res;
    qmgr_batch b;

    resolve_result_init(&res);
    qmgr_batch_init(&b, q, msg);
    for (size_t i = 0; i < msg->rcpt_count; i++) {
        qmgr_rcpt *r = &msg->rcpts[i];

        if (resolve_addr(&q->resolve.rules, r->address, &res) == RESOLVE_ERROR) {
            qmgr_result bad = {
                .status = res.status, .reason = vstr_str(&res.reason), .relay = "none"};

            qmgr_batch_add(&b, r, &bad);
        } else if (!transport_name_ok(vstr_str(&res.transport))) {
            qmgr_result conf = {.status = "4.3.5",
                                .reason = "mail transport configuration error",
                                .relay = "none"};

            msg_warn("%s: <%s>: bad transport name \"%s\" (from %s_transport)", msg->id,
                     r->address, vstr_str(&res.transport), resolve_class_name(res.rclass));
            qmgr_batch_add(&b, r, &conf);
        } else {
            qmgr_sched_enqueue(q, r, vstr_str(&res.transport), vstr_str(&res.nexthop));
        }
    }
    /* The caller holds msg, so this flush cannot finish it. */
    qmgr_batch_flush(&b, 0);
    resolve_result_release(&res);
}
