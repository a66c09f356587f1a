/*
 * smtpd_read - one SMTP command line from the client
 *
 * A command line ends in CR LF, nothing else: a bare LF, or a CR that is
 * not followed by LF, is refused (smtpd_forbid_bare_newline; Postern has
 * no lenient mode). Accepting either as a line end is what lets one MTA
 * see a different message boundary than the next (SMTP smuggling). A
 * line longer than line_length_limit is read to its end and dropped.
 */
#include <poll.h>

#include "smtpd/smtpd.h"

/* How much of a pipelining violator's input goes to the log. */
#define SMTPD_EXCERPT_MAX 100

int smtpd_line_is_clean(const char *line, size_t len)
{
    if (len == 0 || line[len - 1] != '\r')
        return 0;
    for (size_t i = 0; i + 1 < len; i++)
        if (line[i] == '\r')
            return 0;
    return 1;
}

static smtpd_read_status status_of(vstream_status st)
{
    switch (st) {
    case VSTREAM_OK:
        return SMTPD_READ_OK;
    case VSTREAM_TOOLONG:
        return SMTPD_READ_TOOLONG;
    case VSTREAM_EOF:
        return SMTPD_READ_EOF;
    case VSTREAM_TIMEOUT:
        return SMTPD_READ_TIMEOUT;
    default:
        return SMTPD_READ_ERROR;
    }
}

smtpd_read_status smtpd_read_command(smtpd_state *s)
{
    size_t max = smtpd_cf.line_length_limit + 2; /* the limit, not counting CR LF */
    vstream_status st = vstream_get_line(s->client, &s->line, max);
    size_t len;

    if (st == VSTREAM_TOOLONG) {
        /* Skip to the end of the line, all within one deadline. */
        int began = vstream_begin_deadline(s->client, 0);

        do
            st = vstream_get_line(s->client, &s->line, max);
        while (st == VSTREAM_TOOLONG);
        if (began)
            vstream_end_deadline(s->client);
        vstr_reset(&s->line);
        return st == VSTREAM_OK ? SMTPD_READ_TOOLONG : status_of(st);
    }
    if (st != VSTREAM_OK)
        return status_of(st);
    len = vstr_len(&s->line) - 1; /* without the LF */
    if (!smtpd_line_is_clean(vstr_str(&s->line), len))
        return SMTPD_READ_BARE_LF;
    vstr_truncate(&s->line, len - 1);
    return SMTPD_READ_OK;
}

void smtpd_read_excerpt(smtpd_state *s, vstr *out)
{
    struct pollfd p = {.fd = vstream_fd(s->client), .events = POLLIN};
    char buf[SMTPD_EXCERPT_MAX];
    ssize_t n;

    vstr_reset(out);
    if (vstream_read_pending(s->client) == 0 && poll(&p, 1, 0) <= 0)
        return;
    if ((n = vstream_read_some(s->client, buf, sizeof(buf))) > 0)
        vstr_set(out, buf, (size_t)n);
}
