/*
 * smtp_addr - from a next hop to the list of server addresses to try
 *
 * Next-hop forms (qmgr passes relayhost, a transport's next hop or the
 * recipient's domain):
 *
 *   [host]:port, [host]   no MX lookup: the host's own addresses
 *   host:port, host       MX lookup for host (SMTP), A/AAAA when it has none
 *   unix:/path            LMTP over a UNIX-domain socket
 *   inet:host:port        LMTP over TCP (LMTP never looks up MX records)
 *
 * MX records are tried lowest preference first; hosts of equal
 * preference in random order (RFC 5321 5.1) so that load spreads. A
 * null MX (RFC 7505: one record, preference 0, exchange ".") means the
 * domain takes no mail: 5.1.10. A domain that does not exist is 5.4.4;
 * a DNS failure that may pass is a deferral (4.4.3). When this host
 * (myhostname) is one of the MX hosts, only those of lower preference
 * are tried; with none, the mail would loop: 5.4.6.
 *
 * Addresses come from DNS (global/dns: each lookup bounded by
 * dns_lookup_timeout; dns_servers, when set, replaces the servers of
 * resolv.conf, so tests can point at a resolver on a high loopback port)
 * or from the system's resolver (smtp_host_lookup = native, which reads
 * /etc/hosts), in the order smtp_host_lookup names.
 * At most smtp_mx_address_limit addresses are kept. A server's dnssec
 * flag says that its address records, and the MX records that named it,
 * came validated (the resolver's AD bit): only such a server may be
 * authenticated by DANE (RFC 7672 2.2).
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>

#include "global/dns.h"
#include "smtp/smtp.h"
#include "util/argv.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/sock.h"

/* Most MX records used. */
#define SMTP_MX_MAX 100

static void add_server(smtp_servers *out, const char *host, const struct sockaddr *sa,
                       socklen_t len)
{
    smtp_server *s;

    if ((long long)out->count >= smtp_cf.mx_address_limit && smtp_cf.mx_address_limit > 0)
        return;
    out->list = mem_reallocarray(out->list, out->count + 1, sizeof(smtp_server));
    s = &out->list[out->count++];
    memset(s, 0, sizeof(*s));
    s->host = mem_strdup(host);
    memcpy(&s->sa, sa, len);
    s->salen = len;
}

static void add_inet(smtp_servers *out, const char *host, int family, const void *addr, int port)
{
    struct sockaddr_storage ss;
    socklen_t len;

    memset(&ss, 0, sizeof(ss));
    if (family == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

        sin->sin_family = AF_INET;
        sin->sin_port = htons((unsigned short)port);
        memcpy(&sin->sin_addr, addr, sizeof(sin->sin_addr));
        len = sizeof(*sin);
    } else {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((unsigned short)port);
        memcpy(&sin6->sin6_addr, addr, sizeof(sin6->sin6_addr));
        len = sizeof(*sin6);
    }
    add_server(out, host, (struct sockaddr *)&ss, len);
}

/* One address family of host from DNS: added count, or -1 with *st. */
static int dns_addrs(smtp_servers *out, const char *host, int family, int port, dns_status *st)
{
    dns_answer ans;
    vstr why = VSTR_INIT;
    int added = 0;

    *st = dns_lookup(host, family == AF_INET ? DNS_T_A : DNS_T_AAAA, dns_deadline(), &ans, &why);
    vstr_release(&why);
    if (*st != DNS_OK)
        return -1;
    for (size_t i = 0; i < ans.count; i++, added++) {
        add_inet(out, host, family, ans.rr[i].data, port);
        out->list[out->count - 1].dnssec = ans.authentic;
    }
    dns_answer_free(&ans);
    return added;
}

/* The system resolver's addresses of host (/etc/hosts included). */
static int native_addrs(smtp_servers *out, const char *host, int port, dns_status *st)
{
    struct addrinfo hints, *res, *ai;
    int added = 0, rc;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = smtp_cf.inet_protocols;
    hints.ai_socktype = SOCK_STREAM;
    rc = getaddrinfo(host, NULL, &hints, &res);
    if (rc != 0) {
        *st = rc == EAI_AGAIN ? DNS_RETRY : rc == EAI_NONAME ? DNS_NOTFOUND : DNS_FAIL;
        return -1;
    }
    for (ai = res; ai; ai = ai->ai_next) {
        if (ai->ai_family == AF_INET)
            add_inet(out, host, AF_INET, &((struct sockaddr_in *)ai->ai_addr)->sin_addr, port);
        else if (ai->ai_family == AF_INET6)
            add_inet(out, host, AF_INET6, &((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr, port);
        else
            continue;
        added++;
    }
    freeaddrinfo(res);
    return added;
}

/* All addresses of host, preferred family first: added count, or -1
 * with *st. */
static int host_addrs(smtp_servers *out, const char *host, int port, dns_status *st)
{
    unsigned char a4[4];
    unsigned char a6[16];
    argv_t *methods;
    int added = -1;

    if (inet_pton(AF_INET, host, a4) == 1) {
        add_inet(out, host, AF_INET, a4, port);
        return 1;
    }
    if (inet_pton(AF_INET6, host, a6) == 1) {
        add_inet(out, host, AF_INET6, a6, port);
        return 1;
    }
    *st = DNS_NOTFOUND;
    methods = config_list(smtp_cf.cfg, "smtp_host_lookup");
    for (size_t m = 0; m < methods->argc && added <= 0; m++) {
        if (strcasecmp(methods->argv[m], "native") == 0) {
            added = native_addrs(out, host, port, st);
            continue;
        }
        int first = smtp_cf.address_preference == AF_INET6 ? AF_INET6 : AF_INET;
        int second = first == AF_INET ? AF_INET6 : AF_INET;
        dns_status e1 = DNS_OK, e2 = DNS_OK;
        int n1 = -1, n2 = -1;

        if (smtp_cf.inet_protocols == AF_UNSPEC || smtp_cf.inet_protocols == first)
            n1 = dns_addrs(out, host, first, port, &e1);
        if (smtp_cf.inet_protocols == AF_UNSPEC || smtp_cf.inet_protocols == second)
            n2 = dns_addrs(out, host, second, port, &e2);
        added = (n1 > 0 ? n1 : 0) + (n2 > 0 ? n2 : 0);
        if (added == 0) {
            added = -1;
            *st = e1 == DNS_RETRY || e2 == DNS_RETRY         ? DNS_RETRY
                  : e1 == DNS_NOTFOUND || e2 == DNS_NOTFOUND ? DNS_NOTFOUND
                  : e1 != DNS_OK                             ? e1
                                                             : e2;
        }
    }
    argv_free(methods);
    return added;
}

typedef struct mx_rec {
    unsigned pref;
    int rank; /* random, to shuffle equal preferences */
    char *name;
} mx_rec;

static int mx_compare(const void *a, const void *b)
{
    const mx_rec *x = a, *y = b;

    return x->pref != y->pref ? (x->pref < y->pref ? -1 : 1)
                              : (x->rank > y->rank) - (x->rank < y->rank);
}

/* MX records of domain, sorted (at most max): count, or -1 with *st. The
 * names point into ans, which the caller frees. */
static int mx_lookup(const char *domain, mx_rec *mx, int max, dns_answer *ans, dns_status *st)
{
    vstr why = VSTR_INIT;
    int count = 0;

    *st = dns_lookup(domain, DNS_T_MX, dns_deadline(), ans, &why);
    vstr_release(&why);
    if (*st != DNS_OK)
        return -1;
    for (size_t i = 0; i < ans->count && count < max; i++, count++) {
        mx[count].pref = ans->rr[i].pref;
        mx[count].name = (char *)ans->rr[i].data;
        mx[count].rank = rand();
    }
    qsort(mx, (size_t)count, sizeof(mx_rec), mx_compare);
    return count;
}

/* RFC 5321 5.1: when this host is one of the MX hosts, only those with a
 * lower preference may be used; none left means the mail would come
 * back here. Returns how many of the sorted records remain (n when this
 * host is not among them). */
static int mx_below_self(const mx_rec *mx, int n)
{
    for (int i = 0; i < n; i++) {
        size_t len = strlen(mx[i].name);

        if (len > 0 && mx[i].name[len - 1] == '.')
            len--;
        if (strlen(smtp_cf.myhostname) == len &&
            strncasecmp(mx[i].name, smtp_cf.myhostname, len) == 0) {
            while (i > 0 && mx[i - 1].pref == mx[i].pref)
                i--;
            return i;
        }
    }
    return n;
}

static int parse_port(const char *text, int *port)
{
    char *end;
    long v = strtol(text, &end, 10);
    struct servent *se;

    if (*text && *end == 0 && v > 0 && v < 65536) {
        *port = (int)v;
        return 0;
    }
    se = getservbyname(text, "tcp");
    if (se == NULL)
        return -1;
    *port = ntohs((unsigned short)se->s_port);
    return 0;
}

/* Split "[host]:port", "host:port", "[host]", "host" (IPv6 only in
 * brackets). */
static int split_nexthop(const char *nexthop, vstr *host, int *port, int *bracketed)
{
    const char *colon;

    *bracketed = nexthop[0] == '[';
    if (*bracketed) {
        const char *close = strchr(nexthop, ']');

        if (close == NULL || (close[1] != 0 && close[1] != ':'))
            return -1;
        vstr_set(host, nexthop + 1, (size_t)(close - nexthop - 1));
        colon = close[1] == ':' ? close + 1 : NULL;
    } else {
        colon = strrchr(nexthop, ':');
        vstr_set(host, nexthop, colon ? (size_t)(colon - nexthop) : strlen(nexthop));
    }
    if (parse_port(colon ? colon + 1 : smtp_cf.default_port, port) < 0)
        return -1;
    return vstr_len(host) > 0 ? 0 : -1;
}

static smtp_addr_status fail_dns(dns_status st, const char *name, const char *type, char *dsn,
                                 vstr *why)
{
    int retry = st == DNS_RETRY || st == DNS_FAIL;

    snprintf(dsn, 16, "%s", retry ? "4.4.3" : "5.4.4");
    vstr_set_fmt(why, "Host or domain name not found. Name service error for name=%s type=%s: %s",
                 name, type, dns_status_text(st));
    return retry ? SMTP_ADDR_RETRY : SMTP_ADDR_FAIL;
}

static smtp_addr_status resolve_unix(const char *path, smtp_servers *out, char *dsn, vstr *why)
{
    struct sockaddr_un sun;

    if (strlen(path) >= sizeof(sun.sun_path) || path[0] != '/') {
        snprintf(dsn, 16, "4.3.5");
        vstr_set_fmt(why, "bad LMTP socket path \"%s\"", path);
        return SMTP_ADDR_RETRY;
    }
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    memcpy(sun.sun_path, path, strlen(path));
    add_server(out, "localhost", (struct sockaddr *)&sun, sizeof(sun));
    out->list[out->count - 1].path = mem_strdup(path);
    return SMTP_ADDR_OK;
}

smtp_addr_status smtp_addr_resolve(const char *nexthop, smtp_servers *out, char *dsn, vstr *why)
{
    vstr host = VSTR_INIT;
    int port, bracketed, mx_mode;
    dns_status st = DNS_OK;
    smtp_addr_status status = SMTP_ADDR_OK;
    mx_rec *mx = NULL;
    dns_answer mx_ans = {0};

    memset(out, 0, sizeof(*out));
    if (smtp_cf.lmtp && strncmp(nexthop, "unix:", 5) == 0)
        return resolve_unix(nexthop + 5, out, dsn, why);
    if (smtp_cf.lmtp && strncmp(nexthop, "inet:", 5) == 0)
        nexthop += 5;
    if (split_nexthop(nexthop, &host, &port, &bracketed) < 0) {
        snprintf(dsn, 16, "4.3.5");
        vstr_set_fmt(why, "malformed next hop \"%s\"", nexthop);
        status = SMTP_ADDR_RETRY;
        goto done;
    }
    mx_mode = !bracketed && !smtp_cf.lmtp;
    if (mx_mode) {
        int n;

        mx = mem_calloc(SMTP_MX_MAX, sizeof(mx_rec));
        n = mx_lookup(vstr_str(&host), mx, SMTP_MX_MAX, &mx_ans, &st);
        if (n < 0 && st != DNS_NODATA) {
            status = fail_dns(st, vstr_str(&host), "MX", dsn, why);
            goto done;
        }
        if (n == 1 && mx[0].pref == 0 && mx[0].name[0] == 0) {
            snprintf(dsn, 16, "5.1.10");
            vstr_set_fmt(why, "Domain %s does not accept mail (nullMX)", vstr_str(&host));
            status = SMTP_ADDR_FAIL;
            goto done;
        }
        n = mx_below_self(mx, n);
        if (n == 0) {
            snprintf(dsn, 16, "5.4.6");
            vstr_set_fmt(why, "mail for %s loops back to myself", vstr_str(&host));
            status = SMTP_ADDR_FAIL;
            goto done;
        }
        for (int i = 0; i < n; i++)
            if (host_addrs(out, mx[i].name, port, &st) < 0)
                msg_info("MX host %s of %s: no address: %s", mx[i].name, vstr_str(&host),
                         dns_status_text(st));
        /* DANE trusts an MX host's name only from a validated MX answer. */
        for (size_t i = 0; i < out->count; i++)
            out->list[i].dnssec &= mx_ans.authentic;
        if (n > 0 && out->count == 0) {
            snprintf(dsn, 16, "4.4.4");
            vstr_set_fmt(why, "no MX host for %s has a usable address", vstr_str(&host));
            status = SMTP_ADDR_RETRY;
            goto done;
        }
        if (n > 0)
            goto done;
    }
    if (host_addrs(out, vstr_str(&host), port, &st) < 0)
        status = fail_dns(st, vstr_str(&host), mx_mode ? "A" : "A/AAAA", dsn, why);
done:
    mem_free(mx);
    dns_answer_free(&mx_ans);
    vstr_release(&host);
    return status;
}

void smtp_addr_add_fallback(smtp_servers *out)
{
    argv_t *relays = argv_split(smtp_cf.fallback_relay, ", \t\r\n");

    for (size_t i = 0; i < relays->argc; i++) {
        smtp_servers more;
        char dsn[16];
        vstr why = VSTR_INIT;

        if (smtp_addr_resolve(relays->argv[i], &more, dsn, &why) != SMTP_ADDR_OK)
            msg_info("smtp_fallback_relay %s: %s", relays->argv[i], vstr_str(&why));
        out->list = mem_reallocarray(out->list, out->count + more.count, sizeof(smtp_server));
        memcpy(out->list + out->count, more.list, more.count * sizeof(smtp_server));
        out->count += more.count;
        mem_free(more.list);
        vstr_release(&why);
    }
    argv_free(relays);
}

void smtp_servers_free(smtp_servers *s)
{
    for (size_t i = 0; i < s->count; i++) {
        mem_free(s->list[i].host);
        mem_free(s->list[i].path);
    }
    mem_free(s->list);
    memset(s, 0, sizeof(*s));
}

void smtp_server_text(const smtp_server *s, vstr *out)
{
    vstr addr = VSTR_INIT;
    int port = 0;

    if (s->path) {
        vstr_set_fmt(out, "%s[%s]", s->host, s->path);
        return;
    }
    sock_addr_text((const struct sockaddr *)&s->sa, s->salen, &addr, &port);
    vstr_set_fmt(out, "%s[%s]:%d", s->host, vstr_str(&addr), port);
    vstr_release(&addr);
}
