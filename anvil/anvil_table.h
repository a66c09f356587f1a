/*
 * NAME
 *   anvil_table - anvil's counting table: connections and event rates per
 *   (service, client address)
 *
 * SYNOPSIS
 *   #include "anvil/anvil_table.h"
 *
 *   anvil_table *t = anvil_table_new(60000, 100000);
 *   const anvil_entry *e = anvil_table_connect(t, "smtp:192.0.2.1", now_ms);
 *   if (e == NULL) ... table full: not counted ...
 *   ... e->count, e->conn_rate ...
 *   anvil_table_disconnect(t, "smtp:192.0.2.1", now_ms);
 *   anvil_table_expire(t, now_ms);
 *
 * DESCRIPTION
 *   Each entry, keyed by an ident ("service:address"), holds the number of
 *   connections open now and the connections, messages and recipients
 *   counted in its current time unit. A time unit begins with the first
 *   event after the previous one ended (Postfix's anvil: a fixed window, not
 *   a sliding one), so a rate is "events since the window began", at most
 *   the events of time_unit_ms.
 *
 *   The clock is the caller's: every call takes now in milliseconds
 *   (monotonic), so tests drive time by hand.
 *
 *   Memory is bounded: an entry with no open connection whose window has
 *   ended holds nothing worth keeping, and anvil_table_expire drops it. A
 *   table at max_entries first expires idle entries, then refuses new
 *   idents (NULL) until room is made.
 *
 *   The table also keeps the maxima seen since anvil_table_stats_reset,
 *   for the periodic "statistics:" log lines.
 */
#ifndef ANVIL_ANVIL_TABLE_H
#define ANVIL_ANVIL_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "util/htable.h"

typedef struct anvil_entry {
    long long count;      /* connections open now */
    long long conn_rate;  /* connections in the current window */
    long long mail_rate;  /* messages (MAIL FROM) in the current window */
    long long rcpt_rate;  /* recipients (RCPT TO) in the current window */
    int64_t window_start; /* ms, when the current window began */
} anvil_entry;

/* One maximum and where and when it was reached (ident is "" before any). */
typedef struct anvil_max {
    long long value;
    char ident[128];
    int64_t when; /* ms, on the table's clock */
} anvil_max;

typedef struct anvil_stats {
    anvil_max count, conn_rate, mail_rate, rcpt_rate;
    anvil_max cache_size; /* entries; ident unused */
} anvil_stats;

typedef struct anvil_table {
    htable *entries; /* ident -> anvil_entry */
    int64_t time_unit_ms;
    size_t max_entries;
    anvil_stats stats;
} anvil_table;

/* An empty table with windows of time_unit_ms (> 0) and room for
 * max_entries (> 0) idents. */
anvil_table *anvil_table_new(int64_t time_unit_ms, size_t max_entries);
/* Free the table; NULL is fine. */
void anvil_table_free(anvil_table *t);

/* A connection opens: count and conn_rate go up. The entry, or NULL when
 * the table is full (nothing counted). */
const anvil_entry *anvil_table_connect(anvil_table *t, const char *ident, int64_t now);
/* A connection closes: count goes down (never below 0). 0, or -1 when
 * ident has no entry. */
int anvil_table_disconnect(anvil_table *t, const char *ident, int64_t now);
/* A message (MAIL FROM): mail_rate goes up. NULL when the table is full. */
const anvil_entry *anvil_table_message(anvil_table *t, const char *ident, int64_t now);
/* A recipient (RCPT TO): rcpt_rate goes up. NULL when the table is full. */
const anvil_entry *anvil_table_recipient(anvil_table *t, const char *ident, int64_t now);
/* The entry for ident as of now (its window reset when it has ended), or
 * NULL. */
const anvil_entry *anvil_table_lookup(anvil_table *t, const char *ident, int64_t now);

/* Drop every entry with no open connection whose window has ended;
 * returns how many were dropped. */
size_t anvil_table_expire(anvil_table *t, int64_t now);
/* Entries held. */
size_t anvil_table_size(const anvil_table *t);

/* Forget the maxima (after they were logged). */
void anvil_table_stats_reset(anvil_table *t);

#endif
