/* Unit tests for anvil/anvil_table: counts, rates over a fixed window,
 * expiry of idle entries and the entry cap, on a clock driven by hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "anvil/anvil_table.h"

#define UNIT 60000 /* ms */

static void connections_count_up_and_down(void **state)
{
    anvil_table *t = anvil_table_new(UNIT, 10);
    const anvil_entry *e;

    (void)state;
    assert_non_null(anvil_table_connect(t, "smtp:192.0.2.1", 1000));
    assert_non_null(anvil_table_connect(t, "smtp:192.0.2.1", 1001));
    e = anvil_table_connect(t, "smtp:192.0.2.1", 1002);
    assert_int_equal(e->count, 3);
    assert_int_equal(e->conn_rate, 3);
    /* Another service or address is another entry. */
    assert_int_equal(anvil_table_connect(t, "submission:192.0.2.1", 1003)->count, 1);
    assert_int_equal(anvil_table_connect(t, "smtp:192.0.2.2", 1003)->count, 1);
    assert_int_equal(anvil_table_disconnect(t, "smtp:192.0.2.1", 1004), 0);
    assert_int_equal(anvil_table_lookup(t, "smtp:192.0.2.1", 1004)->count, 2);
    /* The rate does not go down with the count. */
    assert_int_equal(anvil_table_lookup(t, "smtp:192.0.2.1", 1004)->conn_rate, 3);
    anvil_table_free(t);
}

static void disconnect_never_goes_below_zero(void **state)
{
    anvil_table *t = anvil_table_new(UNIT, 10);

    (void)state;
    assert_int_equal(anvil_table_disconnect(t, "smtp:192.0.2.1", 0), -1);
    (void)anvil_table_connect(t, "smtp:192.0.2.1", 0);
    assert_int_equal(anvil_table_disconnect(t, "smtp:192.0.2.1", 1), 0);
    assert_int_equal(anvil_table_disconnect(t, "smtp:192.0.2.1", 2), 0);
    assert_int_equal(anvil_table_lookup(t, "smtp:192.0.2.1", 3)->count, 0);
    anvil_table_free(t);
}

static void rates_reset_when_the_window_ends(void **state)
{
    anvil_table *t = anvil_table_new(UNIT, 10);
    const anvil_entry *e;

    (void)state;
    for (int i = 0; i < 5; i++)
        (void)anvil_table_message(t, "smtp:192.0.2.1", 10000 + i * 1000);
    e = anvil_table_recipient(t, "smtp:192.0.2.1", 20000);
    assert_int_equal(e->mail_rate, 5);
    assert_int_equal(e->rcpt_rate, 1);
    /* The window began with the first event, at 10000: still in it at
     * 10000 + UNIT - 1, a new one at 10000 + UNIT. */
    assert_int_equal(anvil_table_message(t, "smtp:192.0.2.1", 10000 + UNIT - 1)->mail_rate, 6);
    e = anvil_table_message(t, "smtp:192.0.2.1", 10000 + UNIT);
    assert_int_equal(e->mail_rate, 1);
    assert_int_equal(e->rcpt_rate, 0);
    assert_int_equal(e->conn_rate, 0);
    /* A lookup after a long quiet sees the window ended. */
    assert_int_equal(anvil_table_lookup(t, "smtp:192.0.2.1", 10000 + 5 * UNIT)->mail_rate, 0);
    anvil_table_free(t);
}

static void connection_rate_counts_within_one_unit(void **state)
{
    anvil_table *t = anvil_table_new(UNIT, 10);
    long long rate = 0;

    (void)state;
    for (int i = 0; i < 4; i++) {
        rate = anvil_table_connect(t, "smtp:127.0.0.1", 5000 + i * 10000)->conn_rate;
        (void)anvil_table_disconnect(t, "smtp:127.0.0.1", 5000 + i * 10000 + 1);
    }
    assert_int_equal(rate, 4);
    /* The count stays right across a window boundary. */
    (void)anvil_table_connect(t, "smtp:127.0.0.1", 5000 + UNIT - 1);
    assert_int_equal(anvil_table_connect(t, "smtp:127.0.0.1", 5000 + UNIT)->count, 2);
    assert_int_equal(anvil_table_lookup(t, "smtp:127.0.0.1", 5000 + UNIT)->conn_rate, 1);
    anvil_table_free(t);
}

static void idle_entries_expire_busy_ones_stay(void **state)
{
    anvil_table *t = anvil_table_new(UNIT, 10);

    (void)state;
    (void)anvil_table_connect(t, "smtp:192.0.2.1", 0); /* stays open */
    (void)anvil_table_connect(t, "smtp:192.0.2.2", 0);
    (void)anvil_table_disconnect(t, "smtp:192.0.2.2", 1);
    (void)anvil_table_message(t, "smtp:192.0.2.3", 30000);
    assert_int_equal(anvil_table_size(t), 3);
    /* Nothing has ended its window yet. */
    assert_int_equal(anvil_table_expire(t, UNIT - 1), 0);
    /* 192.0.2.2's window ended and it holds no connection; .3's has not. */
    assert_int_equal(anvil_table_expire(t, UNIT), 1);
    assert_null(anvil_table_lookup(t, "smtp:192.0.2.2", UNIT));
    assert_non_null(anvil_table_lookup(t, "smtp:192.0.2.3", UNIT));
    assert_int_equal(anvil_table_expire(t, 30000 + UNIT), 1);
    /* An open connection keeps its entry however old. */
    assert_int_equal(anvil_table_expire(t, 100 * UNIT), 0);
    assert_int_equal(anvil_table_lookup(t, "smtp:192.0.2.1", 100 * UNIT)->count, 1);
    assert_int_equal(anvil_table_size(t), 1);
    anvil_table_free(t);
}

static void a_full_table_expires_then_refuses(void **state)
{
    anvil_table *t = anvil_table_new(UNIT, 2);

    (void)state;
    assert_non_null(anvil_table_connect(t, "smtp:192.0.2.1", 0));
    assert_non_null(anvil_table_message(t, "smtp:192.0.2.2", 0));
    /* Full, and nothing idle yet: not counted. */
    assert_null(anvil_table_connect(t, "smtp:192.0.2.3", 10));
    assert_null(anvil_table_recipient(t, "smtp:192.0.2.3", 10));
    /* Known idents are still counted. */
    assert_int_equal(anvil_table_connect(t, "smtp:192.0.2.1", 10)->count, 2);
    /* Once .2 is idle past its window, it makes room. */
    assert_int_equal(anvil_table_connect(t, "smtp:192.0.2.3", UNIT)->count, 1);
    assert_null(anvil_table_lookup(t, "smtp:192.0.2.2", UNIT));
    assert_int_equal(anvil_table_size(t), 2);
    anvil_table_free(t);
}

static void statistics_keep_the_maxima(void **state)
{
    anvil_table *t = anvil_table_new(UNIT, 10);

    (void)state;
    (void)anvil_table_connect(t, "smtp:192.0.2.1", 100);
    (void)anvil_table_connect(t, "smtp:192.0.2.1", 200);
    (void)anvil_table_connect(t, "smtp:192.0.2.2", 300);
    (void)anvil_table_recipient(t, "smtp:192.0.2.2", 400);
    assert_int_equal(t->stats.count.value, 2);
    assert_string_equal(t->stats.count.ident, "smtp:192.0.2.1");
    assert_int_equal(t->stats.count.when, 200);
    assert_int_equal(t->stats.conn_rate.value, 2);
    assert_int_equal(t->stats.rcpt_rate.value, 1);
    assert_string_equal(t->stats.rcpt_rate.ident, "smtp:192.0.2.2");
    assert_int_equal(t->stats.mail_rate.value, 0);
    assert_int_equal(t->stats.cache_size.value, 2);
    anvil_table_stats_reset(t);
    assert_int_equal(t->stats.count.value, 0);
    assert_int_equal(t->stats.cache_size.value, 0);
    anvil_table_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(connections_count_up_and_down),
        cmocka_unit_test(disconnect_never_goes_below_zero),
        cmocka_unit_test(rates_reset_when_the_window_ends),
        cmocka_unit_test(connection_rate_counts_within_one_unit),
        cmocka_unit_test(idle_entries_expire_busy_ones_stay),
        cmocka_unit_test(a_full_table_expires_then_refuses),
        cmocka_unit_test(statistics_keep_the_maxima),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
