/* Unit tests for global/mail_date: RFC 5322 dates, offsets, zone comments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "util/vstr.h"
#include "global/mail_date.h"

static void check(const char *tz, time_t when, const char *want)
{
    vstr out = VSTR_INIT;

    setenv("TZ", tz, 1);
    tzset();
    mail_date(&out, when);
    assert_string_equal(vstr_str(&out), want);
    vstr_release(&out);
}

static void utc_epoch_and_a_recent_date(void **state)
{
    (void)state;
    check("UTC0", 0, "Thu, 1 Jan 1970 00:00:00 +0000 (UTC)");
    check("UTC0", 1763835360, "Sat, 22 Nov 2025 18:16:00 +0000 (UTC)");
}

static void offsets_east_and_west_with_minutes(void **state)
{
    (void)state;
    check("CET-1", 1763835360, "Sat, 22 Nov 2025 19:16:00 +0100 (CET)");
    check("NST+3:30", 1763835360, "Sat, 22 Nov 2025 14:46:00 -0330 (NST)");
}

static void odd_zone_names_are_left_out(void **state)
{
    (void)state;
    check("<+0545>-5:45", 0, "Thu, 1 Jan 1970 05:45:00 +0545 (+0545)");
    {
        vstr out = VSTR_INIT;

        /* glibc may or may not accept this TZ; either way no tab reaches a header. */
        setenv("TZ", "<a\tb>-1", 1);
        tzset();
        mail_date(&out, 0);
        assert_null(strchr(vstr_str(&out), '\t'));
        assert_null(strchr(vstr_str(&out), '('));
        vstr_release(&out);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(utc_epoch_and_a_recent_date),
        cmocka_unit_test(offsets_east_and_west_with_minutes),
        cmocka_unit_test(odd_zone_names_are_left_out),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
