/*
 * mail_copy - a queued message as a mailbox gets it, and the Delivered-To:
 * headers it already has
 *
 * SYNOPSIS
 *   mail_copy_headers h = {.return_path = sender, .orig_to = NULL,
 *                          .delivered_to = "user@example.com"};
 *   if (mail_copy(w, reader, &h, 64 * 1024, &why) < 0)
 *       ... queue-file read error: abort the writer ...
 *
 *   htable *seen = htable_new(8);
 *   mail_copy_scan_delivered(reader, seen, 1000, 64 * 1024, &why);
 *   if (htable_locate(seen, "user@example.com")) ... mail loop ...
 *
 * DESCRIPTION
 *   mail_copy() writes, in Postfix's order, Return-Path: <sender>,
 *   X-Original-To: (when orig_to is not NULL) and Delivered-To: (when
 *   delivered_to is not NULL), then the message content from the queue
 *   file, which is read again from its start for every delivery. Lines
 *   longer than line_bound arrive in pieces (global/mbox joins them).
 *
 *   mail_copy_scan_delivered() reads the message headers (up to the first
 *   empty line) and enters every Delivered-To: address, unfolded, without
 *   angle brackets, in lower case, into seen: at most max of them.
 *
 * DIAGNOSTICS
 *   -1 with "error reading queue file: ..." in reason.
 */
#ifndef GLOBAL_MAIL_COPY_H
#define GLOBAL_MAIL_COPY_H

#include <stddef.h>

#include "global/mbox.h"
#include "global/queue_file.h"
#include "util/htable.h"
#include "util/vstr.h"

typedef struct mail_copy_headers {
    const char *return_path;  /* the envelope sender, "" for <> */
    const char *orig_to;      /* X-Original-To: value, NULL for none */
    const char *delivered_to; /* Delivered-To: value, NULL for none */
} mail_copy_headers;

/* Write the added headers, then the content; 0, or -1 with a reason. */
int mail_copy(mbox_writer *w, queue_reader *r, const mail_copy_headers *h, size_t line_bound,
              vstr *reason);
/* Enter the message's Delivered-To: addresses into seen; 0, or -1 with a
 * reason. */
int mail_copy_scan_delivered(queue_reader *r, htable *seen, size_t max, size_t line_bound,
                             vstr *reason);

#endif
