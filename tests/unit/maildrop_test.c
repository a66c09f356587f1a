/* Unit tests for global/maildrop: every rule of the maildrop contract,
 * through the feed interface and through maildrop_get on bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "util/vstr.h"
#include "util/vstream.h"
#include "global/maildrop.h"
#include "global/rec.h"

/* ---- Building streams ---- */

/* Append one record with the shortest length encoding. */
static void put(vstr *out, int type, const char *data, size_t len)
{
    size_t v = len;

    vstr_append_char(out, (char)type);
    do {
        unsigned char b = v & 0x7f;

        v >>= 7;
        vstr_append_char(out, (char)(v ? b | 0x80 : b));
    } while (v);
    vstr_append(out, data, len);
}

static void puts_rec(vstr *out, int type, const char *s)
{
    put(out, type, s, strlen(s));
}

/* V T F, ready for attributes or recipients. */
static void head(vstr *out)
{
    puts_rec(out, 'V', "1");
    puts_rec(out, 'T', "1700000000.123456");
    puts_rec(out, 'F', "alice@example.com");
}

/* M, one line, E. */
static void tail(vstr *out)
{
    puts_rec(out, 'M', "");
    puts_rec(out, 'L', "Subject: hi");
    puts_rec(out, 'E', "");
}

static void good_file(vstr *out)
{
    head(out);
    puts_rec(out, 'A', "full_name=Alice");
    puts_rec(out, 'O', "bob");
    puts_rec(out, 'n', "6");
    puts_rec(out, 'R', "bob@example.com");
    tail(out);
}

typedef struct result {
    maildrop_status status;
    long long offset; /* error offset, or -1 */
    vstr reason;
    size_t records;
} result;

/* Read a whole stream with maildrop_get. */
static void read_all(const vstr *in, result *res)
{
    vstream *fp = vstream_open_memory(vstr_str(in), vstr_len(in));
    maildrop_check m;
    rec_read r = REC_READ_INIT;
    vstr payload = VSTR_INIT;

    maildrop_check_init(&m);
    vstr_init(&res->reason);
    res->records = 0;
    while ((res->status = maildrop_get(fp, &m, &r, &payload, &res->reason)) == MAILDROP_OK) {
        res->records++;
        if (r.type == REC_TYPE_END)
            break;
    }
    res->offset = maildrop_error_offset(&m);
    vstream_close(fp);
    vstr_release(&payload);
}

/* Expect a refusal at offset with a reason containing text. */
static void expect_bad(const vstr *in, long long offset, const char *text)
{
    result res;

    read_all(in, &res);
    if (res.status != MAILDROP_BAD || res.offset != offset ||
        strstr(vstr_str(&res.reason), text) == NULL)
        fail_msg("status %d offset %lld reason \"%s\"; wanted offset %lld, \"%s\"",
                 (int)res.status, res.offset, vstr_str(&res.reason), offset, text);
    vstr_release(&res.reason);
}

static void expect_good(const vstr *in)
{
    result res;

    read_all(in, &res);
    if (res.status != MAILDROP_OK)
        fail_msg("refused at %lld: %s", res.offset, vstr_str(&res.reason));
    assert_int_equal(res.offset, -1);
    vstr_release(&res.reason);
}

/* ---- Tests ---- */

static void test_good_file_is_accepted(void **state)
{
    vstr in = VSTR_INIT;
    result res;

    (void)state;
    good_file(&in);
    read_all(&in, &res);
    assert_int_equal(res.status, MAILDROP_OK);
    assert_int_equal(res.records, 10);
    vstr_release(&res.reason);
    vstr_release(&in);
}

static void test_feed_interface_counts_offsets(void **state)
{
    maildrop_check m;
    vstr why = VSTR_INIT;

    (void)state;
    maildrop_check_init(&m);
    assert_int_equal(maildrop_check_record(&m, 'V', "1", 1, &why), 0);
    assert_int_equal(maildrop_check_record(&m, 'T', "5.000000", 8, &why), 0);
    /* A second T: refused at offset 3 + 10 = 13, and the state stays. */
    assert_int_equal(maildrop_check_record(&m, 'T', "5.000000", 8, &why), -1);
    assert_int_equal(maildrop_error_offset(&m), 13);
    assert_int_equal(maildrop_check_record(&m, 'F', "", 0, &why), 0);
    assert_int_equal(maildrop_check_record(&m, 'R', "x@y", 3, &why), 0);
    assert_int_equal(maildrop_rcpt_count(&m), 1);
    assert_int_equal(maildrop_check_end(&m, &why), -1);
    assert_int_equal(maildrop_error_offset(&m), 13 + 2 + 5);
    assert_int_equal(maildrop_check_record(&m, 'M', "", 0, &why), 0);
    assert_int_equal(maildrop_check_record(&m, 'P', "ab", 2, &why), 0);
    assert_int_equal(maildrop_check_record(&m, 'E', "", 0, &why), -1);
    assert_non_null(strstr(vstr_str(&why), "line after a piece"));
    assert_int_equal(maildrop_check_record(&m, 'L', "c", 1, &why), 0);
    assert_int_equal(maildrop_check_record(&m, 'E', "", 0, &why), 0);
    assert_true(maildrop_complete(&m));
    assert_int_equal(maildrop_check_end(&m, &why), 0);
    assert_int_equal(maildrop_check_record(&m, 'L', "", 0, &why), -1);
    assert_non_null(strstr(vstr_str(&why), "nothing after the end record"));
    vstr_release(&why);
}

static void test_version_must_be_first_and_1(void **state)
{
    vstr in = VSTR_INIT;

    (void)state;
    puts_rec(&in, 'V', "2");
    expect_bad(&in, 0, "unsupported version");
    vstr_reset(&in);
    puts_rec(&in, 'T', "1.000000");
    expect_bad(&in, 0, "version record first");
    vstr_release(&in);
}

static void test_time_format(void **state)
{
    static const char *const bad[] = {"1700000000",         "1700000000.12345", "17x.123456",
                                      "1700000000.1234567", ".123456",          NULL};
    vstr in = VSTR_INIT;

    (void)state;
    for (const char *const *t = bad; *t; t++) {
        vstr_reset(&in);
        puts_rec(&in, 'V', "1");
        puts_rec(&in, 'T', *t);
        expect_bad(&in, 3, "malformed arrival time");
    }
    vstr_reset(&in);
    puts_rec(&in, 'V', "1");
    puts_rec(&in, 'F', "a@b");
    expect_bad(&in, 3, "arrival time after version");
    vstr_release(&in);
}

static void test_exactly_one_sender(void **state)
{
    vstr in = VSTR_INIT;

    (void)state;
    head(&in);
    puts_rec(&in, 'F', "mallory@example.com");
    expect_bad(&in, 3 + 19 + 19, "unexpected sender");
    /* No F at all. */
    vstr_reset(&in);
    puts_rec(&in, 'V', "1");
    puts_rec(&in, 'T', "1.000000");
    puts_rec(&in, 'R', "a@b");
    expect_bad(&in, 3 + 10, "sender after arrival time");
    /* The null sender is fine. */
    vstr_reset(&in);
    puts_rec(&in, 'V', "1");
    puts_rec(&in, 'T', "1.000000");
    puts_rec(&in, 'F', "");
    puts_rec(&in, 'R', "a@b");
    tail(&in);
    expect_good(&in);
    vstr_release(&in);
}

static void test_attribute_names_and_values(void **state)
{
    static const struct {
        const char *attr, *reason;
    } bad[] = {
        {"bad name=x", "bad character in attribute name"},
        {"=x", "not name=value"},
        {"noequals", "not name=value"},
        {"full_name=a\nFrom: evil", "control character in attribute value"},
        {"flags=2", "bad flags"},
        {"flags=x", "bad flags"},
        {"flags=", "bad flags"},
        {"dsn_ret=SOME", "bad dsn_ret"},
        {"body_type=BINARYMIME", "bad body_type"},
        {"smtputf8=yes", "bad smtputf8"},
        {NULL, NULL},
    };
    vstr in = VSTR_INIT, attr = VSTR_INIT;
    size_t at;

    (void)state;
    for (size_t i = 0; bad[i].attr; i++) {
        vstr_reset(&in);
        head(&in);
        at = vstr_len(&in);
        puts_rec(&in, 'A', bad[i].attr);
        puts_rec(&in, 'R', "a@b");
        tail(&in);
        expect_bad(&in, (long long)at, bad[i].reason);
    }
    /* A name of 65 bytes; an envid of 101. */
    vstr_reset(&in);
    head(&in);
    at = vstr_len(&in);
    vstr_set_fmt(&attr, "%065d=1", 0);
    puts_rec(&in, 'A', vstr_str(&attr));
    expect_bad(&in, (long long)at, "attribute name too long");
    vstr_reset(&in);
    head(&in);
    vstr_set_fmt(&attr, "dsn_envid=%0100d", 0);
    puts_rec(&in, 'A', vstr_str(&attr));
    puts_rec(&in, 'R', "a@b");
    tail(&in);
    expect_good(&in);
    vstr_reset(&in);
    head(&in);
    vstr_set_fmt(&attr, "dsn_envid=%0101d", 0);
    puts_rec(&in, 'A', vstr_str(&attr));
    expect_bad(&in, (long long)at, "dsn_envid longer than 100");
    /* Known values, and names nobody knows, pass. */
    vstr_reset(&in);
    head(&in);
    puts_rec(&in, 'A', "dsn_ret=HDRS");
    puts_rec(&in, 'A', "body_type=8BITMIME");
    puts_rec(&in, 'A', "smtputf8=1");
    puts_rec(&in, 'A', "flags=0");
    puts_rec(&in, 'A', "x-future=\xc3\xa9t\xc3\xa9");
    puts_rec(&in, 'R', "a@b");
    tail(&in);
    expect_good(&in);
    vstr_release(&in);
    vstr_release(&attr);
}

static void test_attribute_bounds(void **state)
{
    vstr in = VSTR_INIT, attr = VSTR_INIT;
    size_t at;

    (void)state;
    head(&in);
    at = vstr_len(&in);
    vstr_set_str(&attr, "full_name=");
    while (vstr_len(&attr) <= QUEUE_ATTR_MAX)
        vstr_append_char(&attr, 'x');
    put(&in, 'A', vstr_str(&attr), vstr_len(&attr));
    expect_bad(&in, (long long)at, "attribute longer than 8192");
    /* 256 attributes pass, the 257th does not. */
    vstr_reset(&in);
    head(&in);
    for (int i = 0; i < QUEUE_ATTR_COUNT_MAX; i++)
        puts_rec(&in, 'A', "full_name=x");
    at = vstr_len(&in);
    puts_rec(&in, 'A', "full_name=x");
    expect_bad(&in, (long long)at, "more than 256 attributes");
    /* Attributes come before recipients. */
    vstr_reset(&in);
    head(&in);
    puts_rec(&in, 'R', "a@b");
    at = vstr_len(&in);
    puts_rec(&in, 'A', "full_name=x");
    expect_bad(&in, (long long)at, "attributes before recipients");
    vstr_release(&in);
    vstr_release(&attr);
}

static void test_addresses(void **state)
{
    vstr in = VSTR_INIT, addr = VSTR_INIT;
    size_t at;

    (void)state;
    head(&in);
    at = vstr_len(&in);
    puts_rec(&in, 'R', "bob@example.com\r\nRCPT TO:<x>");
    expect_bad(&in, (long long)at, "control character in address");
    vstr_reset(&in);
    head(&in);
    put(&in, 'R', "a\0b@c", 5);
    expect_bad(&in, (long long)at, "control character in address");
    vstr_reset(&in);
    head(&in);
    puts_rec(&in, 'R', "a\x7f@b");
    expect_bad(&in, (long long)at, "control character in address");
    vstr_reset(&in);
    head(&in);
    puts_rec(&in, 'R', "");
    expect_bad(&in, (long long)at, "empty address");
    /* 2048 bytes pass, 2049 do not; likewise for the sender. */
    while (vstr_len(&addr) < QUEUE_ADDR_MAX)
        vstr_append_char(&addr, 'a');
    vstr_reset(&in);
    head(&in);
    put(&in, 'R', vstr_str(&addr), vstr_len(&addr));
    tail(&in);
    expect_good(&in);
    vstr_append_char(&addr, 'a');
    vstr_reset(&in);
    head(&in);
    put(&in, 'O', vstr_str(&addr), vstr_len(&addr));
    expect_bad(&in, (long long)at, "address longer than 2048");
    vstr_reset(&in);
    puts_rec(&in, 'V', "1");
    puts_rec(&in, 'T', "1.000000");
    put(&in, 'F', vstr_str(&addr), vstr_len(&addr));
    expect_bad(&in, 13, "address longer than 2048");
    vstr_reset(&in);
    puts_rec(&in, 'V', "1");
    puts_rec(&in, 'T', "1.000000");
    puts_rec(&in, 'F', "a\tb@c");
    expect_bad(&in, 13, "control character in address");
    vstr_release(&in);
    vstr_release(&addr);
}

static void test_recipient_groups(void **state)
{
    vstr in = VSTR_INIT;
    size_t at;

    (void)state;
    /* O and n at most once each, in that order, before an R. */
    head(&in);
    puts_rec(&in, 'n', "2");
    at = vstr_len(&in);
    puts_rec(&in, 'O', "x@y");
    expect_bad(&in, (long long)at, "in that order");
    vstr_reset(&in);
    head(&in);
    puts_rec(&in, 'O', "x@y");
    at = vstr_len(&in);
    puts_rec(&in, 'M', "");
    expect_bad(&in, (long long)at, "recipient after its original recipient");
    vstr_reset(&in);
    head(&in);
    at = vstr_len(&in);
    puts_rec(&in, 'n', "3");
    expect_bad(&in, (long long)at, "malformed DSN notify");
    /* No o, D or S in a maildrop file. */
    vstr_reset(&in);
    head(&in);
    at = vstr_len(&in);
    puts_rec(&in, 'o', "rfc822;x@y");
    expect_bad(&in, (long long)at, "no DSN original recipient in a maildrop file");
    vstr_reset(&in);
    head(&in);
    puts_rec(&in, 'D', "x@y");
    expect_bad(&in, (long long)at, "no done recipients");
    vstr_reset(&in);
    puts_rec(&in, 'V', "1");
    put(&in, 'S', "", 0);
    expect_bad(&in, 3, "arrival time after version");
    vstr_release(&in);
}

static void test_recipient_count_bound(void **state)
{
    vstr in = VSTR_INIT;
    size_t at;

    (void)state;
    head(&in);
    for (int i = 0; i < MAILDROP_RCPT_MAX; i++)
        puts_rec(&in, 'R', "a@b");
    at = vstr_len(&in);
    tail(&in);
    expect_good(&in);
    vstr_truncate(&in, at);
    puts_rec(&in, 'R', "a@b");
    expect_bad(&in, (long long)at, "more than 20000 recipients");
    vstr_release(&in);
}

static void test_no_recipients_needs_extract_flag(void **state)
{
    vstr in = VSTR_INIT;
    size_t at;

    (void)state;
    head(&in);
    at = vstr_len(&in);
    tail(&in);
    expect_bad(&in, (long long)at, "no recipients");
    vstr_reset(&in);
    head(&in);
    puts_rec(&in, 'A', "flags=0");
    at = vstr_len(&in);
    tail(&in);
    expect_bad(&in, (long long)at, "no recipients");
    vstr_reset(&in);
    head(&in);
    puts_rec(&in, 'A', "flags=1");
    tail(&in);
    expect_good(&in);
    vstr_release(&in);
}

static void test_message_record_once_and_content_after_it(void **state)
{
    vstr in = VSTR_INIT;
    size_t at;

    (void)state;
    head(&in);
    puts_rec(&in, 'R', "a@b");
    at = vstr_len(&in);
    puts_rec(&in, 'L', "too early");
    expect_bad(&in, (long long)at, "envelope records before content");
    vstr_reset(&in);
    head(&in);
    puts_rec(&in, 'R', "a@b");
    puts_rec(&in, 'M', "");
    at = vstr_len(&in);
    puts_rec(&in, 'M', "");
    expect_bad(&in, (long long)at, "content or end records");
    vstr_reset(&in);
    head(&in);
    puts_rec(&in, 'R', "a@b");
    puts_rec(&in, 'M', "");
    at = vstr_len(&in);
    puts_rec(&in, 'R', "c@d");
    expect_bad(&in, (long long)at, "content or end records");
    vstr_reset(&in);
    head(&in);
    puts_rec(&in, 'R', "a@b");
    at = vstr_len(&in);
    puts_rec(&in, 'M', "x");
    expect_bad(&in, (long long)at, "with a payload");
    vstr_release(&in);
}

static void test_content_and_end(void **state)
{
    vstr in = VSTR_INIT;
    size_t at;

    (void)state;
    /* Any bytes in content, NULs and CRs included. */
    head(&in);
    puts_rec(&in, 'R', "a@b");
    puts_rec(&in, 'M', "");
    put(&in, 'P', "a\0\r", 3);
    put(&in, 'L', "\x01\xff", 2);
    puts_rec(&in, 'E', "");
    expect_good(&in);
    /* E after P. */
    vstr_reset(&in);
    head(&in);
    puts_rec(&in, 'R', "a@b");
    puts_rec(&in, 'M', "");
    puts_rec(&in, 'P', "a");
    at = vstr_len(&in);
    puts_rec(&in, 'E', "");
    expect_bad(&in, (long long)at, "line after a piece");
    /* Bytes after E. */
    vstr_reset(&in);
    good_file(&in);
    at = vstr_len(&in);
    vstr_append_char(&in, 'L');
    expect_bad(&in, (long long)at, "data after the end record");
    /* E with a payload. */
    vstr_reset(&in);
    head(&in);
    puts_rec(&in, 'R', "a@b");
    puts_rec(&in, 'M', "");
    at = vstr_len(&in);
    puts_rec(&in, 'E', "x");
    expect_bad(&in, (long long)at, "with a payload");
    vstr_release(&in);
}

static void test_missing_end_and_truncation(void **state)
{
    vstr in = VSTR_INIT;
    size_t len;

    (void)state;
    good_file(&in);
    len = vstr_len(&in);
    /* Without E: refused at the end of the stream. */
    vstr_truncate(&in, len - 2);
    expect_bad(&in, (long long)(len - 2), "file ends before the end record");
    /* Inside the last line's payload: refused where that record starts. */
    vstr_truncate(&in, len - 4);
    expect_bad(&in, (long long)(len - 2 - 13), "file ends inside a record");
    /* Empty. */
    vstr_reset(&in);
    expect_bad(&in, 0, "file ends before the end record");
    vstr_release(&in);
}

static void test_record_level_errors(void **state)
{
    vstr in = VSTR_INIT;
    size_t at;

    (void)state;
    head(&in);
    at = vstr_len(&in);
    vstr_append(&in, "Z\0", 2);
    expect_bad(&in, (long long)at, "unknown record type");
    /* A length over REC_PAYLOAD_MAX: refused before a byte is read. */
    vstr_truncate(&in, at);
    vstr_append(&in, "L\x81\x80\x80\x01", 5);
    expect_bad(&in, (long long)at, "record length over the limit");
    vstr_truncate(&in, at);
    vstr_append(&in, "L\xff\xff\xff\xff\x01", 6);
    expect_bad(&in, (long long)at, "record length field too long");
    vstr_release(&in);
}

static void test_offsets_follow_the_encoding(void **state)
{
    vstr in = VSTR_INIT;
    size_t at;

    (void)state;
    /* A V record with a two-byte length (0x81 0x00 = 1): accepted, and the
     * offsets after it are those of the file, not of a re-encoding. */
    vstr_append(&in,
                "V\x81\x00"
                "1",
                4);
    puts_rec(&in, 'T', "1.000000");
    at = vstr_len(&in);
    puts_rec(&in, 'T', "1.000000");
    expect_bad(&in, (long long)at, "unexpected arrival_time");
    vstr_release(&in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_file_is_accepted),
        cmocka_unit_test(test_feed_interface_counts_offsets),
        cmocka_unit_test(test_version_must_be_first_and_1),
        cmocka_unit_test(test_time_format),
        cmocka_unit_test(test_exactly_one_sender),
        cmocka_unit_test(test_attribute_names_and_values),
        cmocka_unit_test(test_attribute_bounds),
        cmocka_unit_test(test_addresses),
        cmocka_unit_test(test_recipient_groups),
        cmocka_unit_test(test_recipient_count_bound),
        cmocka_unit_test(test_no_recipients_needs_extract_flag),
        cmocka_unit_test(test_message_record_once_and_content_after_it),
        cmocka_unit_test(test_content_and_end),
        cmocka_unit_test(test_missing_end_and_truncation),
        cmocka_unit_test(test_record_level_errors),
        cmocka_unit_test(test_offsets_follow_the_encoding),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
