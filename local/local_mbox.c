/*
 * local_mbox - mailboxes: mbox files, and the choice of mailbox
 *
 * A user's mailbox is, in order: the user's command in
 * mailbox_command_maps, or mailbox_command when set; else
 * $home/home_mailbox when set (Maildir when it ends in '/'); else
 * mail_spool_directory/USER (Maildir when mail_spool_directory ends in
 * '/', as in Postfix).
 *
 * An mbox is opened without following links (util/safe_open), owned by
 * the recipient when strict_mailbox_ownership is set, locked with fcntl
 * and a dot-lock (mailbox_delivery_lock), and the message is appended
 * all or nothing (global/mbox: a failed write is truncated away).
 *
 * Rights. Everything happens in a child that has become the recipient,
 * with one exception Postfix makes too: when local runs as root and the
 * spool directory is not world-writable with the sticky bit (Debian's
 * /var/mail is root:mail 2775), a user cannot create a file or a
 * dot-lock there, so the parent, as root, creates the mailbox (owned by
 * the user, mode 0600), takes both locks and hands the open descriptor
 * to the child, which then writes as the user. The same for root's own
 * mailbox, which stays root's while default_privs writes the message.
 *
 * Opening and locking: global/mbox_lock.
 *
 * Errors that may pass (a lock held too long, a full disk, a wrong owner
 * an administrator can fix) defer; a mailbox over mailbox_size_limit or
 * the user's quota bounces (5.2.2).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "global/mbox_lock.h"
#include "local/local.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/safe_open.h"

typedef struct mbox_job {
    const local_state *state;
    const char *path;
    const char *delivered_to;
    uid_t owner; /* required owner, or SAFE_OPEN_ANY_OWNER */
    int fd;      /* opened and locked by the parent; -1: the child does it */
    int file;    /* /file delivery (dot-lock failures tolerated) */
    long long limit;
} mbox_job;

/* Append the message to fd (locked). */
static void append_message(const mbox_job *job, int fd, vstr *dsn, vstr *reason)
{
    const local_state *state = job->state;
    mbox_writer *w = mbox_begin(fd, MBOX_FLAG_MBOX, (off_t)job->limit);
    vstr line = VSTR_INIT, err = VSTR_INIT;

    mbox_from_line(&line, state->sender, time(NULL));
    mbox_put_unquoted(w, vstr_str(&line), vstr_len(&line));
    if (local_copy(state, w, job->delivered_to, &err) < 0) {
        mbox_abort(w);
        vstr_set_str(dsn, "4.3.0");
        vstr_set_str(reason, vstr_str(&err));
    } else if (mbox_finish(w, &err) < 0) {
        vstr_set_str(dsn, mbox_lock_dsn(errno));
        vstr_set_fmt(reason, "cannot update mailbox %s: %s", job->path, vstr_str(&err));
    } else {
        vstr_set_str(dsn, "2.0.0");
        if (job->file)
            vstr_set_fmt(reason, "delivered to file: %s", job->path);
        else
            vstr_set_str(reason, "delivered to mailbox");
    }
    vstr_release(&line);
    vstr_release(&err);
}

/* In the child (or inline): open, lock and append, or only append. */
static void mbox_deliver(void *arg, vstr *dsn, vstr *reason)
{
    mbox_job *job = arg;
    int fd = job->fd, dotlocked = 0;

    if (fd < 0) {
        fd = mbox_lock_open(job->path, &local_cf.lock, job->owner, (uid_t)-1, (gid_t)-1, job->file,
                            &dotlocked, dsn, reason);
        if (fd < 0)
            return;
    }
    append_message(job, fd, dsn, reason);
    if (job->fd < 0)
        mbox_lock_close(job->path, fd, dotlocked);
}

/* True when users can create files in dir themselves (world-writable and
 * sticky, like /tmp). */
static int spool_open_to_users(const char *dir)
{
    struct stat st;

    return stat(dir, &st) == 0 && (st.st_mode & S_IWOTH) && (st.st_mode & S_ISVTX);
}

static void deliver_spool_mbox(const local_state *state, local_outcome *out,
                               const local_user *user, const char *path)
{
    mbox_job job = {.state = state,
                    .path = path,
                    .delivered_to = state->address,
                    .owner = local_cf.strict_ownership ? user->uid : SAFE_OPEN_ANY_OWNER,
                    .fd = -1,
                    .limit = local_cf.mailbox_size_limit};
    vstr dsn = VSTR_INIT, reason = VSTR_INIT;
    local_priv priv;
    int dotlocked = 0;

    local_priv_for_user(user, &priv);
    /* root's own mailbox is opened by root too, and stays root's; the
     * writing is still done as default_privs. */
    if (local_cf.privileged &&
        (user->uid == 0 || !spool_open_to_users(local_cf.mail_spool_directory))) {
        job.fd = mbox_lock_open(path, &local_cf.lock, job.owner, user->uid, user->gid, 0,
                                &dotlocked, &dsn, &reason);
        if (job.fd < 0) {
            local_result(state, out, vstr_str(&dsn), "%s", vstr_str(&reason));
            goto done;
        }
    }
    local_as(&priv, mbox_deliver, &job, &dsn, &reason);
    local_result(state, out, vstr_str(&dsn), "%s", vstr_str(&reason));
    if (job.fd >= 0)
        mbox_lock_close(path, job.fd, dotlocked);

done:
    vstr_release(&dsn);
    vstr_release(&reason);
}

void local_mbox_path(const local_state *state, local_outcome *out, const char *path,
                     const local_priv *priv, uid_t owner, long long limit)
{
    mbox_job job = {.state = state,
                    .path = path,
                    .delivered_to = state->address,
                    .owner = owner,
                    .fd = -1,
                    .limit = limit};
    vstr dsn = VSTR_INIT, reason = VSTR_INIT;

    local_as(priv, mbox_deliver, &job, &dsn, &reason);
    local_result(state, out, vstr_str(&dsn), "%s", vstr_str(&reason));
    vstr_release(&dsn);
    vstr_release(&reason);
}

void local_mailbox(const local_state *state, local_outcome *out, const local_user *user)
{
    vstr path = VSTR_INIT, err = VSTR_INIT, command = VSTR_INIT;
    local_priv priv;

    local_priv_for_user(user, &priv);
    /* mailbox_command_maps (by user name) before mailbox_command. */
    switch (maps_find(local_cf.mailbox_command_maps, user->name, &command, NULL)) {
    case DICT_ERROR:
        local_result(state, out, "4.3.0", "%s", maps_error(local_cf.mailbox_command_maps));
        goto done;
    case DICT_NOTFOUND:
        vstr_set_str(&command, local_cf.mailbox_command);
        break;
    }
    if (vstr_len(&command) > 0) {
        if (local_expand(state, user, vstr_str(&command), local_cf.command_expansion_filter, &path,
                         &err) < 0)
            local_result(state, out, "4.3.5", "mailbox_command: %s", vstr_str(&err));
        else
            local_command(state, out, vstr_str(&path), &priv, user);
    } else if (*local_cf.home_mailbox) {
        vstr_set_fmt(&path, "%s/%s", user->home, local_cf.home_mailbox);
        if (vstr_str(&path)[vstr_len(&path) - 1] == '/')
            local_maildir(state, out, vstr_str(&path), &priv, 0, local_cf.mailbox_size_limit);
        else
            local_mbox_path(state, out, vstr_str(&path), &priv,
                            local_cf.strict_ownership ? user->uid : SAFE_OPEN_ANY_OWNER,
                            local_cf.mailbox_size_limit);
    } else {
        const char *spool = local_cf.mail_spool_directory;
        size_t len = strlen(spool);

        if (len > 0 && spool[len - 1] == '/') {
            vstr_set_fmt(&path, "%s%s/", spool, user->name);
            local_maildir(state, out, vstr_str(&path), &priv, 0, local_cf.mailbox_size_limit);
        } else {
            vstr_set_fmt(&path, "%s/%s", spool, user->name);
            deliver_spool_mbox(state, out, user, vstr_str(&path));
        }
    }

done:
    vstr_release(&path);
    vstr_release(&err);
    vstr_release(&command);
}

void local_file(const local_state *state, local_outcome *out, const char *path,
                const local_priv *priv)
{
    size_t len = strlen(path);
    mbox_job job = {state, path, NULL, SAFE_OPEN_ANY_OWNER, -1, 1, local_cf.mailbox_size_limit};
    vstr dsn = VSTR_INIT, reason = VSTR_INIT;

    if (len > 0 && path[len - 1] == '/') {
        local_maildir(state, out, path, priv, 1, local_cf.mailbox_size_limit);
        return;
    }
    if (local_cf.delivered_header & LOCAL_CLASS_FILE)
        job.delivered_to = state->address;
    local_as(priv, mbox_deliver, &job, &dsn, &reason);
    local_result(state, out, vstr_str(&dsn), "%s", vstr_str(&reason));
    vstr_release(&dsn);
    vstr_release(&reason);
}
