/* Unit tests for global/route_tables: transport_maps entries, key order, content_filter. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "global/route_tables.h"

/* transport and nexthop after applying value to (smtp, [relay]) for domain. */
static void expect_entry(const char *value, const char *want_transport, const char *want_nexthop)
{
    vstr t = VSTR_INIT, n = VSTR_INIT;

    vstr_set_str(&t, "smtp");
    vstr_set_str(&n, "[relay.example]");
    route_apply_entry(value, "example.com", &t, &n);
    assert_string_equal(vstr_str(&t), want_transport);
    assert_string_equal(vstr_str(&n), want_nexthop);
    vstr_release(&t);
    vstr_release(&n);
}

static void empty_fields_inherit_as_postfix_documents(void **state)
{
    (void)state;
    expect_entry("", "smtp", "[relay.example]");
    expect_entry(":", "smtp", "[relay.example]");
    expect_entry(":[gw.example]", "smtp", "[gw.example]");
    expect_entry("slow:", "slow", "example.com");
    expect_entry("slow", "slow", "example.com");
    expect_entry("relay:[10.0.0.1]:2525", "relay", "[10.0.0.1]:2525");
    expect_entry("smtp:[::1]:25", "smtp", "[::1]:25");
    expect_entry("error:", "error", "Address is undeliverable");
    expect_entry("error:5.1.1 no such list", "error", "5.1.1 no such list");
}

static void filter_without_nexthop_goes_to_the_default_or_the_domain(void **state)
{
    vstr t = VSTR_INIT, n = VSTR_INIT;

    (void)state;
    assert_int_equal(route_filter_parse("scan:[127.0.0.1]:10025", "", "d.example", &t, &n), 0);
    assert_string_equal(vstr_str(&t), "scan");
    assert_string_equal(vstr_str(&n), "[127.0.0.1]:10025");
    assert_int_equal(route_filter_parse("scan:", "", "d.example", &t, &n), 0);
    assert_string_equal(vstr_str(&n), "d.example");
    assert_int_equal(route_filter_parse("scan", "[filter.example]", "d.example", &t, &n), 0);
    assert_string_equal(vstr_str(&n), "[filter.example]");
    assert_int_equal(route_filter_parse(":[x]", "", "d.example", &t, &n), -1);
    vstr_release(&t);
    vstr_release(&n);
}

static route_tables *open_with(const char *text)
{
    vstr err = VSTR_INIT;
    config *cfg = config_load_text("/nonexistent", text, strlen(text), &err);

    assert_non_null(cfg);
    vstr_release(&err);
    return route_tables_open(cfg);
}

static void close_tables(route_tables *rt)
{
    config *cfg = rt->cfg;

    route_tables_free(rt);
    config_free(cfg);
}

static int transport_of(route_tables *rt, const char *rcpt, const char *domain, vstr *out)
{
    resolve_result res;
    int st;

    resolve_result_init(&res);
    vstr_set_str(&res.transport, "smtp");
    vstr_set_str(&res.nexthop, domain);
    vstr_set_str(&res.domain, domain);
    st = route_tables_transport(rt, rcpt, &res);
    vstr_set_fmt(out, "%s:%s", vstr_str(&res.transport), vstr_str(&res.nexthop));
    resolve_result_release(&res);
    return st;
}

static void transport_keys_address_then_domain_then_parents_then_star(void **state)
{
    route_tables *rt = open_with("recipient_delimiter = +\n"
                                 "transport_maps = inline:{ u@a.example=one:, a.example=two:, "
                                 ".example=three:, *=four: }\n");
    vstr out = VSTR_INIT;

    (void)state;
    assert_int_equal(transport_of(rt, "u+x@a.example", "a.example", &out), DICT_FOUND);
    assert_string_equal(vstr_str(&out), "one:a.example");
    assert_int_equal(transport_of(rt, "v@a.example", "a.example", &out), DICT_FOUND);
    assert_string_equal(vstr_str(&out), "two:a.example");
    assert_int_equal(transport_of(rt, "v@b.a.example", "b.a.example", &out), DICT_FOUND);
    assert_string_equal(vstr_str(&out), "three:b.a.example");
    /* "example" itself is not ".example" */
    assert_int_equal(transport_of(rt, "v@example", "example", &out), DICT_FOUND);
    assert_string_equal(vstr_str(&out), "four:example");
    /* no "@domain" key in transport_maps */
    close_tables(rt);
    rt = open_with("transport_maps = inline:{ @a.example=one: }\n");
    assert_int_equal(transport_of(rt, "v@a.example", "a.example", &out), DICT_NOTFOUND);
    close_tables(rt);
    vstr_release(&out);
}

static void parent_style_for_transport_maps(void **state)
{
    route_tables *rt = open_with("parent_domain_matches_subdomains = transport_maps\n"
                                 "transport_maps = inline:{ example.com=p: }\n");
    vstr out = VSTR_INIT;

    (void)state;
    assert_int_equal(transport_of(rt, "v@mx.example.com", "mx.example.com", &out), DICT_FOUND);
    assert_string_equal(vstr_str(&out), "p:mx.example.com");
    close_tables(rt);
    vstr_release(&out);
}

static void relocated_and_sender_relayhost(void **state)
{
    route_tables *rt = open_with("relocated_maps = inline:{ old=new@x.example }\n"
                                 "sender_dependent_relayhost_maps = inline:{ @s.example=[r1], "
                                 "<>=[bounces], d@s.example=dunno }\n");
    vstr v = VSTR_INIT;

    (void)state;
    /* the bare local part is a key for local domains only */
    assert_int_equal(route_tables_relocated(rt, "old@here.example", 1, &v), DICT_FOUND);
    assert_string_equal(vstr_str(&v), "new@x.example");
    assert_int_equal(route_tables_relocated(rt, "old@far.example", 0, &v), DICT_NOTFOUND);
    assert_int_equal(route_tables_sender_relayhost(rt, "a@s.example", &v), DICT_FOUND);
    assert_string_equal(vstr_str(&v), "[r1]");
    assert_int_equal(route_tables_sender_relayhost(rt, "", &v), DICT_FOUND);
    assert_string_equal(vstr_str(&v), "[bounces]");
    assert_int_equal(route_tables_sender_relayhost(rt, "d@s.example", &v), DICT_NOTFOUND);
    close_tables(rt);
    rt = open_with("relocated_maps = fail:broken\n");
    assert_int_equal(route_tables_relocated(rt, "a@b", 0, &v), DICT_ERROR);
    assert_non_null(strstr(route_tables_error(rt), "relocated_maps: fail:broken"));
    close_tables(rt);
    vstr_release(&v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(empty_fields_inherit_as_postfix_documents),
        cmocka_unit_test(filter_without_nexthop_goes_to_the_default_or_the_domain),
        cmocka_unit_test(transport_keys_address_then_domain_then_parents_then_star),
        cmocka_unit_test(parent_style_for_transport_maps),
        cmocka_unit_test(relocated_and_sender_relayhost),
    };
    return cmocka_run_group_tests_name("route_tables", tests, NULL, NULL);
}
