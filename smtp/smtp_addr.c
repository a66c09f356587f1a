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
 * Addresses come from DNS (res_nquery: dns_servers, when set, replaces
 * the servers of resolv.conf, so tests can point at a resolver on a high
 * loopback port) or from the system's resolver (smtp_host_lookup =
 * native, which reads /etc/hosts), in the order smtp_host_lookup names.
 * At most smtp_mx_address_limit addresses are kept.
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>

#include "smtp/smtp.h"
#include "util/argv.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/sock.h"

/* Largest DNS answer we read. */
#define SMTP_DNS_ANSWER_MAX 65536
/* Most MX records used. */
#define SMTP_MX_MAX 100

static struct __res_state smtp_res;
static int smtp_res_ready;

/* Set up the resolver once: resolv.conf, then dns_servers over it. */
static void dns_init(void)
{
    argv_t *servers;

    if (smtp_res_ready)
        return;
    if (res_ninit(&smtp_res) != 0)
        msg_warn("cannot initialize the DNS resolver");
    smtp_res_ready = 1;
    if (*smtp_cf.dns_servers == 0)
        return;
    servers = argv_split(smtp_cf.dns_servers, ", \t");
    smtp_res.nscount = 0;
    for (size_t i = 0; i < servers->argc && smtp_res.nscount < MAXNS; i++) {
        vstr host = VSTR_INIT, err = VSTR_INIT;
        struct sockaddr_in *sin = &smtp_res.nsaddr_list[smtp_res.nscount];
        int port = 53;
        const char *spec = servers->argv[i];

        if (strchr(spec, ':') == NULL || sock_parse_inet(spec, &host, &port, &err) < 0)
            vstr_set_str(&host, spec);
        memset(sin, 0, sizeof(*sin));
        sin->sin_family = AF_INET;
        sin->sin_port = htons((unsigned short)port);
        if (inet_pton(AF_INET, vstr_str(&host), &sin->sin_addr) == 1)
            smtp_res.nscount++;
        else
            msg_warn("dns_servers: \"%s\" is not an IPv4 address[:port]; ignored", spec);
        vstr_release(&host);
        vstr_release(&err);
    }
    argv_free(servers);
}

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

/* A DNS query; the answer's length, or -1 with *herr (HOST_NOT_FOUND,
 * NO_DATA, TRY_AGAIN, NO_RECOVERY). */
static int dns_query(const char *name, int type, unsigned char *answer, int *herr)
{
    int n;

    dns_init();
    n = res_nquery(&smtp_res, name, ns_c_in, type, answer, SMTP_DNS_ANSWER_MAX);
    *herr = n < 0 ? smtp_res.res_h_errno : 0;
    if (n >= 0 && n < (int)sizeof(HEADER))
        *herr = NO_RECOVERY, n = -1;
    return n;
}

static const char *herr_text(int herr)
{
    return herr == HOST_NOT_FOUND ? "Host not found"
           : herr == NO_DATA      ? "No address associated with hostname"
           : herr == TRY_AGAIN    ? "Host not found, try again"
                                  : "Non-recoverable error";
}

/* One address family of host from DNS: added count, or -1 with *herr. */
static int dns_addrs(smtp_servers *out, const char *host, int family, int port, int *herr)
{
    unsigned char *answer = mem_alloc(SMTP_DNS_ANSWER_MAX);
    int type = family == AF_INET ? ns_t_a : ns_t_aaaa;
    int n = dns_query(host, type, answer, herr), added = 0;
    ns_msg msg;

    if (n >= 0 && ns_initparse(answer, n, &msg) == 0) {
        for (int i = 0; i < ns_msg_count(msg, ns_s_an); i++) {
            ns_rr rr;

            if (ns_parserr(&msg, ns_s_an, i, &rr) < 0 || (int)ns_rr_type(rr) != type)
                continue;
            if (ns_rr_rdlen(rr) != (family == AF_INET ? 4 : 16))
                continue;
            add_inet(out, host, family, ns_rr_rdata(rr), port);
            added++;
        }
    }
    mem_free(answer);
    if (n >= 0 && added == 0)
        *herr = NO_DATA;
    return n < 0 || added == 0 ? -1 : added;
}

/* The system resolver's addresses of host (/etc/hosts included). */
static int native_addrs(smtp_servers *out, const char *host, int port, int *herr)
{
    struct addrinfo hints, *res, *ai;
    int added = 0, rc;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = smtp_cf.inet_protocols;
    hints.ai_socktype = SOCK_STREAM;
    rc = getaddrinfo(host, NULL, &hints, &res);
    if (rc != 0) {
        *herr = rc == EAI_AGAIN ? TRY_AGAIN : rc == EAI_NONAME ? HOST_NOT_FOUND : NO_RECOVERY;
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
 * with *herr. */
static int host_addrs(smtp_servers *out, const char *host, int port, int *herr)
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
    *herr = HOST_NOT_FOUND;
    methods = config_list(smtp_cf.cfg, "smtp_host_lookup");
    for (size_t m = 0; m < methods->argc && added <= 0; m++) {
        if (strcasecmp(methods->argv[m], "native") == 0) {
            added = native_addrs(out, host, port, herr);
            continue;
        }
        int first = smtp_cf.address_preference == AF_INET6 ? AF_INET6 : AF_INET;
        int second = first == AF_INET ? AF_INET6 : AF_INET;
        int e1 = 0, e2 = 0, n1 = -1, n2 = -1;

        if (smtp_cf.inet_protocols == AF_UNSPEC || smtp_cf.inet_protocols == first)
            n1 = dns_addrs(out, host, first, port, &e1);
        if (smtp_cf.inet_protocols == AF_UNSPEC || smtp_cf.inet_protocols == second)
            n2 = dns_addrs(out, host, second, port, &e2);
        added = (n1 > 0 ? n1 : 0) + (n2 > 0 ? n2 : 0);
        if (added == 0) {
            added = -1;
            *herr = e1 == TRY_AGAIN || e2 == TRY_AGAIN             ? TRY_AGAIN
                    : e1 == HOST_NOT_FOUND || e2 == HOST_NOT_FOUND ? HOST_NOT_FOUND
                    : e1                                           ? e1
                                                                   : e2;
        }
    }
    argv_free(methods);
    return added;
}

typedef struct mx_rec {
    int pref;
    int rank; /* random, to shuffle equal preferences */
    char name[NS_MAXDNAME];
} mx_rec;

static int mx_compare(const void *a, const void *b)
{
    const mx_rec *x = a, *y = b;

    return x->pref != y->pref ? (x->pref < y->pref ? -1 : 1)
                              : (x->rank > y->rank) - (x->rank < y->rank);
}

/* MX records of domain, sorted: count, or -1 with *herr. */
static int mx_lookup(const char *domain, mx_rec *mx, int max, int *herr)
{
    unsigned char *answer = mem_alloc(SMTP_DNS_ANSWER_MAX);
    int n = dns_query(domain, ns_t_mx, answer, herr), count = 0;
    ns_msg msg;

    if (n >= 0 && ns_initparse(answer, n, &msg) == 0) {
        for (int i = 0; i < ns_msg_count(msg, ns_s_an) && count < max; i++) {
            ns_rr rr;

            if (ns_parserr(&msg, ns_s_an, i, &rr) < 0 || ns_rr_type(rr) != ns_t_mx ||
                ns_rr_rdlen(rr) < 3)
                continue;
            mx[count].pref = ns_get16(ns_rr_rdata(rr));
            if (dn_expand(ns_msg_base(msg), ns_msg_end(msg), ns_rr_rdata(rr) + 2, mx[count].name,
                          sizeof(mx[count].name)) < 0)
                continue;
            mx[count].rank = rand();
            count++;
        }
    }
    mem_free(answer);
    if (n >= 0 && count == 0)
        *herr = NO_DATA;
    if (count > 0)
        qsort(mx, (size_t)count, sizeof(mx_rec), mx_compare);
    return count > 0 ? count : -1;
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

static smtp_addr_status fail_herr(int herr, const char *name, const char *type, char *dsn,
                                  vstr *why)
{
    int retry = herr == TRY_AGAIN || herr == NO_RECOVERY;

    snprintf(dsn, 16, "%s", retry ? "4.4.3" : "5.4.4");
    vstr_set_fmt(why, "Host or domain name not found. Name service error for name=%s type=%s: %s",
                 name, type, herr_text(herr));
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
    int port, bracketed, herr = 0, mx_mode;
    smtp_addr_status status = SMTP_ADDR_OK;
    mx_rec *mx = NULL;

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
        n = mx_lookup(vstr_str(&host), mx, SMTP_MX_MAX, &herr);
        if (n < 0 && herr != NO_DATA) {
            status = fail_herr(herr, vstr_str(&host), "MX", dsn, why);
            goto done;
        }
        if (n == 1 && mx[0].pref == 0 && (mx[0].name[0] == 0 || strcmp(mx[0].name, ".") == 0)) {
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
            if (host_addrs(out, mx[i].name, port, &herr) < 0)
                msg_info("MX host %s of %s: no address: %s", mx[i].name, vstr_str(&host),
                         herr_text(herr));
        if (n > 0 && out->count == 0) {
            snprintf(dsn, 16, "4.4.4");
            vstr_set_fmt(why, "no MX host for %s has a usable address", vstr_str(&host));
            status = SMTP_ADDR_RETRY;
            goto done;
        }
        if (n > 0)
            goto done;
    }
    if (host_addrs(out, vstr_str(&host), port, &herr) < 0)
        status = fail_herr(herr, vstr_str(&host), mx_mode ? "A" : "A/AAAA", dsn, why);
done:
    mem_free(mx);
    vstr_release(&host);
    return status;
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
