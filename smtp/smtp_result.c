/*
 * smtp_result - log one recipient's result and answer qmgr at once
 *
 * A recipient is answered as soon as its fate is known (a RCPT refusal
 * before DATA, the others after the final dot), so qmgr's view follows
 * the session. The server's own reply goes to qmgr as diag_text with
 * diag_type smtp and the server's name as mta, for the DSN.
 */
#include <stdarg.h>
#include <stdio.h>

#include "global/rec.h"
#include "smtp/smtp.h"
#include "util/msg.h"

static const char *action_of(const smtp_request *r, const deliver_rcpt *rcpt, const char *dsn)
{
    if (dsn[0] == '4')
        return "deferred";
    if (dsn[0] == '5')
        return "failed";
    /* Without DSN support on the far side, a success notice can only say
     * the mail left our hands (RFC 3461 section 6.2.2). */
    return (rcpt->dsn_notify & REC_DSN_NOTIFY_SUCCESS) && !smtp_cf.lmtp && !r->server_dsn
               ? "relayed"
               : "delivered";
}

__attribute__((format(printf, 5, 0))) static void result_va(smtp_request *r, size_t i,
                                                            const char *dsn, const char *diag,
                                                            const char *fmt, va_list ap)
{
    smtp_rcpt_state *st = &r->rs[i];
    const deliver_rcpt *rcpt = &r->req.rcpts[i];
    delivery_log_times times;
    deliver_result res;

    if (st->done)
        return;
    st->done = 1;
    snprintf(st->dsn, sizeof(st->dsn), "%s", dsn);
    vstr_reset(&st->reason);
    vstr_append_vfmt(&st->reason, fmt, ap);
    times = r->times;
    times.done = delivery_log_now();
    /* No session: all the time went to trying to set one up. */
    if (times.connected < times.received)
        times.connected = times.done;
    delivery_log_status_conn(r->req.queue_id, rcpt->address, rcpt->orig_rcpt, vstr_str(&r->relay),
                             r->conn_use, &times, dsn, vstr_str(&st->reason));
    if (r->qmgr_lost)
        return;
    res = (deliver_result){
        .index = rcpt->index,
        .status = dsn,
        .action = action_of(r, rcpt, dsn),
        .reason = vstr_str(&st->reason),
        .diag_type = diag ? "smtp" : NULL,
        .diag_text = diag,
        .mta = diag && r->server ? r->server->host : NULL,
    };
    if (deliver_reply(r->client, &res) < 0) {
        msg_warn("lost connection to qmgr while replying");
        r->qmgr_lost = 1;
    }
}

void smtp_result(smtp_request *r, size_t i, const char *dsn, const char *diag, const char *fmt,
                 ...)
{
    va_list ap;

    va_start(ap, fmt);
    result_va(r, i, dsn, diag, fmt, ap);
    va_end(ap);
}

void smtp_result_rest(smtp_request *r, const char *dsn, const char *diag, const char *fmt, ...)
{
    for (size_t i = 0; i < r->req.rcpt_count; i++) {
        va_list ap;

        va_start(ap, fmt);
        result_va(r, i, dsn, diag, fmt, ap);
        va_end(ap);
    }
}
