/*
 * local_copy - the message as a mailbox, file or command gets it
 *
 * The headers local adds come first, in Postfix's order: Return-Path:
 * (the envelope sender; owner-NAME@myorigin below an alias NAME that has
 * an owner, as in Postfix), X-Original-To: (the recipient as first given,
 * enable_original_recipient), Delivered-To: (the address delivered to).
 * Then the content from the queue file, which is read again from its
 * start for every delivery.
 */
#include <string.h>
#include <strings.h>

#include "global/addr_list.h"
#include "local/local.h"
#include "util/mem.h"

static void put_header(mbox_writer *w, const char *name, const char *value, int angle)
{
    vstr line = VSTR_INIT;

    vstr_set_fmt(&line, "%s: %s", name, angle ? "<" : "");
    if (*value)
        addr_list_quote(&line, value);
    if (angle)
        vstr_append_char(&line, '>');
    mbox_put(w, vstr_str(&line), vstr_len(&line), 1);
    vstr_release(&line);
}

int local_copy(const local_state *state, mbox_writer *w, const char *delivered_to, vstr *reason)
{
    local_request *req = state->req;
    vstr line = VSTR_INIT;
    queue_line_status st;
    int status = 0;

    put_header(w, "Return-Path", state->sender, 1);
    if (local_cf.enable_original_recipient) {
        const char *orig = state->rcpt->orig_rcpt;
        vstr q = VSTR_INIT;

        /* As given ("team" from sendmail), qualified like the envelope. */
        vstr_set_str(&q, orig && *orig ? orig : state->rcpt->address);
        if (strchr(vstr_str(&q), '@') == NULL)
            vstr_append_fmt(&q, "@%s", local_cf.myorigin);
        put_header(w, "X-Original-To", vstr_str(&q), 0);
        vstr_release(&q);
    }
    if (delivered_to != NULL)
        put_header(w, "Delivered-To", delivered_to, 0);
    if (queue_file_rewind_content(req->reader) < 0) {
        vstr_set_fmt(reason, "error reading queue file: %s", queue_file_error(req->reader));
        vstr_release(&line);
        return -1;
    }
    while ((st = queue_file_read_line(req->reader, &line, LOCAL_LINE_BOUND)) == QUEUE_LINE ||
           st == QUEUE_PIECE)
        mbox_put(w, vstr_str(&line), vstr_len(&line), st == QUEUE_LINE);
    if (st != QUEUE_END) {
        vstr_set_fmt(reason, "error reading queue file: %s", queue_file_error(req->reader));
        status = -1;
    }
    vstr_release(&line);
    return status;
}

/* "Delivered-To: value" with the value's white space and angle brackets
 * trimmed, lower case. */
static void note_delivered(local_request *req, const char *value, size_t len)
{
    vstr addr = VSTR_INIT;

    while (len > 0 && (*value == ' ' || *value == '\t' || *value == '<')) {
        value++;
        len--;
    }
    while (len > 0 && (value[len - 1] == ' ' || value[len - 1] == '\t' || value[len - 1] == '>'))
        len--;
    vstr_set(&addr, value, len);
    vstr_lower(&addr);
    if (vstr_len(&addr) > 0 && req->delivered_to->used < LOCAL_DELIVERED_MAX)
        htable_enter(req->delivered_to, vstr_str(&addr), NULL);
    vstr_release(&addr);
}

int local_scan_delivered(local_request *req, vstr *reason)
{
    vstr line = VSTR_INIT, header = VSTR_INIT;
    queue_line_status st;
    int in_piece = 0, status = 0;

    if (queue_file_rewind_content(req->reader) < 0) {
        vstr_set_fmt(reason, "error reading queue file: %s", queue_file_error(req->reader));
        return -1;
    }
    /* Headers only: up to the first empty line. Folded Delivered-To: lines
     * are joined; a header too long to be an address is skipped. */
    while ((st = queue_file_read_line(req->reader, &line, LOCAL_LINE_BOUND)) == QUEUE_LINE ||
           st == QUEUE_PIECE) {
        if (st == QUEUE_PIECE || in_piece) {
            in_piece = st == QUEUE_PIECE;
            vstr_reset(&header);
            continue;
        }
        if (vstr_len(&line) == 0)
            break;
        if (vstr_str(&line)[0] == ' ' || vstr_str(&line)[0] == '\t') {
            if (vstr_len(&header) > 0 && vstr_len(&header) < LOCAL_LINE_BOUND)
                vstr_append(&header, vstr_str(&line), vstr_len(&line));
            continue;
        }
        if (vstr_len(&header) > 0)
            note_delivered(req, vstr_str(&header), vstr_len(&header));
        vstr_reset(&header);
        if (vstr_len(&line) > 13 && strncasecmp(vstr_str(&line), "Delivered-To:", 13) == 0)
            vstr_set(&header, vstr_str(&line) + 13, vstr_len(&line) - 13);
    }
    if (vstr_len(&header) > 0)
        note_delivered(req, vstr_str(&header), vstr_len(&header));
    if (st == QUEUE_ERROR) {
        vstr_set_fmt(reason, "error reading queue file: %s", queue_file_error(req->reader));
        status = -1;
    }
    vstr_release(&line);
    vstr_release(&header);
    return status;
}
