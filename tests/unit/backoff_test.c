/* Unit tests for global/backoff: Postfix's doubling schedule, clamps, expiry, delay warnings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "global/backoff.h"

static void first_retry_waits_minimal_backoff(void **state)
{
    (void)state;
    assert_int_equal(backoff_delay(1000, 1000, 300, 4000), 300);
    assert_int_equal(backoff_delay(1010, 1000, 300, 4000), 300);
    assert_int_equal(backoff_delay(1299, 1000, 300, 4000), 300);
}

static void delay_equals_age_between_the_bounds(void **state)
{
    (void)state;
    assert_int_equal(backoff_delay(1000 + 301, 1000, 300, 4000), 301);
    assert_int_equal(backoff_delay(1000 + 1200, 1000, 300, 4000), 1200);
    assert_int_equal(backoff_delay(1000 + 4000, 1000, 300, 4000), 4000);
    assert_int_equal(backoff_delay(1000 + 86400 * 4, 1000, 300, 4000), 4000);
}

static void retries_double_the_age_until_the_maximum(void **state)
{
    static const long long expected[] = {300, 600, 1200, 2400, 4800, 8800, 12800, 16800};
    long long arrival = 1700000000, t = arrival;

    (void)state;
    /* An attempt on arrival, then one at each scheduled time. */
    for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++) {
        t += backoff_delay(t, arrival, 300, 4000);
        assert_int_equal(t - arrival, expected[i]);
    }
}

static void odd_bounds_and_clocks(void **state)
{
    (void)state;
    /* maximal below minimal: minimal wins. */
    assert_int_equal(backoff_delay(5000, 0, 300, 100), 300);
    /* An arrival in the future: treated as new, not retried at once. */
    assert_int_equal(backoff_delay(1000, 5000, 300, 4000), 300);
    assert_int_equal(backoff_delay(1000, 0, 0, 0), 0);
}

static void expiry_after_lifetime(void **state)
{
    (void)state;
    assert_false(backoff_expired(1000 + 5 * 86400 - 1, 1000, 5 * 86400));
    assert_true(backoff_expired(1000 + 5 * 86400, 1000, 5 * 86400));
    /* Lifetime 0: the first deferral is final. */
    assert_true(backoff_expired(1000, 1000, 0));
}

static void delay_warning_only_when_enabled_and_due(void **state)
{
    (void)state;
    assert_false(backoff_warning_due(1000 + 86400, 1000, 0));
    assert_false(backoff_warning_due(1000 + 3 * 3600 - 1, 1000, 3 * 3600));
    assert_true(backoff_warning_due(1000 + 3 * 3600, 1000, 3 * 3600));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(first_retry_waits_minimal_backoff),
        cmocka_unit_test(delay_equals_age_between_the_bounds),
        cmocka_unit_test(retries_double_the_age_until_the_maximum),
        cmocka_unit_test(odd_bounds_and_clocks),
        cmocka_unit_test(expiry_after_lifetime),
        cmocka_unit_test(delay_warning_only_when_enabled_and_due),
    };

    return cmocka_run_group_tests_name("backoff", tests, NULL, NULL);
}
