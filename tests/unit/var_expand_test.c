/* Unit tests for global/var_expand: $name, ${name?text}, ${name:text}, filtering. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "global/var_expand.h"

static const char *attr(void *ctx, const char *name)
{
    static const char *const table[] = {
        "home", "/home/u", "user",       "u", "extension", "", "recipient_delimiter",
        "+",    "sender",  "a;rm -rf@x", NULL};
    (void)ctx;
    for (int i = 0; table[i]; i += 2)
        if (strcmp(table[i], name) == 0)
            return table[i + 1];
    return NULL;
}

static const char *expand(const char *text, const char *filter, int *status)
{
    static vstr out = VSTR_INIT, err = VSTR_INIT;

    *status = var_expand(text, attr, NULL, filter, 0, &out, &err);
    return *status == 0 ? vstr_str(&out) : vstr_str(&err);
}

static void names_and_conditionals(void **state)
{
    int st;

    (void)state;
    assert_string_equal(
        expand("$home/.forward${extension?$recipient_delimiter}${extension}", NULL, &st),
        "/home/u/.forward");
    assert_int_equal(st, 0);
    assert_string_equal(
        expand("${user}x $$5 ${extension:none} ${user:none} ${user?{$home}}", NULL, &st),
        "ux $5 none  {/home/u}");
    assert_string_equal(expand("plain", NULL, &st), "plain");
}

static void errors_are_reported(void **state)
{
    int st;

    (void)state;
    assert_string_equal(expand("$nosuch", NULL, &st), "unknown name \"nosuch\"");
    assert_int_equal(st, -1);
    assert_string_equal(expand("${home", NULL, &st), "missing '}' after \"${home\"");
    assert_string_equal(expand("a $ b", NULL, &st), "'$' without a name");
    assert_string_equal(expand("${user?${user?${user?${user?${user?${user?${user?${user?${user?"
                               "${user?${user?${user?x}}}}}}}}}}}}",
                               NULL, &st),
                        "nesting deeper than 10");
}

static void filter_applies_to_values_only(void **state)
{
    int st;

    (void)state;
    assert_string_equal(expand("/bin/prog -f $sender; echo", "abcdefghijklmnopqrstuvwxyz@.-", &st),
                        "/bin/prog -f a_rm_-rf@x; echo");
}

static void unknown_names_kept_when_asked(void **state)
{
    vstr out = VSTR_INIT, err = VSTR_INIT;

    (void)state;
    assert_int_equal(var_expand("procmail -a \"$EXTENSION\" ${HOME} $user ${X:y}", attr, NULL,
                                NULL, VAR_EXPAND_KEEP_UNKNOWN, &out, &err),
                     0);
    assert_string_equal(vstr_str(&out), "procmail -a \"$EXTENSION\" ${HOME} u ${X:y}");
    vstr_release(&out);
    vstr_release(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(names_and_conditionals),
        cmocka_unit_test(errors_are_reported),
        cmocka_unit_test(filter_applies_to_values_only),
        cmocka_unit_test(unknown_names_kept_when_asked),
    };
    return cmocka_run_group_tests_name("var_expand", tests, NULL, NULL);
}
