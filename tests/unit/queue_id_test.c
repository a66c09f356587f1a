/* Unit tests for global/queue_id: layout, round trip, uniqueness, validation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "global/queue_id.h"

static void id_has_fixed_time_part_and_alphanumeric_digits(void **state)
{
    char id[QUEUE_ID_SIZE];
    size_t len;

    (void)state;
    len = queue_id_make(id, 0, 0, 0);
    assert_string_equal(id, "00000000000");
    assert_int_equal(len, 11);
    len = queue_id_make(id, 1700000000, 999999, 61);
    assert_int_equal(len, 11);
    assert_int_equal(id[10], 'z');
    assert_true(queue_id_valid(id));
    len = queue_id_make(id, 56800235583LL, 999999, UINT64_MAX);
    assert_int_equal(len, 21);
    assert_true(queue_id_valid(id));
    for (size_t i = 0; i < len; i++)
        assert_true((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'A' && id[i] <= 'Z') ||
                    (id[i] >= 'a' && id[i] <= 'z'));
}

static void parse_returns_what_make_encoded(void **state)
{
    static const struct {
        long long sec;
        long usec;
        uint64_t ino;
    } cases[] = {
        {0, 0, 0},
        {1, 1, 1},
        {1700000000, 123456, 4242},
        {1763830000, 999999, 987654321012ULL},
        {56800235583LL, 0, UINT64_MAX},
    };
    char id[QUEUE_ID_SIZE];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        long long sec;
        long usec;
        uint64_t ino;

        queue_id_make(id, cases[i].sec, cases[i].usec, cases[i].ino);
        assert_int_equal(queue_id_parse(id, &sec, &usec, &ino), 0);
        assert_int_equal(sec, cases[i].sec);
        assert_int_equal(usec, cases[i].usec);
        assert_true(ino == cases[i].ino);
    }
}

static void distinct_inodes_at_one_instant_give_distinct_ids(void **state)
{
    char a[QUEUE_ID_SIZE], b[QUEUE_ID_SIZE];

    (void)state;
    /* Consecutive inodes, and an inode part growing by a digit, never collide. */
    for (uint64_t i = 0; i < 5000; i++) {
        queue_id_make(a, 1700000000, 5, i);
        queue_id_make(b, 1700000000, 5, i + 1);
        assert_string_not_equal(a, b);
    }
    queue_id_make(a, 1700000000, 5, 62);
    queue_id_make(b, 1700000000, 6, 0);
    assert_string_not_equal(a, b);
}

static void later_time_sorts_later(void **state)
{
    char a[QUEUE_ID_SIZE], b[QUEUE_ID_SIZE];

    (void)state;
    queue_id_make(a, 1700000000, 999999, 7);
    queue_id_make(b, 1700000001, 0, 7);
    assert_true(strcmp(a, b) < 0);
}

static void validation_accepts_only_short_alphanumeric_names(void **state)
{
    char longest[QUEUE_ID_MAX + 2];

    (void)state;
    assert_true(queue_id_valid("A"));
    assert_true(queue_id_valid("4Xb1zz09"));
    assert_false(queue_id_valid(""));
    assert_false(queue_id_valid(NULL));
    assert_false(queue_id_valid(".t1234"));
    assert_false(queue_id_valid("abc-def"));
    assert_false(queue_id_valid("abc/def"));
    assert_false(queue_id_valid("abc\xc3\xa9"));
    memset(longest, 'a', QUEUE_ID_MAX);
    longest[QUEUE_ID_MAX] = 0;
    assert_true(queue_id_valid(longest));
    longest[QUEUE_ID_MAX] = 'a';
    longest[QUEUE_ID_MAX + 1] = 0;
    assert_false(queue_id_valid(longest));
}

static void parse_rejects_foreign_layouts(void **state)
{
    (void)state;
    assert_int_equal(queue_id_parse("ABC", NULL, NULL, NULL), -1);
    assert_int_equal(queue_id_parse("0000000000", NULL, NULL, NULL), -1);   /* no inode */
    assert_int_equal(queue_id_parse("000000zzzz1", NULL, NULL, NULL), -1);  /* usec too big */
    assert_int_equal(queue_id_parse("000000000001", NULL, NULL, NULL), -1); /* leading zero */
    assert_int_equal(queue_id_parse("00000000001", NULL, NULL, NULL), 0);
    assert_int_equal(queue_id_parse("0000000000zzzzzzzzzzzz", NULL, NULL, NULL), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(id_has_fixed_time_part_and_alphanumeric_digits),
        cmocka_unit_test(parse_returns_what_make_encoded),
        cmocka_unit_test(distinct_inodes_at_one_instant_give_distinct_ids),
        cmocka_unit_test(later_time_sorts_later),
        cmocka_unit_test(validation_accepts_only_short_alphanumeric_names),
        cmocka_unit_test(parse_rejects_foreign_layouts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
