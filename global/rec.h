/*
 * rec - queue-file and maildrop-file records: type byte, length, payload
 *
 * SYNOPSIS
 *   rec_put(fp, REC_TYPE_RCPT, addr, strlen(addr));
 *   rec_put_fmt(fp, REC_TYPE_TIME, "%lld.%06ld", sec, usec);
 *
 *   vstr buf = VSTR_INIT;
 *   rec_read r = REC_READ_INIT;
 *   while ((st = rec_get(fp, REC_PAYLOAD_MAX, &r, &buf)) == REC_OK)
 *       ... r.type, r.offset, buf (the payload) ...
 *   if (st != REC_EOF)
 *       msg_warn("%s: offset %lld: %s", path, (long long)r.offset, rec_strerror(st));
 *
 *   rec_rewrite_type(fd, rcpt_offset, REC_TYPE_RCPT, REC_TYPE_DONE);
 *   fsync(fd);
 *
 * DESCRIPTION
 *   The record format of docs/PROTOCOLS.md: one type byte, the payload
 *   length in 1 to 4 bytes (7 bits each, least significant group first,
 *   the high bit set on all but the last), the payload. rec_type_table
 *   names every type; a type not in it is an error for a reader.
 *
 *   rec_get() reads the next record into a vstr (any byte value,
 *   embedded NULs included) and reports where it started, so that a
 *   caller can say where a file went wrong, or come back to a recipient
 *   later. It reads at most bound payload bytes: a longer record is an
 *   error before its payload is read, so a hostile length costs nothing.
 *
 *   rec_rewrite_type() is qmgr's "mark done": it checks that the byte
 *   at offset is the expected type, then pwrite()s the new one. The
 *   caller fsyncs. It goes around any stream buffer, which is why it
 *   takes a descriptor.
 *
 * DIAGNOSTICS
 *   rec_put* return 0, or -1 when the stream reports a write error
 *   (errno set). rec_get returns REC_OK, REC_EOF at a clean end between
 *   records, or one of the REC_ERR_* values; then r.offset is where the
 *   bad record starts and rec_strerror() says what is wrong with it.
 */
#ifndef GLOBAL_REC_H
#define GLOBAL_REC_H

#include <stddef.h>
#include <sys/types.h>

#include "util/vstr.h"
#include "util/vstream.h"

/* Largest payload any record may have (PROTOCOLS.md). */
#define REC_PAYLOAD_MAX (1024 * 1024)
/* Bytes of the length field at most. */
#define REC_LEN_BYTES_MAX 4

typedef enum rec_type {
    REC_TYPE_VERSION = 'V',    /* "1": first record of every file */
    REC_TYPE_SIZE = 'S',       /* content offset, content bytes, recipients */
    REC_TYPE_TIME = 'T',       /* arrival time, seconds.microseconds */
    REC_TYPE_FROM = 'F',       /* sender; empty for the null sender */
    REC_TYPE_ATTR = 'A',       /* name=value */
    REC_TYPE_ORCP = 'O',       /* original recipient, for the next R */
    REC_TYPE_DSN_ORCPT = 'o',  /* RFC 3461 ORCPT, type;address, for the next R */
    REC_TYPE_DSN_NOTIFY = 'n', /* DSN notify bit mask, for the next R */
    REC_TYPE_RCPT = 'R',       /* recipient, not yet done */
    REC_TYPE_DONE = 'D',       /* recipient, done (an R rewritten in place) */
    REC_TYPE_MESG = 'M',       /* content starts after this */
    REC_TYPE_NORM = 'L',       /* one content line without its terminator */
    REC_TYPE_CONT = 'P',       /* a piece of a long line; the next L or P continues it */
    REC_TYPE_END = 'E',        /* last record */
} rec_type;

/* The version this code writes and reads. */
#define REC_VERSION "1"

/* DSN notify bits (the n record). */
#define REC_DSN_NOTIFY_NEVER 1
#define REC_DSN_NOTIFY_SUCCESS 2
#define REC_DSN_NOTIFY_FAILURE 4
#define REC_DSN_NOTIFY_DELAY 8
#define REC_DSN_NOTIFY_MASK 15

/* The S record's payload: "%15lld %15lld %15lld", patched in place. */
#define REC_SIZE_FORMAT "%15lld %15lld %15lld"
#define REC_SIZE_LEN 47

typedef struct rec_type_info {
    int type;         /* the type byte */
    const char *name; /* "recipient", for postcat and diagnostics */
} rec_type_info;

/* Every record type; ends with type 0. */
extern const rec_type_info rec_type_table[];

/* The type's name, or NULL for a byte that is no record type. */
const char *rec_type_name(int type);

typedef enum rec_status {
    REC_OK = 0,
    REC_EOF,           /* clean end of file between records */
    REC_ERR_TRUNCATED, /* the file ends inside a record */
    REC_ERR_BADLEN,    /* length field longer than REC_LEN_BYTES_MAX bytes */
    REC_ERR_OVERSIZE,  /* payload longer than the caller's bound */
    REC_ERR_TYPE,      /* unknown type byte */
    REC_ERR_IO,        /* read error; errno says which */
} rec_status;

/* One line of text for a status ("record length over the limit"). */
const char *rec_strerror(rec_status status);

/* A read cursor. rec_get() does not ask the stream where it is (a pipe
 * cannot say): it counts. Start with REC_READ_INIT at the beginning of a
 * file, and set next after a seek. */
typedef struct rec_read {
    int type;     /* the type byte (also on REC_ERR_TYPE) */
    off_t offset; /* where the record starts (its type byte) */
    size_t len;   /* the declared payload length, once read */
    off_t next;   /* where the next record starts */
} rec_read;

#define REC_READ_INIT                                                                             \
    {                                                                                             \
        0, 0, 0, 0                                                                                \
    }

/* Write one record; -1 on a write error. */
int rec_put(vstream *fp, int type, const void *data, size_t len);
/* Write a record whose payload is a NUL-terminated string. */
int rec_put_str(vstream *fp, int type, const char *s);
/* Write a record with a formatted payload. */
int rec_put_fmt(vstream *fp, int type, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Read the next record (payload at most bound bytes) into payload. */
rec_status rec_get(vstream *fp, size_t bound, rec_read *r, vstr *payload);

/* Bytes a record with a len-byte payload takes in the file. */
size_t rec_size(size_t len);

/* Rewrite the type byte at offset from old_type to new_type (pwrite on fd).
 * Returns 0; -1 with errno set on an I/O error, EINVAL when the byte there
 * is not old_type (nothing written). The caller fsyncs. */
int rec_rewrite_type(int fd, off_t offset, int old_type, int new_type);

#endif
