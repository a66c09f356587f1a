/*
 * dict_static - static:VALUE, a table that maps every key to VALUE
 *
 * static:{text with spaces} drops the braces (and the white space just
 * inside them), so that a value can hold the characters that would end
 * it in a list of tables.
 */
#include <string.h>

#include "util/dict_static.h"
#include "util/mem.h"

typedef struct dict_static {
    dict dict;
    char *value;
} dict_static;

static int dict_static_lookup(dict *d, const char *key, vstr *value)
{
    (void)key;
    vstr_set_str(value, ((dict_static *)d)->value);
    return DICT_FOUND;
}

static int dict_static_close(dict *d, int commit)
{
    (void)commit;
    mem_free(((dict_static *)d)->value);
    return 0;
}

dict *dict_static_open(const char *name, int open_flags, int dict_flags, vstr *err)
{
    dict_static *ds;
    vstr value = VSTR_INIT;
    size_t len = strlen(name);

    if (*name == '{') {
        if (len < 2 || name[len - 1] != '}') {
            vstr_set_fmt(err, "static:%s: missing '}'", name);
            return NULL;
        }
        vstr_set(&value, name + 1, len - 2);
        vstr_trim(&value);
    } else {
        vstr_set_str(&value, name);
    }
    ds = (dict_static *)dict_alloc(sizeof(*ds), "static", name, open_flags, dict_flags);
    ds->value = vstr_steal(&value);
    ds->dict.lookup = dict_static_lookup;
    ds->dict.close = dict_static_close;
    return &ds->dict;
}
