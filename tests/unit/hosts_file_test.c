/* Unit tests for util/hosts_file: the /etc/hosts syntax, its bounds and
 * the two lookups smtpd's client-name check makes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/hosts_file.h"
#include "util/mem.h"

static const unsigned char *v4(const char *text)
{
    static unsigned char b[4];

    assert_int_equal(inet_pton(AF_INET, text, b), 1);
    return b;
}

static const unsigned char *v6(const char *text)
{
    static unsigned char b[16];

    assert_int_equal(inet_pton(AF_INET6, text, b), 1);
    return b;
}

static void parse(const char *text, hosts_file *h)
{
    hosts_file_parse(text, strlen(text), h);
}

static void the_first_name_is_the_reverse_name_and_every_name_resolves(void **state)
{
    hosts_file h;

    (void)state;
    parse("# comment\n127.0.0.1\tlocalhost\n"
          "192.0.2.7  mail.example.test mail  # the MX\n"
          "::1 localhost ip6-localhost ip6-loopback\n"
          "192.0.2.7 second.example.test\n",
          &h);
    assert_int_equal(h.skipped, 0);
    assert_string_equal(hosts_file_name_of(&h, AF_INET, v4("127.0.0.1")), "localhost");
    /* The first line with the address gives the name, its first name. */
    assert_string_equal(hosts_file_name_of(&h, AF_INET, v4("192.0.2.7")), "mail.example.test");
    assert_string_equal(hosts_file_name_of(&h, AF_INET6, v6("::1")), "localhost");
    assert_null(hosts_file_name_of(&h, AF_INET, v4("192.0.2.8")));
    assert_int_equal(hosts_file_lookup(&h, "MAIL.example.TEST", AF_INET, v4("192.0.2.7")), 1);
    assert_int_equal(hosts_file_lookup(&h, "mail", AF_INET, v4("192.0.2.7")), 1);
    assert_int_equal(hosts_file_lookup(&h, "second.example.test", AF_INET, v4("192.0.2.7")), 1);
    assert_int_equal(hosts_file_lookup(&h, "ip6-loopback", AF_INET6, v6("::1")), 1);
    hosts_file_free(&h);
}

static void a_name_listed_elsewhere_does_not_confirm_and_another_family_asks_dns(void **state)
{
    hosts_file h;

    (void)state;
    parse("192.0.2.7 mail.example.test\n2001:db8::7 six.example.test\n", &h);
    assert_int_equal(hosts_file_lookup(&h, "mail.example.test", AF_INET, v4("192.0.2.99")), 0);
    /* Listed only for IPv4: an IPv6 client's check goes on to DNS. */
    assert_int_equal(hosts_file_lookup(&h, "mail.example.test", AF_INET6, v6("2001:db8::7")), -1);
    assert_int_equal(hosts_file_lookup(&h, "six.example.test", AF_INET6, v6("2001:db8::7")), 1);
    assert_int_equal(hosts_file_lookup(&h, "nowhere.test", AF_INET, v4("192.0.2.7")), -1);
    hosts_file_free(&h);
}

static void junk_is_skipped_and_counted_never_half_taken(void **state)
{
    hosts_file h;
    char *text;
    size_t len;

    (void)state;
    parse("not-an-address name.test\n"        /* bad address: skipped */
          "192.0.2.1\n"                       /* no name */
          "192.0.2.2 ok.test bad!name.test\n" /* one bad name of two */
          "fe80::1%eth0 scoped.test\n"        /* zone index */
          "192.0.2.3 # only a comment\n"
          "   \t\n\n",
          &h);
    assert_int_equal(h.count, 1);
    assert_string_equal(h.list[0].name, "ok.test");
    assert_int_equal(h.skipped, 5);
    hosts_file_free(&h);

    /* A line over HOSTS_LINE_MAX is skipped whole; the next one counts. */
    len = HOSTS_LINE_MAX + 200;
    text = mem_alloc(len + 64);
    memcpy(text, "192.0.2.4 ", 10);
    memset(text + 10, 'a', len - 10);
    snprintf(text + len, 64, "\n192.0.2.5 after.test");
    parse(text, &h);
    assert_int_equal(h.count, 1);
    assert_string_equal(h.list[0].name, "after.test");
    assert_int_equal(h.skipped, 1);
    hosts_file_free(&h);
    mem_free(text);

    /* A NUL byte cannot smuggle an address or a name. */
    hosts_file_parse("192.0.2.6\0x a.test\n192.0.2.6 b\0c.test\n", 37, &h);
    assert_int_equal(h.count, 0);
    assert_int_equal(h.skipped, 3);
    hosts_file_free(&h);
}

static void names_per_line_and_name_length_are_bounded(void **state)
{
    hosts_file h;
    char line[HOSTS_LINE_MAX], name[HOSTS_NAME_MAX + 2];
    size_t n = 0;

    (void)state;
    n += (size_t)snprintf(line + n, sizeof(line) - n, "192.0.2.9");
    for (int i = 0; i < HOSTS_NAMES_MAX + 3; i++)
        n += (size_t)snprintf(line + n, sizeof(line) - n, " n%d.test", i);
    parse(line, &h);
    assert_int_equal(h.count, HOSTS_NAMES_MAX);
    assert_int_equal(h.skipped, 3);
    hosts_file_free(&h);

    memset(name, 'x', sizeof(name) - 1);
    name[sizeof(name) - 1] = 0; /* HOSTS_NAME_MAX + 1 bytes */
    snprintf(line, sizeof(line), "192.0.2.9 %s\n192.0.2.9 %.*s\n", name, HOSTS_NAME_MAX, name);
    parse(line, &h);
    assert_int_equal(h.count, 1);
    assert_int_equal(strlen(h.list[0].name), HOSTS_NAME_MAX);
    hosts_file_free(&h);
}

static void load_reads_a_file_refuses_a_huge_one_and_a_missing_one_is_empty(void **state)
{
    char path[] = "/tmp/hosts_file_test.XXXXXX";
    int fd = mkstemp(path);
    hosts_file h;
    vstr why = VSTR_INIT;
    char *big;

    (void)state;
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "192.0.2.1 a.test\n", 17), 17);
    assert_int_equal(hosts_file_load(path, &h, &why), 0);
    assert_int_equal(h.count, 1);
    hosts_file_free(&h);

    big = mem_alloc(HOSTS_FILE_MAX);
    memset(big, '#', HOSTS_FILE_MAX);
    assert_int_equal(write(fd, big, HOSTS_FILE_MAX), HOSTS_FILE_MAX);
    mem_free(big);
    assert_int_equal(hosts_file_load(path, &h, &why), -1);
    assert_non_null(strstr(vstr_str(&why), "is larger than"));
    assert_int_equal(h.count, 0);
    close(fd);
    unlink(path);

    assert_int_equal(hosts_file_load(path, &h, &why), 0);
    assert_int_equal(h.count, 0);
    vstr_release(&why);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_first_name_is_the_reverse_name_and_every_name_resolves),
        cmocka_unit_test(a_name_listed_elsewhere_does_not_confirm_and_another_family_asks_dns),
        cmocka_unit_test(junk_is_skipped_and_counted_never_half_taken),
        cmocka_unit_test(names_per_line_and_name_length_are_bounded),
        cmocka_unit_test(load_reads_a_file_refuses_a_huge_one_and_a_missing_one_is_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
