/*
 * smtp_data - send the message content after DATA
 *
 * The queue file holds lines without terminators (L records, long ones
 * split over P records); queue_file_read_line joins them back, handing
 * out a line longer than the bound in pieces. Each line goes out with
 * CRLF; a line that starts with a dot gets a second one (RFC 5321
 * 4.5.2), checked at the start of a line only, never at a piece. Then
 * the final ".\r\n".
 *
 * The data_xfer timeout applies to each write that has to wait: a
 * server that stops reading stops the transfer within it.
 */
#include "smtp/smtp.h"

int smtp_data_send(vstream *s, queue_reader *reader, vstr *why)
{
    vstr line = VSTR_INIT;
    queue_line_status st;
    int at_start = 1, status = 0;

    vstream_set_timeout(s, smtp_cf.data_xfer_timeout);
    while ((st = queue_file_read_line(reader, &line, SMTP_CONTENT_BOUND)) == QUEUE_LINE ||
           st == QUEUE_PIECE) {
        if (at_start && vstr_len(&line) > 0 && vstr_str(&line)[0] == '.' &&
            vstream_putc(s, '.') < 0)
            break;
        if (vstream_write(s, vstr_str(&line), vstr_len(&line)) < 0)
            break;
        at_start = st == QUEUE_LINE;
        if (at_start && vstream_write(s, "\r\n", 2) < 0)
            break;
    }
    if (st != QUEUE_LINE && st != QUEUE_PIECE && st != QUEUE_END) {
        vstr_set_fmt(why, "cannot read queue file: %s", queue_file_error(reader));
        status = -1;
    } else if (vstream_error(s) || (!at_start && vstream_write(s, "\r\n", 2) < 0) ||
               vstream_write(s, ".\r\n", 3) < 0 || vstream_flush(s) < 0) {
        vstr_set_str(why, vstream_timed_out(s) ? "timeout" : "lost connection");
        status = -2;
    }
    vstr_release(&line);
    return status;
}
