/*
 * NAME
 *   master_pid - the lock that says "this instance is running"
 *
 * SYNOPSIS
 *   #include "global/master_pid.h"
 *
 *   master_pid_path(cfg, &path);
 *   int fd = master_pid_lock(vstr_str(&path), &holder, &err);  (master)
 *   pid_t pid = master_pid_running(vstr_str(&path));            (postern)
 *
 * DESCRIPTION
 *   master holds an fcntl write lock on queue_directory/pid/master.pid
 *   (process_id_directory under queue_directory) for as long as it runs,
 *   and writes its pid into the file. The lock, not the file's existence
 *   or contents, decides: the kernel drops it when master dies however it
 *   dies, so a stale file never blocks a start, and two masters never
 *   share one queue. postern asks the same lock whether master runs.
 *
 * DIAGNOSTICS
 *   master_pid_lock returns -1 with a reason in err; *holder is the pid
 *   of the master that holds the lock when that is why (else 0).
 */
#ifndef GLOBAL_MASTER_PID_H
#define GLOBAL_MASTER_PID_H

#include <sys/types.h>

#include "global/config.h"
#include "util/vstr.h"

/* The pid file's path from cfg (queue_directory, process_id_directory). */
void master_pid_path(config *cfg, vstr *out);

/* Create or open path, lock it without waiting and write our pid into it.
 * The descriptor (close-on-exec; keep it open to keep the lock), or -1. */
int master_pid_lock(const char *path, pid_t *holder, vstr *err);

/* The pid of the process that holds the lock on path, or 0 when nobody
 * does (or the file does not exist). -1 with errno when the file exists
 * but cannot be opened. */
pid_t master_pid_running(const char *path);

/* Remove path and release the lock held on fd. */
void master_pid_release(const char *path, int fd);

#endif
