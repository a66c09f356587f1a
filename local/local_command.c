/*
 * local_command - |command destinations and mailbox_command
 *
 * The message goes to the command's standard input from an in-memory
 * file (memfd): a From_ line, Return-Path:, X-Original-To:, Delivered-To:
 * (prepend_delivered_header "command"), then the message, unquoted, as
 * procmail and friends expect. The command never blocks local on a pipe
 * it does not read.
 *
 * It runs as `/bin/sh -c command` (local_command_shell), as the user the
 * destination belongs to (never root: default_privs stands in), in that
 * user's home directory (command_execution_directory), for at most
 * command_time_limit, with exactly this environment: HOME, USER, LOGNAME,
 * SHELL of that user; SENDER, RECIPIENT, LOCAL, EXTENSION, DOMAIN of the
 * delivery; PATH=/usr/bin:/bin; MAIL_CONFIG (so that a command that
 * sends mail reaches this instance); and the export_environment
 * variables local itself has (TZ, LANG). The exit status decides
 * (global/pipe_command): 0 delivered, EX_TEMPFAIL and friends defer,
 * anything else bounces with the command's output in the reason.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "global/pipe_command.h"
#include "local/local.h"
#include "util/mem.h"

static void add_env(argv_t *env, const char *name, const char *value)
{
    vstr v = VSTR_INIT;

    vstr_set_fmt(&v, "%s=%s", name, value ? value : "");
    argv_add(env, vstr_str(&v));
    vstr_release(&v);
}

/* The message as the command reads it, in a memory file; -1 with a reason. */
static int message_file(const local_state *state, vstr *reason)
{
    int fd = memfd_create("postern-message", MFD_CLOEXEC);
    const char *delivered =
        (local_cf.delivered_header & LOCAL_CLASS_COMMAND) ? state->address : NULL;
    vstr line = VSTR_INIT;
    mbox_writer *w;

    if (fd < 0) {
        vstr_set_fmt(reason, "cannot make a message file: %s", strerror(errno));
        return -1;
    }
    w = mbox_begin(fd, MBOX_FLAG_NO_SYNC, 0);
    mbox_from_line(&line, state->sender, time(NULL));
    mbox_put_unquoted(w, vstr_str(&line), vstr_len(&line));
    if (local_copy(state, w, delivered, reason) < 0) {
        mbox_abort(w);
        close(fd);
        fd = -1;
    } else if (mbox_finish(w, &line) < 0) {
        vstr_set_fmt(reason, "cannot make a message file: %s", vstr_str(&line));
        close(fd);
        fd = -1;
    }
    vstr_release(&line);
    return fd;
}

void local_command(const local_state *state, local_outcome *out, const char *command,
                   const local_priv *priv, const local_user *user)
{
    const char *shell = *local_cf.local_command_shell ? local_cf.local_command_shell : "/bin/sh";
    vstr dsn = VSTR_INIT, reason = VSTR_INIT, cwd = VSTR_INIT;
    argv_t *env = argv_new();
    pipe_command_result res;
    pipe_command_req req;
    int fd;

    while (*command == ' ' || *command == '\t')
        command++;
    fd = message_file(state, &reason);
    if (fd < 0) {
        local_result(state, out, "4.3.0", "%s", vstr_str(&reason));
        goto done;
    }
    add_env(env, "HOME", priv->home);
    add_env(env, "USER", priv->name);
    add_env(env, "LOGNAME", priv->name);
    add_env(env, "SHELL", priv->shell);
    add_env(env, "SENDER", state->sender);
    add_env(env, "RECIPIENT", state->address);
    add_env(env, "LOCAL", state->local_part);
    add_env(env, "EXTENSION", state->extension);
    add_env(env, "DOMAIN", state->domain);
    add_env(env, "PATH", "/usr/bin:/bin");
    add_env(env, "MAIL_CONFIG", config_dir(local_cf.cfg));
    for (size_t i = 0; i < local_cf.export_environment->argc; i++) {
        const char *name = local_cf.export_environment->argv[i];
        const char *value = getenv(name);

        if (value != NULL && strcmp(name, "MAIL_CONFIG") != 0)
            add_env(env, name, value);
    }
    vstr_set_str(&cwd, priv->home);
    if (*local_cf.command_execution_directory &&
        local_expand(state, user, local_cf.command_execution_directory, NULL, &cwd, &reason) < 0)
        vstr_set_str(&cwd, priv->home);
    memset(&req, 0, sizeof(req));
    req.command = command;
    req.shell = shell;
    req.env = env->argv;
    req.cwd = vstr_str(&cwd);
    req.stdin_fd = fd;
    req.uid = local_cf.privileged ? priv->uid : PIPE_COMMAND_SAME_USER;
    req.gid = priv->gid;
    req.time_limit = local_cf.command_time_limit;
    if (local_cf.privileged && priv->uid == 0) {
        local_result(state, out, "4.3.0", "refusing to run a command as root");
    } else {
        pipe_command_run(&req, &res);
        pipe_command_verdict(&req, &res, &dsn, &reason);
        pipe_command_result_free(&res);
        local_result(state, out, vstr_str(&dsn), "%s", vstr_str(&reason));
    }
    close(fd);

done:
    argv_free(env);
    vstr_release(&dsn);
    vstr_release(&reason);
    vstr_release(&cwd);
}
