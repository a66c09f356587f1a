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
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "util/dict.h"
#include "util/fileio.h"
#include "util/mem.h"
#include "util/msg.h"
#include "qmgr/qmgr.h"

/* Longest "/file" of domains read into a list, and most names from it. */
#define QMGR_DOMAIN_FILE_MAX (4 * 1024 * 1024)

/* A list with its "/file" elements replaced by the names in the file, as
 * Postfix reads them: words separated by white space or commas, '#'
 * comments. An unreadable file is logged and contributes nothing. */
static argv_t *expand_files(const char *param, argv_t *list)
{
    argv_t *out = argv_new();

    for (size_t i = 0; i < list->argc; i++) {
        const char *e = list->argv[i];
        vstr text = VSTR_INIT;
        int fd;

        if (e[0] != '/') {
            argv_add(out, e);
            continue;
        }
        if ((fd = open(e, O_RDONLY | O_CLOEXEC)) < 0 ||
            fileio_read_fd(fd, QMGR_DOMAIN_FILE_MAX, &text) < 0) {
            msg_warn("%s: cannot read %s: %s", param, e, strerror(errno));
        } else {
            argv_t *lines = argv_split(vstr_str(&text), "\n");

            for (size_t j = 0; j < lines->argc; j++) {
                argv_t *words;
                char *hash = strchr(lines->argv[j], '#');

                if (hash)
                    *hash = 0;
                words = argv_split(lines->argv[j], " \t\r,");
                for (size_t k = 0; k < words->argc; k++)
                    argv_add(out, words->argv[k]);
                argv_free(words);
            }
            argv_free(lines);
        }
        if (fd >= 0)
            close(fd);
        vstr_release(&text);
    }
    argv_free(list);
    return out;
}

/* Open the tables of a domain list, before the privilege drop. */
static void open_tables(qmgr *q, const char *param, const argv_t *list)
{
    for (size_t i = 0; i < list->argc; i++) {
        const char *e = list->argv[i];
        vstr err = VSTR_INIT;
        dict *d;

        if (!resolve_element_is_table(e) || e[0] == '/' || e[0] == '!')
            continue;
        if (htable_find(q->domain_tables, e) != NULL)
            continue;
        if ((d = dict_open(e, O_RDONLY, DICT_FLAG_NONE, &err)) == NULL) {
            /* Mail for the domains it would list is deferred, never
             * misrouted, until the table can be read. */
            msg_warn("%s: %s", param, vstr_str(&err));
            d = dict_surrogate(e, vstr_str(&err));
        }
        htable_enter(q->domain_tables, e, d);
        vstr_release(&err);
    }
}

static int lookup_domain(void *ctx, const char *table, const char *domain, vstr *err)
{
    qmgr *q = ctx;
    dict *d = htable_find(q->domain_tables, table);
    vstr value = VSTR_INIT;
    int st;

    if (d == NULL)
        return 0;
    st = dict_lookup(d, domain, &value);
    vstr_release(&value);
    if (st == DICT_FOUND)
        return 1;
    if (st == DICT_NOTFOUND)
        return 0;
    vstr_set_str(err, dict_error(d));
    return -1;
}

void qmgr_resolve_init(qmgr *q)
{
    config *cfg = q->cfg;

    q->mydestination = expand_files("mydestination", config_list(cfg, "mydestination"));
    q->virtual_domains =
        expand_files("virtual_mailbox_domains", config_list(cfg, "virtual_mailbox_domains"));
    q->relay_domains = expand_files("relay_domains", config_list(cfg, "relay_domains"));
    q->domain_tables = htable_new(8);
    open_tables(q, "mydestination", q->mydestination);
    open_tables(q, "virtual_mailbox_domains", q->virtual_domains);
    open_tables(q, "relay_domains", q->relay_domains);
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
    q->rules.table_lookup = lookup_domain;
    q->rules.table_ctx = q;
}

static void close_table(void *ptr)
{
    dict_close(ptr, NULL);
}

void qmgr_resolve_free(qmgr *q)
{
    if (q->domain_tables)
        htable_free(q->domain_tables, close_table);
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
