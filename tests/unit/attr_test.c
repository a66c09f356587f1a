/* Unit tests for global/attr: round trips of any bytes, the wire format, bounds, garbage. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "global/attr.h"
#include "util/clock.h"
#include "util/vstream.h"

/* Decode len bytes from memory. */
static attr_status decode(const void *data, size_t len, attr_list *list, const attr_limits *limits,
                          vstr *err)
{
    vstream *s = vstream_open_memory(data, len);
    attr_status status = attr_read(s, list, limits, err);

    vstream_close(s);
    return status;
}

#define DECODE(lit, list, limits, err) decode(lit, sizeof(lit) - 1, list, limits, err)

static void any_bytes_survive_a_round_trip_over_a_socket(void **state)
{
    int fds[2];
    vstream *w, *r;
    attr_list *out = attr_list_new(), *in = attr_list_new();
    unsigned char all[256];
    vstr err = VSTR_INIT;
    const attr *a;

    (void)state;
    for (int i = 0; i < 256; i++)
        all[i] = (unsigned char)i;
    attr_set(out, "all_bytes", all, sizeof(all));
    attr_set_str(out, "reason", "line one\nline two\r\n");
    attr_set(out, "nul_inside", "a\0b", 3);
    attr_set_str(out, "empty", "");
    attr_set_int(out, "offset", -1234567890123LL);
    attr_set_str(out, "high", "caf\xc3\xa9 \xff\xfe");
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    w = vstream_fdopen(fds[0], VSTREAM_WRITE);
    r = vstream_fdopen(fds[1], VSTREAM_READ);
    vstream_set_timeout(r, 2000);
    assert_int_equal(attr_write(w, out), 0);
    assert_int_equal(attr_write(w, out), 0); /* two lists back to back */
    assert_int_equal(vstream_flush(w), 0);

    for (int round = 0; round < 2; round++) {
        assert_int_equal(attr_read(r, in, NULL, &err), ATTR_OK);
        assert_int_equal(in->count, 6);
        a = attr_find(in, "all_bytes");
        assert_non_null(a);
        assert_int_equal(a->len, 256);
        assert_memory_equal(a->value, all, 256);
        assert_string_equal(attr_get(in, "reason"), "line one\nline two\r\n");
        a = attr_find(in, "nul_inside");
        assert_int_equal(a->len, 3);
        assert_memory_equal(a->value, "a\0b", 3);
        assert_null(attr_get(in, "nul_inside")); /* not usable as a C string */
        assert_string_equal(attr_get(in, "empty"), "");
        assert_string_equal(attr_get(in, "high"), "caf\xc3\xa9 \xff\xfe");
        /* Order is kept. */
        assert_string_equal(in->items[0].name, "all_bytes");
        assert_string_equal(in->items[5].name, "high");
    }
    vstream_close(w);
    assert_int_equal(attr_read(r, in, NULL, &err), ATTR_EOF);
    vstream_close(r);
    attr_list_free(out);
    attr_list_free(in);
    vstr_release(&err);
}

static void wire_format_is_as_documented(void **state)
{
    attr_list *list = attr_list_new();
    char path[] = "/tmp/attr_test.XXXXXX";
    int fd = mkstemp(path);
    vstream *s = vstream_fdopen(fd, VSTREAM_READ | VSTREAM_WRITE);
    static const char expect[] = "queue_id\0"
                                 "6:4Xb1Qz,"
                                 "index\0"
                                 "1:0,"
                                 "v\0"
                                 "0:,"
                                 "\0";
    char got[64];
    size_t n;

    (void)state;
    unlink(path);
    attr_set_str(list, "queue_id", "4Xb1Qz");
    attr_set_int(list, "index", 0);
    attr_set_str(list, "v", "old");
    attr_set_str(list, "v", ""); /* replaces, keeps its place */
    assert_int_equal(attr_write(s, list), 0);
    assert_int_equal(vstream_seek(s, 0, SEEK_SET), 0);
    assert_int_equal(vstream_read_exact(s, got, sizeof(got), &n), VSTREAM_EOF);
    assert_int_equal(n, sizeof(expect) - 1);
    assert_memory_equal(got, expect, n);
    vstream_close(s);
    attr_list_free(list);
}

static void empty_list_and_unknown_attributes(void **state)
{
    attr_list *list = attr_list_new();
    long long v;

    (void)state;
    assert_int_equal(DECODE("\0", list, NULL, NULL), ATTR_OK);
    assert_int_equal(list->count, 0);
    assert_int_equal(DECODE("future_thing\0"
                            "3:xyz,"
                            "index\0"
                            "2:17,"
                            "\0",
                            list, NULL, NULL),
                     ATTR_OK);
    assert_int_equal(attr_get_int(list, "index", 0, 100, &v), ATTR_OK);
    assert_int_equal(v, 17);
    assert_string_equal(attr_get(list, "future_thing"), "xyz");
    assert_null(attr_find(list, "absent"));
    attr_list_free(list);
}

static void integers_are_strict(void **state)
{
    attr_list *list = attr_list_new();
    long long v = 42;

    (void)state;
    attr_set_int(list, "max", LLONG_MAX);
    attr_set_int(list, "min", LLONG_MIN);
    attr_set_str(list, "space", " 1");
    attr_set_str(list, "plus", "+1");
    attr_set_str(list, "trail", "1x");
    attr_set_str(list, "empty", "");
    attr_set_str(list, "minus", "-");
    attr_set_str(list, "huge", "99999999999999999999");
    attr_set(list, "nul", "1\0002", 3);
    attr_set_int(list, "seven", 7);
    assert_int_equal(attr_get_int(list, "max", LLONG_MIN, LLONG_MAX, &v), ATTR_OK);
    assert_true(v == LLONG_MAX);
    assert_int_equal(attr_get_int(list, "min", LLONG_MIN, LLONG_MAX, &v), ATTR_OK);
    assert_true(v == LLONG_MIN);
    v = 42;
    assert_int_equal(attr_get_int(list, "space", 0, 9, &v), ATTR_ERR_VALUE);
    assert_int_equal(attr_get_int(list, "plus", 0, 9, &v), ATTR_ERR_VALUE);
    assert_int_equal(attr_get_int(list, "trail", 0, 9, &v), ATTR_ERR_VALUE);
    assert_int_equal(attr_get_int(list, "empty", 0, 9, &v), ATTR_ERR_VALUE);
    assert_int_equal(attr_get_int(list, "minus", -9, 9, &v), ATTR_ERR_VALUE);
    assert_int_equal(attr_get_int(list, "huge", 0, LLONG_MAX, &v), ATTR_ERR_VALUE);
    assert_int_equal(attr_get_int(list, "nul", 0, 100, &v), ATTR_ERR_VALUE);
    assert_int_equal(attr_get_int(list, "seven", 0, 6, &v), ATTR_ERR_VALUE);
    assert_int_equal(attr_get_int(list, "seven", 8, 9, &v), ATTR_ERR_VALUE);
    assert_int_equal(attr_get_int(list, "absent", 0, 9, &v), ATTR_ERR_MISSING);
    assert_int_equal(v, 42);
    assert_int_equal(attr_get_int(list, "seven", 7, 7, &v), ATTR_OK);
    assert_int_equal(v, 7);
    attr_list_free(list);
}

static void expect_error(const char *data, size_t len, const attr_limits *limits, attr_status want,
                         const char *text)
{
    attr_list *list = attr_list_new();
    vstr err = VSTR_INIT;

    assert_int_equal(decode(data, len, list, limits, &err), want);
    if (want != ATTR_OK)
        assert_int_equal(list->count, 0); /* nothing half-read is left */
    if (text && strstr(vstr_str(&err), text) == NULL)
        fail_msg("error \"%s\" lacks \"%s\"", vstr_str(&err), text);
    assert_non_null(attr_strerror(want));
    attr_list_free(list);
    vstr_release(&err);
}

#define EXPECT(lit, limits, want, text) expect_error(lit, sizeof(lit) - 1, limits, want, text)

static void truncated_input_is_reported(void **state)
{
    static const char full[] = "a\0"
                               "3:xyz,"
                               "b\0"
                               "1:q,"
                               "\0";

    (void)state;
    EXPECT("", NULL, ATTR_EOF, NULL);
    /* Every proper prefix of a valid list but the empty one is truncated. */
    for (size_t n = 1; n < sizeof(full) - 1; n++)
        expect_error(full, n, NULL, ATTR_ERR_TRUNCATED, "input ended");
    expect_error(full, sizeof(full) - 1, NULL, ATTR_OK, NULL);
}

static void malformed_input_is_a_syntax_error(void **state)
{
    (void)state;
    EXPECT("na me\0"
           "1:x,\0",
           NULL, ATTR_ERR_SYNTAX, "0x20 in name");
    EXPECT("\n\0", NULL, ATTR_ERR_SYNTAX, "0x0a");
    EXPECT("a\0"
           "x:1,\0",
           NULL, ATTR_ERR_SYNTAX, "in length");
    EXPECT("a\0"
           ":,\0",
           NULL, ATTR_ERR_SYNTAX, "empty length");
    EXPECT("a\0"
           "01:x,\0",
           NULL, ATTR_ERR_SYNTAX, "leading zero");
    EXPECT("a\0"
           "-1:x,\0",
           NULL, ATTR_ERR_SYNTAX, NULL);
    EXPECT("a\0"
           "1:xy\0",
           NULL, ATTR_ERR_SYNTAX, "after value");
    EXPECT("a\0"
           "1:x,a\0"
           "1:y,\0",
           NULL, ATTR_ERR_DUPLICATE, "\"a\" appears twice");
}

static void bounds_are_enforced_before_allocation(void **state)
{
    attr_limits small = {3, 8, 16, 40};

    (void)state;
    /* Within every bound. */
    EXPECT("a\0"
           "16:0123456789abcdef,"
           "bb\0"
           "2:xy,"
           "\0",
           &small, ATTR_OK, NULL);
    EXPECT("a\0"
           "17:0123456789abcdefg,\0",
           &small, ATTR_ERR_LIMIT, "value length 17 over limit 16");
    /* An absurd length is refused from the digits alone. */
    EXPECT("a\0"
           "99999999999999999999999999:",
           NULL, ATTR_ERR_LIMIT, "length");
    EXPECT("a\0"
           "18446744073709551615:",
           NULL, ATTR_ERR_LIMIT, "over limit");
    EXPECT("name9chars\0"
           "0:,\0",
           &small, ATTR_ERR_LIMIT, "longer than 8");
    EXPECT("a\0"
           "0:,b\0"
           "0:,c\0"
           "0:,d\0"
           "0:,\0",
           &small, ATTR_ERR_LIMIT, "more than 3 attributes");
    EXPECT("a\0"
           "16:0123456789abcdef,"
           "b\0"
           "16:0123456789abcdef,"
           "c\0"
           "16:0123456789abcdef,\0",
           &small, ATTR_ERR_LIMIT, "list longer than 40");
}

static void too_many_attributes_with_default_limits(void **state)
{
    vstr data = VSTR_INIT;
    attr_list *list = attr_list_new();
    vstr err = VSTR_INIT;

    (void)state;
    for (size_t i = 0; i <= attr_default_limits.max_count; i++) {
        vstr_append_fmt(&data, "n%zu", i);
        vstr_append(&data,
                    "\0"
                    "1:x,",
                    5);
    }
    vstr_append_char(&data, 0);
    assert_int_equal(decode(vstr_str(&data), vstr_len(&data), list, NULL, &err), ATTR_ERR_LIMIT);
    assert_non_null(strstr(vstr_str(&err), "more than 1024"));
    attr_list_free(list);
    vstr_release(&data);
    vstr_release(&err);
}

static void read_timeout_is_reported(void **state)
{
    int fds[2];
    vstream *r;
    attr_list *list = attr_list_new();
    vstr err = VSTR_INIT;

    (void)state;
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    assert_int_equal(write(fds[0],
                           "a\0"
                           "3:x",
                           5),
                     5); /* and then silence */
    r = vstream_fdopen(fds[1], VSTREAM_READ);
    vstream_set_timeout(r, 50);
    assert_int_equal(attr_read(r, list, NULL, &err), ATTR_ERR_TIMEOUT);
    assert_non_null(strstr(vstr_str(&err), "timeout"));
    vstream_close(r);
    close(fds[0]);
    attr_list_free(list);
    vstr_release(&err);
}

static void trickling_peer_cannot_stretch_the_deadline(void **state)
{
    static const char list[] = "a_long_attribute_name\0"
                               "5:value,\0";
    int fds[2];
    vstream *r;
    attr_list *in = attr_list_new();
    vstr err = VSTR_INIT;
    int64_t start, elapsed;
    pid_t pid;

    (void)state;
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    if ((pid = fork()) == 0) {
        /* One byte every 20 ms: each within the timeout, the list not. */
        close(fds[1]);
        for (size_t i = 0; i < sizeof(list) - 1; i++) {
            if (send(fds[0], list + i, 1, MSG_NOSIGNAL) != 1)
                _exit(0);
            poll(NULL, 0, 20);
        }
        _exit(0);
    }
    close(fds[0]);
    r = vstream_fdopen(fds[1], VSTREAM_READ);
    vstream_set_timeout(r, 100);
    start = clock_mono_ms();
    assert_int_equal(attr_read(r, in, NULL, &err), ATTR_ERR_TIMEOUT);
    elapsed = clock_mono_ms() - start;
    assert_true(elapsed >= 95 && elapsed < 400);
    vstream_close(r);
    waitpid(pid, NULL, 0);
    attr_list_free(in);
    vstr_release(&err);
}

static void names_are_checked(void **state)
{
    (void)state;
    assert_true(attr_name_valid("queue_id"));
    assert_true(attr_name_valid("x-y.z_0"));
    assert_false(attr_name_valid(""));
    assert_false(attr_name_valid("a b"));
    assert_false(attr_name_valid("a=b"));
    assert_false(attr_name_valid("caf\xc3\xa9"));
}

static void write_error_is_reported(void **state)
{
    int fds[2];
    vstream *w;
    attr_list *list = attr_list_new();

    (void)state;
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    close(fds[1]);
    w = vstream_fdopen(fds[0], VSTREAM_WRITE);
    attr_set_str(list, "a", "b");
    /* Buffered, so the failure shows at the flush, or at once if large. */
    assert_true(attr_write(w, list) < 0 || vstream_flush(w) < 0);
    assert_true(vstream_error(w));
    assert_int_equal(attr_write(w, list), -1);
    vstream_close(w);
    attr_list_free(list);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(any_bytes_survive_a_round_trip_over_a_socket),
        cmocka_unit_test(wire_format_is_as_documented),
        cmocka_unit_test(empty_list_and_unknown_attributes),
        cmocka_unit_test(integers_are_strict),
        cmocka_unit_test(truncated_input_is_reported),
        cmocka_unit_test(malformed_input_is_a_syntax_error),
        cmocka_unit_test(bounds_are_enforced_before_allocation),
        cmocka_unit_test(too_many_attributes_with_default_limits),
        cmocka_unit_test(read_timeout_is_reported),
        cmocka_unit_test(trickling_peer_cannot_stretch_the_deadline),
        cmocka_unit_test(names_are_checked),
        cmocka_unit_test(write_error_is_reported),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
