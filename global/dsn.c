/*
 * dsn - compose RFC 3464 delivery status notifications; see dsn.h
 *
 * The wording of the human-readable part is ours; its shape (a note, a
 * signature, then one "<address>: reason" line per recipient) is what
 * people and scripts used to Postfix bounces expect.
 */
#include <stdarg.h>
#include <string.h>

#include "global/addr_list.h"
#include "global/dsn.h"
#include "global/mail_date.h"

typedef struct out {
    dsn_put_fn put;
    void *ctx;
    vstr line;
} dsn_out;

static void put_str(dsn_out *o, const char *s)
{
    o->put(o->ctx, s, strlen(s), 0);
}

static void put_fmt(dsn_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put_fmt(dsn_out *o, const char *fmt, ...)
{
    va_list ap;

    vstr_reset(&o->line);
    va_start(ap, fmt);
    vstr_append_vfmt(&o->line, fmt, ap);
    va_end(ap);
    o->put(o->ctx, vstr_str(&o->line), vstr_len(&o->line), 0);
}

/* Put the line in o->line. */
static void put_line(dsn_out *o)
{
    o->put(o->ctx, vstr_str(&o->line), vstr_len(&o->line), 0);
}

void dsn_clean_text(vstr *out, const char *text, size_t max)
{
    size_t len = strlen(text), i;

    for (i = 0; i < len && i < max; i++) {
        unsigned char c = (unsigned char)text[i];

        vstr_append_char(out, c < ' ' || c == 0x7f ? ' ' : c);
    }
    if (i < len)
        vstr_append_str(out, "...");
}

int dsn_status_valid(const char *s)
{
    size_t n;

    if ((s[0] != '2' && s[0] != '4' && s[0] != '5') || s[1] != '.')
        return 0;
    s += 2;
    n = strspn(s, "0123456789");
    if (n < 1 || n > 3 || s[n] != '.')
        return 0;
    s += n + 1;
    n = strspn(s, "0123456789");
    return n >= 1 && n <= 3 && s[n] == 0;
}

const char *dsn_subject(dsn_kind kind)
{
    switch (kind) {
    case DSN_KIND_FAILURE:
        return "Undelivered Mail Returned to Sender";
    case DSN_KIND_DELAY:
        return "Delayed Mail (still being retried)";
    case DSN_KIND_SUCCESS:
        return "Successful Mail Delivery Report";
    case DSN_KIND_POSTMASTER:
        return "Postmaster Copy: Undelivered Mail";
    }
    return "Mail Delivery Status Report";
}

/* The external form of an internal address, cleaned. */
static void append_addr(vstr *v, const char *addr)
{
    vstr ext = VSTR_INIT;

    if (*addr == 0) {
        vstr_append_str(v, "");
        return;
    }
    addr_list_quote(&ext, addr);
    dsn_clean_text(v, vstr_str(&ext), DSN_TEXT_MAX);
    vstr_release(&ext);
}

static void append_date(vstr *v, long long when)
{
    mail_date(v, (time_t)when);
}

/* The text/plain part's words, by kind. */
static void put_intro(dsn_out *o, const dsn_report *rep)
{
    put_fmt(o, "This is the mail system at host %s.", rep->myhostname);
    put_str(o, "");
    switch (rep->kind) {
    case DSN_KIND_FAILURE:
        put_str(o, "Your message could not be delivered to one or more of its");
        put_str(o, "recipients. This is a permanent error; the reasons are listed");
        put_str(o, "below, and the message (or its headers) is attached.");
        put_str(o, "");
        put_str(o, "If you need help, write to the postmaster of this system and");
        put_str(o, "include this report.");
        break;
    case DSN_KIND_DELAY:
        put_str(o, "####################################################");
        put_str(o, "# THIS IS A WARNING ONLY. DO NOT RESEND YOUR MESSAGE. #");
        put_str(o, "####################################################");
        put_str(o, "");
        put_str(o, "Your message has not yet been delivered to the recipients below,");
        vstr_reset(&o->line);
        vstr_append_str(&o->line, "after ");
        if (rep->now - rep->arrival >= 3600)
            vstr_append_fmt(&o->line, "%lld hour(s)", (rep->now - rep->arrival) / 3600);
        else
            vstr_append_fmt(&o->line, "%lld minute(s)", (rep->now - rep->arrival) / 60);
        vstr_append_str(&o->line, ". The mail system keeps trying");
        if (rep->retry_until > 0) {
            vstr_append_str(&o->line, " until ");
            append_date(&o->line, rep->retry_until);
        }
        vstr_append_str(&o->line, ",");
        put_line(o);
        put_str(o, "and tells you again only if it has to give up.");
        break;
    case DSN_KIND_SUCCESS:
        put_str(o, "Your message was delivered to the destinations listed below, as");
        put_str(o, "you asked. If a destination is a mailing list or a forwarding");
        put_str(o, "address, you may receive no further notice from it.");
        break;
    case DSN_KIND_POSTMASTER:
        put_str(o, "A delivery report (a bounce, sent with the null sender) could not");
        put_str(o, "be delivered. It is not returned to anyone, so that no mail loop");
        put_str(o, "can start; this copy tells the postmaster about it.");
        vstr_reset(&o->line);
        vstr_append_str(&o->line, "Original sender: <");
        append_addr(&o->line, rep->sender);
        vstr_append_str(&o->line, ">");
        put_str(o, "");
        put_line(o);
        break;
    }
    put_str(o, "");
    put_str(o, "                   The mail system");
    put_str(o, "");
}

static void put_rcpt_text(dsn_out *o, const dsn_rcpt *r)
{
    vstr_reset(&o->line);
    vstr_append_char(&o->line, '<');
    append_addr(&o->line, r->address);
    vstr_append_char(&o->line, '>');
    if (r->orig_rcpt != NULL && *r->orig_rcpt && strcmp(r->orig_rcpt, r->address) != 0) {
        vstr_append_str(&o->line, " (expanded from <");
        append_addr(&o->line, r->orig_rcpt);
        vstr_append_str(&o->line, ">)");
    }
    vstr_append_str(&o->line, ": ");
    dsn_clean_text(&o->line, r->reason && *r->reason ? r->reason : "no reason given",
                   DSN_TEXT_MAX);
    put_line(o);
    put_str(o, "");
}

/* An RFC 3461 ORCPT "type;address" is passed on as given (cleaned); an
 * original recipient from the O record is an rfc822 address. */
static void put_original_recipient(dsn_out *o, const dsn_rcpt *r)
{
    const char *semi;

    vstr_reset(&o->line);
    if (r->dsn_orcpt != NULL && (semi = strchr(r->dsn_orcpt, ';')) != NULL &&
        semi > r->dsn_orcpt && semi[1] != 0) {
        vstr_append_str(&o->line, "Original-Recipient: ");
        dsn_clean_text(&o->line, r->dsn_orcpt, DSN_TEXT_MAX);
    } else if (r->orig_rcpt != NULL && *r->orig_rcpt && strcmp(r->orig_rcpt, r->address) != 0) {
        vstr_append_str(&o->line, "Original-Recipient: rfc822; ");
        append_addr(&o->line, r->orig_rcpt);
    } else {
        return;
    }
    put_line(o);
}

static const char *default_action(dsn_kind kind)
{
    switch (kind) {
    case DSN_KIND_DELAY:
        return "delayed";
    case DSN_KIND_SUCCESS:
        return "delivered";
    default:
        return "failed";
    }
}

static void put_rcpt_status(dsn_out *o, const dsn_report *rep, const dsn_rcpt *r)
{
    const char *action = r->action && *r->action ? r->action : default_action(rep->kind);
    const char *status = r->status;

    /* A status that is not one came from a confused agent; say something
     * of the right class rather than pass it on. */
    if (status == NULL || !dsn_status_valid(status))
        status = rep->kind == DSN_KIND_SUCCESS ? "2.0.0"
                 : rep->kind == DSN_KIND_DELAY ? "4.0.0"
                                               : "5.0.0";

    put_str(o, "");
    vstr_reset(&o->line);
    vstr_append_str(&o->line, "Final-Recipient: rfc822; ");
    append_addr(&o->line, r->address);
    put_line(o);
    put_original_recipient(o, r);
    vstr_reset(&o->line);
    vstr_append_str(&o->line, "Action: ");
    dsn_clean_text(&o->line, action, 32);
    put_line(o);
    put_fmt(o, "Status: %s", status);
    if (r->mta != NULL && *r->mta) {
        vstr_reset(&o->line);
        vstr_append_str(&o->line, "Remote-MTA: dns; ");
        dsn_clean_text(&o->line, r->mta, 255);
        put_line(o);
    }
    if (r->diag_type != NULL && *r->diag_type && r->diag_text != NULL && *r->diag_text) {
        vstr_reset(&o->line);
        vstr_append_str(&o->line, "Diagnostic-Code: ");
        dsn_clean_text(&o->line, r->diag_type, 32);
        vstr_append_str(&o->line, "; ");
        dsn_clean_text(&o->line, r->diag_text, DSN_TEXT_MAX);
        put_line(o);
    }
    if (r->time > 0) {
        vstr_reset(&o->line);
        vstr_append_str(&o->line, "Last-Attempt-Date: ");
        append_date(&o->line, r->time);
        put_line(o);
    }
    if (rep->kind == DSN_KIND_DELAY && rep->retry_until > 0) {
        vstr_reset(&o->line);
        vstr_append_str(&o->line, "Will-Retry-Until: ");
        append_date(&o->line, rep->retry_until);
        put_line(o);
    }
}

/* Copy the original: everything, or the header block only. */
static int put_original(dsn_out *o, const dsn_content *orig, int headers_only)
{
    vstr line = VSTR_INIT;
    dsn_line st;
    int in_piece = 0, status = 0;

    while ((st = orig->next(orig->ctx, &line)) != DSN_LINE_END) {
        if (st == DSN_LINE_ERROR) {
            status = -1;
            break;
        }
        if (headers_only && !in_piece && st == DSN_LINE && vstr_len(&line) == 0)
            break;
        o->put(o->ctx, vstr_str(&line), vstr_len(&line), st == DSN_LINE_PIECE);
        in_piece = st == DSN_LINE_PIECE;
    }
    /* A message that ended inside a piece still gets its line closed. */
    if (status == 0 && in_piece)
        o->put(o->ctx, "", 0, 0);
    vstr_release(&line);
    return status;
}

int dsn_compose(const dsn_report *rep, const dsn_content *orig, dsn_put_fn put, void *ctx)
{
    dsn_out o = {put, ctx, VSTR_INIT};
    vstr boundary = VSTR_INIT;
    const char *b;
    int headers_only = rep->ret != DSN_RET_FULL;
    int status = 0;

    vstr_set_fmt(&boundary, "%s.%lld/%s", rep->queue_id, rep->now, rep->myhostname);
    b = vstr_str(&boundary);

    /* Headers. */
    put_fmt(&o, "From: MAILER-DAEMON@%s (Mail Delivery System)", rep->myhostname);
    vstr_reset(&o.line);
    vstr_append_str(&o.line, "To: <");
    append_addr(&o.line, rep->recipient);
    vstr_append_str(&o.line, ">");
    put_line(&o);
    put_fmt(&o, "Subject: %s", dsn_subject(rep->kind));
    put_str(&o, "Auto-Submitted: auto-replied");
    put_str(&o, "MIME-Version: 1.0");
    put_str(&o, "Content-Type: multipart/report; report-type=delivery-status;");
    put_fmt(&o, "\tboundary=\"%s\"", b);
    put_fmt(&o, "Content-Transfer-Encoding: %s", rep->eight_bit ? "8bit" : "7bit");
    put_str(&o, "");
    put_str(&o, "This is a MIME-encapsulated message.");
    put_str(&o, "");

    /* 1: for people. */
    put_fmt(&o, "--%s", b);
    put_str(&o, "Content-Description: Notification");
    put_str(&o, "Content-Type: text/plain; charset=us-ascii");
    put_str(&o, "");
    put_intro(&o, rep);
    for (size_t i = 0; i < rep->rcpt_count; i++)
        put_rcpt_text(&o, &rep->rcpts[i]);

    /* 2: for programs. */
    put_fmt(&o, "--%s", b);
    put_str(&o, "Content-Description: Delivery report");
    put_str(&o, "Content-Type: message/delivery-status");
    put_str(&o, "");
    put_fmt(&o, "Reporting-MTA: dns; %s", rep->myhostname);
    put_fmt(&o, "X-Postern-Queue-ID: %s", rep->queue_id);
    vstr_reset(&o.line);
    vstr_append_str(&o.line, "X-Postern-Sender: rfc822; ");
    append_addr(&o.line, rep->sender);
    put_line(&o);
    if (rep->envid != NULL && *rep->envid) {
        vstr_reset(&o.line);
        vstr_append_str(&o.line, "Original-Envelope-Id: ");
        dsn_clean_text(&o.line, rep->envid, 100);
        put_line(&o);
    }
    vstr_reset(&o.line);
    vstr_append_str(&o.line, "Arrival-Date: ");
    append_date(&o.line, rep->arrival);
    put_line(&o);
    for (size_t i = 0; i < rep->rcpt_count; i++)
        put_rcpt_status(&o, rep, &rep->rcpts[i]);
    put_str(&o, "");

    /* 3: the original. */
    put_fmt(&o, "--%s", b);
    if (orig == NULL) {
        put_str(&o, "Content-Description: Original message unavailable");
        put_str(&o, "Content-Type: text/plain; charset=us-ascii");
        put_str(&o, "");
        put_str(&o, "The original message could not be read.");
    } else if (headers_only) {
        put_str(&o, "Content-Description: Undelivered Message Headers");
        put_str(&o, "Content-Type: text/rfc822-headers");
        put_fmt(&o, "Content-Transfer-Encoding: %s", rep->eight_bit ? "8bit" : "7bit");
        put_str(&o, "");
        status = put_original(&o, orig, 1);
    } else {
        put_fmt(&o, "Content-Description: %s",
                rep->kind == DSN_KIND_FAILURE || rep->kind == DSN_KIND_POSTMASTER
                    ? "Undelivered Message"
                    : "Message");
        put_str(&o, "Content-Type: message/rfc822");
        put_fmt(&o, "Content-Transfer-Encoding: %s", rep->eight_bit ? "8bit" : "7bit");
        put_str(&o, "");
        status = put_original(&o, orig, 0);
    }
    put_str(&o, "");
    put_fmt(&o, "--%s--", b);

    vstr_release(&boundary);
    vstr_release(&o.line);
    return status;
}
