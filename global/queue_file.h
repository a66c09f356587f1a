/*
 * queue_file - queue and maildrop files: the commit protocol and the reader
 *
 * SYNOPSIS
 *   Writing (cleanup into incoming, postdrop into maildrop):
 *
 *   queue_file *qf = queue_file_create(queue_dir, "incoming", 0600, &err);
 *   ... queue_file_id(qf) is final from here on ...
 *   rec_put_str(queue_file_stream(qf), REC_TYPE_VERSION, REC_VERSION);
 *   queue_file_put_sizes(qf);                  queue files only
 *   ... records ...
 *   queue_file_set_sizes(qf, content_offset, content_bytes, rcpt_count);
 *   if (queue_file_commit(qf, &err) < 0) ... not queued, say 4.3.0 ...
 *   or: queue_file_abort(qf);
 *
 *   Reading (qmgr, delivery agents, pickup, postcat):
 *
 *   queue_reader *r = queue_file_open(queue_dir, "active", id, QUEUE_FILE_QUEUE, &err);
 *   const queue_envelope *env = queue_file_read_envelope(r);
 *   if (env == NULL)
 *       ... queue_file_error(r): "offset N: reason" ...
 *   while ((st = queue_file_read_line(r, &line, bound)) == QUEUE_LINE || st == QUEUE_PIECE)
 *       ... write line, and a newline when st == QUEUE_LINE ...
 *   queue_file_close(r);
 *
 * DESCRIPTION
 *   The commit protocol of docs/PROTOCOLS.md. queue_file_create() makes
 *   QUEUE_DIR/QUEUE_NAME/.tNNNN exclusively (mode 0600, never through a
 *   symlink) and names the message from that file's inode and the time,
 *   so the id is known before a byte is written and can go into
 *   Received: and Message-ID:. queue_file_commit() flushes, patches the
 *   S record, sets the final mode, fsyncs the file, renames it to
 *   QUEUE_NAME/ID (never over an existing file) and fsyncs the directory;
 *   only when it returns 0 may anyone be told the mail is queued. Until
 *   then a crash leaves at most a temporary file, which no reader takes
 *   for a queue file (its name is no queue id).
 *
 *   The reader opens a file read-only (no symlinks, regular files only),
 *   checks every record against the grammar of its kind while reading
 *   the envelope into a queue_envelope, and then hands out content lines.
 *   QUEUE_FILE_MAILDROP checks the maildrop grammar (no S, no o, no D,
 *   zero recipients allowed) for pickup, which must trust nothing;
 *   QUEUE_FILE_AUTO (postcat) tells the kinds apart by the second record.
 *
 *   queue_file_read_line() joins P pieces into one line until the line
 *   would exceed the caller's bound; a longer line comes out in pieces of
 *   bound bytes (QUEUE_PIECE) followed by the rest (QUEUE_LINE), so a
 *   delivery agent never truncates and never holds more than bound bytes.
 *
 *   queue_grammar is the same grammar as a step function, for programs
 *   that walk records themselves: postdrop while it copies a maildrop
 *   stream, postcat while it prints one.
 *
 * DIAGNOSTICS
 *   Functions that can fail return NULL or -1 and put one line in err
 *   (creating, opening, committing) or in queue_file_error() (reading:
 *   "offset N: reason", N the offset of the offending record). Nothing
 *   in a file's contents can crash the reader; a file that does not
 *   end with E is an error, and so is anything after E.
 */
#ifndef GLOBAL_QUEUE_FILE_H
#define GLOBAL_QUEUE_FILE_H

#include <stddef.h>
#include <sys/types.h>

#include "util/vstr.h"
#include "util/vstream.h"
#include "global/queue_id.h"

/* Longest address in an F, O, R or D record. */
#define QUEUE_ADDR_MAX 2048
/* Longest A record payload, and the most A records one file may have. */
#define QUEUE_ATTR_MAX 8192
#define QUEUE_ATTR_COUNT_MAX 256
/* Longest attribute name. */
#define QUEUE_ATTR_NAME_MAX 64

typedef enum queue_file_kind {
    QUEUE_FILE_QUEUE = 1, /* V S T F A* (O? o? n? R)+ M (L|P)* E; R may be D */
    QUEUE_FILE_MAILDROP,  /* V T F A* (O? n? R)* M (L|P)* E */
    QUEUE_FILE_AUTO,      /* reader only: decide by the second record */
} queue_file_kind;

/* ---- Writing: the commit protocol ---- */

typedef struct queue_file queue_file;

/* Create QUEUE_DIR/QUEUE_NAME/.tNNNN; mode is applied at commit (0600 for
 * queue files; maildrop files must be readable by pickup). NULL with a
 * reason in err on failure. */
queue_file *queue_file_create(const char *queue_dir, const char *queue_name, mode_t mode,
                              vstr *err);
/* The message's queue id (final from creation on). */
const char *queue_file_id(const queue_file *qf);
/* The stream to write records to. */
vstream *queue_file_stream(queue_file *qf);
/* The temporary file's name inside its directory (".tPID.N"), valid until
 * commit or abort: postdrop's signal handler removes it by this name. */
const char *queue_file_temp_name(const queue_file *qf);
/* Write a zeroed S record here, to be patched by queue_file_set_sizes. */
int queue_file_put_sizes(queue_file *qf);
/* Values for the S record, written at commit. */
void queue_file_set_sizes(queue_file *qf, long long content_offset, long long content_bytes,
                          long long rcpt_count);
/* Make the file durable under its id; frees qf whatever the outcome. 0 on
 * success; -1 with a reason in err, and then no file is left. */
int queue_file_commit(queue_file *qf, vstr *err);
/* The same, but the file is renamed into QUEUE_DIR/queue_name (a plain
 * name, e.g. "hold") instead of the directory it was created in; NULL:
 * that directory. */
int queue_file_commit_in(queue_file *qf, const char *queue_name, vstr *err);
/* A new descriptor reading the temporary file as written so far (the
 * stream is flushed first); -1 with errno set. For a writer that copies
 * the content into a second file with a changed envelope. */
int queue_file_read_temp(queue_file *qf);
/* Give qf the id of from, whose file is about to be aborted: the message
 * keeps the name it was announced under (Received:, log lines). Safe
 * because from's inode, which made that id unique, is still in use, and
 * the commit never replaces an existing name. */
void queue_file_adopt_id(queue_file *qf, const queue_file *from);
/* Remove the temporary file; frees qf. */
void queue_file_abort(queue_file *qf);

/* ---- The grammar, one record at a time ---- */

typedef struct queue_grammar {
    queue_file_kind kind;
    int state;       /* private */
    int rcpt_prefix; /* private: last of O, o, n seen before the next R */
    int in_piece;    /* private: the last content record was a P */
    size_t attrs;    /* A records seen */
    size_t rcpts;    /* R and D records seen */
} queue_grammar;

/* Start checking a file of this kind (not QUEUE_FILE_AUTO). */
void queue_grammar_init(queue_grammar *g, queue_file_kind kind);
/* 0 when a record of this type and payload may come next; -1 and the
 * reason in why otherwise (the grammar then stays where it was). */
int queue_grammar_check(queue_grammar *g, int type, const char *data, size_t len, vstr *why);
/* True once the E record has been accepted. */
int queue_grammar_complete(const queue_grammar *g);

/* ---- Reading ---- */

typedef struct queue_rcpt {
    char *address;   /* internal form */
    char *orig_rcpt; /* O record; NULL when absent */
    char *dsn_orcpt; /* o record; NULL when absent */
    int dsn_notify;  /* n record; 0 when absent */
    off_t offset;    /* of the R (or D) record, for rec_rewrite_type */
    int done;        /* 1 for a D record */
} queue_rcpt;

typedef struct queue_attr {
    char *name;
    char *value;
} queue_attr;

typedef struct queue_envelope {
    queue_file_kind kind; /* QUEUE_FILE_QUEUE or QUEUE_FILE_MAILDROP */
    long long arrival_sec;
    long arrival_usec;
    char *sender; /* "" for the null sender; NULL until the F record is read */
    queue_attr *attrs;
    size_t attr_count;
    queue_rcpt *rcpts;
    size_t rcpt_count; /* R and D records */
    /* The S record (queue files; zeros for maildrop files). */
    long long size_content_offset;
    long long size_content_bytes;
    long long size_rcpt_count;
    off_t content_offset; /* offset of the first record after M */
} queue_envelope;

/* The value of the last A record called name, or NULL. */
const char *queue_envelope_attr(const queue_envelope *env, const char *name);

typedef struct queue_reader queue_reader;

/* Open QUEUE_DIR/QUEUE_NAME/ID; queue_name must be a plain name and id a
 * valid queue id. NULL with a reason in err. */
queue_reader *queue_file_open(const char *queue_dir, const char *queue_name, const char *id,
                              queue_file_kind kind, vstr *err);
/* Open a file by path (postcat FILE). */
queue_reader *queue_file_open_path(const char *path, queue_file_kind kind, vstr *err);
/* Read from fd, which must be open for reading and is closed by
 * queue_file_close; name is for diagnostics. */
queue_reader *queue_file_open_fd(int fd, const char *name, queue_file_kind kind);
/* The descriptor (e.g. for fstat, or for rec_rewrite_type when opened
 * read-write by the caller). */
int queue_file_fd(const queue_reader *r);
/* The name given to open. */
const char *queue_file_name(const queue_reader *r);

/* Read and check the envelope, up to and including M. NULL on an error
 * (queue_file_error says which); the partial envelope stays readable
 * through queue_file_envelope. Reads once; later calls return the same. */
const queue_envelope *queue_file_read_envelope(queue_reader *r);
/* The envelope as far as it was read. */
const queue_envelope *queue_file_envelope(const queue_reader *r);

typedef enum queue_line_status {
    QUEUE_LINE = 0, /* line holds the end of a line (all of it unless a QUEUE_PIECE came first) */
    QUEUE_PIECE,    /* line holds bound bytes of a longer line; more follows */
    QUEUE_END,      /* the E record: the content is complete */
    QUEUE_ERROR,    /* queue_file_error says what */
} queue_line_status;

/* The next content line, at most bound (> 0) bytes of it, into line. */
queue_line_status queue_file_read_line(queue_reader *r, vstr *line, size_t bound);
/* Go back to the first content line (after the envelope was read). */
int queue_file_rewind_content(queue_reader *r);

/* "offset N: reason" for the last error, or "" when there was none. */
const char *queue_file_error(const queue_reader *r);
/* The offset of the record the last error is about; -1 when none. */
off_t queue_file_error_offset(const queue_reader *r);
/* The reason alone, without the offset. */
const char *queue_file_error_reason(const queue_reader *r);

/* Close the file and free everything, the envelope included. */
void queue_file_close(queue_reader *r);

#endif
