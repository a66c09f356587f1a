/* Unit tests for global/delivery_log: Postfix's delay format. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "global/delivery_log.h"

static void check(double seconds, const char *want)
{
    char buf[32];

    delivery_log_delay(buf, sizeof(buf), seconds);
    assert_string_equal(buf, want);
}

static void two_significant_digits_without_trailing_zeros(void **state)
{
    (void)state;
    check(0, "0");
    check(-3, "0");
    check(0.5, "0.5");
    check(0.25, "0.25");
    check(1.0, "1");
    check(3.46, "3.5");
    check(12.7, "13");
    check(4000, "4000");
    check(0.0042, "0.0042");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(two_significant_digits_without_trailing_zeros),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
