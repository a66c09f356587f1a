/* Unit tests for global/slow_start: initial window, growth, shrinking, death and revival. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "global/slow_start.h"

static void initial_window_is_capped_by_the_limit(void **state)
{
    slow_start s;

    (void)state;
    slow_start_init(&s, 5, 20, 1);
    assert_int_equal(slow_start_allowed(&s), 5);
    slow_start_init(&s, 5, 2, 1); /* local_destination_concurrency_limit */
    assert_int_equal(slow_start_allowed(&s), 2);
    slow_start_init(&s, 0, 20, 1);
    assert_int_equal(slow_start_allowed(&s), 1);
    slow_start_init(&s, 5, 0, 1); /* no limit of its own */
    assert_int_equal(slow_start_allowed(&s), 5);
    assert_false(slow_start_dead(&s));
}

static void about_a_window_of_successes_adds_one(void **state)
{
    slow_start s;
    int n;

    (void)state;
    slow_start_init(&s, 5, 20, 1);
    for (int i = 0; i < 4; i++)
        slow_start_success(&s);
    assert_int_equal(slow_start_allowed(&s), 5);
    /* Each success adds 1/window, so the step shrinks as the window grows. */
    for (n = 0; slow_start_allowed(&s) < 6; n++)
        slow_start_success(&s);
    assert_true(n >= 1 && n <= 2);
    for (n = 0; slow_start_allowed(&s) < 7; n++)
        slow_start_success(&s);
    assert_true(n >= 6 && n <= 7);
}

static void growth_stops_at_the_limit(void **state)
{
    slow_start s;

    (void)state;
    slow_start_init(&s, 5, 20, 1);
    for (int i = 0; i < 10000; i++)
        slow_start_success(&s);
    assert_int_equal(slow_start_allowed(&s), 20);
    slow_start_init(&s, 5, 2, 1);
    for (int i = 0; i < 100; i++)
        slow_start_success(&s);
    assert_int_equal(slow_start_allowed(&s), 2);
}

static void failures_shrink_then_a_failed_cohort_kills(void **state)
{
    slow_start s;
    int deaths = 0, n = 0;

    (void)state;
    slow_start_init(&s, 10, 20, 1);
    slow_start_failure(&s);
    assert_int_equal(slow_start_allowed(&s), 9);
    /* Keep failing: dead after about one window's worth of failures. */
    while (!slow_start_dead(&s) && n < 100) {
        deaths += slow_start_failure(&s);
        n++;
    }
    assert_int_equal(deaths, 1);
    assert_true(n + 1 >= 9 && n + 1 <= 10);
    assert_int_equal(slow_start_allowed(&s), 0);
    /* A dead destination takes no feedback until revived. */
    slow_start_success(&s);
    assert_int_equal(slow_start_allowed(&s), 0);
    assert_int_equal(slow_start_failure(&s), 0);
    slow_start_revive(&s);
    assert_int_equal(slow_start_allowed(&s), 10);
}

static void window_of_one_dies_on_first_failure(void **state)
{
    slow_start s;

    (void)state;
    slow_start_init(&s, 1, 1, 1);
    assert_int_equal(slow_start_failure(&s), 1);
    assert_true(slow_start_dead(&s));
}

static void a_success_forgives_earlier_failures(void **state)
{
    slow_start s;

    (void)state;
    slow_start_init(&s, 2, 2, 1);
    assert_int_equal(slow_start_failure(&s), 0);
    assert_int_equal(slow_start_allowed(&s), 1);
    slow_start_success(&s);
    assert_int_equal(slow_start_failure(&s), 0);
    assert_false(slow_start_dead(&s));
    /* The window never drops below one while alive. */
    assert_int_equal(slow_start_allowed(&s), 1);
}

static void cohort_limit_zero_never_kills(void **state)
{
    slow_start s;

    (void)state;
    slow_start_init(&s, 5, 20, 0);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(slow_start_failure(&s), 0);
    assert_int_equal(slow_start_allowed(&s), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(initial_window_is_capped_by_the_limit),
        cmocka_unit_test(about_a_window_of_successes_adds_one),
        cmocka_unit_test(growth_stops_at_the_limit),
        cmocka_unit_test(failures_shrink_then_a_failed_cohort_kills),
        cmocka_unit_test(window_of_one_dies_on_first_failure),
        cmocka_unit_test(a_success_forgives_earlier_failures),
        cmocka_unit_test(cohort_limit_zero_never_kills),
    };

    return cmocka_run_group_tests_name("slow_start", tests, NULL, NULL);
}
