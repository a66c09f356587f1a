/* Unit tests for global/cidr_match: the mynetworks list (networks, files,
 * tables, negation). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "global/cidr_match.h"
#include "global/maps.h"

static cidr_list *parse_err(const char *text, vstr *err)
{
    argv_t *list = maps_split(text);
    cidr_list *nets = cidr_list_parse("mynetworks", list, err);

    argv_free(list);
    return nets;
}

static cidr_list *parse(const char *text)
{
    vstr err = VSTR_INIT;
    cidr_list *nets = parse_err(text, &err);

    if (nets == NULL)
        fail_msg("%s: %s", text, vstr_str(&err));
    vstr_release(&err);
    return nets;
}

static int match(const cidr_list *nets, const char *addr)
{
    vstr why = VSTR_INIT;
    int m = cidr_list_match(nets, addr, &why);

    vstr_release(&why);
    return m;
}

/* A file in /tmp with text; its path in path (at least 32 bytes). */
static void write_file(char *path, const char *text)
{
    int fd;
    FILE *fp;

    strcpy(path, "/tmp/cidr_match_test.XXXXXX");
    assert_true((fd = mkstemp(path)) >= 0);
    assert_non_null(fp = fdopen(fd, "w"));
    fputs(text, fp);
    assert_int_equal(fclose(fp), 0);
}

static void ipv4_networks_and_hosts(void **state)
{
    cidr_list *nets = parse("127.0.0.0/8, 192.0.2.7 10.1.0.0/16");

    (void)state;
    assert_int_equal(cidr_list_count(nets), 3);
    assert_int_equal(match(nets, "127.0.0.1"), 1);
    assert_int_equal(match(nets, "127.255.255.254"), 1);
    assert_int_equal(match(nets, "192.0.2.7"), 1);
    assert_int_equal(match(nets, "192.0.2.8"), 0);
    assert_int_equal(match(nets, "10.1.200.1"), 1);
    assert_int_equal(match(nets, "10.2.0.1"), 0);
    assert_int_equal(match(nets, "128.0.0.1"), 0);
    cidr_list_free(nets);
}

/* Postfix's rules (util/cidr): brackets around IPv4 allowed; a mapped
 * IPv6 address is IPv6; a bracketed key is not an address. */
static void ipv6_brackets_and_mapped_addresses(void **state)
{
    cidr_list *nets = parse("[::1]/128 2001:db8::/32 [2001:db8:ffff::1] [127.0.0.2]/32 "
                            "[::ffff:192.0.2.0]/120");

    (void)state;
    assert_int_equal(match(nets, "::1"), 1);
    assert_int_equal(match(nets, "[::1]"), 0);
    assert_int_equal(match(nets, "::2"), 0);
    assert_int_equal(match(nets, "2001:db8:1234::5"), 1);
    assert_int_equal(match(nets, "2001:db9::5"), 0);
    assert_int_equal(match(nets, "2001:db8:ffff::1"), 1);
    assert_int_equal(match(nets, "127.0.0.2"), 1);
    assert_int_equal(match(nets, "::ffff:127.0.0.2"), 0);
    assert_int_equal(match(nets, "::ffff:192.0.2.9"), 1);
    assert_int_equal(match(nets, "192.0.2.9"), 0);
    cidr_list_free(nets);
}

static void zero_length_prefix_matches_everything_of_its_family(void **state)
{
    cidr_list *nets = parse("0.0.0.0/0");

    (void)state;
    assert_int_equal(match(nets, "198.51.100.1"), 1);
    assert_int_equal(match(nets, "2001:db8::1"), 0);
    cidr_list_free(nets);
}

static void negation_first_match_decides(void **state)
{
    cidr_list *nets = parse("!192.0.2.5, 192.0.2.0/24, !!198.51.100.1");

    (void)state;
    assert_int_equal(match(nets, "192.0.2.5"), 0);
    assert_int_equal(match(nets, "192.0.2.6"), 1);
    assert_int_equal(match(nets, "198.51.100.1"), 1);
    cidr_list_free(nets);
}

static void files_give_their_patterns_in_place(void **state)
{
    char inner[32], outer[32];
    vstr text = VSTR_INIT;
    cidr_list *nets;

    (void)state;
    write_file(inner, "# inner\n192.0.2.0/24\n");
    vstr_set_fmt(&text,
                 "# trusted networks\n  # indented comment\n10.0.0.0/8, [2001:db8::]/32\n"
                 "!10.9.0.0/16\n\n%s\n",
                 inner);
    write_file(outer, vstr_str(&text));
    vstr_set_fmt(&text, "!10.1.0.0/16 %s 172.16.0.0/12", outer);
    nets = parse(vstr_str(&text));
    assert_int_equal(cidr_list_count(nets), 6);
    assert_int_equal(match(nets, "10.1.0.1"), 0);
    assert_int_equal(match(nets, "10.2.0.1"), 1);
    assert_int_equal(match(nets, "10.9.0.1"), 1); /* 10.0.0.0/8 comes first */
    assert_int_equal(match(nets, "2001:db8::5"), 1);
    assert_int_equal(match(nets, "192.0.2.200"), 1);
    assert_int_equal(match(nets, "172.20.0.1"), 1);
    assert_int_equal(match(nets, "198.51.100.1"), 0);
    cidr_list_free(nets);

    /* A negated file negates each of its patterns. */
    vstr_set_fmt(&text, "!%s 0.0.0.0/0", inner);
    nets = parse(vstr_str(&text));
    assert_int_equal(match(nets, "192.0.2.1"), 0);
    assert_int_equal(match(nets, "198.51.100.1"), 1);
    cidr_list_free(nets);
    unlink(inner);
    unlink(outer);
    vstr_release(&text);
}

static void bad_file_names_the_file_and_the_pattern(void **state)
{
    char path[32];
    vstr err = VSTR_INIT, text = VSTR_INIT;

    (void)state;
    write_file(path, "10.0.0.0/8\nnot-a-network\n");
    vstr_set_fmt(&text, "127.0.0.0/8 %s", path);
    assert_null(parse_err(vstr_str(&text), &err));
    assert_non_null(strstr(vstr_str(&err), path));
    assert_non_null(strstr(vstr_str(&err), "not-a-network"));
    unlink(path);
    assert_null(parse_err(vstr_str(&text), &err));
    assert_non_null(strstr(vstr_str(&err), "No such file"));
    /* A file that names itself stops at the depth limit. */
    write_file(path, "");
    vstr_set_fmt(&text, "%s\n", path);
    {
        FILE *fp = fopen(path, "w");

        assert_non_null(fp);
        fputs(vstr_str(&text), fp);
        assert_int_equal(fclose(fp), 0);
    }
    assert_null(parse_err(path, &err));
    assert_non_null(strstr(vstr_str(&err), "nested deeper"));
    unlink(path);
    vstr_release(&err);
    vstr_release(&text);
}

static void tables_are_asked_for_the_client_address(void **state)
{
    char path[32];
    vstr text = VSTR_INIT;
    cidr_list *nets;

    (void)state;
    write_file(path, "192.0.2.0/28 any value\n!0.0.0.0/0 not-this\n");
    vstr_set_fmt(&text, "inline:{ 198.51.100.9=x, 2001:db8::9=y } !cidr:%s 127.0.0.0/8", path);
    nets = parse(vstr_str(&text));
    assert_int_equal(cidr_list_count(nets), 3);
    assert_int_equal(match(nets, "198.51.100.9"), 1);
    assert_int_equal(match(nets, "2001:db8::9"), 1);
    assert_int_equal(match(nets, "198.51.100.10"), 0);
    assert_int_equal(match(nets, "192.0.2.1"), 0);   /* !cidr: matched */
    assert_int_equal(match(nets, "127.0.0.1"), 1);   /* not in the table: the next */
    assert_int_equal(match(nets, "2001:db8::1"), 0); /* the table's !0.0.0.0/0 rule */
    cidr_list_free(nets);
    unlink(path);
    vstr_release(&text);
}

/* A table that cannot be read fails the match (-1), never permits. */
static void table_errors_are_errors_not_matches(void **state)
{
    vstr why = VSTR_INIT;
    cidr_list *nets = parse("cidr:/nonexistent/cidr_match_test 127.0.0.0/8");

    (void)state;
    assert_int_equal(cidr_list_match(nets, "127.0.0.1", &why), -1);
    assert_non_null(strstr(vstr_str(&why), "/nonexistent/cidr_match_test"));
    cidr_list_free(nets);
    nets = parse("127.0.0.0/8 fail:broken");
    assert_int_equal(match(nets, "127.0.0.1"), 1); /* decided before the table */
    assert_int_equal(match(nets, "10.0.0.1"), -1);
    cidr_list_free(nets);
    vstr_release(&why);
}

static void garbage_is_refused_or_never_matches(void **state)
{
    static const char *const bad[] = {
        "10.0.0.0/33", "::1/129",       "host.example", "10.0.0.0/",  "10.0.0.0/-1",
        "1.2.3.4/8/8", "10.0.0.0/0008", "[::1",         "10.1.2.3/8", "nosuchtype:x",
    };
    cidr_list *nets = parse("127.0.0.0/8");

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        vstr err = VSTR_INIT;

        assert_null(parse_err(bad[i], &err));
        assert_non_null(strstr(vstr_str(&err), bad[i]));
        vstr_release(&err);
    }
    assert_int_equal(match(nets, "unknown"), 0);
    assert_int_equal(match(nets, ""), 0);
    assert_int_equal(match(nets, "127.0.0.1 "), 0);
    cidr_list_free(nets);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ipv4_networks_and_hosts),
        cmocka_unit_test(ipv6_brackets_and_mapped_addresses),
        cmocka_unit_test(zero_length_prefix_matches_everything_of_its_family),
        cmocka_unit_test(negation_first_match_decides),
        cmocka_unit_test(files_give_their_patterns_in_place),
        cmocka_unit_test(bad_file_names_the_file_and_the_pattern),
        cmocka_unit_test(tables_are_asked_for_the_client_address),
        cmocka_unit_test(table_errors_are_errors_not_matches),
        cmocka_unit_test(garbage_is_refused_or_never_matches),
    };

    return cmocka_run_group_tests_name("cidr_match", tests, NULL, NULL);
}
