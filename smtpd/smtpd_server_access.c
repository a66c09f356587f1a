/*
 * smtpd_server_access - the DNS servers of a domain in an access table:
 * check_{client,reverse_client,helo,sender,recipient}_{mx,ns,a}_access
 *
 * DESCRIPTION
 *   The domain is the client's verified name (client), its unverified
 *   reverse name (reverse_client; neither when "unknown"), the HELO name,
 *   or the sender's or recipient's domain (an
 *   address literal, the null sender and an address without a domain are
 *   not looked up). Its hosts, as Postfix finds them:
 *     mx  the MX hosts; without MX records the domain itself (as mail
 *         would go); a null MX has none
 *     ns  the NS hosts; without NS records those of the nearest parent
 *         domain that has some
 *     a   the domain's own A and AAAA addresses
 *   Each host name is looked up as check_*_access looks up a host name
 *   (the name, then its parent domains), then each of its A and AAAA
 *   addresses as a client address (the address, then its shorter
 *   prefixes; cidr: tables match it). The first action that decides
 *   decides; DUNNO goes on to the next host. OK is not allowed (the
 *   domain's owner chooses these hosts): logged, and DUNNO. The reply
 *   names the client, address or HELO name ("<a@b>: Sender address
 *   rejected:").
 *
 *   All lookups of one check share one dns_lookup_timeout budget; at most
 *   SERVER_HOSTS_MAX hosts are looked at. A lookup that fails, for now or
 *   for good, is logged and decides nothing (as in Postfix).
 */
#include <arpa/inet.h>
#include <string.h>

#include "global/dns.h"
#include "smtpd/smtpd_check.h"
#include "util/msg.h"

/* The most hosts of one domain looked at (a hostile zone can list many). */
#define SERVER_HOSTS_MAX 16

enum server_kind { SERVER_MX, SERVER_NS, SERVER_A };

/* The names and the reply of one check. */
typedef struct server_check {
    check_ctx *x;
    const check_item *it;
    const char *name; /* the address or HELO name, for the reply */
    const char *cls;  /* "Sender address", ... */
    int64_t deadline;
} server_check;

static int parent_style(void)
{
    return addr_find_parent_style(config_str(smtpd_cf.cfg, "parent_domain_matches_subdomains"),
                                  "smtpd_access_maps");
}

/* One A or AAAA record's address in the table. */
static check_result addr_search(server_check *c, const dns_rr *rr)
{
    char text[INET6_ADDRSTRLEN];
    access_keys k;
    check_result res;

    if (inet_ntop(rr->type == DNS_T_A ? AF_INET : AF_INET6, rr->data, text, sizeof(text)) == NULL)
        return CHECK_DUNNO;
    access_keys_init(&k);
    access_keys_ipaddr(&k, text);
    res = check_access_search(c->x, c->it, &k, c->name, c->cls, 0);
    access_keys_release(&k);
    return res;
}

/* The A and AAAA addresses of host in the table. */
static check_result host_addrs(server_check *c, const char *host)
{
    static const int types[] = {DNS_T_A, DNS_T_AAAA};
    check_result res = CHECK_DUNNO;
    vstr why = VSTR_INIT;

    for (size_t t = 0; t < 2 && res == CHECK_DUNNO; t++) {
        dns_answer ans;

        if (dns_lookup(host, types[t], c->deadline, &ans, &why) != DNS_OK)
            continue; /* a host without addresses of this type */
        for (size_t i = 0; i < ans.count && res == CHECK_DUNNO; i++)
            res = addr_search(c, &ans.rr[i]);
        dns_answer_free(&ans);
    }
    vstr_release(&why);
    return res;
}

/* A host: its name, then its addresses. */
static check_result host_search(server_check *c, const char *host)
{
    access_keys k;
    check_result res;

    access_keys_init(&k);
    access_keys_host(&k, host, parent_style());
    res = check_access_search(c->x, c->it, &k, c->name, c->cls, 0);
    access_keys_release(&k);
    return res == CHECK_DUNNO ? host_addrs(c, host) : res;
}

/* The MX or NS records of domain (NS: of the nearest parent domain that
 * has some, when the domain exists without); DNS_OK with ans set. */
static dns_status server_hosts(const char *domain, int type, int64_t deadline, dns_answer *ans,
                               vstr *why)
{
    dns_status st = dns_lookup(domain, type, deadline, ans, why);

    while (st == DNS_NODATA && type == DNS_T_NS && strchr(domain, '.') != NULL) {
        domain = strchr(domain, '.') + 1;
        st = dns_lookup(domain, type, deadline, ans, why);
    }
    return st;
}

static check_result server_access(check_ctx *x, const check_item *it, const char *domain,
                                  int kind, const char *name, const char *cls)
{
    server_check c = {x, it, name, cls, dns_deadline()};
    check_result res = CHECK_DUNNO;
    vstr why = VSTR_INIT;
    dns_answer ans;
    dns_status st;

    if (domain == NULL || *domain == 0 || domain[0] == '[')
        return CHECK_DUNNO;
    if (kind == SERVER_A)
        return host_addrs(&c, domain);
    st = server_hosts(domain, kind == SERVER_MX ? DNS_T_MX : DNS_T_NS, c.deadline, &ans, &why);
    if (st == DNS_OK) {
        for (size_t i = 0; i < ans.count && i < SERVER_HOSTS_MAX && res == CHECK_DUNNO; i++)
            if (ans.rr[i].data[0] != 0) /* a null MX: no host */
                res = host_search(&c, (const char *)ans.rr[i].data);
        dns_answer_free(&ans);
    } else if (st == DNS_NODATA && kind == SERVER_MX) {
        res = host_search(&c, domain); /* no MX records: the domain itself */
    } else if (st == DNS_RETRY || st == DNS_FAIL) {
        msg_warn("%s: unable to look up %s hosts of %s: %s", it->name,
                 kind == SERVER_MX ? "MX" : "NS", domain, vstr_str(&why));
    }
    vstr_release(&why);
    return res;
}

/* A client name, or NULL when it is "unknown". */
static const char *client_domain(const vstr *name)
{
    return vstr_equals(name, "unknown") ? NULL : vstr_str(name);
}

/* The domain of an address, or NULL. */
static const char *domain_of(const char *addr)
{
    const char *at = addr ? strrchr(addr, '@') : NULL;

    return at ? at + 1 : NULL;
}

#define SERVER_CHECKS(who, domain_expr, name_expr, cls)                                          \
    check_result check_##who##_mx_access(check_ctx *x, const check_item *it)                     \
    {                                                                                            \
        return server_access(x, it, domain_expr, SERVER_MX, name_expr, cls);                     \
    }                                                                                            \
    check_result check_##who##_ns_access(check_ctx *x, const check_item *it)                     \
    {                                                                                            \
        return server_access(x, it, domain_expr, SERVER_NS, name_expr, cls);                     \
    }                                                                                            \
    check_result check_##who##_a_access(check_ctx *x, const check_item *it)                      \
    {                                                                                            \
        return server_access(x, it, domain_expr, SERVER_A, name_expr, cls);                      \
    }

SERVER_CHECKS(client, client_domain(&x->s->name), vstr_str(&x->s->namaddr), "Client host")
SERVER_CHECKS(reverse_client, client_domain(&x->s->reverse_name), vstr_str(&x->s->namaddr),
              "Client host")
SERVER_CHECKS(helo, x->helo, x->helo, "Helo command")
SERVER_CHECKS(sender, domain_of(x->sender), x->sender, "Sender address")
SERVER_CHECKS(recipient, domain_of(x->rcpt), x->rcpt, "Recipient address")
