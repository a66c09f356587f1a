/*
 * resolve_config - global/resolve's rules from main.cf (see resolve_config.h)
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "global/resolve_config.h"
#include "util/dict.h"
#include "util/fileio.h"
#include "util/mem.h"
#include "util/msg.h"

/* Longest "/file" of domains read into a list, and most names from it. */
#define RESOLVE_DOMAIN_FILE_MAX (4 * 1024 * 1024)

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
            fileio_read_fd(fd, RESOLVE_DOMAIN_FILE_MAX, &text) < 0) {
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
static void open_tables(resolve_config *rc, const char *param, const argv_t *list)
{
    for (size_t i = 0; i < list->argc; i++) {
        const char *e = list->argv[i];
        vstr err = VSTR_INIT;
        dict *d;

        if (!resolve_element_is_table(e) || e[0] == '/' || e[0] == '!')
            continue;
        if (htable_find(rc->domain_tables, e) != NULL)
            continue;
        if ((d = dict_open(e, O_RDONLY, DICT_FLAG_NONE, &err)) == NULL) {
            /* Mail for the domains it would list is deferred, never
             * misrouted, until the table can be read. */
            msg_warn("%s: %s", param, vstr_str(&err));
            d = dict_surrogate(e, vstr_str(&err));
        }
        htable_enter(rc->domain_tables, e, d);
        vstr_release(&err);
    }
}

static int lookup_domain(void *ctx, const char *table, const char *domain, vstr *err)
{
    resolve_config *rc = ctx;
    dict *d = htable_find(rc->domain_tables, table);
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

void resolve_config_init(resolve_config *rc, config *cfg)
{
    rc->mydestination = expand_files("mydestination", config_list(cfg, "mydestination"));
    rc->alias_domains =
        expand_files("virtual_alias_domains", config_list(cfg, "virtual_alias_domains"));
    rc->virtual_domains =
        expand_files("virtual_mailbox_domains", config_list(cfg, "virtual_mailbox_domains"));
    rc->relay_domains = expand_files("relay_domains", config_list(cfg, "relay_domains"));
    rc->domain_tables = htable_new(8);
    open_tables(rc, "mydestination", rc->mydestination);
    open_tables(rc, "virtual_alias_domains", rc->alias_domains);
    open_tables(rc, "virtual_mailbox_domains", rc->virtual_domains);
    open_tables(rc, "relay_domains", rc->relay_domains);
    rc->local_transport = mem_strdup(config_str(cfg, "local_transport"));
    rc->virtual_transport = mem_strdup(config_str(cfg, "virtual_transport"));
    rc->relay_transport = mem_strdup(config_str(cfg, "relay_transport"));
    rc->default_transport = mem_strdup(config_str(cfg, "default_transport"));
    rc->rules.myhostname = config_str(cfg, "myhostname");
    rc->rules.mydestination = rc->mydestination;
    rc->rules.virtual_alias_domains = rc->alias_domains;
    rc->rules.virtual_mailbox_domains = rc->virtual_domains;
    rc->rules.relay_domains = rc->relay_domains;
    rc->rules.local_transport = rc->local_transport;
    rc->rules.virtual_transport = rc->virtual_transport;
    rc->rules.relay_transport = rc->relay_transport;
    rc->rules.default_transport = rc->default_transport;
    rc->relayhost = mem_strdup(config_str(cfg, "relayhost"));
    rc->rules.relayhost = rc->relayhost;
    rc->rules.table_lookup = lookup_domain;
    rc->rules.table_ctx = rc;
}

static void close_table(void *ptr)
{
    dict_close(ptr, NULL);
}

void resolve_config_free(resolve_config *rc)
{
    if (rc->domain_tables)
        htable_free(rc->domain_tables, close_table);
    argv_free(rc->mydestination);
    argv_free(rc->alias_domains);
    argv_free(rc->virtual_domains);
    argv_free(rc->relay_domains);
    mem_free(rc->local_transport);
    mem_free(rc->virtual_transport);
    mem_free(rc->relay_transport);
    mem_free(rc->default_transport);
    mem_free(rc->relayhost);
}
