/*
 * mail_copy - a queued message as a mailbox gets it (see mail_copy.h)
 */
#include <string.h>
#include <strings.h>

#include "global/addr_list.h"
#include "global/mail_copy.h"

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

int mail_copy(mbox_writer *w, queue_reader *r, const mail_copy_headers *h, size_t line_bound,
              vstr *reason)
{
    vstr line = VSTR_INIT;
    queue_line_status st;
    int status = 0;

    put_header(w, "Return-Path", h->return_path, 1);
    if (h->orig_to != NULL)
        put_header(w, "X-Original-To", h->orig_to, 0);
    if (h->delivered_to != NULL)
        put_header(w, "Delivered-To", h->delivered_to, 0);
    if (queue_file_rewind_content(r) < 0) {
        vstr_set_fmt(reason, "error reading queue file: %s", queue_file_error(r));
        vstr_release(&line);
        return -1;
    }
    while ((st = queue_file_read_line(r, &line, line_bound)) == QUEUE_LINE || st == QUEUE_PIECE)
        mbox_put(w, vstr_str(&line), vstr_len(&line), st == QUEUE_LINE);
    if (st != QUEUE_END) {
        vstr_set_fmt(reason, "error reading queue file: %s", queue_file_error(r));
        status = -1;
    }
    vstr_release(&line);
    return status;
}

/* "Delivered-To: value" with the value's white space and angle brackets
 * trimmed, lower case. */
static void note_delivered(htable *seen, size_t max, const char *value, size_t len)
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
    if (vstr_len(&addr) > 0 && seen->used < max)
        htable_enter(seen, vstr_str(&addr), NULL);
    vstr_release(&addr);
}

int mail_copy_scan_delivered(queue_reader *r, htable *seen, size_t max, size_t line_bound,
                             vstr *reason)
{
    vstr line = VSTR_INIT, header = VSTR_INIT;
    queue_line_status st;
    int in_piece = 0, status = 0;

    if (queue_file_rewind_content(r) < 0) {
        vstr_set_fmt(reason, "error reading queue file: %s", queue_file_error(r));
        return -1;
    }
    /* Headers only: up to the first empty line. Folded Delivered-To: lines
     * are joined; a header too long to be an address is skipped. */
    while ((st = queue_file_read_line(r, &line, line_bound)) == QUEUE_LINE || st == QUEUE_PIECE) {
        if (st == QUEUE_PIECE || in_piece) {
            in_piece = st == QUEUE_PIECE;
            vstr_reset(&header);
            continue;
        }
        if (vstr_len(&line) == 0)
            break;
        if (vstr_str(&line)[0] == ' ' || vstr_str(&line)[0] == '\t') {
            if (vstr_len(&header) > 0 && vstr_len(&header) < line_bound)
                vstr_append(&header, vstr_str(&line), vstr_len(&line));
            continue;
        }
        if (vstr_len(&header) > 0)
            note_delivered(seen, max, vstr_str(&header), vstr_len(&header));
        vstr_reset(&header);
        if (vstr_len(&line) > 13 && strncasecmp(vstr_str(&line), "Delivered-To:", 13) == 0)
            vstr_set(&header, vstr_str(&line) + 13, vstr_len(&line) - 13);
    }
    if (vstr_len(&header) > 0)
        note_delivered(seen, max, vstr_str(&header), vstr_len(&header));
    if (st == QUEUE_ERROR) {
        vstr_set_fmt(reason, "error reading queue file: %s", queue_file_error(r));
        status = -1;
    }
    vstr_release(&line);
    vstr_release(&header);
    return status;
}
