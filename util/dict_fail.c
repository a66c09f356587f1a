/*
 * dict_fail - fail:NAME, a table whose every lookup is an error
 *
 * Used to test how callers handle a broken table, and (through
 * dict_surrogate) in place of a table that could not be opened: the
 * reason it could not be opened is what every lookup reports, so a
 * daemon defers mail with that reason instead of exiting or, worse,
 * treating every key as unknown.
 */
#include "util/dict_fail.h"
#include "util/mem.h"

static int dict_fail_lookup(dict *d, const char *key, vstr *value)
{
    (void)d; /* d->error was set at open */
    (void)key;
    (void)value;
    return DICT_ERROR;
}

static int dict_fail_update(dict *d, const char *key, const char *value)
{
    (void)d; /* d->error was set at open */
    (void)key;
    (void)value;
    return DICT_ERROR;
}

static int dict_fail_remove(dict *d, const char *key)
{
    (void)d; /* d->error was set at open */
    (void)key;
    return DICT_ERROR;
}

static int dict_fail_sequence(dict *d, int how, vstr *key, vstr *value)
{
    (void)d; /* d->error was set at open */
    (void)how;
    (void)key;
    (void)value;
    return DICT_ERROR;
}

static int dict_fail_close(dict *d, int commit)
{
    (void)d;
    (void)commit;
    return 0;
}

static dict *dict_fail_make(const char *type, const char *name, int open_flags, int dict_flags,
                            const char *reason)
{
    dict *d = dict_alloc(sizeof(*d), type, name, open_flags, dict_flags);

    vstr_set_str(&d->error, reason);
    d->lookup = dict_fail_lookup;
    d->update = dict_fail_update;
    d->remove = dict_fail_remove;
    d->sequence = dict_fail_sequence;
    d->close = dict_fail_close;
    return d;
}

dict *dict_fail_open(const char *name, int open_flags, int dict_flags, vstr *err)
{
    vstr reason = VSTR_INIT;
    dict *d;

    (void)err;
    vstr_set_fmt(&reason, "fail:%s: table is configured to fail", name);
    d = dict_fail_make("fail", name, open_flags, dict_flags, vstr_str(&reason));
    vstr_release(&reason);
    return d;
}

dict *dict_surrogate(const char *spec, const char *reason)
{
    return dict_fail_make("surrogate", spec, 0, DICT_FLAG_NONE, reason);
}
