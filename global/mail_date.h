/*
 * mail_date - RFC 5322 dates for Date: and Received: headers
 *
 * SYNOPSIS
 *   vstr date = VSTR_INIT;
 *   mail_date(&date, time(NULL));   "Sat, 22 Nov 2025 18:16:00 +0100 (CET)"
 *
 * DESCRIPTION
 *   The local time with its numeric offset and, as Postfix writes it, the
 *   zone abbreviation as a comment. Day and month names are English
 *   whatever the locale, as RFC 5322 requires.
 */
#ifndef GLOBAL_MAIL_DATE_H
#define GLOBAL_MAIL_DATE_H

#include <time.h>

#include "util/vstr.h"

/* Append the date for when to out. */
void mail_date(vstr *out, time_t when);

#endif
