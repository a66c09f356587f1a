/*
 * dns - DNS lookups with a deadline (see dns.h)
 *
 * Why not res_nquery: its waits are whole seconds per server and try,
 * set in resolv.conf, so no caller can bound a lookup; it also applies
 * the search list. Here the query is built and sent by hand, each wait
 * is cut to what is left of the caller's deadline, and libresolv only
 * parses the answer (ns_initparse, ns_parserr, dn_expand, all bounds
 * checked).
 *
 * Tries: the servers in turn, the first wait 1 s and doubling (at most
 * 4 s), until an answer or the deadline. An answer with SERVFAIL,
 * REFUSED, NOTIMP or FORMERR, or an ICMP refusal, sends the next try to
 * the next server; once every server has said so, the lookup ends with
 * that (SERVFAIL: temporary; the others: permanent).
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <unistd.h>

#include "global/dns.h"
#include "util/argv.h"
#include "util/clock.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/sock.h"

/* The UDP payload size offered with EDNS0 (the 2020 DNS flag day's). */
#define DNS_EDNS_UDP 1232
/* Largest query: header, a 255-byte name, type, class, OPT record. */
#define DNS_QUERY_MAX 512

static struct sockaddr_storage dns_server[DNS_SERVERS_MAX];
static socklen_t dns_server_len[DNS_SERVERS_MAX];
static int dns_server_count;
static int dns_timeout_ms = 10000;

/* ---- Configuration ---- */

/* Add one server from "addr", "addr:port" or "[addr]:port"; 0 or -1. */
static int add_server(const char *spec)
{
    vstr host = VSTR_INIT, err = VSTR_INIT;
    int port = 53, ok = 0;
    struct sockaddr_storage *ss = &dns_server[dns_server_count];
    struct in6_addr a6;

    if (dns_server_count >= DNS_SERVERS_MAX)
        return -1;
    /* A bare IPv6 address has colons but no port. */
    if (inet_pton(AF_INET6, spec, &a6) == 1 || strchr(spec, ':') == NULL ||
        sock_parse_inet(spec, &host, &port, &err) < 0)
        vstr_set_str(&host, spec);
    memset(ss, 0, sizeof(*ss));
    if (inet_pton(AF_INET, vstr_str(&host), &((struct sockaddr_in *)ss)->sin_addr) == 1) {
        ((struct sockaddr_in *)ss)->sin_family = AF_INET;
        ((struct sockaddr_in *)ss)->sin_port = htons((unsigned short)port);
        dns_server_len[dns_server_count++] = sizeof(struct sockaddr_in);
        ok = 1;
    } else if (inet_pton(AF_INET6, vstr_str(&host), &((struct sockaddr_in6 *)ss)->sin6_addr) ==
               1) {
        ((struct sockaddr_in6 *)ss)->sin6_family = AF_INET6;
        ((struct sockaddr_in6 *)ss)->sin6_port = htons((unsigned short)port);
        dns_server_len[dns_server_count++] = sizeof(struct sockaddr_in6);
        ok = 1;
    }
    vstr_release(&host);
    vstr_release(&err);
    return ok ? 0 : -1;
}

/* The nameserver lines of a resolv.conf (glibc's three at most). */
static void read_resolv_conf(const char *path)
{
    FILE *fp = fopen(path, "r");
    char line[1024];
    int seen = 0;

    if (fp == NULL)
        return;
    while (fgets(line, sizeof(line), fp) != NULL && seen < 3) {
        argv_t *words = argv_split(line, " \t\r\n");

        if (words->argc >= 2 && strcmp(words->argv[0], "nameserver") == 0) {
            char *scope = strchr(words->argv[1], '%');

            if (scope)
                *scope = 0;
            seen++;
            if (add_server(words->argv[1]) < 0)
                msg_warn("%s: nameserver %s: not an IP address; ignored", path, words->argv[1]);
        }
        argv_free(words);
    }
    fclose(fp);
}

int dns_configure_servers(const char *dns_servers, const char *resolv_conf)
{
    dns_server_count = 0;
    if (dns_servers && *dns_servers) {
        argv_t *list = argv_split(dns_servers, ", \t");

        for (size_t i = 0; i < list->argc; i++)
            if (add_server(list->argv[i]) < 0)
                msg_warn("dns_servers: \"%s\" is not an address[:port] (or too many); ignored",
                         list->argv[i]);
        argv_free(list);
    } else if (resolv_conf) {
        read_resolv_conf(resolv_conf);
    }
    if (dns_server_count == 0)
        add_server("127.0.0.1");
    return dns_server_count;
}

void dns_configure(config *cfg)
{
    long long t = config_time(cfg, "dns_lookup_timeout");

    dns_timeout_ms = t > 0 && t < 3600 ? (int)(t * 1000) : 3600 * 1000;
    dns_configure_servers(config_str(cfg, "dns_servers"), "/etc/resolv.conf");
}

int64_t dns_deadline(void)
{
    return clock_mono_ms() + dns_timeout_ms;
}

/* ---- Names ---- */

const char *dns_type_name(int type)
{
    static char num[16];

    switch (type) {
    case DNS_T_A:
        return "A";
    case DNS_T_AAAA:
        return "AAAA";
    case DNS_T_MX:
        return "MX";
    case DNS_T_NS:
        return "NS";
    case DNS_T_PTR:
        return "PTR";
    case DNS_T_TXT:
        return "TXT";
    case DNS_T_TLSA:
        return "TLSA";
    }
    snprintf(num, sizeof(num), "%d", type);
    return num;
}

const char *dns_status_text(dns_status st)
{
    switch (st) {
    case DNS_OK:
        return "Success";
    case DNS_NOTFOUND:
        return "Host not found";
    case DNS_NODATA:
        return "No address associated with hostname";
    case DNS_RETRY:
        return "Host not found, try again";
    case DNS_FAIL:
        break;
    }
    return "Non-recoverable error";
}

int dns_ptr_name(const struct sockaddr *sa, vstr *out)
{
    static const char hex[] = "0123456789abcdef";

    vstr_reset(out);
    if (sa->sa_family == AF_INET) {
        const unsigned char *b = (const unsigned char *)&((const struct sockaddr_in *)sa)->sin_addr;

        vstr_set_fmt(out, "%u.%u.%u.%u.in-addr.arpa", b[3], b[2], b[1], b[0]);
        return 0;
    }
    if (sa->sa_family == AF_INET6) {
        const unsigned char *b =
            (const unsigned char *)&((const struct sockaddr_in6 *)sa)->sin6_addr;

        for (int i = 15; i >= 0; i--) {
            vstr_append_char(out, hex[b[i] & 15]);
            vstr_append_char(out, '.');
            vstr_append_char(out, hex[b[i] >> 4]);
            vstr_append_char(out, '.');
        }
        vstr_append_str(out, "ip6.arpa");
        return 0;
    }
    return -1;
}

/* ---- The query ---- */

/* Encode a query for name and type with a random id; its length, or -1
 * when the name cannot be a DNS name. */
static int build_query(const char *name, int type, unsigned char *q, unsigned short *id)
{
    size_t pos = 12, nlen = strlen(name);
    const char *label = name;

    if (nlen > 0 && name[nlen - 1] == '.')
        nlen--;
    if (nlen == 0 || nlen > 253)
        return -1;
    if (getrandom(id, sizeof(*id), 0) != sizeof(*id))
        *id = (unsigned short)rand();
    memset(q, 0, 12);
    q[0] = (unsigned char)(*id >> 8);
    q[1] = (unsigned char)*id;
    q[2] = 0x01; /* RD */
    q[3] = 0x20; /* AD: tell us when the answer was validated */
    q[5] = 1;    /* QDCOUNT */
    q[11] = 1;   /* ARCOUNT: the OPT record */
    while (label < name + nlen) {
        const char *dot = memchr(label, '.', (size_t)(name + nlen - label));
        size_t len = dot ? (size_t)(dot - label) : (size_t)(name + nlen - label);

        if (len == 0 || len > 63)
            return -1;
        q[pos++] = (unsigned char)len;
        memcpy(q + pos, label, len);
        pos += len;
        label += len + 1;
    }
    q[pos++] = 0;
    q[pos++] = (unsigned char)(type >> 8);
    q[pos++] = (unsigned char)type;
    q[pos++] = 0;
    q[pos++] = 1; /* class IN */
    /* OPT: root name, type 41, UDP size, extended rcode and flags 0. */
    q[pos++] = 0;
    q[pos++] = 0;
    q[pos++] = 41;
    q[pos++] = DNS_EDNS_UDP >> 8;
    q[pos++] = DNS_EDNS_UDP & 0xff;
    memset(q + pos, 0, 6);
    pos += 6;
    return (int)pos;
}

/* Wait until fd is ready for events or the deadline; 1, 0 on time-out, -1. */
static int wait_fd(int fd, short events, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline - clock_mono_ms();
        struct pollfd p = {.fd = fd, .events = events};
        int n;

        if (left <= 0)
            return 0;
        n = poll(&p, 1, (int)(left > 60000 ? 60000 : left));
        if (n > 0)
            return 1;
        if (n < 0 && errno != EINTR)
            return -1;
    }
}

/* The query over TCP to server s; the answer's length or -1. */
static int query_tcp(int s, const unsigned char *q, int qlen, unsigned char *ans,
                     int64_t deadline)
{
    vstr err = VSTR_INIT;
    int64_t left = deadline - clock_mono_ms();
    int fd = left > 0 ? sock_connect_addr((struct sockaddr *)&dns_server[s], dns_server_len[s],
                                          (int)(left > 60000 ? 60000 : left), &err)
                      : -1;
    unsigned char buf[2 + DNS_QUERY_MAX];
    size_t want = 2, got = 0;
    int answer_len = -1;

    vstr_release(&err);
    if (fd < 0)
        return -1;
    buf[0] = (unsigned char)(qlen >> 8);
    buf[1] = (unsigned char)qlen;
    memcpy(buf + 2, q, (size_t)qlen);
    sock_set_nonblock(fd, 1);
    for (size_t sent = 0; sent < (size_t)qlen + 2;) {
        ssize_t n = write(fd, buf + sent, (size_t)qlen + 2 - sent);

        if (n > 0)
            sent += (size_t)n;
        else if (n < 0 && errno != EAGAIN && errno != EINTR)
            goto done;
        else if (wait_fd(fd, POLLOUT, deadline) <= 0)
            goto done;
    }
    /* Two length bytes, then that many. */
    unsigned char lenb[2];

    while (got < want) {
        unsigned char *to = answer_len < 0 ? lenb + got : ans + got;
        ssize_t n = read(fd, to, want - got);

        if (n == 0)
            goto done;
        if (n < 0) {
            if ((errno != EAGAIN && errno != EINTR) || wait_fd(fd, POLLIN, deadline) <= 0)
                goto done;
            continue;
        }
        got += (size_t)n;
        if (answer_len < 0 && got == 2) {
            answer_len = lenb[0] << 8 | lenb[1];
            want = (size_t)answer_len, got = 0;
        }
    }
done:
    close(fd);
    return answer_len >= 0 && got == want ? answer_len : -1;
}

/* Is ans a response to query q (same id, QR set, same question)? */
static int matches(const unsigned char *q, int qlen, const unsigned char *ans, int alen)
{
    /* The question is the query's bytes 12 .. qlen - 11 (before OPT);
     * servers may change the case of the name (0x20 encoding). */
    int qsec = qlen - 11 - 12;

    return alen >= 12 + qsec && ans[0] == q[0] && ans[1] == q[1] && (ans[2] & 0x80) &&
           ans[4] == 0 && ans[5] == 1 && strncasecmp((const char *)ans + 12,
                                                     (const char *)q + 12, (size_t)qsec) == 0;
}

/* One try to server s over UDP (then TCP on truncation): the answer's
 * length, 0 on time-out, -1 when the server refuses outright. */
static int query_once(int s, const unsigned char *q, int qlen, unsigned char *ans,
                      int64_t try_end, int64_t deadline)
{
    int fd = socket(dns_server[s].ss_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int result = 0;

    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&dns_server[s], dns_server_len[s]) < 0 ||
        send(fd, q, (size_t)qlen, 0) != qlen) {
        close(fd);
        return -1;
    }
    while (result == 0 && wait_fd(fd, POLLIN, try_end) > 0) {
        ssize_t n = recv(fd, ans, DNS_ANSWER_MAX, 0);

        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (n < 0) {
            result = -1; /* ECONNREFUSED: nobody listens there */
            break;
        }
        if (!matches(q, qlen, ans, (int)n))
            continue; /* a stray or forged datagram: keep waiting */
        result = (int)n;
        if (ans[2] & 0x02) /* TC */
            result = query_tcp(s, q, qlen, ans, deadline);
    }
    close(fd);
    return result;
}

/* ---- The answer ---- */

static void add_rr(dns_answer *out, int type, unsigned ttl, unsigned pref, const void *data,
                   size_t len)
{
    dns_rr *rr;

    out->rr = mem_reallocarray(out->rr, out->count + 1, sizeof(dns_rr));
    rr = &out->rr[out->count++];
    rr->type = type;
    rr->ttl = ttl;
    rr->pref = pref;
    rr->data = (unsigned char *)mem_memdup0(data, len);
    rr->len = len;
}

/* A domain name in rdata at off, without its trailing dot; 0 or -1. */
static int rdata_name(const ns_msg *msg, const unsigned char *at, char name[NS_MAXDNAME])
{
    size_t len;

    if (dn_expand(ns_msg_base(*msg), ns_msg_end(*msg), at, name, NS_MAXDNAME) < 0)
        return -1;
    len = strlen(name);
    if (len > 0 && name[len - 1] == '.')
        name[len - 1] = 0;
    return 0;
}

/* One answer record of the type asked for, into out; 0 or -1 (broken). */
static int take_rr(const ns_msg *msg, const ns_rr *rr, int type, dns_answer *out)
{
    const unsigned char *rd = ns_rr_rdata(*rr);
    size_t rdlen = ns_rr_rdlen(*rr);
    char name[NS_MAXDNAME];

    switch (type) {
    case DNS_T_A:
    case DNS_T_AAAA:
        if (rdlen != (type == DNS_T_A ? 4u : 16u))
            return -1;
        add_rr(out, type, ns_rr_ttl(*rr), 0, rd, rdlen);
        return 0;
    case DNS_T_MX:
        if (rdlen < 3 || rdata_name(msg, rd + 2, name) < 0)
            return -1;
        add_rr(out, type, ns_rr_ttl(*rr), ns_get16(rd), name, strlen(name));
        return 0;
    case DNS_T_NS:
    case DNS_T_PTR:
        if (rdata_name(msg, rd, name) < 0)
            return -1;
        add_rr(out, type, ns_rr_ttl(*rr), 0, name, strlen(name));
        return 0;
    case DNS_T_TXT: {
        vstr text = VSTR_INIT;

        /* character-strings: a length byte, then that many bytes. */
        for (size_t pos = 0; pos < rdlen; pos += 1 + rd[pos]) {
            if (pos + 1 + rd[pos] > rdlen) {
                vstr_release(&text);
                return -1;
            }
            vstr_append(&text, rd + pos + 1, rd[pos]);
        }
        add_rr(out, type, ns_rr_ttl(*rr), 0, vstr_str(&text), vstr_len(&text));
        vstr_release(&text);
        return 0;
    }
    default:
        add_rr(out, type, ns_rr_ttl(*rr), 0, rd, rdlen);
        return 0;
    }
}

dns_status dns_answer_parse(const unsigned char *buf, size_t len, int type, dns_answer *out)
{
    ns_msg msg;
    int rcode;

    memset(out, 0, sizeof(*out));
    if (len < 12 || len > DNS_ANSWER_MAX || ns_initparse(buf, (int)len, &msg) < 0)
        return DNS_FAIL;
    rcode = ns_msg_getflag(msg, ns_f_rcode);
    if (rcode == ns_r_nxdomain)
        return DNS_NOTFOUND;
    if (rcode == ns_r_servfail)
        return DNS_RETRY;
    if (rcode != ns_r_noerror)
        return DNS_FAIL;
    for (int i = 0; i < ns_msg_count(msg, ns_s_an); i++) {
        ns_rr rr;

        if (ns_parserr(&msg, ns_s_an, i, &rr) < 0) {
            dns_answer_free(out);
            return DNS_FAIL;
        }
        if ((int)ns_rr_type(rr) != type || ns_rr_class(rr) != ns_c_in)
            continue;
        if (take_rr(&msg, &rr, type, out) < 0)
            msg_warn("malformed %s record in the answer; skipped", dns_type_name(type));
    }
    if (out->count == 0) {
        dns_answer_free(out);
        return DNS_NODATA;
    }
    out->authentic = ns_msg_getflag(msg, ns_f_ad) != 0;
    return DNS_OK;
}

void dns_answer_free(dns_answer *a)
{
    for (size_t i = 0; i < a->count; i++)
        mem_free(a->rr[i].data);
    mem_free(a->rr);
    memset(a, 0, sizeof(*a));
}

/* ---- The lookup ---- */

dns_status dns_lookup(const char *name, int type, int64_t deadline, dns_answer *out, vstr *why)
{
    unsigned char q[DNS_QUERY_MAX];
    unsigned char *ans;
    unsigned short id;
    int qlen = build_query(name, type, q, &id), wait = 1000, refusals = 0;
    dns_status st = DNS_RETRY, refused_with = DNS_RETRY;
    int answered = 0;

    memset(out, 0, sizeof(*out));
    if (dns_server_count == 0)
        dns_configure_servers(NULL, "/etc/resolv.conf");
    if (qlen < 0) {
        vstr_set_fmt(why, "Name service error for name=%s type=%s: malformed name", name,
                     dns_type_name(type));
        return DNS_FAIL;
    }
    ans = mem_alloc(DNS_ANSWER_MAX);
    for (int t = 0; !answered && clock_mono_ms() < deadline; t++) {
        int s = t % dns_server_count;
        int64_t try_end = clock_mono_ms() + wait;
        int n = query_once(s, q, qlen, ans, try_end < deadline ? try_end : deadline, deadline);

        if (s == dns_server_count - 1 && wait < 4000)
            wait *= 2;
        if (n == 0)
            continue;
        st = n < 0 ? DNS_RETRY : dns_answer_parse(ans, (size_t)n, type, out);
        if (n > 0 && (st == DNS_OK || st == DNS_NOTFOUND || st == DNS_NODATA))
            answered = 1;
        else if (++refusals >= dns_server_count) {
            /* Every server refused or failed: SERVFAIL and silence are
             * temporary, REFUSED and broken answers are not. */
            answered = 1;
            st = refused_with == DNS_FAIL || st == DNS_FAIL ? DNS_FAIL : DNS_RETRY;
        } else if (st == DNS_FAIL) {
            refused_with = DNS_FAIL;
        }
    }
    mem_free(ans);
    if (!answered)
        st = DNS_RETRY;
    if (st != DNS_OK)
        vstr_set_fmt(why, "Name service error for name=%s type=%s: %s", name,
                     dns_type_name(type), dns_status_text(st));
    return st;
}
