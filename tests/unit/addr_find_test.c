/* Unit tests for global/addr_find: Postfix's key order for addresses and domains. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <fcntl.h>

#include "global/addr_find.h"

static const addr_find_opts plus = {.delimiters = "+", .owner_request_special = 1};
static const addr_find_opts plus_dash = {.delimiters = "+-", .owner_request_special = 1};
static const addr_find_opts none = {.delimiters = "", .owner_request_special = 1};

/* The keys for addr joined with '|', kinds as digits after '#'. */
static void expect_keys(const char *addr, const addr_find_opts *o, int flags, const char *want)
{
    argv_t *keys = argv_new();
    addr_find_kind kinds[5];
    vstr got = VSTR_INIT;

    addr_find_keys(addr, o, flags, keys, kinds);
    for (size_t i = 0; i < keys->argc; i++)
        vstr_append_fmt(&got, "%s%s#%d", i ? "|" : "", keys->argv[i], (int)kinds[i]);
    assert_string_equal(vstr_str(&got), want);
    argv_free(keys);
    vstr_release(&got);
}

static void remote_address_with_extension(void **state)
{
    (void)state;
    expect_keys("user+ext@example.com", &plus, 0,
                "user+ext@example.com#1|user@example.com#2|@example.com#5");
}

static void local_address_adds_the_bare_local_part(void **state)
{
    (void)state;
    expect_keys("user+ext@example.com", &plus, ADDR_FIND_LOCAL,
                "user+ext@example.com#1|user@example.com#2|user+ext#3|user#4|@example.com#5");
    expect_keys("user@example.com", &plus, ADDR_FIND_LOCAL,
                "user@example.com#1|user#3|@example.com#5");
}

static void no_extension_no_stripped_keys(void **state)
{
    (void)state;
    expect_keys("user@example.com", &plus, 0, "user@example.com#1|@example.com#5");
    /* no delimiter configured: the '+' is part of the name */
    expect_keys("user+ext@example.com", &none, 0, "user+ext@example.com#1|@example.com#5");
    /* a leading delimiter is no extension */
    expect_keys("+x@example.com", &plus, 0, "+x@example.com#1|@example.com#5");
}

static void several_delimiters_split_at_the_first(void **state)
{
    vstr user = VSTR_INIT, ext = VSTR_INIT, dom = VSTR_INIT;

    (void)state;
    expect_keys("a-b+c@d.example", &plus_dash, 0, "a-b+c@d.example#1|a@d.example#2|@d.example#5");
    assert_int_equal(addr_find_split("a-b+c@d.example", &plus_dash, &user, &ext, &dom), '-');
    assert_string_equal(vstr_str(&user), "a");
    assert_string_equal(vstr_str(&ext), "b+c");
    assert_string_equal(vstr_str(&dom), "d.example");
    vstr_release(&user);
    vstr_release(&ext);
    vstr_release(&dom);
}

static void owner_and_request_names_stay_whole(void **state)
{
    addr_find_opts off = plus_dash;

    (void)state;
    expect_keys("owner-list@example.com", &plus_dash, 0,
                "owner-list@example.com#1|@example.com#5");
    expect_keys("list-request@example.com", &plus_dash, 0,
                "list-request@example.com#1|@example.com#5");
    off.owner_request_special = 0;
    expect_keys("owner-list@example.com", &off, 0,
                "owner-list@example.com#1|owner@example.com#2|@example.com#5");
    /* with '+' alone, '-' is no delimiter and the rule does not apply */
    expect_keys("owner-list+x@example.com", &plus, 0,
                "owner-list+x@example.com#1|owner-list@example.com#2|@example.com#5");
}

static void unqualified_address_has_no_domain_keys(void **state)
{
    (void)state;
    expect_keys("user+ext", &plus, ADDR_FIND_LOCAL, "user+ext#1|user#4");
    expect_keys("user", &plus, 0, "user#1");
    /* smtpd's local_recipient_maps keys: the local part, then its base */
    expect_keys("user+ext", &plus, 0, "user+ext#1|user#4");
    expect_keys("+ext", &plus, 0, "+ext#1");
    expect_keys("owner-list", &plus_dash, 0, "owner-list#1");
}

/* local(8)'s split: user, extension and domain as Postfix's split_addr. */
static void split_gives_user_extension_domain(void **state)
{
    vstr user = VSTR_INIT, ext = VSTR_INIT, dom = VSTR_INIT;

    (void)state;
    assert_int_equal(addr_find_split("joe+box@d", &plus, &user, &ext, &dom), '+');
    assert_string_equal(vstr_str(&user), "joe");
    assert_string_equal(vstr_str(&ext), "box");
    assert_int_equal(addr_find_split("+box@d", &plus, &user, &ext, &dom), 0);
    assert_string_equal(vstr_str(&user), "+box");
    assert_string_equal(vstr_str(&ext), "");
    assert_int_equal(addr_find_split("list-request", &plus_dash, &user, &ext, &dom), 0);
    assert_string_equal(vstr_str(&user), "list-request");
    assert_string_equal(vstr_str(&dom), "");
    vstr_release(&user);
    vstr_release(&ext);
    vstr_release(&dom);
}

static void domain_keys_dotted_or_parent(void **state)
{
    argv_t *k = argv_new();

    (void)state;
    addr_find_domain_keys("Mail.Sub.Example.COM.", 0, k);
    assert_int_equal(k->argc, 4);
    assert_string_equal(k->argv[0], "Mail.Sub.Example.COM");
    assert_string_equal(k->argv[1], ".Sub.Example.COM");
    assert_string_equal(k->argv[2], ".Example.COM");
    assert_string_equal(k->argv[3], ".COM");
    argv_truncate(k, 0);
    addr_find_domain_keys("a.example.com", 1, k);
    assert_int_equal(k->argc, 3);
    assert_string_equal(k->argv[0], "a.example.com");
    assert_string_equal(k->argv[1], "example.com");
    assert_string_equal(k->argv[2], "com");
    argv_truncate(k, 0);
    addr_find_domain_keys("localhost", 0, k);
    assert_int_equal(k->argc, 1);
    argv_free(k);
}

static void parent_style_reads_the_feature_list(void **state)
{
    (void)state;
    assert_true(addr_find_parent_style("debug_peer_list, smtpd_access_maps relay_domains",
                                       "smtpd_access_maps"));
    assert_false(addr_find_parent_style("debug_peer_list, smtpd_access_maps", "transport_maps"));
    assert_false(addr_find_parent_style("", "transport_maps"));
}

static void first_key_in_order_wins_and_case_folds(void **state)
{
    maps *m = maps_open("virtual_alias_maps",
                        "inline:{ @example.com=catchall, user=bare, user@example.com=noext }",
                        O_RDONLY, 0);
    vstr value = VSTR_INIT;
    addr_find_result r;

    (void)state;
    addr_find_result_init(&r);
    assert_int_equal(addr_find(m, "User+Ext@EXAMPLE.com", &plus, ADDR_FIND_LOCAL, &value, &r),
                     DICT_FOUND);
    assert_string_equal(vstr_str(&value), "noext");
    assert_int_equal(r.kind, ADDR_FIND_KEY_NOEXT);
    assert_string_equal(vstr_str(&r.extension), "Ext");
    assert_int_equal(r.delimiter, '+');
    assert_int_equal(addr_find(m, "other@example.com", &plus, 0, &value, &r), DICT_FOUND);
    assert_string_equal(vstr_str(&value), "catchall");
    assert_int_equal(r.kind, ADDR_FIND_KEY_DOMAIN);
    assert_int_equal(addr_find(m, "x@example.org", &plus, ADDR_FIND_LOCAL, &value, &r),
                     DICT_NOTFOUND);
    assert_int_equal(r.kind, 0);
    addr_find_result_release(&r);
    maps_free(m);
    vstr_release(&value);
}

static void pattern_tables_see_the_whole_address_only(void **state)
{
    char path[] = "/tmp/addr_find_testXXXXXX";
    int fd = mkstemp(path);
    FILE *fp = fdopen(fd, "w");
    vstr spec = VSTR_INIT, value = VSTR_INIT;
    maps *m;

    (void)state;
    /* Matches "user@example.com" but that key is only a partial one. */
    fputs("/^user@example\\.com$/ matched\n/^whole\\+x@/ whole\n", fp);
    fclose(fp);
    vstr_set_fmt(&spec, "regexp:%s", path);
    m = maps_open("virtual_alias_maps", vstr_str(&spec), O_RDONLY, 0);
    assert_int_equal(addr_find(m, "user+x@example.com", &plus, 0, &value, NULL), DICT_NOTFOUND);
    assert_int_equal(addr_find(m, "user@example.com", &plus, 0, &value, NULL), DICT_FOUND);
    assert_string_equal(vstr_str(&value), "matched");
    assert_int_equal(addr_find(m, "whole+x@example.com", &plus, 0, &value, NULL), DICT_FOUND);
    maps_free(m);
    unlink(path);
    vstr_release(&spec);
    vstr_release(&value);
}

static void error_stops_the_search(void **state)
{
    maps *m =
        maps_open("transport_maps", "fail:broken, inline:{ .example.com=smtp }", O_RDONLY, 0);
    vstr value = VSTR_INIT;

    (void)state;
    assert_int_equal(addr_find_domain(m, "a.example.com", 0, &value, NULL), DICT_ERROR);
    assert_int_equal(addr_find(m, "u@a.example.com", &plus, 0, &value, NULL), DICT_ERROR);
    maps_free(m);
    m = maps_open("transport_maps", "inline:{ .example.com=smtp:[x] }", O_RDONLY, 0);
    assert_int_equal(addr_find_domain(m, "A.Example.com", 0, &value, NULL), DICT_FOUND);
    assert_string_equal(vstr_str(&value), "smtp:[x]");
    assert_int_equal(addr_find_domain(m, "example.com", 0, &value, NULL), DICT_NOTFOUND);
    maps_free(m);
    vstr_release(&value);
}

static void options_come_from_main_cf(void **state)
{
    static const char text[] = "recipient_delimiter = +-\nowner_request_special = no\n";
    vstr err = VSTR_INIT;
    config *cfg = config_load_text("/nonexistent", text, strlen(text), &err);
    addr_find_opts o;

    (void)state;
    assert_non_null(cfg);
    addr_find_opts_from_config(&o, cfg);
    assert_string_equal(o.delimiters, "+-");
    assert_int_equal(o.owner_request_special, 0);
    expect_keys("owner-list@d", &o, 0, "owner-list@d#1|owner@d#2|@d#5");
    config_free(cfg);
    cfg = config_load_text("/nonexistent", "", 0, &err);
    assert_non_null(cfg);
    addr_find_opts_from_config(&o, cfg);
    assert_string_equal(o.delimiters, ""); /* Postfix's defaults: none, and yes */
    assert_int_equal(o.owner_request_special, 1);
    config_free(cfg);
    vstr_release(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(remote_address_with_extension),
        cmocka_unit_test(local_address_adds_the_bare_local_part),
        cmocka_unit_test(no_extension_no_stripped_keys),
        cmocka_unit_test(several_delimiters_split_at_the_first),
        cmocka_unit_test(owner_and_request_names_stay_whole),
        cmocka_unit_test(unqualified_address_has_no_domain_keys),
        cmocka_unit_test(split_gives_user_extension_domain),
        cmocka_unit_test(options_come_from_main_cf),
        cmocka_unit_test(domain_keys_dotted_or_parent),
        cmocka_unit_test(parent_style_reads_the_feature_list),
        cmocka_unit_test(first_key_in_order_wins_and_case_folds),
        cmocka_unit_test(pattern_tables_see_the_whole_address_only),
        cmocka_unit_test(error_stops_the_search),
    };
    return cmocka_run_group_tests_name("addr_find", tests, NULL, NULL);
}
