/*
 * dsn_log - the delivery status logs defer/ID and bounce/ID
 *
 * SYNOPSIS
 *   dsn_log_entry e = {.recipient = "u@example.com", .offset = 123, .status = "5.1.1",
 *                      .action = "failed", .reason = "unknown user", .time = now};
 *   if (dsn_log_append(queue_dir, DSN_LOG_BOUNCE, id, &e, 1, &err) < 0) ... defer ...
 *
 *   dsn_log log;
 *   dsn_log_init(&log);
 *   if (dsn_log_read(queue_dir, DSN_LOG_BOUNCE, id, &log, &err) < 0) ... unreadable ...
 *   for (size_t i = 0; i < log.count; i++) ... log.entries[i] ...
 *   dsn_log_release(&log);
 *
 * DESCRIPTION
 *   docs/PROTOCOLS.md, "Delivery status logs": per recipient result one
 *   group of A records (name=value) closed by an E record. qmgr is the
 *   only writer; it appends one group per result, and a group holding
 *   only delay_warning=TIME records that the delay notice went out.
 *
 *   A crash while appending can leave a partial group at the end of the
 *   file. dsn_log_read() keeps the complete groups and reports the rest
 *   as damage (log->damaged); dsn_log_rewrite() then replaces the file
 *   with the good part (temporary file, fsync, rename), which qmgr does
 *   whenever it takes a message into the active queue, before it appends
 *   again. An attribute name it does not know is skipped.
 *
 *   Values are cut to DSN_LOG_VALUE_MAX bytes when written; reading is
 *   bounded by the same limit and DSN_LOG_ENTRIES_MAX groups.
 *
 * DIAGNOSTICS
 *   -1 with a one-line reason in err ("bounce/4XbAAA: ...").
 */
#ifndef GLOBAL_DSN_LOG_H
#define GLOBAL_DSN_LOG_H

#include <stddef.h>

#include "util/vstr.h"

#define DSN_LOG_BOUNCE "bounce"
#define DSN_LOG_DEFER "defer"

/* Longest value written or read. */
#define DSN_LOG_VALUE_MAX 4096
/* Most groups read from one log. */
#define DSN_LOG_ENTRIES_MAX 1000000

typedef struct dsn_log_entry {
    char *recipient;  /* address, internal form */
    char *orig_rcpt;  /* O record, or NULL */
    char *dsn_orcpt;  /* o record, or NULL */
    int dsn_notify;   /* n record bits, 0 when none */
    long long offset; /* of the R record; -1 unknown */
    char *status;     /* "5.1.1" */
    char *action;     /* failed, delayed, delivered, relayed, expanded */
    char *reason;     /* text */
    char *diag_type;  /* "smtp" when a remote server gave the reason, else NULL */
    char *diag_text;  /* that server's reply, or NULL */
    char *mta;        /* that server's name, or NULL */
    long long time;   /* seconds since the epoch */
} dsn_log_entry;

typedef struct dsn_log {
    dsn_log_entry *entries;
    size_t count;
    size_t cap;
    long long warned; /* time of the delay notice; 0: none sent */
    int damaged;      /* the file ended inside a group, or held garbage after the last good one */
} dsn_log;

void dsn_log_init(dsn_log *log);
void dsn_log_release(dsn_log *log);
/* Add a copy of e to log (in memory). */
void dsn_log_add(dsn_log *log, const dsn_log_entry *e);

/* Append e to QUEUE_DIR/NAME/ID (NAME: DSN_LOG_BOUNCE or DSN_LOG_DEFER),
 * creating it with mode 0600; fsync when sync is set. 0 or -1. */
int dsn_log_append(const char *queue_dir, const char *name, const char *id, const dsn_log_entry *e,
                   int sync, vstr *err);
/* Append the "delay notice sent at when" group. */
int dsn_log_append_warned(const char *queue_dir, const char *name, const char *id, long long when,
                          int sync, vstr *err);
/* Read the log into log (which it adds to). A missing file is an empty
 * log. 0, or -1 when the file cannot be read. */
int dsn_log_read(const char *queue_dir, const char *name, const char *id, dsn_log *log, vstr *err);
/* Replace the file by the entries in log (and its warned time); an empty
 * log removes it. Durable on return 0. */
int dsn_log_rewrite(const char *queue_dir, const char *name, const char *id, const dsn_log *log,
                    vstr *err);
/* Remove the file; a missing file is fine. 0 or -1. */
int dsn_log_remove(const char *queue_dir, const char *name, const char *id, vstr *err);

#endif
