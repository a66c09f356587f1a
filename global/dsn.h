/*
 * dsn - compose an RFC 3464 delivery status notification
 *
 * SYNOPSIS
 *   dsn_rcpt rcpt = {.address = "u@example.com", .status = "5.1.1", .action = "failed",
 *                    .reason = "unknown user: \"u\""};
 *   dsn_report rep = {.kind = DSN_KIND_FAILURE, .myhostname = host, .queue_id = id,
 *                     .sender = "a@b", .recipient = "a@b", .arrival = t, .now = now,
 *                     .ret = DSN_RET_FULL, .rcpts = &rcpt, .rcpt_count = 1};
 *   dsn_content orig = {next_line, reader};
 *   if (dsn_compose(&rep, &orig, put_line, cleanup) < 0) ... reading the original failed ...
 *
 * DESCRIPTION
 *   Writes the header and body of a multipart/report; report-type=
 *   delivery-status message, one line at a time through put (no line
 *   terminators): the headers (From: MAILER-DAEMON@myhostname (Mail
 *   Delivery System), To:, Subject:, Auto-Submitted:, MIME-Version:,
 *   Content-Type:), then three parts:
 *
 *   1. text/plain: what happened, in words, one "<address>: reason" per
 *      recipient;
 *   2. message/delivery-status: the per-message fields (Reporting-MTA,
 *      Original-Envelope-Id, Arrival-Date) and a block per recipient
 *      (Final-Recipient, Original-Recipient when known, Action, Status,
 *      Remote-MTA and Diagnostic-Code when the reason came from a remote
 *      server, Last-Attempt-Date, Will-Retry-Until for delays);
 *   3. the original: the whole message as message/rfc822 (DSN_RET_FULL),
 *      or its header block as text/rfc822-headers (DSN_RET_HDRS).
 *
 *   The caller sets the envelope (null sender, the report's recipient)
 *   and decides the kind, the recipient list and what to return; Date:
 *   and Message-ID: come from the queue-file writer. Everything that
 *   came from outside (addresses, reasons, server replies) is stripped of
 *   control characters and cut to DSN_TEXT_MAX bytes before it goes into
 *   a header or a status field, so no agent or remote server can inject
 *   a header line or a MIME boundary.
 *
 *   Pure: the original content arrives through a callback and the
 *   result leaves through another; global/bounce.c connects them to the
 *   queue.
 */
#ifndef GLOBAL_DSN_H
#define GLOBAL_DSN_H

#include <stddef.h>

#include "util/vstr.h"

/* Longest text taken from a reason, address or server reply. */
#define DSN_TEXT_MAX 900

typedef enum dsn_kind {
    DSN_KIND_FAILURE = 1, /* non-delivery report to the sender */
    DSN_KIND_DELAY,       /* delay warning to the sender */
    DSN_KIND_SUCCESS,     /* NOTIFY=SUCCESS: delivered (relayed, expanded) */
    DSN_KIND_POSTMASTER,  /* a failed bounce, to postmaster ("double bounce") */
} dsn_kind;

typedef enum dsn_ret {
    DSN_RET_HDRS = 1, /* return the header block */
    DSN_RET_FULL,     /* return the whole message */
} dsn_ret;

typedef struct dsn_rcpt {
    const char *address;   /* final recipient, internal form */
    const char *orig_rcpt; /* as first given (O record); NULL when unknown */
    const char *dsn_orcpt; /* RFC 3461 ORCPT "type;address"; NULL when none */
    const char *status;    /* enhanced status code, "5.1.1" */
    const char *action;    /* failed, delayed, delivered, relayed, expanded */
    const char *reason;    /* text for people */
    const char *diag_type; /* "smtp" when a remote server gave the reason; else NULL */
    const char *diag_text; /* that server's reply */
    const char *mta;       /* that server's name; NULL when none */
    long long time;        /* when the result came; 0 unknown */
} dsn_rcpt;

typedef struct dsn_report {
    dsn_kind kind;
    const char *myhostname;
    const char *queue_id;  /* of the original message */
    const char *sender;    /* the original envelope sender; "" is the null sender */
    const char *recipient; /* who gets the report (To:) */
    long long arrival;     /* original arrival time */
    long long now;
    long long retry_until; /* DSN_KIND_DELAY: when the message will expire */
    const char *envid;     /* RFC 3461 ENVID; NULL when none */
    dsn_ret ret;
    int eight_bit; /* the original may hold 8-bit bytes */
    const dsn_rcpt *rcpts;
    size_t rcpt_count;
} dsn_report;

typedef enum dsn_line {
    DSN_LINE_END = 0, /* no more lines */
    DSN_LINE,         /* line holds a whole line, or the end of one */
    DSN_LINE_PIECE,   /* line holds part of a longer line; more follows */
    DSN_LINE_ERROR,   /* the original could not be read */
} dsn_line;

typedef struct dsn_content {
    /* The original message's next content line (no terminator). */
    dsn_line (*next)(void *ctx, vstr *line);
    void *ctx;
} dsn_content;

/* Receives the report: data[0..len) is a whole line (partial 0), or part
 * of one that the next call continues (partial 1). */
typedef void (*dsn_put_fn)(void *ctx, const char *data, size_t len, int partial);

/* Write the report. 0, or -1 when the original could not be read (what
 * was written is then incomplete and must be thrown away). orig may be
 * NULL: the third part then says the original is not available. */
int dsn_compose(const dsn_report *rep, const dsn_content *orig, dsn_put_fn put, void *ctx);

/* The Subject: of a report of this kind. */
const char *dsn_subject(dsn_kind kind);

/* Append to out text fit for a header or status field: control
 * characters become spaces, at most max bytes are kept ("..." marks a
 * cut). */
void dsn_clean_text(vstr *out, const char *text, size_t max);

/* True when s is an enhanced status code ("4.7.1": class 2, 4 or 5,
 * then 1-3 and 1-3 digits). */
int dsn_status_valid(const char *s);

#endif
