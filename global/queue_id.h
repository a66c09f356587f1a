/*
 * queue_id - queue ids: make one from a file's creation time and inode
 *
 * SYNOPSIS
 *   char id[QUEUE_ID_SIZE];
 *   queue_id_make(id, tv.tv_sec, tv.tv_usec, st.st_ino);
 *   if (!queue_id_valid(name)) ... not a queue file ...
 *
 * DESCRIPTION
 *   An id is the creation time's seconds (6 digits) and microseconds
 *   (4 digits), then the inode number (1 to 11 digits), all in base 62
 *   ([0-9A-Za-z], most significant digit first). The time part has a
 *   fixed width, so the inode part is never ambiguous: two files that
 *   exist at once (on one file system, so with different inodes) never
 *   share an id, and an id does not come back while the clock moves
 *   forward. Ids of one length sort by creation time. Six base-62 digits
 *   of seconds last until the year 3700.
 *
 *   queue_id_valid() is the test every reader of a queue directory uses
 *   (docs/PROTOCOLS.md): 1 to QUEUE_ID_MAX characters of [0-9A-Za-z].
 *   It accepts ids made by other means (tests, older versions); only
 *   queue_id_parse() insists on this module's layout.
 */
#ifndef GLOBAL_QUEUE_ID_H
#define GLOBAL_QUEUE_ID_H

#include <stddef.h>
#include <stdint.h>

/* Longest id any reader accepts (PROTOCOLS.md). */
#define QUEUE_ID_MAX 32
/* Buffer size for an id and its NUL. */
#define QUEUE_ID_SIZE (QUEUE_ID_MAX + 1)

/* Write the id for (seconds, microseconds, inode) to buf, NUL-terminated;
 * returns its length. Seconds outside [0, 62^6) and microseconds outside
 * [0, 1000000) are a panic (a broken clock, never input). */
size_t queue_id_make(char buf[QUEUE_ID_SIZE], long long seconds, long microseconds,
                     uint64_t inode);

/* True when s is a syntactically valid queue id. */
int queue_id_valid(const char *s);

/* Recover (seconds, microseconds, inode) from an id this module made;
 * returns 0, or -1 when s does not have that layout. Any out-pointer may
 * be NULL. */
int queue_id_parse(const char *s, long long *seconds, long *microseconds, uint64_t *inode);

#endif
