/* Unit tests for util/vstr: growth, formatting, embedded NULs, trimming. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "util/vstr.h"

static void empty_vstr_reads_as_empty_string(void **state)
{
    vstr v = VSTR_INIT;

    (void)state;
    assert_string_equal(vstr_str(&v), "");
    assert_int_equal(vstr_len(&v), 0);
    vstr_release(&v);
}

static void append_grows_across_many_reallocations(void **state)
{
    vstr *v = vstr_new(0);

    (void)state;
    for (int i = 0; i < 100000; i++)
        vstr_append_char(v, 'a' + i % 26);
    assert_int_equal(vstr_len(v), 100000);
    assert_int_equal(vstr_str(v)[100000], 0);
    assert_int_equal(vstr_str(v)[26], 'a');
    vstr_free(v);
}

static void embedded_nul_bytes_are_kept(void **state)
{
    vstr v = VSTR_INIT;

    (void)state;
    vstr_append(&v, "a\0b", 3);
    assert_int_equal(vstr_len(&v), 3);
    assert_memory_equal(vstr_str(&v), "a\0b", 3);
    assert_false(vstr_equals(&v, "a"));
    vstr_release(&v);
}

static void formatting_longer_than_first_buffer(void **state)
{
    vstr v = VSTR_INIT;
    char big[1000];

    (void)state;
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    vstr_set_str(&v, "<");
    vstr_append_fmt(&v, "%s>%d", big, 42);
    assert_int_equal(vstr_len(&v), 1 + 999 + 3);
    assert_string_equal(vstr_str(&v) + 1000, ">42");
    vstr_set_fmt(&v, "%s", "short");
    assert_true(vstr_equals(&v, "short"));
    vstr_release(&v);
}

static void trim_and_lower(void **state)
{
    vstr v = VSTR_INIT;

    (void)state;
    vstr_set_str(&v, " \t MiXeD Case \n");
    vstr_trim(&v);
    vstr_lower(&v);
    assert_string_equal(vstr_str(&v), "mixed case");
    vstr_set_str(&v, "   ");
    vstr_trim(&v);
    assert_int_equal(vstr_len(&v), 0);
    vstr_release(&v);
}

static void steal_hands_over_buffer(void **state)
{
    vstr v = VSTR_INIT;
    char *s;

    (void)state;
    s = vstr_steal(&v);
    assert_string_equal(s, "");
    free(s);
    vstr_set_str(&v, "kept");
    s = vstr_steal(&v);
    assert_string_equal(s, "kept");
    assert_int_equal(vstr_len(&v), 0);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(empty_vstr_reads_as_empty_string),
        cmocka_unit_test(append_grows_across_many_reallocations),
        cmocka_unit_test(embedded_nul_bytes_are_kept),
        cmocka_unit_test(formatting_longer_than_first_buffer),
        cmocka_unit_test(trim_and_lower),
        cmocka_unit_test(steal_hands_over_buffer),
    };
    return cmocka_run_group_tests_name("vstr", tests, NULL, NULL);
}
