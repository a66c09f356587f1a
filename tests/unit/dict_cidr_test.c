/* Unit tests for util/dict_cidr: IPv4 and IPv6 networks, first match wins. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/dict_file_test.h"

static void test_first_match_wins_both_families(void **state)
{
    vstr err = VSTR_INIT;
    dict *d = open_table("cidr",
                         "# networks\n"
                         "192.0.2.7 the host\n"
                         "192.0.2.0/24 REJECT test net\n"
                         "10.0.0.0/8 ten\n"
                         "2001:db8::/32 doc six\n"
                         "[2001:db8:1::]/48 never: the /32 comes first\n"
                         "[::1] loopback\n"
                         "172.16.0.0/12\n   continued result\n"
                         "0.0.0.0/0 any four\n",
                         &err);

    (void)state;
    assert_non_null(d);
    expect(d, "192.0.2.7", DICT_FOUND, "the host");
    expect(d, "192.0.2.8", DICT_FOUND, "REJECT test net");
    expect(d, "10.255.0.1", DICT_FOUND, "ten");
    expect(d, "172.31.255.255", DICT_FOUND, "continued result");
    expect(d, "172.32.0.0", DICT_FOUND, "any four");
    expect(d, "2001:db8:1::5", DICT_FOUND, "doc six");
    expect(d, "::1", DICT_FOUND, "loopback");
    expect(d, "2001:db9::1", DICT_NOTFOUND, NULL);
    expect(d, "not an address", DICT_NOTFOUND, NULL);
    expect(d, "", DICT_NOTFOUND, NULL);
    dict_close(d, NULL);
    vstr_release(&err);
}

static void test_odd_prefix_lengths_if_and_negation(void **state)
{
    vstr err = VSTR_INIT;
    dict *d = open_table("cidr",
                         "if 198.51.100.0/22\n"
                         "!198.51.100.0/23 upper half\n"
                         "198.51.101.0/25 low 101\n"
                         "endif\n"
                         "fe80::/10 link local\n"
                         "::/0 literal $1 ${x} $$\n",
                         &err);

    (void)state;
    assert_non_null(d);
    expect(d, "198.51.102.1", DICT_FOUND, "upper half");
    expect(d, "198.51.101.127", DICT_FOUND, "low 101");
    expect(d, "198.51.101.128", DICT_NOTFOUND, NULL);
    expect(d, "198.51.104.1", DICT_NOTFOUND, NULL);
    expect(d, "febf::1", DICT_FOUND, "link local");
    expect(d, "fec0::1", DICT_FOUND, "literal $1 ${x} $$");
    dict_close(d, NULL);
    vstr_release(&err);
}

/* As Postfix's cidr tables: brackets around IPv4 too; an IPv4-mapped IPv6
 * key is IPv6 (never matches IPv4 rules); a bracketed key is no address. */
static void test_brackets_and_mapped_addresses_as_postfix(void **state)
{
    vstr err = VSTR_INIT;
    dict *d = open_table("cidr",
                         "[192.0.2.1]/32 bracketed\n"
                         "[198.51.100.0]/24 net\n"
                         "::ffff:203.0.113.0/120 mapped\n"
                         "203.0.113.0/24 four\n",
                         &err);

    (void)state;
    assert_non_null(d);
    expect(d, "192.0.2.1", DICT_FOUND, "bracketed");
    expect(d, "198.51.100.7", DICT_FOUND, "net");
    expect(d, "::ffff:192.0.2.1", DICT_NOTFOUND, NULL);
    expect(d, "::ffff:203.0.113.5", DICT_FOUND, "mapped");
    expect(d, "203.0.113.5", DICT_FOUND, "four");
    expect(d, "[192.0.2.1]", DICT_NOTFOUND, NULL);
    dict_close(d, NULL);
    vstr_release(&err);
}

static void test_errors_name_file_and_line(void **state)
{
    (void)state;
    expect_error("cidr", "10.0.0.0/8 ok\n10.1.2.3/8 bad\n", 2,
                 "has bits set after its /8 prefix (the network is 10.0.0.0/8)");
    expect_error("cidr", "2001:db8::1/32 x\n", 1, "the network is 2001:db8::/32");
    expect_error("cidr", "10.0.0.0/33 x\n", 1, "bad prefix length");
    expect_error("cidr", "::/129 x\n", 1, "bad prefix length");
    expect_error("cidr", "10.0.0.0/ x\n", 1, "missing prefix length");
    expect_error("cidr", "300.0.0.0/8 x\n", 1, "bad address");
    expect_error("cidr", "10.0.0.0/8\n", 1, "missing result");
    expect_error("cidr", "10.0.0.0/8x y\n", 1, "bad prefix length");
    expect_error("cidr", "endif\n", 1, "without \"if\"");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_match_wins_both_families),
        cmocka_unit_test(test_odd_prefix_lengths_if_and_negation),
        cmocka_unit_test(test_brackets_and_mapped_addresses_as_postfix),
        cmocka_unit_test(test_errors_name_file_and_line),
    };

    return cmocka_run_group_tests(tests, make_table_file, remove_table_file);
}
