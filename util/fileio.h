/*
 * NAME
 *   fileio - whole reads and writes, fsync of files and directories
 *
 * SYNOPSIS
 *   #include "util/fileio.h"
 *
 *   fileio_write_all(fd, buf, len);  fileio_fsync(fd);  close(fd);
 *   fileio_rename_durable("incoming/.t1234", "incoming/4Xb1Qz");
 *
 * DESCRIPTION
 *   The pieces of the queue commit protocol (write under a temporary name,
 *   fsync the file, rename, fsync the directory) and the read/write loops
 *   that every caller of read(2)/write(2) would otherwise rewrite: they
 *   retry after EINTR and short transfers, and on a non-blocking
 *   descriptor wait with poll() instead of failing with EAGAIN.
 *
 *   A rename is durable only once the directory holding the new name is
 *   fsynced; until then a crash may leave the old name, the new one, or
 *   (on some file systems) both.
 *
 * DIAGNOSTICS
 *   -1 with errno set, unless said otherwise.
 */
#ifndef UTIL_FILEIO_H
#define UTIL_FILEIO_H

#include <stddef.h>
#include <sys/types.h>

#include "util/vstr.h"

/* Write all len bytes; 0 or -1 (some bytes may have been written). */
int fileio_write_all(int fd, const void *buf, size_t len);
/* Read until len bytes or end of file; the count (< len only at end of
 * file), or -1. */
ssize_t fileio_read_all(int fd, void *buf, size_t len);
/* Append everything up to end of file to out; -1 with EFBIG when there is
 * more than max bytes (out then holds the first max). */
int fileio_read_fd(int fd, size_t max, vstr *out);

/* fsync(2), retried on EINTR. */
int fileio_fsync(int fd);
/* fsync the directory path. */
int fileio_fsync_dir(const char *path);
/* fsync the directory that holds path ("." for a name without a slash). */
int fileio_fsync_parent(const char *path);
/* renameat(2) that never replaces an existing file: RENAME_NOREPLACE, or
 * link and unlink where the file system lacks it (the link fails on an
 * existing name and is as atomic). 0 once to names the file; -1 with errno
 * (EEXIST: to exists). A failed unlink after the link is logged. */
int fileio_rename_noreplace(int from_dir, const char *from, int to_dir, const char *to);
/* rename(2), then fsync the directory of to (and of from, if another). */
int fileio_rename_durable(const char *from, const char *to);
/* Replace path by a file of mode holding len bytes of data, durably: write
 * a temporary file beside it, fsync, rename, fsync the directory. 0, or -1
 * with a reason in err (may be NULL); on failure path is untouched. */
int fileio_write_atomic(const char *path, const void *data, size_t len, mode_t mode, vstr *err);

#endif
