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
 *   not misrouted.
 *
 *   Then, as Postfix's trivial-rewrite and qmgr do (global/route_tables):
 *   sender_dependent_relayhost_maps replaces relayhost for the message's
 *   sender; a message with a content_filter attribute sends every
 *   recipient to the filter (an empty nexthop there is
 *   default_filter_nexthop, else the recipient domain); a recipient in
 *   virtual_alias_domains had no alias when it was queued and bounces
 *   (5.1.1 User unknown in virtual alias table); otherwise
 *   relocated_maps bounces a moved
 *   recipient (5.1.6) and transport_maps may change the transport and
 *   nexthop. The "error" transport bounces and "retry" defers here, with
 *   the nexthop as the reason. The tables are opened again when their
 *   files change. A table that fails defers the recipient (4.3.0), never
 *   routes it as if the key were unknown.
 *
 *   An address that cannot be delivered as written (a routing trick
 *   aimed at this host, a malformed domain) bounces at once with the
 *   resolver's status. A transport name that could escape private/ is a
 *   configuration error: its mail is deferred, never bounced, until the
 *   administrator fixes main.cf.
 */
#include <stdio.h>
#include <string.h>

#include "util/msg.h"
#include "qmgr/qmgr.h"

void qmgr_resolve_init(qmgr *q)
{
    resolve_config_init(&q->resolve, q->cfg);
    q->routes = route_tables_open(q->cfg);
}

void qmgr_resolve_free(qmgr *q)
{
    route_tables_free(q->routes);
    q->routes = NULL;
    resolve_config_free(&q->resolve);
}

/* A transport is a socket name under private/: a plain file name. */
static int transport_name_ok(const char *name)
{
    return *name && strcmp(name, ".") != 0 && strcmp(name, "..") != 0 &&
           strchr(name, '/') == NULL && strlen(name) < 100;
}

/* The value of the message's attribute name, or NULL. */
static const char *message_attr(const qmgr_message *msg, const char *name)
{
    for (size_t i = 0; i < msg->attr_names->argc; i++)
        if (strcmp(msg->attr_names->argv[i], name) == 0)
            return msg->attr_values->argv[i];
    return NULL;
}

/* "5.1.1 text" of an error/retry nexthop: the status (or dflt) and the text. */
static const char *split_status(const char *text, char *status, size_t size, const char *dflt)
{
    size_t n = strspn(text, "0123456789.");

    if (n >= 5 && n < size && (text[0] == '4' || text[0] == '5') && text[1] == '.' &&
        (text[n] == ' ' || text[n] == 0)) {
        memcpy(status, text, n);
        status[n] = 0;
        text += n;
        while (*text == ' ')
            text++;
        return text;
    }
    snprintf(status, size, "%s", dflt);
    return text;
}

/* Finish r here: status and reason decided by qmgr (relay=none). */
static void finish_here(qmgr_batch *b, qmgr_rcpt *r, const char *status, const char *reason)
{
    qmgr_result res = {.status = status, .reason = reason, .relay = "none"};

    qmgr_batch_add(b, r, &res);
}

/* A table failed: the recipient waits. */
static void table_failed(qmgr_batch *b, qmgr_rcpt *r, const char *why)
{
    msg_warn("%s: <%s>: %s", b->msg->id, r->address, why);
    finish_here(b, r, "4.3.0", "address resolver failure");
}

/* Queue r at transport/nexthop, or finish it for the error and retry
 * transports and for a transport name that is not a socket name. */
static void route(qmgr *q, qmgr_batch *b, qmgr_rcpt *r, const char *transport, const char *nexthop,
                  const char *from)
{
    char status[32];

    if (strcmp(transport, "error") == 0 || strcmp(transport, "retry") == 0) {
        int retry = transport[0] == 'r';
        const char *text =
            split_status(nexthop, status, sizeof(status), retry ? "4.0.0" : "5.0.0");

        /* The class of the status decides; retry never bounces. */
        if (retry && status[0] != '4')
            status[0] = '4';
        finish_here(b, r, status, text);
    } else if (!transport_name_ok(transport)) {
        msg_warn("%s: <%s>: bad transport name \"%s\" (from %s)", b->msg->id, r->address,
                 transport, from);
        finish_here(b, r, "4.3.5", "mail transport configuration error");
    } else {
        qmgr_sched_enqueue(q, r, transport, nexthop);
    }
}

/* The routing tables' part, for a recipient resolve_addr placed in res. */
static void route_by_tables(qmgr *q, qmgr_batch *b, qmgr_rcpt *r, resolve_result *res)
{
    vstr moved = VSTR_INIT;
    int st = route_tables_relocated(q->routes, r->address, res->rclass == RESOLVE_LOCAL, &moved);

    if (st == DICT_ERROR) {
        table_failed(b, r, route_tables_error(q->routes));
    } else if (st == DICT_FOUND) {
        vstr_set_fmt(&res->reason, "User has moved to %s", vstr_str(&moved));
        finish_here(b, r, "5.1.6", vstr_str(&res->reason));
    } else if ((st = route_tables_transport(q->routes, r->address, res)) == DICT_ERROR) {
        table_failed(b, r, route_tables_error(q->routes));
    } else {
        vstr from = VSTR_INIT;

        if (st == DICT_FOUND)
            vstr_set_str(&from, "transport_maps");
        else
            vstr_set_fmt(&from, "%s_transport", resolve_class_name(res->rclass));
        route(q, b, r, vstr_str(&res->transport), vstr_str(&res->nexthop), vstr_str(&from));
        vstr_release(&from);
    }
    vstr_release(&moved);
}

/* Every recipient of a filtered message goes to the filter. */
static void route_filter(qmgr *q, qmgr_batch *b, qmgr_rcpt *r, const char *filter,
                         resolve_result *res)
{
    const char *domain =
        *vstr_str(&res->domain) ? vstr_str(&res->domain) : q->resolve.rules.myhostname;

    (void)route_filter_parse(filter, config_str(q->cfg, "default_filter_nexthop"), domain,
                             &res->transport, &res->nexthop);
    route(q, b, r, vstr_str(&res->transport), vstr_str(&res->nexthop), "content_filter");
}

void qmgr_resolve_message(qmgr *q, qmgr_message *msg)
{
    const char *filter = message_attr(msg, "content_filter");
    resolve_rules rules = q->resolve.rules;
    vstr relayhost = VSTR_INIT, ftransport = VSTR_INIT, fnexthop = VSTR_INIT;
    const char *relay_error = NULL;
    resolve_result res;
    qmgr_batch b;

    route_tables_refresh(q->routes);
    switch (route_tables_sender_relayhost(q->routes, msg->sender, &relayhost)) {
    case DICT_FOUND:
        rules.relayhost = vstr_str(&relayhost);
        break;
    case DICT_ERROR:
        relay_error = route_tables_error(q->routes);
        break;
    }
    if (filter != NULL && *filter &&
        route_filter_parse(filter, "", "", &ftransport, &fnexthop) < 0) {
        msg_warn("%s: bad content_filter \"%s\": no transport; ignored", msg->id, filter);
        filter = NULL;
    }
    resolve_result_init(&res);
    qmgr_batch_init(&b, q, msg);
    for (size_t i = 0; i < msg->rcpt_count; i++) {
        qmgr_rcpt *r = &msg->rcpts[i];

        if (resolve_addr(&rules, r->address, &res) == RESOLVE_ERROR)
            finish_here(&b, r, res.status, vstr_str(&res.reason));
        else if (filter != NULL && *filter)
            route_filter(q, &b, r, filter, &res);
        else if (res.rclass == RESOLVE_ALIAS)
            route(q, &b, r, vstr_str(&res.transport), vstr_str(&res.nexthop),
                  "virtual_alias_domains");
        else if (relay_error != NULL &&
                 (res.rclass == RESOLVE_RELAY || res.rclass == RESOLVE_DEFAULT))
            table_failed(&b, r, relay_error);
        else
            route_by_tables(q, &b, r, &res);
    }
    /* The caller holds msg, so this flush cannot finish it. */
    qmgr_batch_flush(&b, 0);
    resolve_result_release(&res);
    vstr_release(&relayhost);
    vstr_release(&ftransport);
    vstr_release(&fnexthop);
}
