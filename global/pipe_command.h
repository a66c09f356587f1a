/*
 * pipe_command - run a delivery command: clean environment, given user, time limit
 *
 * SYNOPSIS
 *   pipe_command_req req = {
 *       .command = "/usr/bin/procmail", .shell = "/bin/sh", .env = env,
 *       .cwd = home, .stdin_fd = message_fd, .uid = uid, .gid = gid,
 *       .time_limit = 1000,
 *   };
 *   pipe_command_result res;
 *   pipe_command_run(&req, &res);
 *   pipe_command_verdict(&req, &res, &dsn, &reason);   "2.0.0", "4.3.0", "5.3.0" ...
 *   pipe_command_result_free(&res);
 *
 * DESCRIPTION
 *   The command runs as `shell -c command` in a new process group, with
 *   exactly the environment given, standard input from stdin_fd (read
 *   from its start), standard output and error into one pipe of which
 *   the first PIPE_COMMAND_OUTPUT_MAX bytes are kept for the bounce
 *   message, umask 077, and no other descriptors. When uid is not
 *   PIPE_COMMAND_SAME_USER and we are root, the child drops to uid/gid
 *   (supplementary groups cleared) before anything else and checks that
 *   root cannot be regained; it never runs the command as root then.
 *
 *   When time_limit seconds pass, the whole process group is killed.
 *
 *   The verdict follows Postfix: exit 0 delivers; a sysexits.h code that
 *   means "later" (EX_TEMPFAIL, EX_OSERR) defers; a signal defers; any
 *   other exit status, and the time limit, bounce. The reason reads
 *   "Command died with status 75: \"cmd\". Command output: ...".
 *
 * DIAGNOSTICS
 *   fork or pipe failures give PIPE_COMMAND_ERROR with the reason in
 *   output (the mail is deferred).
 */
#ifndef GLOBAL_PIPE_COMMAND_H
#define GLOBAL_PIPE_COMMAND_H

#include <sys/types.h>

#include "util/vstr.h"

/* Bytes of command output kept. */
#define PIPE_COMMAND_OUTPUT_MAX 1024
/* uid value: do not change user. */
#define PIPE_COMMAND_SAME_USER ((uid_t)-1)

typedef struct pipe_command_req {
    const char *command;
    const char *shell; /* "/bin/sh" */
    char *const *env;  /* "NAME=value" strings, NULL-terminated */
    const char *cwd;   /* working directory; "/" when NULL or not accessible */
    int stdin_fd;      /* read from offset 0; -1 for /dev/null */
    uid_t uid;         /* PIPE_COMMAND_SAME_USER, or the user to become */
    gid_t gid;
    long time_limit; /* seconds, > 0 */
} pipe_command_req;

typedef enum pipe_command_status {
    PIPE_COMMAND_EXITED,   /* code holds the exit status */
    PIPE_COMMAND_SIGNALED, /* code holds the signal */
    PIPE_COMMAND_TIMEOUT,
    PIPE_COMMAND_ERROR, /* could not run it; output says why */
} pipe_command_status;

typedef struct pipe_command_result {
    pipe_command_status status;
    int code;
    vstr output; /* at most PIPE_COMMAND_OUTPUT_MAX bytes */
} pipe_command_result;

/* Run the command and wait for it (or its time limit). */
void pipe_command_run(const pipe_command_req *req, pipe_command_result *res);
/* The enhanced status code ("2.0.0", "4.3.0", "5.3.0"...) and reason text. */
void pipe_command_verdict(const pipe_command_req *req, const pipe_command_result *res, vstr *dsn,
                          vstr *reason);
/* Free the result's output buffer. */
void pipe_command_result_free(pipe_command_result *res);

#endif
