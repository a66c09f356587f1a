/*
 * sendmail_input - message lines from standard input or SMTP DATA
 *
 * Lines end in LF; a CR just before the LF is part of the line end (so
 * LF and CR LF input give the same message) and any other byte, 8-bit
 * and NUL included, is content. A line longer than piece_max comes out
 * as pieces (P records) and a last part (L), so no line is ever cut and
 * memory stays bounded. A CR that ends a piece is held back until the
 * next read shows whether an LF follows it.
 */
#include <string.h>

#include "postdrop/sendmail.h"

void sendmail_reader_init(sendmail_reader *r, vstream *in, int dot_ends, int unstuff,
                          size_t piece_max)
{
    r->in = in;
    r->dot_ends = dot_ends;
    r->unstuff = unstuff;
    r->piece_max = piece_max < 2 ? 2 : piece_max;
    r->at_line_start = 1;
    r->pending_cr = 0;
    r->at_eof = 0;
    vstr_init(&r->chunk);
}

void sendmail_reader_release(sendmail_reader *r)
{
    vstr_release(&r->chunk);
}

sendmail_read_status sendmail_reader_get(sendmail_reader *r, vstr *out)
{
    sendmail_read_status result = SENDMAIL_READ_LINE;
    vstream_status st;
    size_t n;

    vstr_reset(out);
    if (r->at_eof)
        return SENDMAIL_READ_EOF;
    st = vstream_get_line(r->in, &r->chunk, r->piece_max);
    if (st == VSTREAM_TIMEOUT || st == VSTREAM_ERROR)
        return SENDMAIL_READ_ERROR;
    n = vstr_len(&r->chunk);
    if (r->pending_cr) {
        r->pending_cr = 0;
        /* The held-back CR was the CR of a CR LF when only the LF follows. */
        if (!(st == VSTREAM_OK && n == 1))
            vstr_append_char(out, '\r');
    }
    switch (st) {
    case VSTREAM_OK:
        n--; /* the LF */
        if (n > 0 && vstr_str(&r->chunk)[n - 1] == '\r')
            n--;
        break;
    case VSTREAM_TOOLONG:
        if (vstr_str(&r->chunk)[n - 1] == '\r') {
            r->pending_cr = 1;
            n--;
        }
        result = SENDMAIL_READ_PIECE;
        break;
    default: /* VSTREAM_EOF: a last line without LF, or nothing */
        r->at_eof = 1;
        if (n == 0 && vstr_len(out) == 0 && r->at_line_start)
            return SENDMAIL_READ_EOF;
        break;
    }
    vstr_append(out, vstr_str(&r->chunk), n);
    if (r->at_line_start && vstr_len(out) > 0 && vstr_str(out)[0] == '.') {
        if (r->dot_ends && result == SENDMAIL_READ_LINE && vstr_len(out) == 1) {
            vstr_reset(out);
            return SENDMAIL_READ_DOT;
        }
        if (r->unstuff) {
            size_t len = vstr_len(out);

            memmove(out->data, out->data + 1, len - 1);
            vstr_truncate(out, len - 1);
        }
    }
    r->at_line_start = result == SENDMAIL_READ_LINE;
    return result;
}

int sendmail_is_from_line(const char *text)
{
    return strncmp(text + strspn(text, ">"), "From ", 5) == 0;
}
