/*
 * smtpd_hdr_clients - local_header_rewrite_clients: the clients whose
 * message headers cleanup rewrites as those of mail posted locally
 *
 * DESCRIPTION
 *   Postfix's list, evaluated when the queue file is made (after AUTH,
 *   so permit_sasl_authenticated can count); the first element that
 *   matches decides:
 *   - permit_inet_interfaces: the client address is one of the
 *     instance's own (inet_interfaces: "all" is every address of the
 *     machine's interfaces, "loopback-only" 127.0.0.1 and ::1, otherwise
 *     the address literals listed; host names are not resolved);
 *   - permit_mynetworks, permit_sasl_authenticated,
 *     permit_tls_clientcerts (relay_clientcerts);
 *   - check_address_map type:table, or a type:table alone: the client
 *     address is a key (a cidr: table matches networks; static:all
 *     every client).
 *   Such a client gets rewrite context "local" (headers canonicalized,
 *   masqueraded, qualified with myorigin); any other "remote", whose
 *   headers cleanup leaves alone unless remote_header_rewrite_domain is
 *   set. A table that fails counts as no match (the headers are then left
 *   as they were, which loses nothing) and is logged. An element Postern
 *   does not know is warned about once and ignored.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "smtpd/smtpd.h"
#include "util/mem.h"
#include "util/msg.h"

enum hdr_client_kind { HC_INET_INTERFACES, HC_MYNETWORKS, HC_SASL, HC_TLS_CERTS, HC_TABLE };

typedef struct hdr_client_item {
    enum hdr_client_kind kind;
    char *spec; /* HC_TABLE: "type:name" */
    maps *table;
} hdr_client_item;

struct smtpd_hdr_clients {
    hdr_client_item *items;
    size_t count;
    argv_t *own_addrs; /* inet_interfaces as addresses, in inet_ntop form */
};

/* addr in the canonical text form of its family, or "" when it is none. */
static void normal_addr(const char *addr, char *out, size_t size)
{
    unsigned char bin[sizeof(struct in6_addr)];
    size_t n = strlen(addr);
    char tmp[INET6_ADDRSTRLEN + 2];

    out[0] = 0;
    if (n >= 2 && addr[0] == '[' && addr[n - 1] == ']' && n - 2 < sizeof(tmp)) {
        memcpy(tmp, addr + 1, n - 2);
        tmp[n - 2] = 0;
        addr = tmp;
    }
    if (inet_pton(AF_INET, addr, bin) == 1)
        (void)inet_ntop(AF_INET, bin, out, (socklen_t)size);
    else if (inet_pton(AF_INET6, addr, bin) == 1)
        (void)inet_ntop(AF_INET6, bin, out, (socklen_t)size);
}

/* The machine's interface addresses ("all"). */
static void add_interface_addrs(argv_t *out)
{
    struct ifaddrs *ifs, *i;
    char buf[INET6_ADDRSTRLEN];

    if (getifaddrs(&ifs) < 0) {
        msg_warn("local_header_rewrite_clients: cannot list the interface addresses: %m");
        return;
    }
    for (i = ifs; i != NULL; i = i->ifa_next) {
        const void *a = NULL;
        int family = i->ifa_addr ? i->ifa_addr->sa_family : AF_UNSPEC;

        if (family == AF_INET)
            a = &((const struct sockaddr_in *)(const void *)i->ifa_addr)->sin_addr;
        else if (family == AF_INET6)
            a = &((const struct sockaddr_in6 *)(const void *)i->ifa_addr)->sin6_addr;
        if (a != NULL && inet_ntop(family, a, buf, sizeof(buf)) != NULL)
            argv_add(out, buf);
    }
    freeifaddrs(ifs);
}

static argv_t *own_addresses(config *cfg)
{
    argv_t *names = config_list(cfg, "inet_interfaces");
    argv_t *out = argv_new();
    char buf[INET6_ADDRSTRLEN];

    for (size_t i = 0; i < names->argc; i++) {
        const char *n = names->argv[i];

        if (strcmp(n, "all") == 0) {
            add_interface_addrs(out);
        } else if (strcmp(n, "loopback-only") == 0 || strcmp(n, "localhost") == 0) {
            argv_add(out, "127.0.0.1");
            argv_add(out, "::1");
        } else {
            normal_addr(n, buf, sizeof(buf));
            if (*buf)
                argv_add(out, buf);
        }
    }
    argv_free(names);
    return out;
}

static void add_item(smtpd_hdr_clients *hc, enum hdr_client_kind kind, const char *spec)
{
    hdr_client_item *it;

    hc->items = mem_reallocarray(hc->items, hc->count + 1, sizeof(*hc->items));
    it = &hc->items[hc->count++];
    it->kind = kind;
    it->spec = spec ? mem_strdup(spec) : NULL;
    it->table = spec ? maps_open("local_header_rewrite_clients", spec, O_RDONLY, 0) : NULL;
}

smtpd_hdr_clients *smtpd_hdr_clients_open(config *cfg)
{
    static const struct {
        const char *name;
        enum hdr_client_kind kind;
    } words[] = {
        {"permit_inet_interfaces", HC_INET_INTERFACES},
        {"permit_mynetworks", HC_MYNETWORKS},
        {"permit_sasl_authenticated", HC_SASL},
        {"permit_tls_clientcerts", HC_TLS_CERTS},
    };
    smtpd_hdr_clients *hc = mem_calloc(1, sizeof(*hc));
    argv_t *list = config_list(cfg, "local_header_rewrite_clients");

    for (size_t i = 0; i < list->argc; i++) {
        const char *w = list->argv[i];
        size_t k;

        for (k = 0; k < sizeof(words) / sizeof(words[0]); k++)
            if (strcmp(w, words[k].name) == 0)
                break;
        if (k < sizeof(words) / sizeof(words[0])) {
            add_item(hc, words[k].kind, NULL);
            if (words[k].kind == HC_INET_INTERFACES && hc->own_addrs == NULL)
                hc->own_addrs = own_addresses(cfg);
        } else if (strcmp(w, "check_address_map") == 0 && i + 1 < list->argc) {
            add_item(hc, HC_TABLE, list->argv[++i]);
        } else if (strchr(w, ':') != NULL) {
            add_item(hc, HC_TABLE, w);
        } else {
            msg_warn("local_header_rewrite_clients: unknown element \"%s\" ignored", w);
        }
    }
    argv_free(list);
    return hc;
}

void smtpd_hdr_clients_refresh(smtpd_hdr_clients *hc)
{
    for (size_t i = 0; i < hc->count; i++)
        if (hc->items[i].table)
            (void)maps_refresh(&hc->items[i].table, hc->items[i].spec, O_RDONLY, 0);
}

void smtpd_hdr_clients_free(smtpd_hdr_clients *hc)
{
    if (hc == NULL)
        return;
    for (size_t i = 0; i < hc->count; i++) {
        mem_free(hc->items[i].spec);
        maps_free(hc->items[i].table);
    }
    mem_free(hc->items);
    argv_free(hc->own_addrs);
    mem_free(hc);
}

/* Does one element match the client? 1, 0, or -1 (why says). */
static int item_matches(const smtpd_hdr_clients *hc, const hdr_client_item *it, smtpd_state *s,
                        vstr *why)
{
    char addr[INET6_ADDRSTRLEN];
    const char *reason = NULL;
    vstr value = VSTR_INIT;
    int st;

    switch (it->kind) {
    case HC_INET_INTERFACES:
        normal_addr(vstr_str(&s->addr), addr, sizeof(addr));
        for (size_t i = 0; *addr && i < hc->own_addrs->argc; i++)
            if (strcmp(hc->own_addrs->argv[i], addr) == 0)
                return 1;
        return 0;
    case HC_MYNETWORKS:
        return smtpd_check_mynetworks(s, why);
    case HC_SASL:
        return smtpd_sasl_authenticated(s);
    case HC_TLS_CERTS:
        if ((st = smtpd_tls_client_cert_listed(s, &reason)) < 0)
            vstr_set_str(why, reason);
        return st;
    case HC_TABLE:
        st = maps_find(it->table, vstr_str(&s->addr), &value, NULL);
        vstr_release(&value);
        if (st == DICT_ERROR)
            vstr_set_str(why, maps_error(it->table));
        return st == DICT_FOUND ? 1 : st == DICT_NOTFOUND ? 0 : -1;
    }
    return 0;
}

int smtpd_hdr_clients_local(const smtpd_hdr_clients *hc, smtpd_state *s)
{
    vstr why = VSTR_INIT;
    int st = 0;

    for (size_t i = 0; i < hc->count && st == 0; i++) {
        if ((st = item_matches(hc, &hc->items[i], s, &why)) < 0) {
            msg_warn("local_header_rewrite_clients: %s; the headers from %s are not rewritten",
                     vstr_str(&why), vstr_str(&s->namaddr));
            st = 0;
            break;
        }
    }
    vstr_release(&why);
    return st > 0;
}
