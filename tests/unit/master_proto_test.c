/* Unit tests for global/master_proto: which services master_service_disable
 * leaves out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "global/master_proto.h"

static void service_disable_names_service_and_type_or_a_type(void **state)
{
    (void)state;
    assert_true(master_service_disabled("smtp/inet", "smtp", "inet"));
    assert_true(master_service_disabled("relay/unix, smtp.inet", "smtp", "inet"));
    assert_false(master_service_disabled("smtp/inet", "smtp", "unix"));
    assert_false(master_service_disabled("smtp/inet", "smt", "inet"));
    assert_false(master_service_disabled("smtps/inet", "smtp", "inet"));
    assert_true(master_service_disabled("inet", "submission", "inet"));
    assert_false(master_service_disabled("", "smtp", "inet"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(service_disable_names_service_and_type_or_a_type),
    };
    return cmocka_run_group_tests_name("master_proto", tests, NULL, NULL);
}
