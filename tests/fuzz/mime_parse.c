/*
 * Fuzz target for global/mime: any bytes as a message.
 *
 * The first byte picks the limits and how lines are cut into records (as
 * cleanup gets them from smtpd or a maildrop file); the rest is split at
 * LF. Beyond "no crash, no leak", it checks that the parser loses and
 * invents nothing: the headers (with a line end after each) and the body
 * records, in the order delivered, are exactly the input.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "util/msg.h"
#include "util/vstr.h"
#include "global/mime.h"

static void on_header(void *ctx, mime_class cls, const char *text, size_t len)
{
    if (cls < MIME_HDR_PRIMARY || cls > MIME_HDR_NESTED)
        msg_panic("bad header class %d", (int)cls);
    vstr_append(ctx, text, len);
    vstr_append_char(ctx, '\n');
}

static void on_body(void *ctx, int flags, const char *data, size_t len, int line_ends)
{
    (void)flags;
    vstr_append(ctx, data, len);
    if (line_ends)
        vstr_append_char(ctx, '\n');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const mime_callbacks cb = {on_header, NULL, on_body};
    vstr out = VSTR_INIT, want = VSTR_INIT;
    mime_limits lim;
    mime_state *m;
    size_t piece;
    const char *p, *end;

    if (size < 1)
        return 0;
    lim.nesting_limit = 1 + (data[0] & 7);
    lim.boundary_length_limit = 1 + (data[0] >> 3 & 3) * 20;
    lim.header_size_limit = 16 + (size_t)(data[0] >> 5) * 64;
    piece = 1 + (size_t)(data[0] >> 5) * 7;
    p = (const char *)data + 1;
    end = (const char *)data + size;
    m = mime_open(&lim, &cb, &out);
    while (p < end) {
        const char *lf = memchr(p, '\n', (size_t)(end - p));
        size_t len = lf ? (size_t)(lf - p) : (size_t)(end - p);

        vstr_append(&want, p, len);
        vstr_append_char(&want, '\n');
        /* Long lines come in pieces of piece bytes, then the rest. */
        while (len > piece) {
            mime_put(m, p, piece, 0);
            p += piece;
            len -= piece;
        }
        mime_put(m, p, len, 1);
        p += len + (lf != NULL);
        if (data[0] & 1 && p < end && *p == 'Z')
            mime_end_headers(m);
    }
    mime_finish(m);
    if (vstr_len(&out) != vstr_len(&want) ||
        memcmp(vstr_str(&out), vstr_str(&want), vstr_len(&out)))
        msg_panic("output differs from input (%zu vs %zu bytes)", vstr_len(&out), vstr_len(&want));
    mime_close(m);
    vstr_release(&out);
    vstr_release(&want);
    return 0;
}
