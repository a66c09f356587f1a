/* Unit tests for util/htable and util/argv. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "util/argv.h"
#include "util/htable.h"
#include "util/mem.h"

static void enter_find_delete_many_keys(void **state)
{
    htable *t = htable_new(0);
    char key[32];

    (void)state;
    for (long i = 0; i < 20000; i++) {
        snprintf(key, sizeof(key), "key%ld", i);
        assert_non_null(htable_enter(t, key, (void *)(i + 1)));
    }
    assert_int_equal(t->used, 20000);
    assert_null(htable_enter(t, "key7", NULL));
    for (long i = 0; i < 20000; i += 7) {
        snprintf(key, sizeof(key), "key%ld", i);
        assert_int_equal((long)htable_find(t, key), i + 1);
    }
    assert_true(htable_delete(t, "key5", NULL));
    assert_false(htable_delete(t, "key5", NULL));
    assert_null(htable_locate(t, "key5"));
    assert_null(htable_find(t, "absent"));
    htable_free(t, NULL);
}

static void list_returns_every_entry_once(void **state)
{
    htable *t = htable_new(4);
    htable_entry **list;
    long sum = 0;
    size_t n = 0;

    (void)state;
    htable_enter(t, "a", mem_strdup("1"));
    htable_enter(t, "b", mem_strdup("2"));
    htable_enter(t, "c", mem_strdup("3"));
    list = htable_list(t);
    for (; list[n]; n++)
        sum += atol(list[n]->value);
    assert_int_equal(n, 3);
    assert_int_equal(sum, 6);
    mem_free(list);
    htable_free(t, mem_free);
}

static void argv_split_drops_empty_fields(void **state)
{
    argv_t *a = argv_split("  one,two ,, three  ", ", ");

    (void)state;
    assert_int_equal(a->argc, 3);
    assert_string_equal(a->argv[0], "one");
    assert_string_equal(a->argv[2], "three");
    assert_null(a->argv[3]);
    argv_truncate(a, 1);
    assert_int_equal(a->argc, 1);
    assert_null(a->argv[1]);
    for (int i = 0; i < 100; i++)
        argv_add(a, "x");
    assert_int_equal(a->argc, 101);
    assert_null(a->argv[101]);
    argv_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(enter_find_delete_many_keys),
        cmocka_unit_test(list_returns_every_entry_once),
        cmocka_unit_test(argv_split_drops_empty_fields),
    };
    return cmocka_run_group_tests_name("htable", tests, NULL, NULL);
}
