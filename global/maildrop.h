/*
 * maildrop - check a maildrop record stream against docs/PROTOCOLS.md
 *
 * SYNOPSIS
 *   Feeding records one at a time (postdrop, while it copies stdin):
 *
 *   maildrop_check m;
 *   maildrop_check_init(&m);
 *   for (each record)
 *       if (maildrop_check_record(&m, type, data, len, &reason) < 0)
 *           refuse("offset %lld: %s", (long long)maildrop_error_offset(&m), vstr_str(&reason));
 *   if (maildrop_check_end(&m, &reason) < 0) ... refuse likewise ...
 *
 *   Reading and checking in one step (pickup, from the file):
 *
 *   rec_read r = REC_READ_INIT;
 *   while ((st = maildrop_get(fp, &m, &r, &payload, &reason)) == MAILDROP_OK) {
 *       ... r.type, payload: a record that fits the grammar so far ...
 *       if (r.type == REC_TYPE_END)
 *           break;                    the file is complete and nothing follows
 *   }
 *   MAILDROP_BAD: maildrop_error_offset(&m) and reason say what is wrong.
 *   MAILDROP_IO:  a read error (errno); the file itself may be fine.
 *
 * DESCRIPTION
 *   A maildrop file is untrusted input: anyone who can run postdrop, or
 *   write to maildrop/, chooses its bytes. This module is the one place
 *   that decides whether such a stream is acceptable, so postdrop (the
 *   writer) and pickup (the reader) cannot disagree. It checks:
 *
 *   - the grammar V T F A* ( O? n? R )* M ( L | P )* E, with the payload
 *     checks of global/queue_file's queue_grammar (version "1", the T
 *     format, address bounds and control characters, attribute names,
 *     values and counts, empty M and E, no E after a P, nothing after E);
 *   - at most MAILDROP_RCPT_MAX recipients;
 *   - the values of the attributes that mean something in a maildrop
 *     file: flags (decimal, only MAILDROP_FLAG_EXTRACT defined), dsn_ret
 *     (FULL, HDRS), body_type (7BIT, 8BITMIME), smtputf8 (1), dsn_envid
 *     (at most MAILDROP_ENVID_MAX bytes); other names pass (a reader
 *     ignores what it does not know; pickup decides which it honours);
 *   - a file without recipients asks for extraction from the headers
 *     (flags bit 1, sendmail -t): else it could never be delivered.
 *
 *   Offsets: the state counts where each record starts from the records
 *   fed to it (rec_size), which is exact for streams written by rec_put;
 *   maildrop_get() takes the offset from the reader instead, so it is
 *   exact for any encoding.
 *
 * DIAGNOSTICS
 *   maildrop_check_record() and maildrop_check_end() return 0, or -1 with
 *   one line of text in reason; maildrop_error_offset() is then the
 *   offset of the offending record (for a missing end record: the end of
 *   the stream). After a refusal the state is not advanced.
 */
#ifndef GLOBAL_MAILDROP_H
#define GLOBAL_MAILDROP_H

#include <stddef.h>
#include <sys/types.h>

#include "util/vstr.h"
#include "util/vstream.h"
#include "global/queue_file.h"
#include "global/rec.h"

/* Most R records in one maildrop file. */
#define MAILDROP_RCPT_MAX 20000
/* Longest dsn_envid value (RFC 3461 ENVID: 100 characters). */
#define MAILDROP_ENVID_MAX 100
/* Bits of the flags attribute. */
#define MAILDROP_FLAG_EXTRACT 1 /* sendmail -t: recipients from the headers */
#define MAILDROP_FLAG_MASK 1

typedef struct maildrop_check {
    queue_grammar grammar;
    off_t offset;       /* where the next record starts */
    off_t error_offset; /* of the record last refused; -1 when none */
    long flags;         /* the flags attribute; 0 when absent */
} maildrop_check;

/* Start checking a new stream at offset 0. */
void maildrop_check_init(maildrop_check *m);
/* 0 when this record may come next (the state advances); -1 with the
 * reason otherwise. */
int maildrop_check_record(maildrop_check *m, int type, const char *data, size_t len, vstr *reason);
/* At the end of the stream: 0 when the end record was seen, else -1. */
int maildrop_check_end(maildrop_check *m, vstr *reason);
/* True once the E record has been accepted. */
int maildrop_complete(const maildrop_check *m);
/* The offset of the record last refused (-1 when none was). */
off_t maildrop_error_offset(const maildrop_check *m);
/* The flags attribute as checked (MAILDROP_FLAG_* bits). */
long maildrop_flags(const maildrop_check *m);
/* R records accepted so far. */
size_t maildrop_rcpt_count(const maildrop_check *m);

typedef enum maildrop_status {
    MAILDROP_OK = 0, /* r and payload hold the next record; it fits */
    MAILDROP_BAD,    /* the stream breaks the contract; reason says how */
    MAILDROP_IO,     /* read error (errno), nothing known about the file */
} maildrop_status;

/* Read the next record from fp with global/rec and check it. After the E
 * record it also checks that the stream ends there. A clean end of the
 * stream before E is MAILDROP_BAD. */
maildrop_status maildrop_get(vstream *fp, maildrop_check *m, rec_read *r, vstr *payload,
                             vstr *reason);

#endif
