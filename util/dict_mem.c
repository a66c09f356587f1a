/*
 * dict_mem - a table of strings held in memory, for types read whole at open
 */
#include "util/dict_mem.h"
#include "util/mem.h"

static int dict_mem_lookup(dict *d, const char *key, vstr *value)
{
    const char *v = htable_find(((dict_mem *)d)->table, key);

    if (v == NULL)
        return DICT_NOTFOUND;
    vstr_set_str(value, v);
    return DICT_FOUND;
}

int dict_mem_update(dict *d, const char *key, const char *value)
{
    dict_mem *dm = (dict_mem *)d;
    htable_entry *e = htable_locate(dm->table, key);

    if (e == NULL) {
        htable_enter(dm->table, key, mem_strdup(value));
        return DICT_FOUND;
    }
    if (!(d->flags & DICT_FLAG_DUP_REPLACE))
        return DICT_DUPLICATE;
    mem_free(e->value);
    e->value = mem_strdup(value);
    return DICT_FOUND;
}

static int dict_mem_sequence(dict *d, int how, vstr *key, vstr *value)
{
    dict_mem *dm = (dict_mem *)d;

    if (how == DICT_SEQ_FIRST) {
        mem_free(dm->list);
        dm->list = htable_list(dm->table);
        dm->next = 0;
    }
    if (dm->list == NULL || dm->list[dm->next] == NULL)
        return DICT_NOTFOUND;
    vstr_set_str(key, dm->list[dm->next]->key);
    vstr_set_str(value, dm->list[dm->next]->value);
    dm->next++;
    return DICT_FOUND;
}

static int dict_mem_close(dict *d, int commit)
{
    dict_mem *dm = (dict_mem *)d;

    (void)commit;
    mem_free(dm->list);
    htable_free(dm->table, mem_free);
    return 0;
}

dict_mem *dict_mem_alloc(const char *type, const char *name, int open_flags, int dict_flags)
{
    dict_mem *dm = (dict_mem *)dict_alloc(sizeof(*dm), type, name, open_flags,
                                          dict_flags | DICT_FLAG_FOLD_KEY);

    dm->table = htable_new(64);
    dm->dict.lookup = dict_mem_lookup;
    dm->dict.sequence = dict_mem_sequence;
    dm->dict.close = dict_mem_close;
    return dm;
}
