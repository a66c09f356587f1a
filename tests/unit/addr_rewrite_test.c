/* Unit tests for global/addr_rewrite: canonical, masquerade, virtual alias expansion. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "global/addr_rewrite.h"

static config *cfg_of(const char *text)
{
    vstr err = VSTR_INIT;
    config *cfg = config_load_text("/nonexistent", text, strlen(text), &err);

    assert_non_null(cfg);
    vstr_release(&err);
    return cfg;
}

/* The expansion of addr joined with ' ', or "ERR:" / "LIMIT:" and why. */
static void expect_virtual(addr_rewrite *rw, const char *addr, const char *want)
{
    argv_t *out = argv_new();
    vstr got = VSTR_INIT, why = VSTR_INIT;
    int st = addr_rewrite_virtual(rw, addr, out, &why);

    if (st == ADDR_REWRITE_TABLE)
        vstr_set_str(&got, "ERR");
    else if (st == ADDR_REWRITE_LIMIT)
        vstr_set_str(&got, "LIMIT");
    else
        for (size_t i = 0; i < out->argc; i++)
            vstr_append_fmt(&got, "%s%s", i ? " " : "", out->argv[i]);
    assert_string_equal(vstr_str(&got), want);
    argv_free(out);
    vstr_release(&got);
    vstr_release(&why);
}

static void virtual_expansion_one_to_many_recursive_and_self(void **state)
{
    config *cfg =
        cfg_of("myorigin = here.example\nmydestination = here.example\n"
               "recipient_delimiter = +\n"
               "virtual_alias_maps = inline:{ { list@v.example = a@v.example, b }, "
               "a@v.example=x@far.example, { me@v.example = me@v.example, copy@v.example }, "
               "@catch.example=all@far.example, @dom.example=@new.example, "
               "sales@v.example=s@far.example }\n");
    addr_rewrite *rw = addr_rewrite_tables(cfg);

    (void)state;
    /* b has no domain: myorigin; a expands again */
    expect_virtual(rw, "list@v.example", "x@far.example b@here.example");
    expect_virtual(rw, "me@v.example", "me@v.example copy@v.example");
    expect_virtual(rw, "nobody@v.example", "nobody@v.example");
    /* unmatched extension propagates; @domain result keeps the user, not the extension */
    expect_virtual(rw, "sales+eu@v.example", "s+eu@far.example");
    expect_virtual(rw, "any+x@catch.example", "all+x@far.example");
    expect_virtual(rw, "User+x@dom.example", "User@new.example");
    expect_virtual(rw, "User@dom.example", "User@new.example");
    addr_rewrite_release();
    config_free(cfg);
}

static void virtual_loops_limits_and_errors(void **state)
{
    config *cfg = cfg_of(
        "virtual_alias_recursion_limit = 5\nvirtual_alias_expansion_limit = 3\n"
        "virtual_alias_address_length_limit = 20\n"
        "virtual_alias_maps = inline:{ a@x=b@x, b@x=a@x, "
        "{ big@x = 1@y, 2@y, 3@y, 4@y }, empty@x=\"\", long@x=a-very-long-name@example.com }\n");
    addr_rewrite *rw = addr_rewrite_tables(cfg);
    config *broken;

    (void)state;
    expect_virtual(rw, "a@x", "LIMIT");
    expect_virtual(rw, "big@x", "LIMIT");
    expect_virtual(rw, "long@x", "LIMIT");
    /* a value with no address is a broken entry, not "no alias" */
    expect_virtual(rw, "empty@x", "ERR");
    broken = cfg_of("virtual_alias_maps = fail:down\n");
    rw = addr_rewrite_tables(broken); /* another configuration: opened again */
    expect_virtual(rw, "a@x", "ERR");
    addr_rewrite_release();
    config_free(broken);
    config_free(cfg);
}

static void canonical_sender_then_generic_and_classes(void **state)
{
    config *cfg = cfg_of("sender_canonical_maps = inline:{ old@x.example=mid@x.example }\n"
                         "canonical_maps = inline:{ mid@x.example=new@x.example, "
                         "@y.example=@z.example }\n"
                         "recipient_canonical_maps = inline:{ r@x.example=inbox@x.example }\n");
    addr_rewrite *rw = addr_rewrite_tables(cfg);
    vstr out = VSTR_INIT, why = VSTR_INIT;

    (void)state;
    assert_int_equal(addr_rewrite_sender(rw, "old@x.example", &out, &why), 0);
    assert_string_equal(vstr_str(&out), "new@x.example");
    assert_int_equal(addr_rewrite_sender(rw, "u@y.example", &out, &why), 0);
    assert_string_equal(vstr_str(&out), "u@z.example");
    assert_int_equal(addr_rewrite_sender(rw, "", &out, &why), 0);
    assert_string_equal(vstr_str(&out), "");
    /* recipient_canonical_maps is not for senders */
    assert_int_equal(addr_rewrite_sender(rw, "r@x.example", &out, &why), 0);
    assert_string_equal(vstr_str(&out), "r@x.example");
    assert_int_equal(addr_rewrite_recipient(rw, "r@x.example", &out, &why), 0);
    assert_string_equal(vstr_str(&out), "inbox@x.example");
    assert_int_equal(addr_rewrite_known(rw, "r@x.example", 0, &why), 1);
    assert_int_equal(addr_rewrite_known(rw, "r@x.example", 1, &why), 0);
    assert_int_equal(addr_rewrite_known(rw, "old@x.example", 1, &why), 1);
    addr_rewrite_release();
    config_free(cfg);
    cfg = cfg_of("canonical_maps = inline:{ @y.example=@z.example }\n"
                 "canonical_classes = envelope_recipient\n");
    rw = addr_rewrite_tables(cfg);
    assert_int_equal(addr_rewrite_sender(rw, "u@y.example", &out, &why), 0);
    assert_string_equal(vstr_str(&out), "u@y.example");
    assert_int_equal(addr_rewrite_recipient(rw, "u@y.example", &out, &why), 0);
    assert_string_equal(vstr_str(&out), "u@z.example");
    addr_rewrite_release();
    config_free(cfg);
    cfg = cfg_of("canonical_maps = fail:down\n");
    rw = addr_rewrite_tables(cfg);
    assert_int_equal(addr_rewrite_sender(rw, "u@y.example", &out, &why), -1);
    assert_non_null(strstr(vstr_str(&why), "canonical_maps: fail:down"));
    addr_rewrite_release();
    config_free(cfg);
    vstr_release(&out);
    vstr_release(&why);
}

static void masquerade_strict_subdomains_exclusions_and_exceptions(void **state)
{
    argv_t *domains = argv_split("!keep.example.com example.com", " ");
    argv_t *exceptions = argv_split("root", " ");
    vstr out = VSTR_INIT;

    (void)state;
    assert_true(addr_rewrite_masquerade(domains, exceptions, "u@a.b.Example.COM", &out));
    assert_string_equal(vstr_str(&out), "u@example.com");
    assert_false(addr_rewrite_masquerade(domains, exceptions, "u@example.com", &out));
    assert_string_equal(vstr_str(&out), "u@example.com");
    assert_false(addr_rewrite_masquerade(domains, exceptions, "u@h.keep.example.com", &out));
    assert_false(addr_rewrite_masquerade(domains, exceptions, "ROOT@h.example.com", &out));
    assert_false(addr_rewrite_masquerade(domains, exceptions, "u@notexample.com", &out));
    assert_false(addr_rewrite_masquerade(domains, exceptions, "unqualified", &out));
    argv_free(domains);
    argv_free(exceptions);
    vstr_release(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(virtual_expansion_one_to_many_recursive_and_self),
        cmocka_unit_test(virtual_loops_limits_and_errors),
        cmocka_unit_test(canonical_sender_then_generic_and_classes),
        cmocka_unit_test(masquerade_strict_subdomains_exclusions_and_exceptions),
    };
    return cmocka_run_group_tests_name("addr_rewrite", tests, NULL, NULL);
}
