/*
 * smtpd_data - message content from the client into the queue file
 *
 * DATA: lines end in CR LF and nothing else. A bare LF, or a CR not
 * followed by LF, anywhere in the content ends the session with 521 and
 * the message is discarded (smtpd_forbid_bare_newline): only
 * "<CR><LF>.<CR><LF>" ends the message, so no SMTP-smuggling sequence
 * ("<LF>.<CR><LF>", "<CR><LF>.<LF>", "<CR>.<CR>", ...) can end it early
 * or start a second one. A leading dot is removed (RFC 5321 4.5.2). Long
 * lines are passed on in pieces, never cut.
 *
 * BDAT (CHUNKING, RFC 3030): exactly the announced number of bytes,
 * no dot-stuffing and no end marker, so no smuggling either. Lines are
 * split at LF with the CR before it removed, as Postfix does.
 *
 * The first content error (size, write) sticks in cleanup, which keeps
 * reading and dropping, so the client is always read to the end of its
 * message and the reply comes from cleanup_finish(); 250 only once the
 * queue file is committed.
 */
#include <string.h>
#include <strings.h>

#include "global/cleanup.h"
#include "global/master_proto.h"
#include "global/rec.h"
#include "global/trigger.h"
#include "smtpd/smtpd.h"
#include "util/mem.h"
#include "util/msg.h"

/* Largest piece of a content line read at once. */
#define SMTPD_DATA_CHUNK 8192
/* How long waking qmgr may take. */
#define SMTPD_TRIGGER_TIMEOUT_MS 1000
/* Largest BDAT chunk size accepted in the command (the message size
 * limit applies on top). */
#define SMTPD_BDAT_MAX (1LL << 40)

/* Commit and reply, or reply with cleanup's reason. */
static void finish_message(smtpd_state *s, const char *cmd)
{
    char *id;
    vstr reason = VSTR_INIT;
    cleanup_status st;

    /* smtpd_end_of_data_restrictions: refused, the file is never committed. */
    if (cleanup_status_now(s->cleanup) == CLEANUP_OK && smtpd_check_eod(s) < 0) {
        smtpd_reset_transaction(s);
        return;
    }
    smtpd_access_apply(s);
    id = mem_strdup(cleanup_id(s->cleanup));
    st = cleanup_finish(s->cleanup, &reason);

    s->cleanup = NULL;
    if (st == CLEANUP_OK) {
        /* qmgr would find the file on its next scan anyway; tell it now. */
        if (trigger_send(config_str(smtpd_cf.cfg, "queue_directory"), "qmgr", TRIGGER_NEW,
                         SMTPD_TRIGGER_TIMEOUT_MS, &reason) < 0)
            msg_warn("%s: cannot wake qmgr: %s", id, vstr_str(&reason));
        smtpd_reply(s, "250 2.0.0 Ok: queued as %s", id);
        /* A client that delivers mail is not wasting our time: a long
         * connection-reusing session may RSET between every message. */
        s->junk_count = 0;
    } else if (st == CLEANUP_CONTENT) {
        /* cleanup logged the check that refused it; the reason carries
         * its own status code ("5.7.1 text"), which sets the class. */
        smtpd_reply(s, "%d %s", vstr_str(&reason)[0] == '4' ? 450 : 550, vstr_str(&reason));
    } else {
        msg_info("%s: reject: %s from %s: %d %s %s; from=<%s> proto=%s helo=<%s>", id, cmd,
                 vstr_str(&s->namaddr), cleanup_status_smtp(st), cleanup_status_dsn(st),
                 vstr_str(&reason), vstr_str(&s->sender), smtpd_protocol_name(s),
                 vstr_str(&s->helo));
        smtpd_reply(s, "%d %s Error: %s", cleanup_status_smtp(st), cleanup_status_dsn(st),
                    cleanup_status_text(st));
    }
    mem_free(id);
    vstr_release(&reason);
    smtpd_reset_transaction(s);
}

/* Why content reading stopped early. */
typedef enum data_failure {
    DATA_BARE_LF, /* bare LF or bare CR */
    DATA_TIMEOUT,
    DATA_LOST, /* end of input or an I/O error */
} data_failure;

static data_failure failure_of(vstream_status st)
{
    return st == VSTREAM_TIMEOUT ? DATA_TIMEOUT : DATA_LOST;
}

/* The session cannot go on: the client broke the protocol or left. */
static void data_failed(smtpd_state *s, data_failure why)
{
    smtpd_reset_transaction(s);
    s->quit = 1;
    if (why == DATA_TIMEOUT) {
        msg_info("timeout after %s from %s", s->where, vstr_str(&s->namaddr));
        vstream_clear_error(s->client);
        smtpd_reply(s, "421 4.4.2 %s Error: timeout exceeded", smtpd_cf.myhostname);
    } else if (why == DATA_BARE_LF) {
        msg_info("disconnect: bare <LF> received from %s after %s", vstr_str(&s->namaddr),
                 s->where);
        smtpd_reply(s, "521 5.5.2 %s Error: bare <LF> received", smtpd_cf.myhostname);
    } else {
        msg_info("lost connection after %s from %s", s->where, vstr_str(&s->namaddr));
    }
}

void smtpd_data(smtpd_state *s)
{
    vstr *buf = &s->line;
    int line_start = 1, held_cr = 0;

    s->where = "DATA";
    for (;;) {
        vstream_status st = vstream_get_line(s->client, buf, SMTPD_DATA_CHUNK);
        const char *p = vstr_str(buf);
        size_t len = vstr_len(buf);

        if (st != VSTREAM_OK && st != VSTREAM_TOOLONG) {
            data_failed(s, failure_of(st));
            return;
        }
        if (held_cr) {
            /* The previous piece ended in CR: only LF may follow it. */
            if (p[0] != '\n') {
                data_failed(s, DATA_BARE_LF);
                return;
            }
            cleanup_put_record(s->cleanup, REC_TYPE_NORM, "", 0);
            held_cr = 0;
            line_start = 1;
            if (len == 1)
                continue;
            /* More than the LF cannot come in one get_line: it stops at LF. */
        }
        if (st == VSTREAM_TOOLONG) {
            held_cr = p[len - 1] == '\r';
            if (memchr(p, '\r', len - (size_t)held_cr) != NULL) {
                data_failed(s, DATA_BARE_LF);
                return;
            }
            if (line_start && p[0] == '.') {
                p++;
                len--;
            }
            cleanup_put_record(s->cleanup, REC_TYPE_CONT, p, len - (size_t)held_cr);
            line_start = 0;
            continue;
        }
        /* A line (or the end of one) with its LF. */
        len--;
        if (!smtpd_line_is_clean(p, len)) {
            data_failed(s, DATA_BARE_LF);
            return;
        }
        len--;
        if (line_start && p[0] == '.') {
            if (len == 1)
                break;
            p++;
            len--;
        }
        cleanup_put_record(s->cleanup, REC_TYPE_NORM, p, len);
        line_start = 1;
    }
    finish_message(s, "END-OF-MESSAGE");
}

/* Content lines from a BDAT chunk: split at LF, CR before LF removed. */
static void bdat_lines(smtpd_state *s, const char *p, size_t len)
{
    vstr *line = &s->bdat_line;

    while (len > 0) {
        const char *lf = memchr(p, '\n', len);
        size_t n = lf ? (size_t)(lf - p) : len;

        vstr_append(line, p, n);
        if (lf) {
            size_t l = vstr_len(line);

            if (l > 0 && vstr_str(line)[l - 1] == '\r')
                l--;
            if (s->cleanup)
                cleanup_put_record(s->cleanup, REC_TYPE_NORM, vstr_str(line), l);
            vstr_reset(line);
            n++;
        } else if (vstr_len(line) > SMTPD_DATA_CHUNK) {
            /* Keep the last byte: it may be the CR of a CR LF. */
            size_t l = vstr_len(line) - 1;
            char last = vstr_str(line)[l];

            if (s->cleanup)
                cleanup_put_record(s->cleanup, REC_TYPE_CONT, vstr_str(line), l);
            vstr_set(line, &last, 1);
        }
        p += n;
        len -= n;
    }
}

void smtpd_bdat(smtpd_state *s, const char *arg)
{
    char buf[SMTPD_DATA_CHUNK];
    long long size = 0, left;
    const char *p = arg;
    int last = 0, discard, first;

    while (*p >= '0' && *p <= '9' && size <= SMTPD_BDAT_MAX)
        size = size * 10 + (*p++ - '0');
    if (p > arg && *p == ' ' && strcasecmp(p + 1 + strspn(p + 1, " "), "LAST") == 0)
        last = 1;
    else if (*p != 0)
        p = arg;
    if (p == arg || size > SMTPD_BDAT_MAX) {
        /* Where the chunk ends is unknown: the session cannot go on. */
        smtpd_reply(s, "501 5.5.4 Syntax: BDAT count [LAST]");
        s->quit = 1;
        return;
    }
    s->where = "BDAT";
    /* Without a transaction the chunk is read and dropped. Inside one
     * without a valid recipient, so is every later chunk of the message,
     * until RSET or the last chunk: it must not become a message with
     * its beginning missing. */
    if (s->stage == SMTPD_STAGE_MAIL)
        s->bdat_failed = 1;
    first = s->stage == SMTPD_STAGE_RCPT && !s->in_bdat && !s->bdat_failed;
    if (s->stage != SMTPD_STAGE_NO_MAIL)
        s->in_bdat = 1;
    discard = s->bdat_failed || s->stage != SMTPD_STAGE_RCPT;
    for (left = size; left > 0;) {
        size_t want = left > (long long)sizeof(buf) ? sizeof(buf) : (size_t)left;
        size_t got = 0;
        vstream_status st = vstream_read_exact(s->client, buf, want, &got);

        if (st != VSTREAM_OK) {
            data_failed(s, failure_of(st));
            return;
        }
        if (!discard)
            bdat_lines(s, buf, got);
        left -= (long long)got;
    }
    if (s->stage == SMTPD_STAGE_NO_MAIL) {
        smtpd_reply(s, "503 5.5.1 Error: need MAIL command");
    } else if (first && smtpd_check_data(s) < 0) {
        /* smtpd_data_restrictions, at the first chunk: the rest is dropped. */
        s->bdat_failed = 1;
        if (last)
            smtpd_reset_transaction(s);
    } else if (discard) {
        smtpd_reply(s, "554 5.5.1 Error: no valid recipients");
        if (last)
            smtpd_reset_transaction(s);
    } else if (!last) {
        smtpd_reply(s, "250 2.0.0 Ok: %lld bytes", size);
    } else {
        if (vstr_len(&s->bdat_line) > 0)
            bdat_lines(s, "\n", 1);
        finish_message(s, "END-OF-MESSAGE");
    }
}
