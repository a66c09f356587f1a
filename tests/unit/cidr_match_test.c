/* Unit tests for global/cidr_match: mynetworks-style address lists. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "global/cidr_match.h"

static cidr_list *parse(const char *text)
{
    argv_t *list = argv_split(text, ", ");
    vstr err = VSTR_INIT;
    cidr_list *nets = cidr_list_parse(list, &err);

    argv_free(list);
    vstr_release(&err);
    return nets;
}

static void ipv4_networks_and_hosts(void **state)
{
    cidr_list *nets = parse("127.0.0.0/8, 192.0.2.7 10.1.2.3/16");

    (void)state;
    assert_int_equal(cidr_list_count(nets), 3);
    assert_true(cidr_list_match(nets, "127.0.0.1"));
    assert_true(cidr_list_match(nets, "127.255.255.254"));
    assert_true(cidr_list_match(nets, "192.0.2.7"));
    assert_false(cidr_list_match(nets, "192.0.2.8"));
    /* The host bits of 10.1.2.3/16 do not count. */
    assert_true(cidr_list_match(nets, "10.1.200.1"));
    assert_false(cidr_list_match(nets, "10.2.0.1"));
    assert_false(cidr_list_match(nets, "128.0.0.1"));
    cidr_list_free(nets);
}

static void ipv6_and_mapped_addresses(void **state)
{
    cidr_list *nets = parse("[::1]/128 2001:db8::/32 [2001:db8:ffff::1] 127.0.0.2/32");

    (void)state;
    assert_true(cidr_list_match(nets, "::1"));
    assert_true(cidr_list_match(nets, "[::1]"));
    assert_false(cidr_list_match(nets, "::2"));
    assert_true(cidr_list_match(nets, "2001:db8:1234::5"));
    assert_false(cidr_list_match(nets, "2001:db9::5"));
    /* An IPv4 client on an IPv6 socket still matches its IPv4 network. */
    assert_true(cidr_list_match(nets, "::ffff:127.0.0.2"));
    assert_false(cidr_list_match(nets, "::ffff:127.0.0.1"));
    assert_false(cidr_list_match(nets, "127.0.0.1"));
    cidr_list_free(nets);
}

static void zero_length_prefix_matches_everything_of_its_family(void **state)
{
    cidr_list *nets = parse("0.0.0.0/0");

    (void)state;
    assert_true(cidr_list_match(nets, "198.51.100.1"));
    assert_false(cidr_list_match(nets, "2001:db8::1"));
    cidr_list_free(nets);
}

static void garbage_is_refused_or_never_matches(void **state)
{
    static const char *const bad[] = {
        "10.0.0.0/33", "::1/129",     "host.example",  "10.0.0.0/", "10.0.0.0/-1",
        "[10.0.0.1]",  "1.2.3.4/8/8", "10.0.0.0/0008", "[::1",
    };
    cidr_list *nets = parse("127.0.0.0/8");

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        argv_t *list = argv_new();
        vstr err = VSTR_INIT;

        argv_add(list, bad[i]);
        assert_null(cidr_list_parse(list, &err));
        assert_non_null(strstr(vstr_str(&err), bad[i]));
        argv_free(list);
        vstr_release(&err);
    }
    assert_false(cidr_list_match(nets, "unknown"));
    assert_false(cidr_list_match(nets, ""));
    assert_false(cidr_list_match(nets, "127.0.0.1 "));
    cidr_list_free(nets);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ipv4_networks_and_hosts),
        cmocka_unit_test(ipv6_and_mapped_addresses),
        cmocka_unit_test(zero_length_prefix_matches_everything_of_its_family),
        cmocka_unit_test(garbage_is_refused_or_never_matches),
    };

    return cmocka_run_group_tests_name("cidr_match", tests, NULL, NULL);
}
