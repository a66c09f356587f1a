/*
 * local_maildir - deliver into a Maildir
 *
 * For a mailbox (home_mailbox or mail_spool_directory ending in '/') and
 * for an alias or .forward destination ending in '/'. The Maildir and its
 * tmp/, new/ and cur/ are made when missing; the message is written to
 * tmp/, fsynced, linked into new/ and new/ is fsynced (global/maildir),
 * all in a child that has become the recipient (or the alias owner).
 * Files are limited to mailbox_size_limit bytes.
 */
#include <errno.h>
#include <string.h>

#include "global/maildir.h"
#include "local/local.h"

typedef struct maildir_job {
    const local_state *state;
    const char *dir;
    const char *delivered_to;
    int is_file;
    long long limit;
} maildir_job;

static void maildir_deliver(void *arg, vstr *dsn, vstr *reason)
{
    maildir_job *job = arg;
    vstr err = VSTR_INIT;
    maildir_file *m = maildir_create(job->dir, local_cf.myhostname, &err);
    mbox_writer *w;

    if (m == NULL) {
        vstr_set_str(dsn, errno == EDQUOT ? "5.2.2" : errno == ENOSPC ? "4.3.1" : "4.2.0");
        vstr_set_fmt(reason, "cannot deliver to maildir %s: %s", job->dir, vstr_str(&err));
        vstr_release(&err);
        return;
    }
    w = mbox_begin(maildir_fd(m), 0, (off_t)job->limit);
    if (local_copy(job->state, w, job->delivered_to, &err) < 0) {
        mbox_abort(w);
        maildir_abort(m);
        vstr_set_str(dsn, "4.3.0");
        vstr_set_str(reason, vstr_str(&err));
    } else if (mbox_finish(w, &err) < 0) {
        vstr_set_str(dsn, errno == EFBIG || errno == EDQUOT ? "5.2.2"
                          : errno == ENOSPC                 ? "4.3.1"
                                                            : "4.2.0");
        vstr_set_fmt(reason, "cannot write maildir file in %s: %s", job->dir, vstr_str(&err));
        maildir_abort(m);
    } else if (maildir_commit(m, &err) < 0) {
        vstr_set_str(dsn, "4.2.0");
        vstr_set_fmt(reason, "cannot deliver to maildir %s: %s", job->dir, vstr_str(&err));
    } else {
        vstr_set_str(dsn, "2.0.0");
        if (job->is_file)
            vstr_set_fmt(reason, "delivered to maildir: %s", job->dir);
        else
            vstr_set_str(reason, "delivered to maildir");
    }
    vstr_release(&err);
}

void local_maildir(const local_state *state, local_outcome *out, const char *dir,
                   const local_priv *priv, int is_file, long long limit)
{
    maildir_job job = {state, dir, state->address, is_file, limit};
    vstr dsn = VSTR_INIT, reason = VSTR_INIT;

    if (is_file && !(local_cf.delivered_header & LOCAL_CLASS_FILE))
        job.delivered_to = NULL;
    local_as(priv, maildir_deliver, &job, &dsn, &reason);
    local_result(state, out, vstr_str(&dsn), "%s", vstr_str(&reason));
    vstr_release(&dsn);
    vstr_release(&reason);
}
