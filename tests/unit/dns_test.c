/* Unit tests for global/dns: answer parsing (records, rcodes, broken
 * messages), reverse names, server configuration, the deadline against
 * a server that never answers, and a truncated UDP answer asked again
 * over TCP (a forked responder on loopback). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "global/dns.h"
#include "util/clock.h"

/* A response being built: header, the question for "example.test",
 * then records whose owner is a pointer to the question's name. */
typedef struct msg {
    unsigned char b[2048];
    size_t len;
} msg;

static void put(msg *m, const void *p, size_t n)
{
    memcpy(m->b + m->len, p, n);
    m->len += n;
}

static void put16(msg *m, unsigned v)
{
    unsigned char x[2] = {(unsigned char)(v >> 8), (unsigned char)v};

    put(m, x, 2);
}

static void start(msg *m, int rcode, int ad, unsigned ancount, int qtype)
{
    static const unsigned char qname[] = "\007example\004test";

    m->len = 0;
    put16(m, 0x1234);
    put16(m, 0x8180 | (ad ? 0x20 : 0) | (unsigned)rcode);
    put16(m, 1);
    put16(m, ancount);
    put16(m, 0);
    put16(m, 0);
    put(m, qname, sizeof(qname)); /* with the root's zero byte */
    put16(m, (unsigned)qtype);
    put16(m, 1);
}

static void rr(msg *m, int type, const void *rdata, size_t rdlen)
{
    put16(m, 0xc00c); /* the question's name */
    put16(m, (unsigned)type);
    put16(m, 1);
    put16(m, 0);
    put16(m, 300);
    put16(m, (unsigned)rdlen);
    put(m, rdata, rdlen);
}

static void a_records_are_returned_and_other_types_skipped(void **state)
{
    msg m;
    dns_answer a;
    static const unsigned char cname[] = "\003www\300\014";

    (void)state;
    start(&m, 0, 0, 3, DNS_T_A);
    rr(&m, 5, cname, sizeof(cname) - 1);
    rr(&m, DNS_T_A, "\300\000\002\001", 4);
    rr(&m, DNS_T_A, "\300\000\002\002", 4);
    assert_int_equal(dns_answer_parse(m.b, m.len, DNS_T_A, &a), DNS_OK);
    assert_int_equal(a.count, 2);
    assert_int_equal(a.rr[0].len, 4);
    assert_memory_equal(a.rr[1].data, "\300\000\002\002", 4);
    assert_int_equal(a.rr[0].ttl, 300);
    assert_int_equal(a.authentic, 0);
    dns_answer_free(&a);
}

static void mx_names_are_expanded_and_a_null_mx_is_the_empty_name(void **state)
{
    msg m;
    dns_answer a;
    static const unsigned char mx1[] = "\000\012\003mx1\300\014"; /* 10 mx1.example.test */
    static const unsigned char null_mx[] = "\000\000\000";      /* 0 . */

    (void)state;
    start(&m, 0, 1, 2, DNS_T_MX);
    rr(&m, DNS_T_MX, mx1, sizeof(mx1) - 1);
    rr(&m, DNS_T_MX, null_mx, 3);
    assert_int_equal(dns_answer_parse(m.b, m.len, DNS_T_MX, &a), DNS_OK);
    assert_int_equal(a.count, 2);
    assert_int_equal(a.rr[0].pref, 10);
    assert_string_equal((char *)a.rr[0].data, "mx1.example.test");
    assert_int_equal(a.rr[1].pref, 0);
    assert_string_equal((char *)a.rr[1].data, "");
    assert_int_equal(a.authentic, 1);
    dns_answer_free(&a);
}

static void ns_names_are_expanded(void **state)
{
    msg m;
    dns_answer a;
    static const unsigned char ns1[] = "\003ns1\300\014"; /* ns1.example.test */

    (void)state;
    start(&m, 0, 0, 1, DNS_T_NS);
    rr(&m, DNS_T_NS, ns1, sizeof(ns1) - 1);
    assert_int_equal(dns_answer_parse(m.b, m.len, DNS_T_NS, &a), DNS_OK);
    assert_int_equal(a.count, 1);
    assert_string_equal((char *)a.rr[0].data, "ns1.example.test");
    assert_string_equal(dns_type_name(DNS_T_NS), "NS");
    dns_answer_free(&a);
}

static void txt_strings_are_joined_and_a_broken_one_skipped(void **state)
{
    msg m;
    dns_answer a;

    (void)state;
    start(&m, 0, 0, 1, DNS_T_TXT);
    rr(&m, DNS_T_TXT, "\003abc\002de", 7);
    assert_int_equal(dns_answer_parse(m.b, m.len, DNS_T_TXT, &a), DNS_OK);
    assert_int_equal(a.rr[0].len, 5);
    assert_string_equal((char *)a.rr[0].data, "abcde");
    dns_answer_free(&a);
    start(&m, 0, 0, 1, DNS_T_TXT);
    rr(&m, DNS_T_TXT, "\011abc", 4); /* says 9 bytes, has 3 */
    assert_int_equal(dns_answer_parse(m.b, m.len, DNS_T_TXT, &a), DNS_NODATA);
    assert_int_equal(a.count, 0);
}

static void rcodes_map_to_not_found_nodata_retry_and_fail(void **state)
{
    msg m;
    dns_answer a;

    (void)state;
    start(&m, 3, 0, 0, DNS_T_A);
    assert_int_equal(dns_answer_parse(m.b, m.len, DNS_T_A, &a), DNS_NOTFOUND);
    start(&m, 0, 0, 0, DNS_T_A);
    assert_int_equal(dns_answer_parse(m.b, m.len, DNS_T_A, &a), DNS_NODATA);
    start(&m, 2, 0, 0, DNS_T_A);
    assert_int_equal(dns_answer_parse(m.b, m.len, DNS_T_A, &a), DNS_RETRY);
    start(&m, 5, 0, 0, DNS_T_A);
    assert_int_equal(dns_answer_parse(m.b, m.len, DNS_T_A, &a), DNS_FAIL);
}

static void a_truncated_or_lying_message_fails_cleanly(void **state)
{
    msg m;
    dns_answer a;

    (void)state;
    start(&m, 0, 0, 2, DNS_T_A);
    rr(&m, DNS_T_A, "\300\000\002\001", 4);
    /* The header promises two records; the second is missing. */
    assert_int_equal(dns_answer_parse(m.b, m.len, DNS_T_A, &a), DNS_FAIL);
    assert_int_equal(a.count, 0);
    assert_int_equal(dns_answer_parse(m.b, 5, DNS_T_A, &a), DNS_FAIL);
    /* An A record of the wrong length is skipped. */
    start(&m, 0, 0, 1, DNS_T_A);
    rr(&m, DNS_T_A, "\300\000\002", 3);
    assert_int_equal(dns_answer_parse(m.b, m.len, DNS_T_A, &a), DNS_NODATA);
}

static void reverse_names_for_ipv4_and_ipv6(void **state)
{
    struct sockaddr_in sin = {.sin_family = AF_INET};
    struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6};
    vstr out = VSTR_INIT;

    (void)state;
    inet_pton(AF_INET, "192.0.2.10", &sin.sin_addr);
    assert_int_equal(dns_ptr_name((struct sockaddr *)&sin, &out), 0);
    assert_string_equal(vstr_str(&out), "10.2.0.192.in-addr.arpa");
    inet_pton(AF_INET6, "2001:db8::1", &sin6.sin6_addr);
    assert_int_equal(dns_ptr_name((struct sockaddr *)&sin6, &out), 0);
    assert_string_equal(vstr_str(&out), "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
                                        "8.b.d.0.1.0.0.2.ip6.arpa");
    vstr_release(&out);
}

static void servers_come_from_dns_servers_else_resolv_conf(void **state)
{
    char path[] = "/tmp/dns_test_resolvXXXXXX";
    int fd = mkstemp(path);
    FILE *fp = fdopen(fd, "w");

    (void)state;
    fputs("# comment\nsearch example.test\nnameserver 192.0.2.53\nnameserver fe80::1%eth0\n"
          "nameserver not-an-address\n",
          fp);
    fclose(fp);
    assert_int_equal(dns_configure_servers("", path), 2);
    assert_int_equal(dns_configure_servers("127.0.0.1:5353, [::1]:5353 ::1 10.0.0.1", path), 4);
    assert_int_equal(dns_configure_servers(NULL, "/nonexistent/resolv.conf"), 1);
    unlink(path);
}

static void a_silent_server_ends_the_lookup_at_the_deadline(void **state)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET};
    socklen_t len = sizeof(sin);
    char spec[64];
    dns_answer a;
    vstr why = VSTR_INIT;
    int64_t t0;

    (void)state;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    getsockname(fd, (struct sockaddr *)&sin, &len);
    snprintf(spec, sizeof(spec), "127.0.0.1:%d", ntohs(sin.sin_port));
    dns_configure_servers(spec, NULL);
    t0 = clock_mono_ms();
    assert_int_equal(dns_lookup("example.test", DNS_T_A, t0 + 300, &a, &why), DNS_RETRY);
    assert_in_range(clock_mono_ms() - t0, 290, 1000);
    assert_string_equal(vstr_str(&why),
                        "Name service error for name=example.test type=A: Host not found, try again");
    /* A deadline already past: no wait at all. */
    t0 = clock_mono_ms();
    assert_int_equal(dns_lookup("example.test", DNS_T_A, t0 - 1, &a, &why), DNS_RETRY);
    assert_in_range(clock_mono_ms() - t0, 0, 50);
    assert_int_equal(dns_lookup("a..b", DNS_T_A, t0 + 1000, &a, &why), DNS_FAIL);
    close(fd);
    vstr_release(&why);
}

/* The responder: answers the UDP query with TC set and no records, then
 * the same query over TCP with one A record. */
static void respond(int udp, int tcp)
{
    unsigned char q[512], out[600];
    struct sockaddr_storage from;
    socklen_t flen = sizeof(from);
    ssize_t n = recvfrom(udp, q, sizeof(q), 0, (struct sockaddr *)&from, &flen);
    size_t qend;
    int c;

    if (n < 12)
        _exit(1);
    /* The question ends 4 bytes after the name's root label. */
    for (qend = 12; qend < (size_t)n && q[qend] != 0; qend += 1 + q[qend])
        ;
    qend += 5;
    memcpy(out, q, qend);
    out[2] = 0x82 | 0x01; /* QR, TC, RD */
    out[3] = 0x80;
    out[7] = 0;
    out[11] = 0;
    sendto(udp, out, qend, 0, (struct sockaddr *)&from, flen);
    c = accept(tcp, NULL, NULL);
    if (c < 0 || read(c, q, 2) != 2)
        _exit(1);
    n = read(c, q, sizeof(q));
    memcpy(out + 2, q, qend);
    out[2 + 2] = 0x81;
    out[2 + 3] = 0x80;
    out[2 + 7] = 1; /* ANCOUNT */
    out[2 + 11] = 0;
    memcpy(out + 2 + qend, "\300\014\000\001\000\001\000\000\000\074\000\004\300\000\002\007", 16);
    out[0] = 0;
    out[1] = (unsigned char)(qend + 16);
    if (write(c, out, 2 + qend + 16) < 0)
        _exit(1);
    _exit(0);
}

static void a_truncated_answer_is_asked_again_over_tcp(void **state)
{
    int udp = socket(AF_INET, SOCK_DGRAM, 0), tcp = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET};
    socklen_t len = sizeof(sin);
    char spec[64];
    dns_answer a;
    vstr why = VSTR_INIT;
    pid_t pid;
    int status;

    (void)state;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(tcp, (struct sockaddr *)&sin, sizeof(sin)), 0);
    getsockname(tcp, (struct sockaddr *)&sin, &len);
    assert_int_equal(bind(udp, (struct sockaddr *)&sin, sizeof(sin)), 0);
    listen(tcp, 1);
    pid = fork();
    if (pid == 0)
        respond(udp, tcp);
    snprintf(spec, sizeof(spec), "127.0.0.1:%d", ntohs(sin.sin_port));
    dns_configure_servers(spec, NULL);
    assert_int_equal(dns_lookup("Example.Test.", DNS_T_A, clock_mono_ms() + 5000, &a, &why),
                     DNS_OK);
    assert_int_equal(a.count, 1);
    assert_memory_equal(a.rr[0].data, "\300\000\002\007", 4);
    dns_answer_free(&a);
    waitpid(pid, &status, 0);
    assert_int_equal(status, 0);
    close(udp);
    close(tcp);
    vstr_release(&why);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_records_are_returned_and_other_types_skipped),
        cmocka_unit_test(mx_names_are_expanded_and_a_null_mx_is_the_empty_name),
        cmocka_unit_test(ns_names_are_expanded),
        cmocka_unit_test(txt_strings_are_joined_and_a_broken_one_skipped),
        cmocka_unit_test(rcodes_map_to_not_found_nodata_retry_and_fail),
        cmocka_unit_test(a_truncated_or_lying_message_fails_cleanly),
        cmocka_unit_test(reverse_names_for_ipv4_and_ipv6),
        cmocka_unit_test(servers_come_from_dns_servers_else_resolv_conf),
        cmocka_unit_test(a_silent_server_ends_the_lookup_at_the_deadline),
        cmocka_unit_test(a_truncated_answer_is_asked_again_over_tcp),
    };

    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
