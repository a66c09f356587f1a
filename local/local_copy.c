/*
 * local_copy - the message as a mailbox, file or command gets it
 *
 * The headers local adds come first, in Postfix's order: Return-Path:
 * (the envelope sender; owner-NAME@myorigin below an alias NAME that has
 * an owner, as in Postfix), X-Original-To: (the recipient as first given,
 * enable_original_recipient), Delivered-To: (the address delivered to).
 * Then the content from the queue file, which is read again from its
 * start for every delivery (global/mail_copy).
 */
#include <string.h>

#include "global/mail_copy.h"
#include "local/local.h"

int local_copy(const local_state *state, mbox_writer *w, const char *delivered_to, vstr *reason)
{
    mail_copy_headers h = {.return_path = state->sender, .delivered_to = delivered_to};
    vstr orig = VSTR_INIT;
    int status;

    if (local_cf.enable_original_recipient) {
        const char *o = state->rcpt->orig_rcpt;

        /* As given ("team" from sendmail), qualified like the envelope. */
        vstr_set_str(&orig, o && *o ? o : state->rcpt->address);
        if (strchr(vstr_str(&orig), '@') == NULL)
            vstr_append_fmt(&orig, "@%s", local_cf.myorigin);
        h.orig_to = vstr_str(&orig);
    }
    status = mail_copy(w, state->req->reader, &h, LOCAL_LINE_BOUND, reason);
    vstr_release(&orig);
    return status;
}

int local_scan_delivered(local_request *req, vstr *reason)
{
    return mail_copy_scan_delivered(req->reader, req->delivered_to, LOCAL_DELIVERED_MAX,
                                    LOCAL_LINE_BOUND, reason);
}
