/*
 * Fuzz target for the queue-file and maildrop reader (global/queue_file,
 * global/rec): any bytes as a file, read as pickup reads a maildrop file
 * and as postcat reads anything.
 *
 * Checks beyond "no crash, no leak": a reported error offset lies inside
 * the file, a line never exceeds the caller's bound, and the maildrop
 * reader never accepts a file the step-function grammar refuses.
 */
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "util/msg.h"
#include "util/vstr.h"
#include "util/vstream.h"
#include "global/queue_file.h"
#include "global/rec.h"

#define LINE_BOUND 64

/* 1 when the whole file is accepted. */
static int read_file(const uint8_t *data, size_t size, queue_file_kind kind)
{
    int fd = memfd_create("rec_read", 0);
    queue_reader *r;
    vstr line = VSTR_INIT;
    queue_line_status st = QUEUE_ERROR;
    int ok;

    if (fd < 0)
        msg_fatal("memfd_create: %m");
    if (size && write(fd, data, size) != (ssize_t)size)
        msg_fatal("write: %m");
    lseek(fd, 0, SEEK_SET);
    r = queue_file_open_fd(fd, "fuzz", kind);
    if (queue_file_read_envelope(r)) {
        while ((st = queue_file_read_line(r, &line, LINE_BOUND)) == QUEUE_LINE ||
               st == QUEUE_PIECE)
            if (vstr_len(&line) > LINE_BOUND)
                msg_panic("line over the bound");
        if (st == QUEUE_END && queue_file_rewind_content(r) == 0)
            while ((st = queue_file_read_line(r, &line, 1 << 20)) == QUEUE_LINE)
                ;
    }
    ok = st == QUEUE_END;
    if (!ok && (queue_file_error_offset(r) < 0 || queue_file_error_offset(r) > (off_t)size))
        msg_panic("error offset %lld outside a file of %zu bytes",
                  (long long)queue_file_error_offset(r), size);
    queue_file_close(r);
    vstr_release(&line);
    return ok;
}

/* The same bytes through rec_get and the grammar step function. */
static int walk_records(const uint8_t *data, size_t size)
{
    vstream *s = vstream_open_memory(data, size);
    vstr buf = VSTR_INIT, why = VSTR_INIT;
    rec_read r = REC_READ_INIT;
    queue_grammar g;
    int ok = 0;

    queue_grammar_init(&g, QUEUE_FILE_MAILDROP);
    for (;;) {
        rec_status st = rec_get(s, REC_PAYLOAD_MAX, &r, &buf);

        if (st == REC_EOF) {
            ok = queue_grammar_complete(&g);
            break;
        }
        if (st != REC_OK ||
            queue_grammar_check(&g, r.type, vstr_str(&buf), vstr_len(&buf), &why) < 0)
            break;
    }
    vstream_close(s);
    vstr_release(&buf);
    vstr_release(&why);
    return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int maildrop_ok = read_file(data, size, QUEUE_FILE_MAILDROP);

    (void)read_file(data, size, QUEUE_FILE_AUTO);
    if (maildrop_ok != walk_records(data, size))
        msg_panic("reader and grammar disagree");
    return 0;
}
