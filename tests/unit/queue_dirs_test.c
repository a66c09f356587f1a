/* Unit tests for global/queue_dirs: the table postern init and check share. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "global/queue_dirs.h"

static void table_has_every_queue_directory_once(void **state)
{
    static const char *const expected[] = {
        "",       "maildrop", "incoming", "active", "deferred", "hold", "corrupt",
        "bounce", "defer",    "trace",    "public", "private",  "pid",  NULL,
    };
    size_t n = 0;

    (void)state;
    for (const queue_dir *d = queue_dirs; d->name; d++, n++) {
        assert_non_null(expected[n]);
        assert_string_equal(d->name, expected[n]);
    }
    assert_null(expected[n]);
}

static void modes_and_owners_match_postfix(void **state)
{
    const queue_dir *d;

    (void)state;
    d = queue_dir_find("maildrop");
    assert_non_null(d);
    assert_int_equal(d->mode, 01770);
    assert_int_equal(d->owner, QUEUE_OWNER_MAIL);
    assert_true(d->setgid_group);
    d = queue_dir_find("public");
    assert_int_equal(d->mode, 0710);
    assert_true(d->setgid_group);
    d = queue_dir_find("private");
    assert_int_equal(d->mode, 0700);
    assert_false(d->setgid_group);
    d = queue_dir_find("");
    assert_int_equal(d->owner, QUEUE_OWNER_MASTER);
    assert_int_equal(queue_dir_find("pid")->owner, QUEUE_OWNER_MASTER);
    assert_int_equal(queue_dir_find("deferred")->mode, 0700);
    assert_null(queue_dir_find("saved"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(table_has_every_queue_directory_once),
        cmocka_unit_test(modes_and_owners_match_postfix),
    };
    return cmocka_run_group_tests_name("queue_dirs", tests, NULL, NULL);
}
