/*
 * NAME
 *   attr - named-attribute lists, the IPC request/reply encoding
 *
 * SYNOPSIS
 *   #include "global/attr.h"
 *
 *   attr_list *req = attr_list_new();
 *   attr_set_str(req, "queue_id", id);
 *   attr_set_int(req, "rcpt_count", n);
 *   if (attr_write(stream, req) < 0 || vstream_flush(stream) < 0) ...
 *
 *   switch (attr_read(stream, reply, NULL, err)) { case ATTR_OK: ... }
 *   status = attr_get_int(reply, "index", 0, n - 1, &index);
 *
 * DESCRIPTION
 *   Every request and reply between Postern processes (qmgr and the
 *   delivery agents, pickup, postqueue) is a list of (name, value) pairs.
 *   Values are byte strings: NUL, newline, any byte can travel. A reader
 *   keeps attributes it does not know, and a caller looks up only the names
 *   it needs, so a protocol can grow without breaking older peers.
 *
 * WIRE FORMAT
 *   list      = attribute* NUL
 *   attribute = name NUL length ":" value ","
 *   name      = 1 or more of [A-Za-z0-9_.-]
 *   length    = decimal digits, no leading zero ("0" for an empty value)
 *   value     = length bytes, any values
 *   e.g.  "queue_id\0" "6:4Xb1Qz," "index\0" "1:0," "\0"
 *   A name may appear once per list. The length comes before the value,
 *   so a reader checks it against its bound before allocating anything.
 *
 * SECURITY
 *   The peer is untrusted. A reader enforces, per call, a maximum number of
 *   attributes, name length, value length and total size (attr_limits;
 *   NULL means attr_default_limits), and rejects anything malformed with a
 *   status: never a crash, never an allocation beyond the bounds. After any
 *   status other than ATTR_OK the stream is out of step: close it. The
 *   stream's timeout bounds the reading of a whole list, not each byte.
 */
#ifndef GLOBAL_ATTR_H
#define GLOBAL_ATTR_H

#include <stddef.h>

#include "util/vstr.h"
#include "util/vstream.h"

typedef struct attr {
    char *name;
    char *value; /* len bytes, then a NUL that is not part of the value */
    size_t len;
} attr;

typedef struct attr_list {
    attr *items; /* in the order set or received */
    size_t count;
    size_t cap;
} attr_list;

typedef struct attr_limits {
    size_t max_count; /* attributes in one list */
    size_t max_name;  /* bytes in one name */
    size_t max_value; /* bytes in one value */
    size_t max_total; /* bytes of all names and values of one list */
} attr_limits;

/* 1024 attributes, 64-byte names, 64 KiB values, 4 MiB in all. */
extern const attr_limits attr_default_limits;

typedef enum attr_status {
    ATTR_OK = 0,
    ATTR_EOF,           /* read: the peer closed before a list began */
    ATTR_ERR_TRUNCATED, /* read: input ended inside a list */
    ATTR_ERR_SYNTAX,    /* read: a malformed name, length or terminator */
    ATTR_ERR_LIMIT,     /* read: a bound was exceeded */
    ATTR_ERR_DUPLICATE, /* read: a name appeared twice */
    ATTR_ERR_TIMEOUT,   /* read: the stream's deadline passed */
    ATTR_ERR_IO,        /* read: an I/O error (errno) */
    ATTR_ERR_MISSING,   /* lookup: no attribute of that name */
    ATTR_ERR_VALUE,     /* lookup: not a decimal integer in the given range */
} attr_status;

/* One line of text for a status ("value length over the limit"). */
const char *attr_strerror(attr_status status);

/* An empty list. */
attr_list *attr_list_new(void);
/* Free a list and its attributes; NULL is fine. */
void attr_list_free(attr_list *list);
/* Remove every attribute, keeping the list. */
void attr_list_reset(attr_list *list);

/* True when name is a valid attribute name (check untrusted names first). */
int attr_name_valid(const char *name);
/* Set name to len bytes of value, replacing an earlier value; an invalid
 * name is a caller bug (msg_panic). */
void attr_set(attr_list *list, const char *name, const void *value, size_t len);
/* Set name to a NUL-terminated string. */
void attr_set_str(attr_list *list, const char *name, const char *value);
/* Set name to a decimal integer. */
void attr_set_int(attr_list *list, const char *name, long long value);

/* The attribute called name, or NULL. */
const attr *attr_find(const attr_list *list, const char *name);
/* The value of name as a C string; NULL when absent or when the value
 * holds a NUL byte (binary values: use attr_find). */
const char *attr_get(const attr_list *list, const char *name);
/* Parse name's value as a decimal integer within [min, max] into *out:
 * ATTR_OK, ATTR_ERR_MISSING or ATTR_ERR_VALUE (*out untouched then). */
attr_status attr_get_int(const attr_list *list, const char *name, long long min, long long max,
                         long long *out);

/* Encode list onto stream (buffered: flush to send); 0, or -1 on a write
 * error. */
int attr_write(vstream *stream, const attr_list *list);
/* Read one list from stream into list (emptied first), within limits (NULL:
 * the defaults). On anything but ATTR_OK, list is empty and err (may be
 * NULL) says what was wrong and where. */
attr_status attr_read(vstream *stream, attr_list *list, const attr_limits *limits, vstr *err);

#endif
