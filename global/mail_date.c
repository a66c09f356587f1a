/*
 * mail_date - RFC 5322 dates, locale-independent
 */
#include <ctype.h>
#include <stdlib.h>
#include <time.h>

#include "global/mail_date.h"

/* TZ comes from the environment: only a plain abbreviation goes into a
 * header. */
static int zone_is_clean(const char *zone)
{
    size_t n = 0;

    if (zone == NULL)
        return 0;
    for (; zone[n]; n++)
        if (n >= 16 || !(isalnum((unsigned char)zone[n]) || zone[n] == '+' || zone[n] == '-'))
            return 0;
    return n > 0;
}

void mail_date(vstr *out, time_t when)
{
    static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    struct tm tm;
    long off, abs_off;

    if (localtime_r(&when, &tm) == NULL) {
        /* Beyond what the C library can represent: say UTC's epoch rather
         * than nothing; no real clock gets here. */
        vstr_append_str(out, "Thu, 1 Jan 1970 00:00:00 +0000");
        return;
    }
    off = tm.tm_gmtoff / 60;
    abs_off = labs(off);
    vstr_append_fmt(out, "%s, %d %s %d %02d:%02d:%02d %c%02ld%02ld", days[tm.tm_wday % 7],
                    tm.tm_mday, months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                    tm.tm_sec, off < 0 ? '-' : '+', abs_off / 60, abs_off % 60);
    if (zone_is_clean(tm.tm_zone))
        vstr_append_fmt(out, " (%s)", tm.tm_zone);
}
