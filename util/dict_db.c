/*
 * dict_db - hash: and btree: tables in Berkeley DB 5.3 files
 *
 * On disk. "TYPE:NAME" is the file NAME.db. Keys are folded to lower
 * case. Postern writes every key and value with a trailing NUL byte, as
 * Debian's Postfix does, so that .db files built by either postmap or
 * postalias work with the other. When reading, a key is tried with the
 * NUL and then without (files built elsewhere may lack it); whichever
 * form matches first is used from then on. A trailing NUL is stripped
 * from every value and sequenced key.
 *
 * Readers take no lock: a table is never changed in place. A build
 * (O_TRUNC) writes NAME.db.PID.tmp and dict_close() syncs it, fsyncs it,
 * renames it over NAME.db and fsyncs the directory, so a reader sees the
 * old table or the new one, never half of one, and a crash leaves the old
 * one (and at worst a stale .tmp file). Updates to an existing table
 * (O_RDWR without O_TRUNC) are for a single writer that the caller
 * serialises.
 */
#include <db.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util/dict_db.h"
#include "util/mem.h"

/* Berkeley DB cache: small for lookups, large enough for quick builds. */
#define DICT_DB_CACHE_READ (1024 * 1024)
#define DICT_DB_CACHE_BULK (64 * 1024 * 1024)

typedef struct dict_db {
    dict dict;
    DB *db;
    DBC *cursor;
    char *path;     /* NAME.db */
    char *tmp_path; /* bulk build: the file being written; NULL otherwise */
} dict_db;

/* Berkeley DB's own error messages repeat what its return code says. */
static void dict_db_errcall(const DB_ENV *env, const char *prefix, const char *text)
{
    (void)env;
    (void)prefix;
    (void)text;
}

static int dict_db_fsync_path(const char *path, int directory)
{
    int fd = open(path, (directory ? O_DIRECTORY : 0) | O_RDONLY | O_CLOEXEC);
    int status;

    if (fd < 0)
        return -1;
    status = fsync(fd);
    if (close(fd) < 0)
        status = -1;
    return status;
}

static void dict_db_key(const dict *d, DBT *k, const char *key, int with_nul)
{
    memset(k, 0, sizeof(*k));
    k->data = (void *)key;
    k->size = (u_int32_t)strlen(key) + (with_nul ? 1 : 0);
    (void)d;
}

/* Copy a DB datum, without a trailing NUL. */
static void dict_db_copy(vstr *out, const DBT *v)
{
    size_t len = v->size;

    if (len > 0 && ((const char *)v->data)[len - 1] == 0)
        len--;
    vstr_set(out, v->data, len);
}

static int dict_db_lookup(dict *d, const char *key, vstr *value)
{
    dict_db *dd = (dict_db *)d;
    DBT k, v;
    int ret;

    for (int with_nul = 1; with_nul >= 0; with_nul--) {
        if (!(d->flags & (with_nul ? DICT_FLAG_TRY1NULL : DICT_FLAG_TRY0NULL)))
            continue;
        dict_db_key(d, &k, key, with_nul);
        memset(&v, 0, sizeof(v));
        ret = dd->db->get(dd->db, NULL, &k, &v, 0);
        if (ret == 0) {
            d->flags &= ~(with_nul ? DICT_FLAG_TRY0NULL : DICT_FLAG_TRY1NULL);
            dict_db_copy(value, &v);
            return DICT_FOUND;
        }
        if (ret != DB_NOTFOUND)
            return dict_set_error(d, "%s:%s: lookup of \"%s\": %s", d->type, d->name, key,
                                  db_strerror(ret));
    }
    return DICT_NOTFOUND;
}

static int dict_db_update(dict *d, const char *key, const char *value)
{
    dict_db *dd = (dict_db *)d;
    int with_nul = (d->flags & DICT_FLAG_TRY1NULL) != 0;
    DBT k, v;
    int ret;

    dict_db_key(d, &k, key, with_nul);
    memset(&v, 0, sizeof(v));
    v.data = (void *)value;
    v.size = (u_int32_t)strlen(value) + (with_nul ? 1 : 0);
    ret =
        dd->db->put(dd->db, NULL, &k, &v, (d->flags & DICT_FLAG_DUP_REPLACE) ? 0 : DB_NOOVERWRITE);
    if (ret == DB_KEYEXIST)
        return DICT_DUPLICATE;
    if (ret != 0)
        return dict_set_error(d, "%s:%s: update of \"%s\": %s", d->type, d->name, key,
                              db_strerror(ret));
    return DICT_FOUND;
}

static int dict_db_remove(dict *d, const char *key)
{
    dict_db *dd = (dict_db *)d;
    int found = 0;
    DBT k;
    int ret;

    for (int with_nul = 1; with_nul >= 0; with_nul--) {
        if (!(d->flags & (with_nul ? DICT_FLAG_TRY1NULL : DICT_FLAG_TRY0NULL)))
            continue;
        dict_db_key(d, &k, key, with_nul);
        ret = dd->db->del(dd->db, NULL, &k, 0);
        if (ret == 0)
            found = 1;
        else if (ret != DB_NOTFOUND)
            return dict_set_error(d, "%s:%s: delete of \"%s\": %s", d->type, d->name, key,
                                  db_strerror(ret));
    }
    return found ? DICT_FOUND : DICT_NOTFOUND;
}

static int dict_db_sequence(dict *d, int how, vstr *key, vstr *value)
{
    dict_db *dd = (dict_db *)d;
    DBT k, v;
    int ret;

    if (how == DICT_SEQ_FIRST && dd->cursor != NULL) {
        dd->cursor->close(dd->cursor);
        dd->cursor = NULL;
    }
    if (dd->cursor == NULL) {
        if (how != DICT_SEQ_FIRST)
            return DICT_NOTFOUND;
        ret = dd->db->cursor(dd->db, NULL, &dd->cursor, 0);
        if (ret != 0)
            return dict_set_error(d, "%s:%s: cursor: %s", d->type, d->name, db_strerror(ret));
    }
    memset(&k, 0, sizeof(k));
    memset(&v, 0, sizeof(v));
    ret = dd->cursor->get(dd->cursor, &k, &v, how == DICT_SEQ_FIRST ? DB_FIRST : DB_NEXT);
    if (ret == DB_NOTFOUND) {
        dd->cursor->close(dd->cursor);
        dd->cursor = NULL;
        return DICT_NOTFOUND;
    }
    if (ret != 0)
        return dict_set_error(d, "%s:%s: sequence: %s", d->type, d->name, db_strerror(ret));
    dict_db_copy(key, &k);
    dict_db_copy(value, &v);
    return DICT_FOUND;
}

static void dict_db_free(dict_db *dd)
{
    mem_free(dd->path);
    mem_free(dd->tmp_path);
}

static int dict_db_close(dict *d, int commit)
{
    dict_db *dd = (dict_db *)d;
    int ret, status = 0;

    if (dd->cursor != NULL)
        dd->cursor->close(dd->cursor);
    ret = dd->db->close(dd->db, 0);
    if (dd->tmp_path != NULL) {
        if (ret != 0) {
            status = dict_set_error(d, "close %s: %s", dd->tmp_path, db_strerror(ret));
        } else if (!commit) {
            status = 0;
        } else if (dict_db_fsync_path(dd->tmp_path, 0) < 0) {
            status = dict_set_error(d, "fsync %s: %s", dd->tmp_path, strerror(errno));
        } else if (rename(dd->tmp_path, dd->path) < 0) {
            status =
                dict_set_error(d, "rename %s to %s: %s", dd->tmp_path, dd->path, strerror(errno));
        } else {
            char *dir = mem_strdup(dd->path);
            char *slash = strrchr(dir, '/');

            if (slash == dir)
                slash[1] = 0;
            else if (slash != NULL)
                *slash = 0;
            else
                strcpy(dir, ".");
            if (dict_db_fsync_path(dir, 1) < 0)
                status = dict_set_error(d, "fsync directory %s: %s", dir, strerror(errno));
            mem_free(dir);
            mem_free(dd->tmp_path);
            dd->tmp_path = NULL;
        }
        if (dd->tmp_path != NULL)
            (void)unlink(dd->tmp_path);
    } else if (ret != 0) {
        status = dict_set_error(d, "close %s: %s", dd->path, db_strerror(ret));
    }
    dict_db_free(dd);
    return status < 0 ? -1 : 0;
}

static dict *dict_db_open(const char *type, DBTYPE db_type, const char *name, int open_flags,
                          int dict_flags, vstr *err)
{
    dict_db *dd;
    const char *file;
    u_int32_t db_flags;
    int ret, fd;

    if (*name == 0) {
        vstr_set_fmt(err, "%s: table name is empty", type);
        return NULL;
    }
    dd = (dict_db *)dict_alloc(sizeof(*dd), type, name, open_flags,
                               dict_flags | DICT_FLAG_FOLD_KEY);
    dd->path = mem_alloc(strlen(name) + 4);
    sprintf(dd->path, "%s.db", name);
    if (dict_flags & DICT_FLAG_BULK) {
        vstr tmp = VSTR_INIT;

        vstr_set_fmt(&tmp, "%s.%ld.tmp", dd->path, (long)getpid());
        dd->tmp_path = vstr_steal(&tmp);
        (void)unlink(dd->tmp_path);
        file = dd->tmp_path;
        db_flags = DB_CREATE | DB_EXCL;
        /* A new table is written the one way, with NULs (see above),
         * unless the caller asks for none alone (postmap -n). */
        if ((dd->dict.flags & (DICT_FLAG_TRY0NULL | DICT_FLAG_TRY1NULL)) != DICT_FLAG_TRY0NULL)
            dd->dict.flags = (dd->dict.flags & ~DICT_FLAG_TRY0NULL) | DICT_FLAG_TRY1NULL;
    } else {
        file = dd->path;
        db_flags = (open_flags & O_ACCMODE) == O_RDONLY ? DB_RDONLY : 0;
        if (open_flags & O_CREAT)
            db_flags |= DB_CREATE;
        if (!(dd->dict.flags & (DICT_FLAG_TRY0NULL | DICT_FLAG_TRY1NULL)))
            dd->dict.flags |= DICT_FLAG_TRY0NULL | DICT_FLAG_TRY1NULL;
    }
    if ((ret = db_create(&dd->db, NULL, 0)) != 0) {
        vstr_set_fmt(err, "create database handle for %s: %s", file, db_strerror(ret));
        dd->db = NULL;
        goto fail;
    }
    dd->db->set_errcall(dd->db, dict_db_errcall);
    (void)dd->db->set_cachesize(
        dd->db, 0, (dict_flags & DICT_FLAG_BULK) ? DICT_DB_CACHE_BULK : DICT_DB_CACHE_READ, 0);
    ret = dd->db->open(dd->db, NULL, file, NULL, db_type, db_flags, 0644);
    if (ret != 0) {
        vstr_set_fmt(err, "open database %s: %s", file, db_strerror(ret));
        goto fail;
    }
    if (dd->db->fd(dd->db, &fd) == 0)
        dict_set_file(&dd->dict, dd->path, fd);
    dd->dict.lookup = dict_db_lookup;
    dd->dict.update = dict_db_update;
    dd->dict.remove = dict_db_remove;
    dd->dict.sequence = dict_db_sequence;
    dd->dict.close = dict_db_close;
    return &dd->dict;

fail:
    if (dd->db != NULL)
        dd->db->close(dd->db, 0);
    if (dd->tmp_path != NULL)
        (void)unlink(dd->tmp_path);
    dict_db_free(dd);
    dict_free(&dd->dict);
    return NULL;
}

dict *dict_hash_open(const char *name, int open_flags, int dict_flags, vstr *err)
{
    return dict_db_open("hash", DB_HASH, name, open_flags, dict_flags, err);
}

dict *dict_btree_open(const char *name, int open_flags, int dict_flags, vstr *err)
{
    return dict_db_open("btree", DB_BTREE, name, open_flags, dict_flags, err);
}
