/* Unit tests for global/header_rewrite: which headers, what is replaced,
 * what is kept, folding, and failures. The map is a small function here,
 * so the tests need no tables. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "util/vstr.h"
#include "global/addr_list.h"
#include "global/header_rewrite.h"

/* "@old.example" becomes "@new.example"; "fail@..." is a table error;
 * "quote@x" becomes "john doe@new.example"; "long@..." a long address;
 * an address without a domain gets "@origin.example". */
static int test_map(void *ctx, const char *addr, vstr *out, vstr *why)
{
    const char *at = strrchr(addr, '@');

    (void)ctx;
    if (strncmp(addr, "fail@", 5) == 0) {
        vstr_set_str(why, "canonical_maps: test failure");
        return -1;
    }
    if (strcmp(addr, "quote@x") == 0) {
        vstr_set_str(out, "john doe@new.example");
    } else if (strncmp(addr, "long@", 5) == 0) {
        vstr_set_str(out, "a-rather-long-local-part.for-folding@a-long-domain-name.new.example");
    } else if (at == NULL) {
        vstr_set_fmt(out, "%s@origin.example", addr);
    } else if (strcmp(at, "@old.example") == 0) {
        vstr_set(out, addr, (size_t)(at - addr));
        vstr_append_str(out, "@new.example");
    } else {
        vstr_set_str(out, addr);
    }
    return 0;
}

static void expect(const char *in, int status, const char *want)
{
    vstr out = VSTR_INIT, why = VSTR_INIT;

    vstr_set_str(&out, "untouched");
    assert_int_equal(header_rewrite_text(in, strlen(in), test_map, NULL, &out, &why), status);
    if (status == HEADER_REWRITE_CHANGED)
        assert_string_equal(vstr_str(&out), want);
    else
        assert_string_equal(vstr_str(&out), "untouched");
    vstr_release(&out);
    vstr_release(&why);
}

static void only_the_address_is_replaced(void **state)
{
    (void)state;
    expect("To: Joe Q. Public <joe@old.example>, ann@old.example (Ann)", HEADER_REWRITE_CHANGED,
           "To: Joe Q. Public <joe@new.example>, ann@new.example (Ann)");
    expect("From: \"Public, Joe\" <joe@old.example>", HEADER_REWRITE_CHANGED,
           "From: \"Public, Joe\" <joe@new.example>");
    /* An address that keeps its value keeps its spelling. */
    expect("Cc: \"x\"@other.example, b@old.example", HEADER_REWRITE_CHANGED,
           "Cc: \"x\"@other.example, b@new.example");
    /* The source route stays, as do the brackets and spaces. */
    expect("To: < @relay.example:joe@old.example >", HEADER_REWRITE_CHANGED,
           "To: < @relay.example:joe@new.example >");
}

static void groups_and_unqualified_addresses(void **state)
{
    (void)state;
    expect("To: friends: a@old.example, \"b c\"@old.example;, z@y.example", HEADER_REWRITE_CHANGED,
           "To: friends: a@new.example, \"b c\"@new.example;, z@y.example");
    expect("To: undisclosed-recipients:;", HEADER_REWRITE_SAME, NULL);
    expect("From: root (Charlie Root)", HEADER_REWRITE_CHANGED,
           "From: root@origin.example (Charlie Root)");
    expect("Reply-To: quote@x", HEADER_REWRITE_CHANGED, "Reply-To: \"john doe\"@new.example");
}

static void nothing_to_do_or_unparseable_is_left_alone(void **state)
{
    (void)state;
    expect("To: a@y.example, <b@y.example>", HEADER_REWRITE_SAME, NULL);
    expect("To: joe@old.example, <broken@", HEADER_REWRITE_SAME, NULL);
    expect("To: joe@old.example, \"unterminated", HEADER_REWRITE_SAME, NULL);
    expect("To: joe@old.example, a@b@c", HEADER_REWRITE_SAME, NULL);
    expect("not a header", HEADER_REWRITE_SAME, NULL);
    expect("To:", HEADER_REWRITE_SAME, NULL);
}

static void a_failed_lookup_is_an_error(void **state)
{
    vstr out = VSTR_INIT, why = VSTR_INIT;
    const char *h = "To: a@old.example, fail@x.example";

    (void)state;
    assert_int_equal(header_rewrite_text(h, strlen(h), test_map, NULL, &out, &why),
                     HEADER_REWRITE_ERROR);
    assert_string_equal(vstr_str(&why), "canonical_maps: test failure");
    vstr_release(&out);
    vstr_release(&why);
}

static void folding_is_kept_and_grown_lines_are_folded_again(void **state)
{
    (void)state;
    /* The original line breaks stay; an untouched long line stays. */
    expect("To: a@old.example,\n\tb@y.example", HEADER_REWRITE_CHANGED,
           "To: a@new.example,\n\tb@y.example");
    /* A line that grew past 78 columns is folded: after a comma where
     * that fits, else at the last space that does; never right after
     * the colon. */
    expect("To: First <long@x.example>, second@y.example, third@y.example",
           HEADER_REWRITE_CHANGED,
           "To: First\n"
           " <a-rather-long-local-part.for-folding@a-long-domain-name.new.example>,\n"
           " second@y.example, third@y.example");
    expect("Cc: one@y.example, long@x.example, three@y.example", HEADER_REWRITE_CHANGED,
           "Cc: one@y.example,\n"
           " a-rather-long-local-part.for-folding@a-long-domain-name.new.example,\n"
           " three@y.example");
    /* No space to fold at: the line stays long rather than broken. */
    expect("To:long@x.example", HEADER_REWRITE_CHANGED,
           "To:a-rather-long-local-part.for-folding@a-long-domain-name.new.example");
}

static void header_classes_are_postfix_s(void **state)
{
    (void)state;
    assert_int_equal(header_rewrite_class("From", 4), ADDR_REWRITE_HDR_SENDER);
    assert_int_equal(header_rewrite_class("reply-to", 8), ADDR_REWRITE_HDR_SENDER);
    assert_int_equal(header_rewrite_class("Errors-To", 9), ADDR_REWRITE_HDR_SENDER);
    assert_int_equal(header_rewrite_class("Return-Receipt-To", 17), ADDR_REWRITE_HDR_SENDER);
    assert_int_equal(header_rewrite_class("Resent-Sender", 13), ADDR_REWRITE_HDR_SENDER);
    assert_int_equal(header_rewrite_class("BCC", 3), ADDR_REWRITE_HDR_RECIPIENT);
    assert_int_equal(header_rewrite_class("Resent-Cc", 9), ADDR_REWRITE_HDR_RECIPIENT);
    assert_int_equal(header_rewrite_class("Resent-Reply-To", 15), ADDR_REWRITE_HDR_RECIPIENT);
    assert_int_equal(header_rewrite_class("To ", 3), ADDR_REWRITE_HDR_RECIPIENT);
    assert_int_equal(header_rewrite_class("Subject", 7), 0);
    assert_int_equal(header_rewrite_class("Delivered-To", 12), 0);
    assert_int_equal(header_rewrite_class("T", 1), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(only_the_address_is_replaced),
        cmocka_unit_test(groups_and_unqualified_addresses),
        cmocka_unit_test(nothing_to_do_or_unparseable_is_left_alone),
        cmocka_unit_test(a_failed_lookup_is_an_error),
        cmocka_unit_test(folding_is_kept_and_grown_lines_are_folded_again),
        cmocka_unit_test(header_classes_are_postfix_s),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
