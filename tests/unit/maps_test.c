/* Unit tests for global/maps: table lists, search order, errors stop the search. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <fcntl.h>

#include "global/maps.h"
#include "util/msg.h"

static void list_split_keeps_braces_together(void **state)
{
    argv_t *a = maps_split(" hash:/etc/aliases,inline:{ a=b, { c = d e } }  static:{x, y},fail:z");

    (void)state;
    assert_int_equal(a->argc, 4);
    assert_string_equal(a->argv[0], "hash:/etc/aliases");
    assert_string_equal(a->argv[1], "inline:{ a=b, { c = d e } }");
    assert_string_equal(a->argv[2], "static:{x, y}");
    assert_string_equal(a->argv[3], "fail:z");
    argv_free(a);
    a = maps_split("");
    assert_int_equal(a->argc, 0);
    argv_free(a);
}

static void first_table_with_the_key_answers(void **state)
{
    maps *m = maps_open("alias_maps", "inline:{a=1}, inline:{a=2, b=3}", O_RDONLY, 0);
    vstr value = VSTR_INIT;
    dict *which = NULL;

    (void)state;
    assert_int_equal(maps_find(m, "A", &value, &which), DICT_FOUND);
    assert_string_equal(vstr_str(&value), "1");
    assert_ptr_equal(which, m->dicts[0]);
    assert_int_equal(maps_find(m, "b", &value, &which), DICT_FOUND);
    assert_string_equal(vstr_str(&value), "3");
    assert_ptr_equal(which, m->dicts[1]);
    assert_int_equal(maps_find(m, "c", &value, NULL), DICT_NOTFOUND);
    assert_false(maps_changed(m));
    maps_free(m);
    vstr_release(&value);
}

static void error_stops_the_search(void **state)
{
    maps *m = maps_open("alias_maps", "inline:{a=1}, fail:broken, static:never", O_RDONLY, 0);
    vstr value = VSTR_INIT;

    (void)state;
    assert_int_equal(maps_find(m, "a", &value, NULL), DICT_FOUND);
    assert_int_equal(maps_find(m, "other", &value, NULL), DICT_ERROR);
    assert_string_equal(maps_error(m), "alias_maps: fail:broken: table is configured to fail");
    maps_free(m);
    vstr_release(&value);
}

static void unopenable_table_becomes_an_error_not_a_miss(void **state)
{
    maps *m;
    vstr value = VSTR_INIT;

    (void)state;
    msg_use_stderr(0);
    m = maps_open("alias_maps", "hash:/nonexistent/aliases", O_RDONLY, 0);
    msg_use_stderr(1);
    assert_int_equal(m->count, 1);
    assert_int_equal(maps_find(m, "postmaster", &value, NULL), DICT_ERROR);
    assert_non_null(strstr(maps_error(m), "/nonexistent/aliases.db"));
    assert_non_null(strstr(maps_error(m), "No such file"));
    assert_true(maps_changed(m)); /* worth opening again */
    maps_free(m);
    vstr_release(&value);
}

static void empty_list_finds_nothing(void **state)
{
    maps *m = maps_open("alias_maps", "", O_RDONLY, 0);
    vstr value = VSTR_INIT;

    (void)state;
    assert_int_equal(maps_find(m, "x", &value, NULL), DICT_NOTFOUND);
    maps_free(m);
    vstr_release(&value);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(list_split_keeps_braces_together),
        cmocka_unit_test(first_table_with_the_key_answers),
        cmocka_unit_test(error_stops_the_search),
        cmocka_unit_test(unopenable_table_becomes_an_error_not_a_miss),
        cmocka_unit_test(empty_list_finds_nothing),
    };
    return cmocka_run_group_tests_name("maps", tests, NULL, NULL);
}
