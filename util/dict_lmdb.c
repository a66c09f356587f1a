/*
 * dict_lmdb - lmdb:NAME, tables in LMDB files (NAME.lmdb)
 *
 * The replacement for hash: and btree: now that distributions drop
 * Berkeley DB; the conventions are dict_db's. NAME.lmdb is one file
 * (MDB_NOSUBDIR) without a lock file (MDB_NOLOCK): readers take no lock
 * because a table is never changed in place under them. A build
 * (O_TRUNC) writes NAME.lmdb.PID.tmp in one transaction and dict_close()
 * commits it, syncs it and renames it over NAME.lmdb, so a reader sees
 * the old table or the new one and a failed build leaves the old one.
 * Updates in place (postmap -i, -d) are for one writer the caller
 * serialises; each is its own transaction, and a full map is grown and
 * the update retried.
 *
 * Keys and values are written with a trailing NUL and read with or
 * without one, as dict_db does.
 *
 * Lookups share one read transaction, reset after each lookup and
 * renewed before the next (no allocation, and each lookup still sees the
 * latest committed table).
 */
#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util/dict_lmdb.h"
#include "util/fileio.h"
#include "util/mem.h"

/* Address space reserved for a build (the file grows only with its data),
 * and the most an update in place may grow the map to; less where
 * addresses are 32 bits. */
#if SIZE_MAX > 0xffffffffu
#define DICT_LMDB_BULK_MAP_SIZE ((size_t)1 << 32)
#define DICT_LMDB_MAP_SIZE_MAX ((size_t)1 << 36)
#else
#define DICT_LMDB_BULK_MAP_SIZE ((size_t)1 << 30)
#define DICT_LMDB_MAP_SIZE_MAX ((size_t)3 << 30)
#endif

typedef struct dict_lmdb {
    dict dict;
    MDB_env *env;
    MDB_dbi dbi;
    MDB_txn *bulk_txn; /* the build's transaction; NULL otherwise */
    MDB_txn *read_txn; /* lookups: made once, reset between lookups */
    MDB_txn *seq_txn;  /* sequence: a read transaction and its cursor */
    MDB_cursor *cursor;
    char *path;     /* NAME.lmdb */
    char *tmp_path; /* bulk build: the file being written */
} dict_lmdb;

static void dict_lmdb_val(MDB_val *v, const char *s, int with_nul)
{
    v->mv_data = (void *)s;
    v->mv_size = strlen(s) + (with_nul ? 1 : 0);
}

static void dict_lmdb_copy(vstr *out, const MDB_val *v)
{
    size_t len = v->mv_size;

    if (len > 0 && ((const char *)v->mv_data)[len - 1] == 0)
        len--;
    vstr_set(out, v->mv_data, len);
}

/* A transaction for one operation: the build's, or a new one. */
static int dict_lmdb_begin(dict_lmdb *dl, unsigned flags, MDB_txn **txn)
{
    if (dl->bulk_txn != NULL) {
        *txn = dl->bulk_txn;
        return 0;
    }
    return mdb_txn_begin(dl->env, NULL, flags, txn);
}

static int dict_lmdb_end(dict_lmdb *dl, MDB_txn *txn, int commit)
{
    if (txn == dl->bulk_txn)
        return 0;
    if (commit)
        return mdb_txn_commit(txn);
    mdb_txn_abort(txn);
    return 0;
}

static int dict_lmdb_lookup(dict *d, const char *key, vstr *value)
{
    dict_lmdb *dl = (dict_lmdb *)d;
    MDB_txn *txn = dl->bulk_txn;
    MDB_val k, v;
    int rc = 0, status = DICT_NOTFOUND;

    if (txn == NULL) {
        if (dl->read_txn != NULL)
            rc = mdb_txn_renew(dl->read_txn);
        else
            rc = mdb_txn_begin(dl->env, NULL, MDB_RDONLY, &dl->read_txn);
        txn = dl->read_txn;
    }
    if (rc != 0)
        return dict_set_error(d, "lmdb:%s: begin transaction: %s", d->name, mdb_strerror(rc));
    for (int with_nul = 1; with_nul >= 0; with_nul--) {
        if (!(d->flags & (with_nul ? DICT_FLAG_TRY1NULL : DICT_FLAG_TRY0NULL)))
            continue;
        dict_lmdb_val(&k, key, with_nul);
        rc = mdb_get(txn, dl->dbi, &k, &v);
        if (rc == 0) {
            d->flags &= ~(with_nul ? DICT_FLAG_TRY0NULL : DICT_FLAG_TRY1NULL);
            dict_lmdb_copy(value, &v);
            status = DICT_FOUND;
            break;
        }
        if (rc != MDB_NOTFOUND) {
            status =
                dict_set_error(d, "lmdb:%s: lookup of \"%s\": %s", d->name, key, mdb_strerror(rc));
            break;
        }
    }
    if (txn == dl->read_txn)
        mdb_txn_reset(txn);
    return status;
}

/* Run one change (put or delete) in its own transaction, growing a full
 * map and trying again. Returns an LMDB code. */
static int dict_lmdb_change(dict_lmdb *dl, MDB_val *k, MDB_val *v, unsigned put_flags)
{
    for (;;) {
        MDB_txn *txn;
        MDB_envinfo info;
        int rc;

        if ((rc = dict_lmdb_begin(dl, 0, &txn)) != 0)
            return rc;
        rc = v != NULL ? mdb_put(txn, dl->dbi, k, v, put_flags) : mdb_del(txn, dl->dbi, k, NULL);
        if (txn == dl->bulk_txn)
            return rc;
        if (rc != 0) {
            mdb_txn_abort(txn);
        } else if ((rc = mdb_txn_commit(txn)) == 0) {
            return 0;
        }
        if (rc != MDB_MAP_FULL || mdb_env_info(dl->env, &info) != 0 ||
            info.me_mapsize >= DICT_LMDB_MAP_SIZE_MAX ||
            mdb_env_set_mapsize(dl->env, info.me_mapsize * 2) != 0)
            return rc;
    }
}

static int dict_lmdb_update(dict *d, const char *key, const char *value)
{
    dict_lmdb *dl = (dict_lmdb *)d;
    int with_nul = (d->flags & DICT_FLAG_TRY1NULL) != 0;
    MDB_val k, v;
    int rc;

    dict_lmdb_val(&k, key, with_nul);
    dict_lmdb_val(&v, value, with_nul);
    rc = dict_lmdb_change(dl, &k, &v, (d->flags & DICT_FLAG_DUP_REPLACE) ? 0 : MDB_NOOVERWRITE);
    if (rc == MDB_KEYEXIST)
        return DICT_DUPLICATE;
    if (rc != 0)
        return dict_set_error(d, "lmdb:%s: update of \"%s\": %s", d->name, key, mdb_strerror(rc));
    return DICT_FOUND;
}

static int dict_lmdb_remove(dict *d, const char *key)
{
    dict_lmdb *dl = (dict_lmdb *)d;
    int found = 0;
    MDB_val k;

    for (int with_nul = 1; with_nul >= 0; with_nul--) {
        int rc;

        if (!(d->flags & (with_nul ? DICT_FLAG_TRY1NULL : DICT_FLAG_TRY0NULL)))
            continue;
        dict_lmdb_val(&k, key, with_nul);
        rc = dict_lmdb_change(dl, &k, NULL, 0);
        if (rc == 0)
            found = 1;
        else if (rc != MDB_NOTFOUND)
            return dict_set_error(d, "lmdb:%s: delete of \"%s\": %s", d->name, key,
                                  mdb_strerror(rc));
    }
    return found ? DICT_FOUND : DICT_NOTFOUND;
}

static void dict_lmdb_end_sequence(dict_lmdb *dl)
{
    if (dl->cursor != NULL)
        mdb_cursor_close(dl->cursor);
    if (dl->seq_txn != NULL)
        dict_lmdb_end(dl, dl->seq_txn, 0);
    dl->cursor = NULL;
    dl->seq_txn = NULL;
}

static int dict_lmdb_sequence(dict *d, int how, vstr *key, vstr *value)
{
    dict_lmdb *dl = (dict_lmdb *)d;
    MDB_val k, v;
    int rc;

    if (how == DICT_SEQ_FIRST)
        dict_lmdb_end_sequence(dl);
    if (dl->cursor == NULL) {
        if (how != DICT_SEQ_FIRST)
            return DICT_NOTFOUND;
        if ((rc = dict_lmdb_begin(dl, MDB_RDONLY, &dl->seq_txn)) != 0 ||
            (rc = mdb_cursor_open(dl->seq_txn, dl->dbi, &dl->cursor)) != 0) {
            dict_lmdb_end_sequence(dl);
            return dict_set_error(d, "lmdb:%s: cursor: %s", d->name, mdb_strerror(rc));
        }
    }
    rc = mdb_cursor_get(dl->cursor, &k, &v, how == DICT_SEQ_FIRST ? MDB_FIRST : MDB_NEXT);
    if (rc == MDB_NOTFOUND) {
        dict_lmdb_end_sequence(dl);
        return DICT_NOTFOUND;
    }
    if (rc != 0)
        return dict_set_error(d, "lmdb:%s: sequence: %s", d->name, mdb_strerror(rc));
    dict_lmdb_copy(key, &k);
    dict_lmdb_copy(value, &v);
    return DICT_FOUND;
}

static void dict_lmdb_free(dict_lmdb *dl)
{
    mem_free(dl->path);
    mem_free(dl->tmp_path);
}

/* Commit a build: the transaction, the file's data, then the name. */
static int dict_lmdb_commit_bulk(dict_lmdb *dl)
{
    dict *d = &dl->dict;
    int rc = mdb_txn_commit(dl->bulk_txn);

    dl->bulk_txn = NULL;
    if (rc != 0)
        return dict_set_error(d, "commit %s: %s", dl->tmp_path, mdb_strerror(rc));
    if ((rc = mdb_env_sync(dl->env, 1)) != 0)
        return dict_set_error(d, "sync %s: %s", dl->tmp_path, mdb_strerror(rc));
    if (fileio_rename_durable(dl->tmp_path, dl->path) < 0)
        return dict_set_error(d, "rename %s to %s: %s", dl->tmp_path, dl->path, strerror(errno));
    mem_free(dl->tmp_path);
    dl->tmp_path = NULL;
    return 0;
}

static int dict_lmdb_close(dict *d, int commit)
{
    dict_lmdb *dl = (dict_lmdb *)d;
    int status = 0;

    dict_lmdb_end_sequence(dl);
    if (dl->read_txn != NULL)
        mdb_txn_abort(dl->read_txn);
    dl->read_txn = NULL;
    if (dl->bulk_txn != NULL) {
        if (commit)
            status = dict_lmdb_commit_bulk(dl);
        else
            mdb_txn_abort(dl->bulk_txn);
        dl->bulk_txn = NULL;
    }
    mdb_env_close(dl->env);
    if (dl->tmp_path != NULL)
        (void)unlink(dl->tmp_path);
    dict_lmdb_free(dl);
    return status;
}

dict *dict_lmdb_open(const char *name, int open_flags, int dict_flags, vstr *err)
{
    dict_lmdb *dl;
    const char *file;
    unsigned env_flags = MDB_NOSUBDIR | MDB_NOLOCK;
    MDB_txn *txn = NULL;
    vstr path = VSTR_INIT;
    int rc, fd;

    if (*name == 0) {
        vstr_set_str(err, "lmdb: table name is empty");
        return NULL;
    }
    dl = (dict_lmdb *)dict_alloc(sizeof(*dl), "lmdb", name, open_flags,
                                 dict_flags | DICT_FLAG_FOLD_KEY);
    vstr_set_fmt(&path, "%s.lmdb", name);
    dl->path = vstr_steal(&path);
    if ((rc = mdb_env_create(&dl->env)) != 0) {
        vstr_set_fmt(err, "lmdb:%s: %s", name, mdb_strerror(rc));
        dl->env = NULL;
        goto fail;
    }
    if (dict_flags & DICT_FLAG_BULK) {
        vstr_set_fmt(&path, "%s.%ld.tmp", dl->path, (long)getpid());
        dl->tmp_path = vstr_steal(&path);
        (void)unlink(dl->tmp_path);
        file = dl->tmp_path;
        /* Durability comes from the one sync before the rename. */
        env_flags |= MDB_NOSYNC;
        (void)mdb_env_set_mapsize(dl->env, DICT_LMDB_BULK_MAP_SIZE);
        if (!(dl->dict.flags & DICT_FLAG_TRY0NULL))
            dl->dict.flags |= DICT_FLAG_TRY1NULL;
    } else {
        file = dl->path;
        if ((open_flags & O_ACCMODE) == O_RDONLY)
            env_flags |= MDB_RDONLY;
        else if (!(open_flags & O_CREAT) && access(file, F_OK) < 0) {
            vstr_set_fmt(err, "open database %s: %s", file, strerror(errno));
            goto fail;
        }
        if (!(dl->dict.flags & (DICT_FLAG_TRY0NULL | DICT_FLAG_TRY1NULL)))
            dl->dict.flags |= DICT_FLAG_TRY0NULL | DICT_FLAG_TRY1NULL;
    }
    if ((rc = mdb_env_open(dl->env, file, env_flags, 0644)) != 0) {
        vstr_set_fmt(err, "open database %s: %s", file, mdb_strerror(rc));
        goto fail;
    }
    if ((rc = mdb_txn_begin(dl->env, NULL, (env_flags & MDB_RDONLY) ? MDB_RDONLY : 0, &txn)) ||
        (rc = mdb_dbi_open(txn, NULL, 0, &dl->dbi))) {
        vstr_set_fmt(err, "open database %s: %s", file, mdb_strerror(rc));
        goto fail;
    }
    if (dict_flags & DICT_FLAG_BULK) {
        dl->bulk_txn = txn;
    } else if ((rc = mdb_txn_commit(txn)) != 0) {
        txn = NULL;
        vstr_set_fmt(err, "open database %s: %s", file, mdb_strerror(rc));
        goto fail;
    }
    txn = NULL;
    if (mdb_env_get_fd(dl->env, &fd) == 0)
        dict_set_file(&dl->dict, dl->path, fd);
    dl->dict.lookup = dict_lmdb_lookup;
    dl->dict.update = dict_lmdb_update;
    dl->dict.remove = dict_lmdb_remove;
    dl->dict.sequence = dict_lmdb_sequence;
    dl->dict.close = dict_lmdb_close;
    return &dl->dict;

fail:
    if (txn != NULL)
        mdb_txn_abort(txn);
    if (dl->env != NULL)
        mdb_env_close(dl->env);
    if (dl->tmp_path != NULL)
        (void)unlink(dl->tmp_path);
    dict_lmdb_free(dl);
    dict_free(&dl->dict);
    return NULL;
}
