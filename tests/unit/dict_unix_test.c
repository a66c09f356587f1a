/* Unit tests for util/dict_unix: passwd and group entries in /etc file shape. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <fcntl.h>

#include "util/dict.h"

static void lookup(const char *spec, const char *key, int status, const char *prefix)
{
    vstr err = VSTR_INIT, value = VSTR_INIT;
    dict *d = dict_open(spec, O_RDONLY, DICT_FLAG_NONE, &err);

    assert_non_null(d);
    assert_int_equal(dict_lookup(d, key, &value), status);
    if (prefix != NULL)
        assert_memory_equal(vstr_str(&value), prefix, strlen(prefix));
    dict_close(d, NULL);
    vstr_release(&err);
    vstr_release(&value);
}

static void test_passwd_and_group(void **state)
{
    (void)state;
    lookup("unix:passwd.byname", "ROOT", DICT_FOUND, "root:");
    lookup("unix:passwd.byname", "root", DICT_FOUND, "root:x:0:0:");
    lookup("unix:passwd.byname", "no-such-user-here", DICT_NOTFOUND, NULL);
    lookup("unix:group.byname", "root", DICT_FOUND, "root:x:0:");
    lookup("unix:group.byname", "no-such-group-here", DICT_NOTFOUND, NULL);
}

static void test_unknown_table_and_writes_refused(void **state)
{
    vstr err = VSTR_INIT;

    (void)state;
    assert_null(dict_open("unix:shadow.byname", O_RDONLY, DICT_FLAG_NONE, &err));
    assert_non_null(strstr(vstr_str(&err), "unknown table"));
    assert_null(dict_open("unix:passwd.byname", O_RDWR, DICT_FLAG_NONE, &err));
    vstr_release(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_passwd_and_group),
        cmocka_unit_test(test_unknown_table_and_writes_refused),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
