/*
 * qmgr_resolve - main.cf to resolution rules; each recipient to its destination
 *
 * DESCRIPTION
 *   The rules of global/resolve come from mydestination, the three
 *   domain lists, the four *_transport parameters and relayhost, read
 *   once at start (reload restarts qmgr). Lookup tables in a domain list
 *   are not consulted yet (transport_maps and table-driven domain lists
 *   come later); qmgr says so once at start instead of failing quietly.
 *
 *   An address that cannot be delivered as written (a routing trick
 *   aimed at this host, a malformed domain) bounces at once with the
 *   resolver's status. A transport name that could escape private/ is a
 *   configuration error: its mail is deferred, never bounced, until the
 *   administrator fixes main.cf.
 */
#include <string.h>

#include "util/mem.h"
#include "util/msg.h"
#include "qmgr/qmgr.h"

static void warn_tables(const char *param, const argv_t *list)
{
    for (size_t i = 0; i < list->argc; i++)
        if (resolve_element_is_table(list->argv[i]))
            msg_warn("%s: %s is a lookup table or file; qmgr does not consult those yet, and "
                     "ignores it",
                     param, list->argv[i]);
}

void qmgr_resolve_init(qmgr *q)
{
    config *cfg = q->cfg;

    q->mydestination = config_list(cfg, "mydestination");
    q->virtual_domains = config_list(cfg, "virtual_mailbox_domains");
    q->relay_domains = config_list(cfg, "relay_domains");
    warn_tables("mydestination", q->mydestination);
    warn_tables("virtual_mailbox_domains", q->virtual_domains);
    warn_tables("relay_domains", q->relay_domains);
    q->local_transport = mem_strdup(config_str(cfg, "local_transport"));
    q->virtual_transport = mem_strdup(config_str(cfg, "virtual_transport"));
    q->relay_transport = mem_strdup(config_str(cfg, "relay_transport"));
    q->default_transport = mem_strdup(config_str(cfg, "default_transport"));
    q->rules.myhostname = config_str(cfg, "myhostname");
    q->rules.mydestination = q->mydestination;
    q->rules.virtual_mailbox_domains = q->virtual_domains;
    q->rules.relay_domains = q->relay_domains;
    q->rules.local_transport = q->local_transport;
    q->rules.virtual_transport = q->virtual_transport;
    q->rules.relay_transport = q->relay_transport;
    q->rules.default_transport = q->default_transport;
    q->rules.relayhost = config_str(cfg, "relayhost");
}

void qmgr_resolve_free(qmgr *q)
{
    argv_free(q->mydestination);
    argv_free(q->virtual_domains);
    argv_free(q->relay_domains);
    mem_free(q->local_transport);
    mem_free(q->virtual_transport);
    mem_free(q->relay_transport);
    mem_free(q->default_transport);
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

        if (resolve_addr(&q->rules, r->address, &res) == RESOLVE_ERROR) {
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
