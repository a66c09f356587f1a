/* Unit tests for global/addr_list: RFC 5322 address lists, bounds, quoting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "util/mem.h"
#include "util/vstr.h"
#include "global/addr_list.h"

/* Parse s; check the status and that the addresses are exactly those in
 * want (a NULL-terminated list). */
static void expect(const char *s, addr_list_status status, const char *const *want)
{
    addr_list *l = addr_list_new(100);
    vstr err = VSTR_INIT;
    size_t n = 0;

    if (addr_list_parse(l, s, strlen(s), &err) != status)
        fail_msg("status for \"%s\": %s", s, vstr_str(&err));
    if (status == ADDR_LIST_OK)
        assert_int_equal(vstr_len(&err), 0);
    else
        assert_true(vstr_len(&err) > 0);
    for (; want[n]; n++) {
        assert_true(n < l->count);
        assert_string_equal(l->entries[n].addr, want[n]);
    }
    assert_int_equal(l->count, n);
    vstr_release(&err);
    addr_list_free(l);
}

#define WANT(...) ((const char *const[]){__VA_ARGS__, NULL})
#define NONE ((const char *const[]){NULL})

static void plain_addr_specs_separated_by_commas(void **state)
{
    (void)state;
    expect("a@example.com", ADDR_LIST_OK, WANT("a@example.com"));
    expect("a@example.com, b@example.org,c@x", ADDR_LIST_OK,
           WANT("a@example.com", "b@example.org", "c@x"));
    expect("  first.last@sub.example.com  ", ADDR_LIST_OK, WANT("first.last@sub.example.com"));
    expect("", ADDR_LIST_OK, NONE);
    expect(" , ,, ", ADDR_LIST_OK, NONE);
    expect("a@x,,b@y,", ADDR_LIST_OK, WANT("a@x", "b@y"));
}

static void display_names_and_angle_addresses(void **state)
{
    addr_list *l = addr_list_new(10);
    const char *s = "John Q. Public <jqp@example.com>, \"Smith, Jane\" <jane@example.com>";

    (void)state;
    assert_int_equal(addr_list_parse(l, s, strlen(s), NULL), ADDR_LIST_OK);
    assert_int_equal(l->count, 2);
    assert_string_equal(l->entries[0].addr, "jqp@example.com");
    assert_string_equal(l->entries[0].display, "John Q. Public");
    assert_string_equal(l->entries[1].addr, "jane@example.com");
    assert_string_equal(l->entries[1].display, "Smith, Jane");
    assert_null(l->entries[1].group);
    addr_list_free(l);
    expect("<a@x>", ADDR_LIST_OK, WANT("a@x"));
    expect("J\xc3\xbcrgen M\xc3\xbcller <jm@example.de>", ADDR_LIST_OK, WANT("jm@example.de"));
    expect("=?utf-8?q?J=C3=BCrgen?= <jm@x>", ADDR_LIST_OK, WANT("jm@x"));
}

static void comments_anywhere_are_ignored(void **state)
{
    (void)state;
    expect("a@x (Alice)", ADDR_LIST_OK, WANT("a@x"));
    expect("(lead) a (mid) @ (dom) x (trail), b@y", ADDR_LIST_OK, WANT("a@x", "b@y"));
    expect("a@x (nested (comment (three)) levels)", ADDR_LIST_OK, WANT("a@x"));
    expect("a@x (a comma, inside)", ADDR_LIST_OK, WANT("a@x"));
    expect("a@x (escaped \\) paren)", ADDR_LIST_OK, WANT("a@x"));
}

static void groups_name_their_members(void **state)
{
    addr_list *l = addr_list_new(10);
    const char *s = "Team: a@x, B <b@y>; c@z";

    (void)state;
    assert_int_equal(addr_list_parse(l, s, strlen(s), NULL), ADDR_LIST_OK);
    assert_int_equal(l->count, 3);
    assert_string_equal(l->entries[0].group, "Team");
    assert_string_equal(l->entries[1].group, "Team");
    assert_string_equal(l->entries[1].display, "B");
    assert_null(l->entries[2].group);
    addr_list_free(l);
    expect("undisclosed-recipients:;", ADDR_LIST_OK, NONE);
    expect("Undisclosed recipients: ;", ADDR_LIST_OK, NONE);
    expect("open group: a@x, b@y", ADDR_LIST_OK, WANT("a@x", "b@y"));
}

static void quoted_local_parts_come_out_unquoted(void **state)
{
    (void)state;
    expect("\"john doe\"@example.com", ADDR_LIST_OK, WANT("john doe@example.com"));
    expect("\"a\\\"b\"@x", ADDR_LIST_OK, WANT("a\"b@x"));
    expect("\"a,b\"@x, c@y", ADDR_LIST_OK, WANT("a,b@x", "c@y"));
    expect("\"a@b\"@c", ADDR_LIST_OK, WANT("a@b@c"));
    expect("\"\"@x", ADDR_LIST_OK, WANT("@x"));
    expect("\"folded\r\n name\"@x", ADDR_LIST_OK, WANT("folded name@x"));
}

static void unqualified_addresses_are_kept_bare(void **state)
{
    (void)state;
    expect("root", ADDR_LIST_OK, WANT("root"));
    expect("root, postmaster (the boss)", ADDR_LIST_OK, WANT("root", "postmaster"));
    expect("Admin <root>", ADDR_LIST_OK, WANT("root"));
}

static void obsolete_forms_are_accepted(void **state)
{
    (void)state;
    expect("<@relay1,@relay2:user@example.com>", ADDR_LIST_OK, WANT("user@example.com"));
    expect("first . last @ example . com", ADDR_LIST_OK, WANT("first.last@example.com"));
    expect("a@x; b@y", ADDR_LIST_OK, WANT("a@x", "b@y"));
    expect("<>, a@x", ADDR_LIST_OK, WANT("a@x"));
    expect("user@[192.0.2.1]", ADDR_LIST_OK, WANT("user@[192.0.2.1]"));
    expect("user@[IPv6:2001:db8::1]", ADDR_LIST_OK, WANT("user@[IPv6:2001:db8::1]"));
}

static void malformed_elements_are_skipped_with_a_reason(void **state)
{
    (void)state;
    expect("John Smith", ADDR_LIST_SYNTAX, NONE);
    expect("a@x, John Smith, b@y", ADDR_LIST_SYNTAX, WANT("a@x", "b@y"));
    expect("a@, b@y", ADDR_LIST_SYNTAX, WANT("b@y"));
    expect("@x", ADDR_LIST_SYNTAX, NONE);
    expect("a@x.", ADDR_LIST_SYNTAX, NONE);
    expect("a@x..y", ADDR_LIST_SYNTAX, NONE);
    expect("a@b@c", ADDR_LIST_SYNTAX, NONE);
    expect("Name <a@x", ADDR_LIST_SYNTAX, NONE);
    expect("Name <a@x> trailing, b@y", ADDR_LIST_SYNTAX, WANT("b@y"));
    expect("<a@x <b@y>>", ADDR_LIST_SYNTAX, NONE);
    expect("a)b@x, c@y", ADDR_LIST_SYNTAX, WANT("c@y"));
    expect("a\\b@x", ADDR_LIST_SYNTAX, NONE);
    expect("a\x01@x, ok@y", ADDR_LIST_SYNTAX, WANT("ok@y"));
    expect("\"ctl\x01\"@x", ADDR_LIST_SYNTAX, NONE);
    expect("g: a:b@x;", ADDR_LIST_SYNTAX, NONE);
    expect("\"a@b\"", ADDR_LIST_SYNTAX, NONE);
    expect("\"\", a@x", ADDR_LIST_SYNTAX, WANT("a@x"));
    expect("a@[1.2.3.4 ]", ADDR_LIST_SYNTAX, NONE);
    expect("a@[b@c]", ADDR_LIST_SYNTAX, NONE);
}

static void unterminated_constructs_swallow_the_rest(void **state)
{
    (void)state;
    expect("a@x, \"open quote@y, c@z", ADDR_LIST_SYNTAX, WANT("a@x"));
    expect("a@x, b@y (open comment, c@z", ADDR_LIST_SYNTAX, WANT("a@x"));
    expect("a@x, b@[1.2.3.4", ADDR_LIST_SYNTAX, WANT("a@x"));
    expect("a@x, \"trailing backslash\\", ADDR_LIST_SYNTAX, WANT("a@x"));
}

static void error_text_names_the_column(void **state)
{
    addr_list *l = addr_list_new(10);
    vstr err = VSTR_INIT;
    const char *s = "ok@x, bad@";

    (void)state;
    assert_int_equal(addr_list_parse(l, s, strlen(s), &err), ADDR_LIST_SYNTAX);
    assert_string_equal(vstr_str(&err), "column 10: missing domain after '@'");
    vstr_release(&err);
    addr_list_free(l);
}

static void bounds_on_entries_length_and_nesting(void **state)
{
    addr_list *l = addr_list_new(3);
    vstr text = VSTR_INIT, err = VSTR_INIT;

    (void)state;
    vstr_set_str(&text, "a@x, b@x, c@x, d@x, e@x");
    assert_int_equal(addr_list_parse(l, vstr_str(&text), vstr_len(&text), &err),
                     ADDR_LIST_TOO_MANY);
    assert_int_equal(l->count, 3);
    assert_string_equal(vstr_str(&err), "more than 3 addresses");
    addr_list_free(l);

    vstr_reset(&text);
    for (int i = 0; i < ADDR_LIST_ADDR_MAX; i++)
        vstr_append_char(&text, 'a');
    vstr_append_str(&text, "@x, ok@y");
    expect(vstr_str(&text), ADDR_LIST_SYNTAX, WANT("ok@y"));

    vstr_reset(&text);
    vstr_append_str(&text, "a@x ");
    for (int i = 0; i < ADDR_LIST_DEPTH_MAX; i++)
        vstr_append_char(&text, '(');
    for (int i = 0; i < ADDR_LIST_DEPTH_MAX; i++)
        vstr_append_char(&text, ')');
    expect(vstr_str(&text), ADDR_LIST_OK, WANT("a@x"));
    vstr_reset(&text);
    vstr_append_str(&text, "a@x ");
    for (int i = 0; i <= ADDR_LIST_DEPTH_MAX; i++)
        vstr_append_char(&text, '(');
    for (int i = 0; i <= ADDR_LIST_DEPTH_MAX; i++)
        vstr_append_char(&text, ')');
    expect(vstr_str(&text), ADDR_LIST_SYNTAX, NONE);
    vstr_release(&text);
    vstr_release(&err);
}

static void embedded_nul_is_a_control_character(void **state)
{
    addr_list *l = addr_list_new(10);

    (void)state;
    assert_int_equal(addr_list_parse(l, "a\0b@x, c@y", 10, NULL), ADDR_LIST_SYNTAX);
    assert_int_equal(l->count, 1);
    assert_string_equal(l->entries[0].addr, "c@y");
    addr_list_free(l);
}

static void quote_round_trips_through_parse(void **state)
{
    static const char *const internal[] = {
        "plain@x", "first.last@x", "john doe@x", "a\"b@x", "back\\slash@x",   ".lead@x",
        "a..b@x",  "a@b@c",        "root",       "@x",     "j\xc3\xbcrgen@x",
    };
    static const char *const external[] = {
        "plain@x",         "first.last@x", "\"john doe\"@x", "\"a\\\"b\"@x", "\"back\\\\slash\"@x",
        "\".lead\"@x",     "\"a..b\"@x",   "\"a@b\"@c",      "root",         "\"\"@x",
        "j\xc3\xbcrgen@x",
    };
    vstr out = VSTR_INIT;

    (void)state;
    for (size_t i = 0; i < sizeof(internal) / sizeof(internal[0]); i++) {
        addr_list *l = addr_list_new(2);

        vstr_reset(&out);
        addr_list_quote(&out, internal[i]);
        assert_string_equal(vstr_str(&out), external[i]);
        assert_int_equal(addr_list_parse(l, vstr_str(&out), vstr_len(&out), NULL), ADDR_LIST_OK);
        assert_int_equal(l->count, 1);
        assert_string_equal(l->entries[0].addr, internal[i]);
        addr_list_free(l);
    }
    vstr_release(&out);
}

/* Where each addr-spec lies in the text: quotes included, route,
 * brackets and display name outside. */
static void spans_cover_the_addr_spec_alone(void **state)
{
    const char *s = "Joe <\"j d\"@x.example>, (c) b@y (d), <@r.example:c@z>, g: e@f;";
    const char *want[] = {"\"j d\"@x.example", "b@y", "c@z", "e@f"};
    addr_list *l = addr_list_new(10);

    (void)state;
    assert_int_equal(addr_list_parse(l, s, strlen(s), NULL), ADDR_LIST_OK);
    assert_int_equal(l->count, 4);
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(l->entries[i].spec_len, strlen(want[i]));
        assert_memory_equal(s + l->entries[i].spec_off, want[i], strlen(want[i]));
    }
    addr_list_free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(plain_addr_specs_separated_by_commas),
        cmocka_unit_test(display_names_and_angle_addresses),
        cmocka_unit_test(comments_anywhere_are_ignored),
        cmocka_unit_test(groups_name_their_members),
        cmocka_unit_test(quoted_local_parts_come_out_unquoted),
        cmocka_unit_test(unqualified_addresses_are_kept_bare),
        cmocka_unit_test(obsolete_forms_are_accepted),
        cmocka_unit_test(malformed_elements_are_skipped_with_a_reason),
        cmocka_unit_test(unterminated_constructs_swallow_the_rest),
        cmocka_unit_test(error_text_names_the_column),
        cmocka_unit_test(bounds_on_entries_length_and_nesting),
        cmocka_unit_test(embedded_nul_is_a_control_character),
        cmocka_unit_test(quote_round_trips_through_parse),
        cmocka_unit_test(spans_cover_the_addr_spec_alone),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
