/*
 * anvil_table - anvil's counting table (see anvil_table.h)
 *
 * DESCRIPTION
 *   A hash table of small fixed-size entries. The rate counters of an
 *   entry are reset lazily, when an event or a lookup finds its window
 *   ended, so nothing has to run on a timer for the counts to be right;
 *   anvil_table_expire only gives memory back.
 */
#include <stdio.h>
#include <string.h>

#include "anvil/anvil_table.h"
#include "util/mem.h"
#include "util/msg.h"

anvil_table *anvil_table_new(int64_t time_unit_ms, size_t max_entries)
{
    anvil_table *t;

    if (time_unit_ms <= 0 || max_entries == 0)
        msg_panic("anvil_table_new: bad time unit %lld or size %zu", (long long)time_unit_ms,
                  max_entries);
    t = mem_calloc(1, sizeof(*t));
    t->entries = htable_new(max_entries < 1024 ? max_entries : 1024);
    t->time_unit_ms = time_unit_ms;
    t->max_entries = max_entries;
    return t;
}

void anvil_table_free(anvil_table *t)
{
    if (t == NULL)
        return;
    htable_free(t->entries, mem_free);
    mem_free(t);
}

static int window_ended(const anvil_table *t, const anvil_entry *e, int64_t now)
{
    return now - e->window_start >= t->time_unit_ms;
}

/* Start a new window when the current one has ended. */
static void window_refresh(const anvil_table *t, anvil_entry *e, int64_t now)
{
    if (window_ended(t, e, now)) {
        e->conn_rate = e->mail_rate = e->rcpt_rate = 0;
        e->window_start = now;
    }
}

static void max_note(anvil_max *m, long long value, const char *ident, int64_t now)
{
    if (value <= m->value)
        return;
    m->value = value;
    m->when = now;
    (void)snprintf(m->ident, sizeof(m->ident), "%s", ident ? ident : "");
}

/* The entry for ident, made when absent and there is room; NULL when the
 * table is full even after expiring idle entries. */
static anvil_entry *entry_get(anvil_table *t, const char *ident, int64_t now)
{
    anvil_entry *e = htable_find(t->entries, ident);

    if (e != NULL) {
        window_refresh(t, e, now);
        return e;
    }
    if (t->entries->used >= t->max_entries && anvil_table_expire(t, now) == 0)
        return NULL;
    e = mem_calloc(1, sizeof(*e));
    e->window_start = now;
    (void)htable_enter(t->entries, ident, e);
    max_note(&t->stats.cache_size, (long long)t->entries->used, NULL, now);
    return e;
}

const anvil_entry *anvil_table_connect(anvil_table *t, const char *ident, int64_t now)
{
    anvil_entry *e = entry_get(t, ident, now);

    if (e == NULL)
        return NULL;
    e->count++;
    e->conn_rate++;
    max_note(&t->stats.count, e->count, ident, now);
    max_note(&t->stats.conn_rate, e->conn_rate, ident, now);
    return e;
}

int anvil_table_disconnect(anvil_table *t, const char *ident, int64_t now)
{
    anvil_entry *e = htable_find(t->entries, ident);

    if (e == NULL)
        return -1;
    window_refresh(t, e, now);
    if (e->count > 0)
        e->count--;
    return 0;
}

/* Count a message or a recipient: rate is e's counter, max the maximum to
 * note it in. */
static const anvil_entry *count_event(anvil_table *t, const char *ident, int64_t now, int rcpt)
{
    anvil_entry *e = entry_get(t, ident, now);
    long long *rate;

    if (e == NULL)
        return NULL;
    rate = rcpt ? &e->rcpt_rate : &e->mail_rate;
    ++*rate;
    max_note(rcpt ? &t->stats.rcpt_rate : &t->stats.mail_rate, *rate, ident, now);
    return e;
}

const anvil_entry *anvil_table_message(anvil_table *t, const char *ident, int64_t now)
{
    return count_event(t, ident, now, 0);
}

const anvil_entry *anvil_table_recipient(anvil_table *t, const char *ident, int64_t now)
{
    return count_event(t, ident, now, 1);
}

const anvil_entry *anvil_table_lookup(anvil_table *t, const char *ident, int64_t now)
{
    anvil_entry *e = htable_find(t->entries, ident);

    if (e != NULL)
        window_refresh(t, e, now);
    return e;
}

size_t anvil_table_expire(anvil_table *t, int64_t now)
{
    htable_entry **list = htable_list(t->entries);
    size_t dropped = 0;

    for (htable_entry **p = list; *p; p++) {
        anvil_entry *e = (*p)->value;

        if (e->count == 0 && window_ended(t, e, now)) {
            (void)htable_delete(t->entries, (*p)->key, mem_free);
            dropped++;
        }
    }
    mem_free(list);
    return dropped;
}

size_t anvil_table_size(const anvil_table *t)
{
    return t->entries->used;
}

void anvil_table_stats_reset(anvil_table *t)
{
    memset(&t->stats, 0, sizeof(t->stats));
}
