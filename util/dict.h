/*
 * dict - lookup tables: one interface, many table types
 *
 * SYNOPSIS
 *   vstr err = VSTR_INIT, value = VSTR_INIT;
 *   dict *d = dict_open("hash:/etc/postern/aliases", O_RDONLY, DICT_FLAG_NONE, &err);
 *   if (d == NULL)
 *       d = dict_surrogate("hash:/etc/postern/aliases", vstr_str(&err));
 *   switch (dict_lookup(d, "postmaster", &value)) {
 *   case DICT_FOUND:    ... vstr_str(&value) ...
 *   case DICT_NOTFOUND: ...
 *   case DICT_ERROR:    ... dict_error(d) says why; treat as a temporary failure ...
 *   }
 *   dict_close(d, NULL);
 *
 * DESCRIPTION
 *   A table is named "type:name". Each type is a struct of function
 *   pointers behind one open function, registered in a table (dict.c);
 *   dict_register() adds types from elsewhere. A lookup has three
 *   outcomes, and a table that cannot be read says DICT_ERROR, never
 *   DICT_NOTFOUND: a caller turns an error into a temporary failure and
 *   no mail is lost because a file was briefly unreadable.
 *
 *   Types built in: hash: and btree: (Berkeley DB, file NAME.db, see
 *   dict_db.c), lmdb: (LMDB, file NAME.lmdb, dict_lmdb.c), texthash:FILE
 *   (a postmap source file read into memory), pcre:FILE and regexp:FILE
 *   (ordered regular-expression rules, pcre_table(5), regexp_table(5)),
 *   cidr:FILE (ordered network rules, cidr_table(5)), unix:passwd.byname
 *   and unix:group.byname (getpwnam/getgrnam), static:VALUE (every key
 *   maps to VALUE; static:{text with spaces}), inline:{ key=value,
 *   { key = text, with commas }, ... }, and fail:NAME (every lookup is an
 *   error). The rule tables (pcre, regexp, cidr) share dict_rules.c; the
 *   text formats share dict_source.c.
 *
 *   Keys of indexed tables (hash, btree, lmdb, texthash, inline, unix)
 *   are folded to lower case on update and lookup; values are kept as
 *   given. Rule tables see the key as given (their patterns are caseless
 *   by default).
 *
 *   Opening O_RDONLY reads. O_RDWR|O_CREAT|O_TRUNC builds a new table
 *   ("bulk" mode): a file-based type writes a temporary file and
 *   dict_close() makes it the table atomically (fsync, rename, fsync the
 *   directory); dict_discard() throws it away and leaves the old table.
 *
 * DIAGNOSTICS
 *   dict_open returns NULL with a one-line reason in err ("open database
 *   /etc/aliases.db: No such file or directory"). After DICT_ERROR,
 *   dict_error() holds the reason.
 */
#ifndef UTIL_DICT_H
#define UTIL_DICT_H

#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include "util/argv.h"
#include "util/vstr.h"

/* Lookup, update and sequence results. */
#define DICT_FOUND 0
#define DICT_NOTFOUND 1
#define DICT_DUPLICATE 2 /* dict_update: key present, first value kept */
#define DICT_ERROR (-1)

/* dict_sequence: where to go. */
#define DICT_SEQ_FIRST 0
#define DICT_SEQ_NEXT 1

/* dict_flags */
#define DICT_FLAG_NONE 0
#define DICT_FLAG_FOLD_KEY (1 << 0)    /* fold keys to lower case (set by indexed types) */
#define DICT_FLAG_DUP_REPLACE (1 << 1) /* update replaces a present key */
#define DICT_FLAG_TRY0NULL (1 << 2)    /* db: keys may lack a trailing NUL */
#define DICT_FLAG_TRY1NULL (1 << 3)    /* db: keys may carry a trailing NUL */
#define DICT_FLAG_BULK (1 << 4)        /* set by open: building a new table */
#define DICT_FLAG_PATTERN (1 << 5)     /* set by rule types: keys are matched, not found */

typedef struct dict dict;

struct dict {
    char *type; /* "hash" */
    char *name; /* "/etc/postern/aliases" */
    int flags;  /* DICT_FLAG_* */
    int open_flags;
    /* Look key up (already folded); the value goes to value. */
    int (*lookup)(dict *d, const char *key, vstr *value);
    /* Optional: add or (DICT_FLAG_DUP_REPLACE) replace key. */
    int (*update)(dict *d, const char *key, const char *value);
    /* Optional: remove key; DICT_NOTFOUND when it was not there. */
    int (*remove)(dict *d, const char *key);
    /* Optional: DICT_SEQ_FIRST, then DICT_SEQ_NEXT until DICT_NOTFOUND. */
    int (*sequence)(dict *d, int how, vstr *key, vstr *value);
    /* Release everything; commit a bulk build when commit is set. 0 or -1
     * with the reason in d->error. Must free type-private memory only. */
    int (*close)(dict *d, int commit);
    vstr error; /* why the last call failed */
    vstr fold;  /* scratch: the folded key */
    /* The file behind the table, for dict_changed() and ownership. */
    char *file; /* NULL: not file-based */
    dev_t dev;
    ino_t ino;
    struct timespec mtime; /* to the nanosecond: a same-second rewrite shows */
    off_t size;
    uid_t owner_uid; /* owner of file; meaningful when file != NULL */
    gid_t owner_gid;
};

/* Open function of a type: name is the part after "type:". NULL and a
 * reason in err on failure. */
typedef dict *(*dict_open_fn)(const char *name, int open_flags, int dict_flags, vstr *err);

/* Open "type:name". NULL and a reason in err on failure. */
dict *dict_open(const char *spec, int open_flags, int dict_flags, vstr *err);
/* Open a table of a given type. */
dict *dict_open3(const char *type, const char *name, int open_flags, int dict_flags, vstr *err);
/* A table that answers every lookup with DICT_ERROR and reason, standing in
 * for one that could not be opened (so a daemon defers, never bounces). */
dict *dict_surrogate(const char *spec, const char *reason);

/* Look key up; DICT_FOUND with the value in value, DICT_NOTFOUND, DICT_ERROR. */
int dict_lookup(dict *d, const char *key, vstr *value);
/* Store key = value; DICT_FOUND (stored), DICT_DUPLICATE, DICT_ERROR. */
int dict_update(dict *d, const char *key, const char *value);
/* Remove key; DICT_FOUND, DICT_NOTFOUND or DICT_ERROR. */
int dict_remove(dict *d, const char *key);
/* Walk the table: DICT_FOUND with key and value, DICT_NOTFOUND at the end. */
int dict_sequence(dict *d, int how, vstr *key, vstr *value);
/* Why the last operation returned DICT_ERROR. */
const char *dict_error(const dict *d);
/* True when the file behind d was replaced or changed since it was opened:
 * another device or inode, another size, or another mtime to the nanosecond. */
int dict_changed(const dict *d);

/* Close; a bulk build is committed. Returns 0, or -1 with the reason in err
 * (may be NULL). d is freed either way. */
int dict_close(dict *d, vstr *err);
/* Close without committing a bulk build (its temporary file is removed). */
void dict_discard(dict *d);

/* Add a type; returns -1 when the name is taken. */
int dict_register(const char *type, dict_open_fn open_fn);
/* True when the type is known. */
int dict_type_known(const char *type);
/* Names of the known types, in registration order. */
argv_t *dict_type_names(void);

/* For type implementations: allocate a dict of size bytes (>= sizeof(dict))
 * with type, name and flags set and every operation NULL. */
dict *dict_alloc(size_t size, const char *type, const char *name, int open_flags, int dict_flags);
/* For type implementations: free what dict_alloc allocated. */
void dict_free(dict *d);
/* For type implementations: set d->error and return DICT_ERROR. */
int dict_set_error(dict *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* For type implementations: record the identity of the file behind d. */
void dict_set_file(dict *d, const char *path, int fd);
/* The same from path's stat st, taken when the file was read. */
void dict_identify(dict *d, const char *path, const struct stat *st);

#endif
