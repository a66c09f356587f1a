/*
 * smtpd_peer - who the client is: address, port and a verified name
 *
 * The name is the reverse (PTR) name of the address, kept only when it
 * resolves forward to the same address again; otherwise "unknown", as in
 * Postfix, so that a client cannot name itself after someone else by
 * controlling its own PTR record. An IPv4 client on an IPv6 socket is
 * shown as plain IPv4 (util/sock).
 *
 * The lookups go through global/dns, not the C library: getnameinfo and
 * getaddrinfo wait as long as resolv.conf says, per server and try, and a
 * slow DNS server would hold the greeting that long. Here the PTR lookup
 * and the forward check share one deadline, dns_lookup_timeout from the
 * start. The hosts file still comes first, as with the C library's
 * "files dns": it is read once per process, before the chroot
 * (util/hosts_file), so localhost[127.0.0.1] stays localhost.
 *
 * Each name has a status (smtpd.h), for reject_unknown_client_hostname
 * and reject_unknown_reverse_client_hostname: a lookup that failed for
 * now (timeout, SERVFAIL) is TEMP, and those answer 450 whatever
 * unknown_client_reject_code says, as in Postfix.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "global/dns.h"
#include "smtpd/smtpd.h"
#include "util/hosts_file.h"
#include "util/msg.h"
#include "util/sock.h"

#define HOSTS_PATH "/etc/hosts"

static hosts_file hosts;

void smtpd_peer_configure(void)
{
    vstr why = VSTR_INIT;

    if (hosts_file_load(HOSTS_PATH, &hosts, &why) < 0)
        msg_warn("%s; client names come from DNS alone", vstr_str(&why));
    vstr_release(&why);
}

void smtpd_peer_free(void)
{
    hosts_file_free(&hosts);
}

/* The client's address in binary (4 or 16 bytes) and as a sockaddr for
 * the PTR name; 0, or -1 when addr is no address. */
static int parse_addr(const char *addr, int *family, unsigned char *bin,
                      struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof(*ss));
    if (inet_pton(AF_INET, addr, bin) == 1) {
        struct sockaddr_in *sin = (struct sockaddr_in *)ss;

        *family = sin->sin_family = AF_INET;
        memcpy(&sin->sin_addr, bin, 4);
        return 0;
    }
    if (inet_pton(AF_INET6, addr, bin) == 1) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

        *family = sin6->sin6_family = AF_INET6;
        memcpy(&sin6->sin6_addr, bin, 16);
        return 0;
    }
    return -1;
}

/* A PTR name must be a host name, and not one that looks like an address
 * (a client could otherwise pass for the address it names). */
static int usable_name(const char *name)
{
    unsigned char buf[16];
    size_t len = strlen(name);

    if (len == 0 || len > HOSTS_NAME_MAX || name[0] == '.' || name[0] == '-' ||
        strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") != len)
        return 0;
    return inet_pton(AF_INET, name, buf) != 1 && inet_pton(AF_INET6, name, buf) != 1;
}

/* The reverse name into out: SMTPD_PEER_OK, _TEMP or _PERM. */
static int reverse_lookup(const struct sockaddr *sa, int family, const unsigned char *bin,
                          int64_t deadline, vstr *out)
{
    const char *listed = hosts_file_name_of(&hosts, family, bin);
    vstr qname = VSTR_INIT, why = VSTR_INIT;
    dns_answer ans;
    dns_status st;

    if (listed) {
        vstr_set_str(out, listed);
        return SMTPD_PEER_OK;
    }
    dns_ptr_name(sa, &qname);
    st = dns_lookup(vstr_str(&qname), DNS_T_PTR, deadline, &ans, &why);
    if (st == DNS_OK) {
        vstr_set(out, (const char *)ans.rr[0].data, ans.rr[0].len);
        dns_answer_free(&ans);
    }
    vstr_release(&qname);
    vstr_release(&why);
    return st == DNS_OK ? SMTPD_PEER_OK : st == DNS_RETRY ? SMTPD_PEER_TEMP : SMTPD_PEER_PERM;
}

/* Does name resolve to the client's address (hosts file, else A or AAAA
 * for the client's family)? SMTPD_PEER_OK, _TEMP or _FORGED; logged as
 * Postfix does. */
static int forward_check(const char *name, const char *addr, int family, const unsigned char *bin,
                         int64_t deadline)
{
    int listed = hosts_file_lookup(&hosts, name, family, bin);
    size_t alen = family == AF_INET ? 4 : 16;
    vstr why = VSTR_INIT;
    dns_answer ans;
    dns_status st;
    int status = SMTPD_PEER_FORGED;

    if (listed >= 0) {
        if (listed == 1)
            return SMTPD_PEER_OK;
        msg_warn("hostname %s does not resolve to address %s", name, addr);
        return SMTPD_PEER_FORGED;
    }
    st = dns_lookup(name, family == AF_INET ? DNS_T_A : DNS_T_AAAA, deadline, &ans, &why);
    if (st == DNS_OK) {
        for (size_t i = 0; i < ans.count && status != SMTPD_PEER_OK; i++)
            if (ans.rr[i].len == alen && memcmp(ans.rr[i].data, bin, alen) == 0)
                status = SMTPD_PEER_OK;
        dns_answer_free(&ans);
        if (status != SMTPD_PEER_OK)
            msg_warn("hostname %s does not resolve to address %s", name, addr);
    } else {
        msg_warn("hostname %s does not resolve to address %s: %s", name, addr, vstr_str(&why));
        if (st == DNS_RETRY)
            status = SMTPD_PEER_TEMP;
    }
    vstr_release(&why);
    return status;
}

/* The names of a client at addr, within one dns_lookup_timeout. */
static void lookup_names(smtpd_state *s, const char *addr)
{
    struct sockaddr_storage ss;
    unsigned char bin[16];
    int family;
    int64_t deadline = dns_deadline();
    vstr ptr = VSTR_INIT;

    if (parse_addr(addr, &family, bin, &ss) < 0)
        return;
    s->reverse_name_status = reverse_lookup((struct sockaddr *)&ss, family, bin, deadline, &ptr);
    if (s->reverse_name_status == SMTPD_PEER_OK && !usable_name(vstr_str(&ptr))) {
        msg_warn("%s: the reverse name of %s is not a usable host name", addr, addr);
        s->reverse_name_status = SMTPD_PEER_PERM;
    }
    if (s->reverse_name_status != SMTPD_PEER_OK) {
        s->name_status = s->reverse_name_status;
        vstr_release(&ptr);
        return;
    }
    vstr_set(&s->reverse_name, vstr_str(&ptr), vstr_len(&ptr));
    s->name_status = forward_check(vstr_str(&ptr), addr, family, bin, deadline);
    if (s->name_status == SMTPD_PEER_OK)
        vstr_set(&s->name, vstr_str(&ptr), vstr_len(&ptr));
    vstr_release(&ptr);
}

void smtpd_peer_init(smtpd_state *s)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);

    vstr_set_str(&s->name, "unknown");
    vstr_set_str(&s->reverse_name, "unknown");
    s->name_status = s->reverse_name_status = SMTPD_PEER_PERM;
    if (getpeername(vstream_fd(s->client), (struct sockaddr *)&ss, &len) < 0 ||
        sock_addr_text((struct sockaddr *)&ss, len, &s->addr, &s->port) < 0) {
        /* Not a socket (a test's pipe): a client without an address. */
        vstr_set_str(&s->addr, "unknown");
        s->port = 0;
    }
    if (smtpd_cf.peername_lookup && !vstr_equals(&s->addr, "unknown"))
        lookup_names(s, vstr_str(&s->addr));
    vstr_set_fmt(&s->namaddr, "%s[%s]", vstr_str(&s->name), vstr_str(&s->addr));
}
