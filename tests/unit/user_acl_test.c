/* Unit tests for global/user_acl: authorized_submit_users-style lists. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "global/user_acl.h"

static user_acl_result check(const char *list, const char *login)
{
    vstr err = VSTR_INIT;
    user_acl_result r = user_acl_check(list, login, &err);

    vstr_release(&err);
    return r;
}

static void static_anyone_allows_everyone(void **state)
{
    (void)state;
    assert_int_equal(check("static:anyone", "alice"), USER_ACL_ALLOW);
    assert_int_equal(check("static:anyone", "unknown"), USER_ACL_ALLOW);
}

static void names_are_matched_first_match_wins(void **state)
{
    (void)state;
    assert_int_equal(check("alice, bob", "bob"), USER_ACL_ALLOW);
    assert_int_equal(check("alice, bob", "carol"), USER_ACL_DENY);
    assert_int_equal(check("!bob, static:anyone", "bob"), USER_ACL_DENY);
    assert_int_equal(check("!bob, static:anyone", "alice"), USER_ACL_ALLOW);
    assert_int_equal(check("alice !alice", "alice"), USER_ACL_ALLOW);
}

static void an_empty_list_denies_everyone(void **state)
{
    (void)state;
    assert_int_equal(check("", "root"), USER_ACL_DENY);
    assert_int_equal(check(" , ", "alice"), USER_ACL_DENY);
}

static void tables_match_on_their_keys(void **state)
{
    (void)state;
    assert_int_equal(check("inline:{ alice=yes, bob=no }", "bob"), USER_ACL_ALLOW);
    assert_int_equal(check("inline:{ alice=yes }", "carol"), USER_ACL_DENY);
    assert_int_equal(check("!inline:{ www-data=x }, static:anyone", "www-data"), USER_ACL_DENY);
}

static void unusable_patterns_are_errors(void **state)
{
    vstr err = VSTR_INIT;

    (void)state;
    assert_int_equal(user_acl_check("/etc/postern/users", "alice", &err), USER_ACL_ERROR);
    assert_non_null(strstr(vstr_str(&err), "not supported"));
    assert_int_equal(user_acl_check("nosuchtype:x", "alice", &err), USER_ACL_ERROR);
    assert_int_equal(user_acl_check("hash:/nonexistent/table", "alice", &err), USER_ACL_ERROR);
    vstr_release(&err);
}

static void login_names(void **state)
{
    vstr buf = VSTR_INIT;

    (void)state;
    assert_string_equal(user_acl_login(0, &buf), "root");
    assert_string_equal(user_acl_login((uid_t)4000000000u, &buf), "unknown");
    vstr_release(&buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(static_anyone_allows_everyone),
        cmocka_unit_test(names_are_matched_first_match_wins),
        cmocka_unit_test(an_empty_list_denies_everyone),
        cmocka_unit_test(tables_match_on_their_keys),
        cmocka_unit_test(unusable_patterns_are_errors),
        cmocka_unit_test(login_names),
    };
    return cmocka_run_group_tests_name("user_acl", tests, NULL, NULL);
}
