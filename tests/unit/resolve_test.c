/* Unit tests for global/resolve: address classes, nexthops, normalisation, no routing tricks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "global/resolve.h"

typedef struct fixture {
    argv_t *mydest;
    argv_t *virt;
    argv_t *relay;
    resolve_rules rules;
    resolve_result res;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));

    f->mydest = argv_split("mx.example.com, localhost.example.com localhost", ", ");
    f->virt = argv_split("virt.example.org, hash:/etc/postern/vdomains", ", ");
    f->relay = argv_split("relay.example.net .sub.example.info", ", ");
    f->rules.myhostname = "mx.example.com";
    f->rules.mydestination = f->mydest;
    f->rules.virtual_mailbox_domains = f->virt;
    f->rules.relay_domains = f->relay;
    f->rules.local_transport = "local:mx.example.com";
    f->rules.virtual_transport = "local";
    f->rules.relay_transport = "relay";
    f->rules.default_transport = "smtp";
    f->rules.relayhost = "";
    resolve_result_init(&f->res);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;

    argv_free(f->mydest);
    argv_free(f->virt);
    argv_free(f->relay);
    resolve_result_release(&f->res);
    free(f);
    return 0;
}

static void expect(fixture *f, const char *addr, resolve_class rclass, const char *transport,
                   const char *nexthop)
{
    resolve_class got = resolve_addr(&f->rules, addr, &f->res);

    if (got != rclass)
        fail_msg("%s: class %s, expected %s", addr, resolve_class_name(got),
                 resolve_class_name(rclass));
    if (transport != NULL)
        assert_string_equal(vstr_str(&f->res.transport), transport);
    if (nexthop != NULL)
        assert_string_equal(vstr_str(&f->res.nexthop), nexthop);
}

static void mydestination_and_unqualified_go_to_local_transport(void **state)
{
    fixture *f = *state;

    expect(f, "alice@mx.example.com", RESOLVE_LOCAL, "local", "mx.example.com");
    expect(f, "alice@localhost", RESOLVE_LOCAL, "local", "mx.example.com");
    expect(f, "alice", RESOLVE_LOCAL, "local", "mx.example.com");
    assert_string_equal(vstr_str(&f->res.domain), "");
    /* Without a nexthop in local_transport, myhostname is the nexthop. */
    f->rules.local_transport = "local";
    expect(f, "bob@localhost.example.com", RESOLVE_LOCAL, "local", "mx.example.com");
}

static void domain_case_and_trailing_dot_do_not_matter(void **state)
{
    fixture *f = *state;

    expect(f, "alice@MX.Example.COM", RESOLVE_LOCAL, "local", NULL);
    expect(f, "alice@mx.example.com.", RESOLVE_LOCAL, "local", NULL);
    expect(f, "alice@LocalHost.", RESOLVE_LOCAL, "local", NULL);
    assert_string_equal(vstr_str(&f->res.domain), "localhost");
    expect(f, "carol@Virt.Example.ORG.", RESOLVE_VIRTUAL, "local", "virt.example.org");
    expect(f, "dave@RELAY.example.net.", RESOLVE_RELAY, "relay", "relay.example.net");
    expect(f, "erin@Elsewhere.COM.", RESOLVE_DEFAULT, "smtp", "elsewhere.com");
    /* The local part keeps its case: it is the mailbox's business. */
    assert_int_equal(resolve_addr(&f->rules, "Alice@MX.example.com", &f->res), RESOLVE_LOCAL);
}

static void virtual_relay_and_default_classes(void **state)
{
    fixture *f = *state;

    expect(f, "carol@virt.example.org", RESOLVE_VIRTUAL, "local", "virt.example.org");
    /* A table element is not matched by name. */
    expect(f, "x@hash", RESOLVE_DEFAULT, "smtp", "hash");
    expect(f, "dave@relay.example.net", RESOLVE_RELAY, "relay", "relay.example.net");
    /* relay_domains covers subdomains; a dotted element covers only those. */
    expect(f, "dave@a.b.relay.example.net", RESOLVE_RELAY, "relay", "a.b.relay.example.net");
    expect(f, "dave@x.sub.example.info", RESOLVE_RELAY, "relay", NULL);
    expect(f, "dave@sub.example.info", RESOLVE_DEFAULT, "smtp", NULL);
    /* No suffix match across a label boundary. */
    expect(f, "dave@notrelay.example.net", RESOLVE_DEFAULT, "smtp", "notrelay.example.net");
    /* mydestination does not cover subdomains. */
    expect(f, "dave@sub.mx.example.com", RESOLVE_DEFAULT, "smtp", "sub.mx.example.com");
    expect(f, "eve@[192.0.2.1]", RESOLVE_DEFAULT, "smtp", "[192.0.2.1]");
}

static void virtual_alias_domains_are_the_alias_class(void **state)
{
    fixture *f = *state;
    argv_t *aliases = argv_split("alias.example.org", " ");

    f->rules.virtual_alias_domains = aliases;
    /* after mydestination, before virtual mailbox domains */
    expect(f, "u@Alias.Example.org.", RESOLVE_ALIAS, "error", RESOLVE_ALIAS_UNKNOWN);
    expect(f, "u@mx.example.com", RESOLVE_LOCAL, "local", "mx.example.com");
    expect(f, "u@sub.alias.example.org", RESOLVE_DEFAULT, "smtp", "sub.alias.example.org");
    assert_string_equal(resolve_class_name(RESOLVE_ALIAS), "alias");
    f->rules.virtual_alias_domains = NULL;
    argv_free(aliases);
}

static void relayhost_and_transport_nexthop_precedence(void **state)
{
    fixture *f = *state;

    f->rules.relayhost = "[smart.example.net]:587";
    expect(f, "erin@elsewhere.com", RESOLVE_DEFAULT, "smtp", "[smart.example.net]:587");
    expect(f, "dave@relay.example.net", RESOLVE_RELAY, "relay", "[smart.example.net]:587");
    /* Local and virtual mail never go to the relayhost. */
    expect(f, "alice@mx.example.com", RESOLVE_LOCAL, "local", "mx.example.com");
    expect(f, "carol@virt.example.org", RESOLVE_VIRTUAL, "local", "virt.example.org");
    /* A nexthop in the transport itself wins. */
    f->rules.default_transport = "smtp:[gw.example.net]";
    expect(f, "erin@elsewhere.com", RESOLVE_DEFAULT, "smtp", "[gw.example.net]");
    f->rules.relay_transport = "lmtp:";
    expect(f, "dave@relay.example.net", RESOLVE_RELAY, "lmtp", "[smart.example.net]:587");
}

static void routing_operators_are_never_local(void **state)
{
    fixture *f = *state;
    static const char *tricks[] = {
        "user%elsewhere.com@mx.example.com",
        "elsewhere.com!user@mx.example.com",
        "user@elsewhere.com@mx.example.com",
        "elsewhere!user",
        "user%elsewhere",
        "user%elsewhere.com@virt.example.org",
        "@mx.example.com",
    };

    for (size_t i = 0; i < sizeof(tricks) / sizeof(tricks[0]); i++) {
        if (resolve_addr(&f->rules, tricks[i], &f->res) != RESOLVE_ERROR)
            fail_msg("%s resolved to %s:%s", tricks[i], vstr_str(&f->res.transport),
                     vstr_str(&f->res.nexthop));
        assert_string_equal(f->res.status, "5.1.3");
        assert_true(vstr_len(&f->res.reason) > 0);
    }
    /* A remote site's local part is its own business. */
    expect(f, "user%host@elsewhere.com", RESOLVE_DEFAULT, "smtp", "elsewhere.com");
}

static void malformed_addresses_are_errors(void **state)
{
    fixture *f = *state;

    assert_int_equal(resolve_addr(&f->rules, "", &f->res), RESOLVE_ERROR);
    assert_int_equal(resolve_addr(&f->rules, "user@", &f->res), RESOLVE_ERROR);
    assert_int_equal(resolve_addr(&f->rules, "user@.", &f->res), RESOLVE_ERROR);
    assert_int_equal(resolve_addr(&f->rules, "user@bad domain", &f->res), RESOLVE_ERROR);
    assert_string_equal(f->res.status, "5.1.2");
    assert_int_equal(resolve_addr(&f->rules, "user@ex/../ample", &f->res), RESOLVE_ERROR);
    assert_int_equal(resolve_addr(&f->rules, "user@[1.2.3.4", &f->res), RESOLVE_ERROR);
    assert_int_equal(resolve_addr(&f->rules, "user@a\nb", &f->res), RESOLVE_ERROR);
    /* An error leaves no transport behind for a careless caller. */
    assert_string_equal(vstr_str(&f->res.transport), "");
}

static void domain_list_matching(void **state)
{
    argv_t *list = argv_split("Example.COM. .Sub.Example.Org", " ");

    (void)state;
    assert_true(resolve_domain_match(list, "example.com", 0));
    assert_true(resolve_domain_match(list, "EXAMPLE.com.", 0));
    assert_false(resolve_domain_match(list, "a.example.com", 0));
    assert_true(resolve_domain_match(list, "a.example.com", 1));
    assert_true(resolve_domain_match(list, "x.sub.example.org", 0));
    assert_false(resolve_domain_match(list, "sub.example.org", 1));
    assert_false(resolve_domain_match(list, "", 1));
    assert_false(resolve_domain_match(list, ".", 1));
    assert_false(resolve_domain_match(NULL, "example.com", 1));
    assert_true(resolve_element_is_table("hash:/etc/x"));
    assert_true(resolve_element_is_table("/etc/postern/domains"));
    assert_false(resolve_element_is_table("example.com"));
    argv_free(list);
}

/* A fake table: "hash:/relay" holds example.net and .sub.example.org;
 * "hash:/broken" fails; "hash:/mydest" holds mx2.example.com. */
static int fake_lookup(void *ctx, const char *table, const char *domain, vstr *err)
{
    int *calls = ctx;

    (*calls)++;
    if (strcmp(table, "hash:/broken") == 0) {
        vstr_set_str(err, "hash:/broken: database is unreadable");
        return -1;
    }
    if (strcmp(table, "hash:/relay") == 0)
        return strcmp(domain, "example.net") == 0 || strcmp(domain, ".sub.example.org") == 0;
    if (strcmp(table, "hash:/mydest") == 0)
        return strcmp(domain, "mx2.example.com") == 0;
    return 0;
}

static void table_elements_are_looked_up(void **state)
{
    fixture *f = *state;
    argv_t *mydest = argv_split("mx.example.com hash:/mydest", " ");
    argv_t *relay = argv_split("hash:/relay", " ");
    int calls = 0;

    f->rules.mydestination = mydest;
    f->rules.relay_domains = relay;
    f->rules.table_lookup = fake_lookup;
    f->rules.table_ctx = &calls;
    expect(f, "a@MX2.example.com.", RESOLVE_LOCAL, "local", "mx.example.com");
    expect(f, "a@example.net", RESOLVE_RELAY, "relay", "example.net");
    /* relay_domains tables match parents, as "parent" or ".parent". */
    expect(f, "a@host.example.net", RESOLVE_RELAY, "relay", "host.example.net");
    expect(f, "a@a.b.sub.example.org", RESOLVE_RELAY, "relay", NULL);
    expect(f, "a@sub.example.org", RESOLVE_DEFAULT, "smtp", NULL);
    assert_true(calls > 0);
    argv_free(mydest);
    argv_free(relay);
}

static void a_failing_table_defers(void **state)
{
    fixture *f = *state;
    argv_t *virt = argv_split("hash:/broken", " ");
    int calls = 0;

    f->rules.virtual_mailbox_domains = virt;
    f->rules.table_lookup = fake_lookup;
    f->rules.table_ctx = &calls;
    assert_int_equal(resolve_addr(&f->rules, "a@anything.example", &f->res), RESOLVE_ERROR);
    assert_string_equal(f->res.status, "4.3.0");
    assert_non_null(strstr(vstr_str(&f->res.reason), "virtual_mailbox_domains"));
    assert_non_null(strstr(vstr_str(&f->res.reason), "unreadable"));
    /* Local mail is decided before the broken table is asked. */
    expect(f, "a@mx.example.com", RESOLVE_LOCAL, "local", NULL);
    argv_free(virt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(mydestination_and_unqualified_go_to_local_transport, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(domain_case_and_trailing_dot_do_not_matter, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(virtual_relay_and_default_classes, setup, teardown),
        cmocka_unit_test_setup_teardown(virtual_alias_domains_are_the_alias_class, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(relayhost_and_transport_nexthop_precedence, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(routing_operators_are_never_local, setup, teardown),
        cmocka_unit_test_setup_teardown(malformed_addresses_are_errors, setup, teardown),
        cmocka_unit_test(domain_list_matching),
        cmocka_unit_test_setup_teardown(table_elements_are_looked_up, setup, teardown),
        cmocka_unit_test_setup_teardown(a_failing_table_defers, setup, teardown),
    };

    return cmocka_run_group_tests_name("resolve", tests, NULL, NULL);
}
