/*
 * Fuzz target for global/maildrop: any bytes as a maildrop file, read as
 * pickup reads one (maildrop_get) and fed one record at a time as
 * postdrop feeds one (maildrop_check_record).
 *
 * Checks beyond "no crash, no leak": an error offset lies inside the
 * file; the two interfaces agree; and a file maildrop accepts is also
 * accepted by the queue-file reader (global/queue_file), whose maildrop
 * grammar it only narrows.
 */
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "util/msg.h"
#include "util/vstr.h"
#include "util/vstream.h"
#include "global/maildrop.h"
#include "global/queue_file.h"
#include "global/rec.h"

/* 1 when the queue-file reader takes the whole file as a maildrop file. */
static int reader_accepts(const uint8_t *data, size_t size)
{
    int fd = memfd_create("maildrop_read", 0);
    queue_reader *r;
    vstr line = VSTR_INIT;
    queue_line_status st = QUEUE_ERROR;

    if (fd < 0)
        msg_fatal("memfd_create: %m");
    if (size && write(fd, data, size) != (ssize_t)size)
        msg_fatal("write: %m");
    lseek(fd, 0, SEEK_SET);
    r = queue_file_open_fd(fd, "fuzz", QUEUE_FILE_MAILDROP);
    if (queue_file_read_envelope(r))
        while ((st = queue_file_read_line(r, &line, 1 << 20)) == QUEUE_LINE || st == QUEUE_PIECE)
            ;
    queue_file_close(r);
    vstr_release(&line);
    return st == QUEUE_END;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vstream *fp = vstream_open_memory(data, size);
    vstr payload = VSTR_INIT, reason = VSTR_INIT, why = VSTR_INIT;
    rec_read r = REC_READ_INIT;
    maildrop_check m, feed;
    maildrop_status st;
    int fed_ok = 1;

    maildrop_check_init(&m);
    maildrop_check_init(&feed);
    while ((st = maildrop_get(fp, &m, &r, &payload, &reason)) == MAILDROP_OK) {
        /* Every record maildrop_get accepts, the feed interface accepts. */
        if (maildrop_check_record(&feed, r.type, vstr_str(&payload), vstr_len(&payload), &why) < 0)
            msg_panic("feed refuses what maildrop_get accepted: %s", vstr_str(&why));
        if (r.type == REC_TYPE_END)
            break;
    }
    if (st == MAILDROP_OK) {
        if (!maildrop_complete(&m) || maildrop_check_end(&feed, &why) < 0)
            fed_ok = 0;
        if (!fed_ok || !reader_accepts(data, size))
            msg_panic("maildrop accepts a file the queue-file reader refuses");
    } else if (st == MAILDROP_BAD) {
        if (maildrop_error_offset(&m) < 0 || maildrop_error_offset(&m) > (off_t)size)
            msg_panic("error offset %lld outside a file of %zu bytes",
                      (long long)maildrop_error_offset(&m), size);
    } else {
        msg_panic("read error from memory");
    }
    vstream_close(fp);
    vstr_release(&payload);
    vstr_release(&reason);
    vstr_release(&why);
    return 0;
}
