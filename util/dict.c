/*
 * dict - lookup tables: the type registry and the operations every caller uses
 *
 * The per-type code lives in dict_TYPE.c; this file finds the type for a
 * "type:name" string, folds keys for indexed types, and keeps the error
 * text. A type added later is one line in dict_builtin_types[] (or a
 * dict_register() call from code outside util/).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "util/dict.h"
#include "util/dict_db.h"
#include "util/dict_fail.h"
#include "util/dict_inline.h"
#include "util/dict_cidr.h"
#include "util/dict_lmdb.h"
#include "util/dict_pcre.h"
#include "util/dict_regexp.h"
#include "util/dict_static.h"
#include "util/dict_texthash.h"
#include "util/dict_unix.h"
#include "util/mem.h"

typedef struct dict_type {
    const char *name;
    dict_open_fn open;
} dict_type;

static const dict_type dict_builtin_types[] = {
    {"hash", dict_hash_open},     {"btree", dict_btree_open}, {"static", dict_static_open},
    {"inline", dict_inline_open}, {"fail", dict_fail_open},     {"lmdb", dict_lmdb_open},
    {"texthash", dict_texthash_open}, {"pcre", dict_pcre_open}, {"regexp", dict_regexp_open},
    {"cidr", dict_cidr_open},     {"unix", dict_unix_open},
};
#define DICT_BUILTIN_COUNT (sizeof(dict_builtin_types) / sizeof(dict_builtin_types[0]))

/* Types added by dict_register(); set up at program start, before any
 * table is opened, and read-only afterwards. */
#define DICT_EXTRA_MAX 16
static dict_type dict_extra_types[DICT_EXTRA_MAX];
static size_t dict_extra_count;

static const dict_type *dict_type_find(const char *type)
{
    for (size_t i = 0; i < DICT_BUILTIN_COUNT; i++)
        if (strcmp(dict_builtin_types[i].name, type) == 0)
            return &dict_builtin_types[i];
    for (size_t i = 0; i < dict_extra_count; i++)
        if (strcmp(dict_extra_types[i].name, type) == 0)
            return &dict_extra_types[i];
    return NULL;
}

int dict_register(const char *type, dict_open_fn open_fn)
{
    if (dict_type_find(type) != NULL || dict_extra_count >= DICT_EXTRA_MAX)
        return -1;
    dict_extra_types[dict_extra_count].name = mem_strdup(type);
    dict_extra_types[dict_extra_count].open = open_fn;
    dict_extra_count++;
    return 0;
}

int dict_type_known(const char *type)
{
    return dict_type_find(type) != NULL;
}

argv_t *dict_type_names(void)
{
    argv_t *names = argv_new();

    for (size_t i = 0; i < DICT_BUILTIN_COUNT; i++)
        argv_add(names, dict_builtin_types[i].name);
    for (size_t i = 0; i < dict_extra_count; i++)
        argv_add(names, dict_extra_types[i].name);
    return names;
}

dict *dict_open3(const char *type, const char *name, int open_flags, int dict_flags, vstr *err)
{
    const dict_type *t = dict_type_find(type);

    if (t == NULL) {
        vstr_set_fmt(err, "unsupported dictionary type: %s", type);
        return NULL;
    }
    if (open_flags & O_TRUNC)
        dict_flags |= DICT_FLAG_BULK;
    return t->open(name, open_flags, dict_flags, err);
}

dict *dict_open(const char *spec, int open_flags, int dict_flags, vstr *err)
{
    const char *colon = strchr(spec, ':');
    char *type;
    dict *d;

    if (colon == NULL || colon == spec) {
        vstr_set_fmt(err, "need dictionary type:name, got \"%s\"", spec);
        return NULL;
    }
    type = mem_strndup(spec, (size_t)(colon - spec));
    d = dict_open3(type, colon + 1, open_flags, dict_flags, err);
    mem_free(type);
    return d;
}

dict *dict_alloc(size_t size, const char *type, const char *name, int open_flags, int dict_flags)
{
    dict *d = mem_calloc(1, size);

    d->type = mem_strdup(type);
    d->name = mem_strdup(name);
    d->open_flags = open_flags;
    d->flags = dict_flags;
    vstr_init(&d->error);
    vstr_init(&d->fold);
    return d;
}

void dict_free(dict *d)
{
    mem_free(d->type);
    mem_free(d->name);
    mem_free(d->file);
    vstr_release(&d->error);
    vstr_release(&d->fold);
    mem_free(d);
}

int dict_set_error(dict *d, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vstr_reset(&d->error);
    vstr_append_vfmt(&d->error, fmt, ap);
    va_end(ap);
    return DICT_ERROR;
}

void dict_identify(dict *d, const char *path, const struct stat *st)
{
    mem_free(d->file);
    d->file = mem_strdup(path);
    d->dev = st->st_dev;
    d->ino = st->st_ino;
    d->mtime = st->st_mtim;
    d->size = st->st_size;
    d->owner_uid = st->st_uid;
    d->owner_gid = st->st_gid;
}

void dict_set_file(dict *d, const char *path, int fd)
{
    struct stat st;

    if (fstat(fd, &st) == 0) {
        dict_identify(d, path, &st);
    } else {
        mem_free(d->file);
        d->file = mem_strdup(path);
    }
}

/* The key as the table stores it: folded for indexed types. */
static const char *dict_key(dict *d, const char *key)
{
    if (!(d->flags & DICT_FLAG_FOLD_KEY))
        return key;
    vstr_set_str(&d->fold, key);
    vstr_lower(&d->fold);
    return vstr_str(&d->fold);
}

int dict_lookup(dict *d, const char *key, vstr *value)
{
    vstr_reset(value);
    return d->lookup(d, dict_key(d, key), value);
}

int dict_update(dict *d, const char *key, const char *value)
{
    if (d->update == NULL)
        return dict_set_error(d, "%s:%s: table does not support updates", d->type, d->name);
    return d->update(d, dict_key(d, key), value);
}

int dict_remove(dict *d, const char *key)
{
    if (d->remove == NULL)
        return dict_set_error(d, "%s:%s: table does not support deletes", d->type, d->name);
    return d->remove(d, dict_key(d, key));
}

int dict_sequence(dict *d, int how, vstr *key, vstr *value)
{
    if (d->sequence == NULL)
        return dict_set_error(d, "%s:%s: table does not support sequencing", d->type, d->name);
    return d->sequence(d, how, key, value);
}

const char *dict_error(const dict *d)
{
    return vstr_len(&d->error) ? vstr_str(&d->error) : "unknown error";
}

int dict_changed(const dict *d)
{
    struct stat st;

    if (d->file == NULL)
        return 0;
    if (stat(d->file, &st) < 0)
        return 1;
    return st.st_dev != d->dev || st.st_ino != d->ino || st.st_size != d->size ||
           st.st_mtim.tv_sec != d->mtime.tv_sec || st.st_mtim.tv_nsec != d->mtime.tv_nsec;
}

int dict_close(dict *d, vstr *err)
{
    int status = d->close(d, 1);

    if (status < 0 && err != NULL)
        vstr_set_str(err, dict_error(d));
    dict_free(d);
    return status;
}

void dict_discard(dict *d)
{
    (void)d->close(d, 0);
    dict_free(d);
}
