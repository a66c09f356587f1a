/*
 * dict_texthash - texthash:FILE, a postmap(1) source file read into memory
 *
 * What "postmap hash:FILE" would build, without building it: "key value"
 * lines (util/dict_source), keys folded to lower case, the first of
 * duplicate keys kept with a warning. Read-only: edit the file. Handy
 * for small tables and for programs that must not depend on a .db being
 * rebuilt; a changed file is noticed by dict_changed().
 */
#include <fcntl.h>
#include <string.h>

#include "util/dict_source.h"
#include "util/dict_texthash.h"
#include "util/htable.h"
#include "util/mem.h"

typedef struct dict_texthash {
    dict dict;
    htable *table;
    htable_entry **list; /* for sequence */
    size_t next;
} dict_texthash;

static int dict_texthash_lookup(dict *d, const char *key, vstr *value)
{
    const char *v = htable_find(((dict_texthash *)d)->table, key);

    if (v == NULL)
        return DICT_NOTFOUND;
    vstr_set_str(value, v);
    return DICT_FOUND;
}

/* Used while loading only. */
static int dict_texthash_update(dict *d, const char *key, const char *value)
{
    dict_texthash *dt = (dict_texthash *)d;
    htable_entry *e = htable_locate(dt->table, key);

    if (e == NULL) {
        htable_enter(dt->table, key, mem_strdup(value));
        return DICT_FOUND;
    }
    if (!(d->flags & DICT_FLAG_DUP_REPLACE))
        return DICT_DUPLICATE;
    mem_free(e->value);
    e->value = mem_strdup(value);
    return DICT_FOUND;
}

static int dict_texthash_sequence(dict *d, int how, vstr *key, vstr *value)
{
    dict_texthash *dt = (dict_texthash *)d;

    if (how == DICT_SEQ_FIRST) {
        mem_free(dt->list);
        dt->list = htable_list(dt->table);
        dt->next = 0;
    }
    if (dt->list == NULL || dt->list[dt->next] == NULL)
        return DICT_NOTFOUND;
    vstr_set_str(key, dt->list[dt->next]->key);
    vstr_set_str(value, dt->list[dt->next]->value);
    dt->next++;
    return DICT_FOUND;
}

static int dict_texthash_close(dict *d, int commit)
{
    dict_texthash *dt = (dict_texthash *)d;

    (void)commit;
    mem_free(dt->list);
    htable_free(dt->table, mem_free);
    return 0;
}

dict *dict_texthash_open(const char *name, int open_flags, int dict_flags, vstr *err)
{
    dict_texthash *dt;
    dict_source src;
    vstr why = VSTR_INIT;
    long entries;

    if ((open_flags & O_ACCMODE) != O_RDONLY) {
        vstr_set_fmt(err, "texthash:%s: the table is read-only: edit the file instead", name);
        return NULL;
    }
    if (dict_source_load(&src, name, &why) < 0) {
        vstr_set_fmt(err, "texthash:%s", vstr_str(&why));
        vstr_release(&why);
        return NULL;
    }
    dt = (dict_texthash *)dict_alloc(sizeof(*dt), "texthash", name, open_flags,
                                     dict_flags | DICT_FLAG_FOLD_KEY);
    dt->table = htable_new(64);
    dt->dict.update = dict_texthash_update;
    dt->dict.close = dict_texthash_close;
    if (dict_source_fill(&src, &dt->dict, 0, &entries, &why) < 0) {
        vstr_set_fmt(err, "texthash:%s", vstr_str(&why));
        dict_source_free(&src);
        vstr_release(&why);
        dict_discard(&dt->dict);
        return NULL;
    }
    dict_source_identify(&src, &dt->dict);
    dict_source_free(&src);
    vstr_release(&why);
    dt->dict.update = NULL;
    dt->dict.lookup = dict_texthash_lookup;
    dt->dict.sequence = dict_texthash_sequence;
    return &dt->dict;
}
