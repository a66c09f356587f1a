/*
 * rec - queue-file records: type byte, length, payload
 *
 * The length field is at most four 7-bit groups (2^28 - 1), far above
 * REC_PAYLOAD_MAX, so a reader can refuse a hostile length before it
 * allocates or reads a byte of payload. Non-minimal length encodings
 * (a trailing zero group) are accepted, as they harm nobody.
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "util/msg.h"
#include "global/rec.h"

const rec_type_info rec_type_table[] = {
    {REC_TYPE_VERSION, "version"},
    {REC_TYPE_SIZE, "size"},
    {REC_TYPE_TIME, "arrival_time"},
    {REC_TYPE_FROM, "sender"},
    {REC_TYPE_ATTR, "attribute"},
    {REC_TYPE_ORCP, "original_recipient"},
    {REC_TYPE_DSN_ORCPT, "dsn_orcpt"},
    {REC_TYPE_DSN_NOTIFY, "dsn_notify"},
    {REC_TYPE_RCPT, "recipient"},
    {REC_TYPE_DONE, "done_recipient"},
    {REC_TYPE_MESG, "message_content"},
    {REC_TYPE_NORM, "line"},
    {REC_TYPE_CONT, "piece"},
    {REC_TYPE_END, "end"},
    {0, NULL},
};

const char *rec_type_name(int type)
{
    for (const rec_type_info *t = rec_type_table; t->name; t++)
        if (t->type == type)
            return t->name;
    return NULL;
}

const char *rec_strerror(rec_status status)
{
    switch (status) {
    case REC_OK:
        return "ok";
    case REC_EOF:
        return "end of file";
    case REC_ERR_TRUNCATED:
        return "file ends inside a record";
    case REC_ERR_BADLEN:
        return "record length field too long";
    case REC_ERR_OVERSIZE:
        return "record length over the limit";
    case REC_ERR_TYPE:
        return "unknown record type";
    case REC_ERR_IO:
        return "read error";
    }
    return "unknown record status";
}

size_t rec_size(size_t len)
{
    size_t n = 1;

    for (size_t v = len; v >= 0x80; v >>= 7)
        n++;
    return 1 + n + len;
}

int rec_put(vstream *fp, int type, const void *data, size_t len)
{
    unsigned char hdr[1 + REC_LEN_BYTES_MAX];
    size_t n = 0, v = len;

    if (len > REC_PAYLOAD_MAX || rec_type_name(type) == NULL)
        msg_panic("rec_put: type 0x%02x length %zu", (unsigned)type & 0xff, len);
    hdr[n++] = (unsigned char)type;
    do {
        unsigned char b = v & 0x7f;

        v >>= 7;
        hdr[n++] = v ? b | 0x80 : b;
    } while (v);
    if (vstream_write(fp, hdr, n) < 0 || (len && vstream_write(fp, data, len) < 0))
        return -1;
    return 0;
}

int rec_put_str(vstream *fp, int type, const char *s)
{
    return rec_put(fp, type, s, strlen(s));
}

int rec_put_fmt(vstream *fp, int type, const char *fmt, ...)
{
    vstr buf = VSTR_INIT;
    va_list ap;
    int ret;

    va_start(ap, fmt);
    vstr_append_vfmt(&buf, fmt, ap);
    va_end(ap);
    ret = rec_put(fp, type, vstr_str(&buf), vstr_len(&buf));
    vstr_release(&buf);
    return ret;
}

/* A byte from fp: 0..255, or -1 at end of file, -2 on a read error. */
static int get_byte(vstream *fp)
{
    int c = vstream_getc(fp);

    if (c < 0)
        return vstream_error(fp) ? -2 : -1;
    return c;
}

rec_status rec_get(vstream *fp, size_t bound, rec_read *r, vstr *payload)
{
    size_t len = 0, got, len_bytes = 0;
    int c;

    r->offset = r->next;
    r->type = 0;
    r->len = 0;
    vstr_reset(payload);
    if ((c = get_byte(fp)) < 0)
        return c == -2 ? REC_ERR_IO : REC_EOF;
    r->type = c;
    if (rec_type_name(c) == NULL)
        return REC_ERR_TYPE;
    for (int shift = 0;; shift += 7) {
        if (shift == 7 * REC_LEN_BYTES_MAX)
            return REC_ERR_BADLEN;
        if ((c = get_byte(fp)) < 0)
            return c == -2 ? REC_ERR_IO : REC_ERR_TRUNCATED;
        len |= (size_t)(c & 0x7f) << shift;
        len_bytes++;
        if ((c & 0x80) == 0)
            break;
    }
    r->len = len;
    if (len > bound || len > REC_PAYLOAD_MAX)
        return REC_ERR_OVERSIZE;
    vstr_reserve(payload, len);
    if (len > 0) {
        vstream_status st = vstream_read_exact(fp, payload->data, len, &got);

        if (st == VSTREAM_EOF)
            return REC_ERR_TRUNCATED;
        if (st != VSTREAM_OK)
            return REC_ERR_IO;
    }
    payload->len = len;
    payload->data[len] = 0;
    /* Count the length bytes as read: a longer than needed encoding is
     * accepted, and offsets must still be those of the file. */
    r->next = r->offset + 1 + (off_t)len_bytes + (off_t)len;
    return REC_OK;
}

int rec_rewrite_type(int fd, off_t offset, int old_type, int new_type)
{
    unsigned char b;
    ssize_t n;

    if (rec_type_name(new_type) == NULL)
        msg_panic("rec_rewrite_type: bad type 0x%02x", (unsigned)new_type & 0xff);
    n = pread(fd, &b, 1, offset);
    if (n < 0)
        return -1;
    if (n == 0 || b != (unsigned char)old_type) {
        errno = EINVAL;
        return -1;
    }
    b = (unsigned char)new_type;
    n = pwrite(fd, &b, 1, offset);
    if (n < 0)
        return -1;
    if (n != 1) {
        errno = EIO;
        return -1;
    }
    return 0;
}
