/* Unit tests for global/rec: encoding, round trip, every read error with its
 * offset, and the in-place type rewrite. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "util/mem.h"
#include "util/vstr.h"
#include "util/vstream.h"
#include "global/rec.h"

/* A scratch file opened for reading and writing; removed at once. */
static vstream *scratch(int *fd_out)
{
    char path[] = "/tmp/rec_test.XXXXXX";
    int fd = mkstemp(path);

    assert_true(fd >= 0);
    unlink(path);
    if (fd_out)
        *fd_out = fd;
    return vstream_fdopen(fd, VSTREAM_READ | VSTREAM_WRITE);
}

static void length_field_is_seven_bits_per_byte_low_group_first(void **state)
{
    static const struct {
        size_t len;
        unsigned char bytes[4];
        size_t n;
    } cases[] = {
        {0, {0x00}, 1},
        {1, {0x01}, 1},
        {127, {0x7f}, 1},
        {128, {0x80, 0x01}, 2},
        {300, {0xac, 0x02}, 2},
        {16383, {0xff, 0x7f}, 2},
        {16384, {0x80, 0x80, 0x01}, 3},
        {REC_PAYLOAD_MAX, {0x80, 0x80, 0x40}, 3},
    };
    char *payload = mem_calloc(1, REC_PAYLOAD_MAX);

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int fd;
        vstream *s = scratch(&fd);
        unsigned char head[5];

        assert_int_equal(rec_put(s, REC_TYPE_NORM, payload, cases[i].len), 0);
        assert_int_equal(vstream_flush(s), 0);
        assert_int_equal(vstream_tell(s), (off_t)rec_size(cases[i].len));
        assert_int_equal(pread(fd, head, 1 + cases[i].n, 0), (ssize_t)(1 + cases[i].n));
        assert_int_equal(head[0], 'L');
        assert_memory_equal(head + 1, cases[i].bytes, cases[i].n);
        vstream_close(s);
    }
    mem_free(payload);
}

static void records_round_trip_with_their_offsets(void **state)
{
    static const size_t lens[] = {0, 1, 127, 128, 5000, 16384, 70000};
    vstream *s = scratch(NULL);
    vstr buf = VSTR_INIT, want = VSTR_INIT;
    rec_read r = REC_READ_INIT;
    off_t offsets[8], off = 0;
    size_t n = sizeof(lens) / sizeof(lens[0]);

    (void)state;
    for (size_t i = 0; i < n; i++) {
        vstr_reset(&want);
        for (size_t k = 0; k < lens[i]; k++)
            vstr_append_char(&want, (int)((k * 7 + i) & 0xff)); /* NULs and 8-bit too */
        offsets[i] = off;
        assert_int_equal(
            rec_put(s, i % 2 ? REC_TYPE_CONT : REC_TYPE_NORM, vstr_str(&want), vstr_len(&want)),
            0);
        off += (off_t)rec_size(lens[i]);
    }
    assert_int_equal(rec_put_fmt(s, REC_TYPE_TIME, "%d.%06d", 1700000000, 42), 0);
    assert_int_equal(rec_put_str(s, REC_TYPE_END, ""), 0);
    assert_int_equal(vstream_seek(s, 0, SEEK_SET), 0);
    for (size_t i = 0; i < n; i++) {
        vstr_reset(&want);
        for (size_t k = 0; k < lens[i]; k++)
            vstr_append_char(&want, (int)((k * 7 + i) & 0xff));
        assert_int_equal(rec_get(s, REC_PAYLOAD_MAX, &r, &buf), REC_OK);
        assert_int_equal(r.type, i % 2 ? 'P' : 'L');
        assert_int_equal(r.offset, offsets[i]);
        assert_int_equal(r.len, lens[i]);
        assert_int_equal(vstr_len(&buf), lens[i]);
        assert_memory_equal(vstr_str(&buf), vstr_str(&want), lens[i]);
    }
    assert_int_equal(rec_get(s, REC_PAYLOAD_MAX, &r, &buf), REC_OK);
    assert_int_equal(r.type, REC_TYPE_TIME);
    assert_string_equal(vstr_str(&buf), "1700000000.000042");
    assert_int_equal(rec_get(s, REC_PAYLOAD_MAX, &r, &buf), REC_OK);
    assert_int_equal(r.type, REC_TYPE_END);
    assert_int_equal(rec_get(s, REC_PAYLOAD_MAX, &r, &buf), REC_EOF);
    assert_int_equal(r.offset, vstream_tell(s));
    vstream_close(s);
    vstr_release(&buf);
    vstr_release(&want);
}

/* Read bytes as records; return the status of the first non-OK read and
 * that record's offset. */
static rec_status read_all(const char *bytes, size_t len, size_t bound, off_t *offset)
{
    vstream *s = vstream_open_memory(bytes, len);
    vstr buf = VSTR_INIT;
    rec_read r = REC_READ_INIT;
    rec_status st;

    while ((st = rec_get(s, bound, &r, &buf)) == REC_OK)
        ;
    *offset = r.offset;
    vstream_close(s);
    vstr_release(&buf);
    return st;
}

static void truncated_record_is_reported_at_its_start(void **state)
{
    off_t off;

    (void)state;
    /* "V\1" "1" then an R whose payload stops short. */
    assert_int_equal(read_all("V\0011R\005ab", 8, 100, &off), REC_ERR_TRUNCATED);
    assert_int_equal(off, 3);
    /* Ends inside the length field. */
    assert_int_equal(read_all("V\0011R\x80", 5, 100, &off), REC_ERR_TRUNCATED);
    assert_int_equal(off, 3);
    /* Ends right after the type byte. */
    assert_int_equal(read_all("V\0011R", 4, 100, &off), REC_ERR_TRUNCATED);
    assert_int_equal(off, 3);
    /* A clean end between records is EOF, not an error. */
    assert_int_equal(read_all("V\0011E\000", 5, 100, &off), REC_EOF);
    assert_int_equal(off, 5);
    assert_int_equal(read_all("", 0, 100, &off), REC_EOF);
    assert_int_equal(off, 0);
}

static void length_over_bound_is_oversize_before_reading_payload(void **state)
{
    vstream *s = vstream_open_memory("L\xe8\x07", 3); /* 1000 bytes claimed, none there */
    vstr buf = VSTR_INIT;
    rec_read r = REC_READ_INIT;
    off_t off;

    (void)state;
    assert_int_equal(rec_get(s, 999, &r, &buf), REC_ERR_OVERSIZE);
    assert_int_equal(r.len, 1000);
    assert_int_equal(r.offset, 0);
    vstream_close(s);
    vstr_release(&buf);
    /* REC_PAYLOAD_MAX + 1 is refused whatever the caller's bound. */
    assert_int_equal(read_all("V\0011L\x81\x80\x40", 8, SIZE_MAX, &off), REC_ERR_OVERSIZE);
    assert_int_equal(off, 3);
}

static void length_field_over_four_bytes_is_bad(void **state)
{
    off_t off;

    (void)state;
    assert_int_equal(read_all("V\0011L\x80\x80\x80\x80\x00", 9, SIZE_MAX, &off), REC_ERR_BADLEN);
    assert_int_equal(off, 3);
    /* Four bytes with a clear last high bit are fine (2^21 here, then
     * over the payload bound). */
    assert_int_equal(read_all("L\x80\x80\x80\x01", 5, SIZE_MAX, &off), REC_ERR_OVERSIZE);
}

static void unknown_type_is_reported_with_the_byte(void **state)
{
    vstream *s = vstream_open_memory("V\0011Z\0", 5);
    vstr buf = VSTR_INIT;
    rec_read r = REC_READ_INIT;

    (void)state;
    assert_int_equal(rec_get(s, 100, &r, &buf), REC_OK);
    assert_int_equal(rec_get(s, 100, &r, &buf), REC_ERR_TYPE);
    assert_int_equal(r.type, 'Z');
    assert_int_equal(r.offset, 3);
    vstream_close(s);
    vstr_release(&buf);
}

static void every_error_has_distinct_text(void **state)
{
    static const rec_status all[] = {REC_OK,         REC_EOF,          REC_ERR_TRUNCATED,
                                     REC_ERR_BADLEN, REC_ERR_OVERSIZE, REC_ERR_TYPE,
                                     REC_ERR_IO};
    size_t n = sizeof(all) / sizeof(all[0]);

    (void)state;
    for (size_t i = 0; i < n; i++)
        for (size_t k = i + 1; k < n; k++)
            assert_string_not_equal(rec_strerror(all[i]), rec_strerror(all[k]));
}

static void type_table_names_every_type_and_nothing_else(void **state)
{
    static const char types[] = "VSTFAOonRDMLPE";
    size_t count = 0;

    (void)state;
    for (const char *t = types; *t; t++)
        assert_non_null(rec_type_name(*t));
    for (int c = 0; c < 256; c++)
        count += rec_type_name(c) != NULL;
    assert_int_equal(count, strlen(types));
    assert_string_equal(rec_type_name(REC_TYPE_RCPT), "recipient");
    assert_string_equal(rec_type_name(REC_TYPE_DONE), "done_recipient");
}

static void rewrite_marks_one_recipient_done_in_place(void **state)
{
    int fd;
    vstream *s = scratch(&fd);
    vstr buf = VSTR_INIT;
    rec_read r = REC_READ_INIT;
    off_t second;

    (void)state;
    rec_put_str(s, REC_TYPE_RCPT, "a@example.com");
    second = vstream_tell(s);
    rec_put_str(s, REC_TYPE_RCPT, "b@example.com");
    rec_put_str(s, REC_TYPE_RCPT, "c@example.com");
    assert_int_equal(vstream_flush(s), 0);

    assert_int_equal(rec_rewrite_type(fd, second, REC_TYPE_RCPT, REC_TYPE_DONE), 0);
    /* Twice is refused: the byte is no longer an R. */
    assert_int_equal(rec_rewrite_type(fd, second, REC_TYPE_RCPT, REC_TYPE_DONE), -1);
    assert_int_equal(errno, EINVAL);
    /* An offset that is not a record start is refused, nothing written. */
    assert_int_equal(rec_rewrite_type(fd, second + 1, REC_TYPE_RCPT, REC_TYPE_DONE), -1);
    assert_int_equal(errno, EINVAL);
    /* Beyond the end of the file. */
    assert_int_equal(rec_rewrite_type(fd, 100000, REC_TYPE_RCPT, REC_TYPE_DONE), -1);
    assert_int_equal(errno, EINVAL);

    assert_int_equal(vstream_seek(s, 0, SEEK_SET), 0);
    assert_int_equal(rec_get(s, 100, &r, &buf), REC_OK);
    assert_int_equal(r.type, REC_TYPE_RCPT);
    assert_int_equal(rec_get(s, 100, &r, &buf), REC_OK);
    assert_int_equal(r.type, REC_TYPE_DONE);
    assert_int_equal(r.offset, second);
    assert_string_equal(vstr_str(&buf), "b@example.com");
    assert_int_equal(rec_get(s, 100, &r, &buf), REC_OK);
    assert_int_equal(r.type, REC_TYPE_RCPT);
    assert_string_equal(vstr_str(&buf), "c@example.com");
    vstream_close(s);
    vstr_release(&buf);
}

static void write_error_is_reported(void **state)
{
    int fds[2];
    vstream *s;
    char big[70000];

    (void)state;
    assert_int_equal(pipe(fds), 0);
    close(fds[0]);
    s = vstream_fdopen(fds[1], VSTREAM_WRITE);
    memset(big, 'x', sizeof(big));
    signal(SIGPIPE, SIG_IGN);
    assert_int_equal(rec_put(s, REC_TYPE_NORM, big, sizeof(big)), -1);
    vstream_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(length_field_is_seven_bits_per_byte_low_group_first),
        cmocka_unit_test(records_round_trip_with_their_offsets),
        cmocka_unit_test(truncated_record_is_reported_at_its_start),
        cmocka_unit_test(length_over_bound_is_oversize_before_reading_payload),
        cmocka_unit_test(length_field_over_four_bytes_is_bad),
        cmocka_unit_test(unknown_type_is_reported_with_the_byte),
        cmocka_unit_test(every_error_has_distinct_text),
        cmocka_unit_test(type_table_names_every_type_and_nothing_else),
        cmocka_unit_test(rewrite_marks_one_recipient_done_in_place),
        cmocka_unit_test(write_error_is_reported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
