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

#include "util/dict_mem.h"
#include "util/dict_source.h"
#include "util/dict_texthash.h"

dict *dict_texthash_open(const char *name, int open_flags, int dict_flags, vstr *err)
{
    dict_mem *dt;
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
    dt = dict_mem_alloc("texthash", name, open_flags, dict_flags);
    dt->dict.update = dict_mem_update; /* while loading */
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
    return &dt->dict;
}
