/* Unit tests for global/queue_list: the lines of the postqueue -p shape. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "global/queue_list.h"

static void header_and_totals(void **state)
{
    vstr v = VSTR_INIT;

    (void)state;
    queue_list_format_header(&v);
    assert_string_equal(vstr_str(&v),
                        "----Queue ID----- --Size-- ---Arrival Time---- --Sender/Recipient------\n");
    vstr_reset(&v);
    queue_list_format_total(&v, 0, 0);
    assert_string_equal(vstr_str(&v), "Mail queue is empty\n");
    vstr_reset(&v);
    queue_list_format_total(&v, 2047, 1);
    assert_string_equal(vstr_str(&v), "-- 1 Kbytes in 1 Request.\n");
    vstr_reset(&v);
    queue_list_format_total(&v, 10 * 1024, 3);
    assert_string_equal(vstr_str(&v), "-- 10 Kbytes in 3 Requests.\n");
    vstr_release(&v);
}

static void entry_columns(void **state)
{
    vstr v = VSTR_INIT;

    (void)state;
    setenv("TZ", "UTC", 1);
    tzset();
    /* 2026-08-02 16:49:03 UTC */
    queue_list_format_entry(&v, "C800B104BA", '*', 848, 1785689343LL, "a@example.com");
    assert_string_equal(vstr_str(&v), "C800B104BA*            848 Sun Aug  2 16:49:03 a@example.com\n");
    vstr_reset(&v);
    queue_list_format_entry(&v, "1xXk8V1X18k1rR", '!', 12, 1785689343LL, "");
    assert_string_equal(vstr_str(&v),
                        "1xXk8V1X18k1rR!         12 Sun Aug  2 16:49:03 MAILER-DAEMON\n");
    vstr_reset(&v);
    /* No mark: the id alone is padded; an id longer than the column pushes on. */
    queue_list_format_entry(&v, "1xXk8V1X18k1rR", ' ', 12, 1785689343LL, "b@example.com");
    assert_string_equal(vstr_str(&v),
                        "1xXk8V1X18k1rR          12 Sun Aug  2 16:49:03 b@example.com\n");
    vstr_reset(&v);
    queue_list_format_entry(&v, "1xXk8V1X18k1rRabcdef", '*', 1, 1785689343LL, "b@example.com");
    assert_string_equal(vstr_str(&v),
                        "1xXk8V1X18k1rRabcdef*        1 Sun Aug  2 16:49:03 b@example.com\n");
    vstr_release(&v);
}

static void reasons_are_right_aligned_and_recipients_indented(void **state)
{
    vstr v = VSTR_INIT;
    char long_reason[200];

    (void)state;
    queue_list_format_reason(&v, "connect to x[192.0.2.5]:25: Connection refused");
    assert_int_equal(vstr_len(&v), 79);
    assert_int_equal(strspn(vstr_str(&v), " "),
                     78 - strlen("(connect to x[192.0.2.5]:25: Connection refused)"));
    assert_string_equal(vstr_str(&v) + strspn(vstr_str(&v), " "),
                        "(connect to x[192.0.2.5]:25: Connection refused)\n");
    vstr_reset(&v);
    memset(long_reason, 'r', sizeof(long_reason) - 1);
    long_reason[sizeof(long_reason) - 1] = 0;
    queue_list_format_reason(&v, long_reason);
    assert_int_equal(vstr_str(&v)[0], '(');
    vstr_reset(&v);
    queue_list_format_rcpt(&v, "b@example.org");
    assert_int_equal(strspn(vstr_str(&v), " "), 47);
    assert_string_equal(vstr_str(&v) + 47, "b@example.org\n");
    vstr_release(&v);
}

/* A reason is a remote server's text: its escape sequences must not reach
 * the terminal of whoever lists the queue. */
static void control_characters_in_a_reason_are_replaced(void **state)
{
    vstr v = VSTR_INIT;

    (void)state;
    queue_list_format_reason(&v, "host said: \033[2J\033]0;owned\a\x7f ok");
    assert_non_null(strstr(vstr_str(&v), "(host said: ?[2J?]0;owned?? ok)\n"));
    assert_null(strpbrk(vstr_str(&v), "\033\a\x7f"));
    vstr_release(&v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(header_and_totals),
        cmocka_unit_test(entry_columns),
        cmocka_unit_test(reasons_are_right_aligned_and_recipients_indented),
        cmocka_unit_test(control_characters_in_a_reason_are_replaced),
    };
    return cmocka_run_group_tests_name("queue_list", tests, NULL, NULL);
}
