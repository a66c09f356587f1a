/*
 * local_forward - send addresses outside this host on as new mail
 *
 * What an alias, .forward or :include: names outside mydestination is
 * written as a new queue file through the queue-file writer (global/
 * cleanup), one per envelope sender: the recipient's sender, or
 * owner-NAME@myorigin for an alias with an owner. The copy gets a
 * "Delivered-To: <recipient>" header first (prepend_delivered_header
 * "forward"), so that if it ever comes back here the loop is seen and
 * bounced. Then qmgr is told there is new mail.
 *
 * Started as root, the file is written by a child that has become
 * mail_owner: queue files belong to mail_owner, who alone may change
 * them (DESIGN.md).
 */
#include <string.h>
#include <unistd.h>

#include "global/addr_list.h"
#include "global/cleanup.h"
#include "global/master_proto.h"
#include "global/rec.h"
#include "global/server.h"
#include "global/trigger.h"
#include "local/local.h"
#include "util/mem.h"
#include "util/msg.h"

typedef struct forward_job {
    local_outcome *out;
    const char *sender;
    argv_t *addrs;
    vstr *queue_id;
} forward_job;

/* Tell qmgr (public/qmgr) that there is new mail. Failure is harmless:
 * qmgr scans incoming on its next wakeup. */
static void trigger_qmgr(void)
{
    vstr err = VSTR_INIT;

    if (trigger_send(local_cf.queue_directory, "qmgr", TRIGGER_NEW, 1000, &err) < 0 &&
        msg_verbose_level() > 0)
        msg_info("trigger qmgr: %s", vstr_str(&err));
    vstr_release(&err);
}

static void forward_one(void *arg, vstr *dsn, vstr *reason)
{
    forward_job *job = arg;
    local_request *req = job->out->req;
    local_rcpt *rcpt = job->out->rcpt;
    const char *orig = rcpt->orig_rcpt && *rcpt->orig_rcpt ? rcpt->orig_rcpt : rcpt->address;
    vstr line = VSTR_INIT, err = VSTR_INIT;
    queue_line_status st;
    cleanup_status cs;
    cleanup *c;

    c = cleanup_open(local_cf.cfg, 0, &err);
    if (c == NULL) {
        vstr_set_str(dsn, "4.3.0");
        vstr_set_fmt(reason, "cannot forward: %s", vstr_str(&err));
        vstr_release(&err);
        return;
    }
    vstr_set_str(job->queue_id, cleanup_id(c));
    cleanup_set_sender(c, job->sender);
    for (size_t i = 0; i < job->addrs->argc; i++)
        cleanup_add_rcpt(c, job->addrs->argv[i], orig,
                         rcpt->dsn_orcpt && *rcpt->dsn_orcpt ? rcpt->dsn_orcpt : NULL,
                         rcpt->dsn_notify);
    vstr_set_fmt(&line, "%ld", (long)getuid());
    cleanup_set_attr(c, "uid", vstr_str(&line));
    cleanup_set_attr(c, "rewrite_context", "local");
    if (local_cf.delivered_header & LOCAL_CLASS_FORWARD) {
        vstr_set_str(&line, "Delivered-To: ");
        addr_list_quote(&line, job->out->top_address);
        cleanup_put_line(c, vstr_str(&line), vstr_len(&line));
    }
    if (queue_file_rewind_content(req->reader) < 0) {
        cleanup_abort(c);
        vstr_set_str(dsn, "4.3.0");
        vstr_set_fmt(reason, "error reading queue file: %s", queue_file_error(req->reader));
        goto done;
    }
    while ((st = queue_file_read_line(req->reader, &line, LOCAL_LINE_BOUND)) == QUEUE_LINE ||
           st == QUEUE_PIECE)
        cleanup_put_record(c, st == QUEUE_LINE ? REC_TYPE_NORM : REC_TYPE_CONT, vstr_str(&line),
                           vstr_len(&line));
    if (st != QUEUE_END) {
        cleanup_abort(c);
        vstr_set_str(dsn, "4.3.0");
        vstr_set_fmt(reason, "error reading queue file: %s", queue_file_error(req->reader));
        goto done;
    }
    cs = cleanup_finish(c, &err);
    if (cs == CLEANUP_OK) {
        vstr_set_str(dsn, "2.0.0");
        vstr_set_fmt(reason, "forwarded as %s", vstr_str(job->queue_id));
    } else {
        /* A size or hop-count refusal will not change: bounce. */
        vstr_set_str(dsn, cleanup_status_dsn(cs));
        vstr_set_fmt(reason, "cannot forward: %s", vstr_str(&err));
    }

done:
    vstr_release(&line);
    vstr_release(&err);
}

void local_forward_flush(local_outcome *out)
{
    argv_t *done_senders = argv_new();
    vstr dsn = VSTR_INIT, reason = VSTR_INIT, id = VSTR_INIT;
    local_priv owner = {local_cf.mail_owner_uid, local_cf.mail_owner_gid, "mail_owner", "/",
                        "/bin/sh"};
    int sent = 0;

    for (size_t i = 0; i < out->forward->argc; i++) {
        const char *sender = out->forward_sender->argv[i];
        forward_job job = {out, sender, argv_new(), &id};
        int seen = 0;

        for (size_t s = 0; s < done_senders->argc && !seen; s++)
            seen = strcmp(done_senders->argv[s], sender) == 0;
        if (seen) {
            argv_free(job.addrs);
            continue;
        }
        argv_add(done_senders, sender);
        for (size_t j = i; j < out->forward->argc; j++)
            if (strcmp(out->forward_sender->argv[j], sender) == 0)
                argv_add(job.addrs, out->forward->argv[j]);
        vstr_reset(&id);
        local_as(&owner, forward_one, &job, &dsn, &reason);
        if (vstr_str(&dsn)[0] == '2')
            sent = 1;
        for (size_t j = 0; j < job.addrs->argc; j++) {
            local_state state;

            memset(&state, 0, sizeof(state));
            state.req = out->req;
            state.rcpt = out->rcpt;
            state.level = 1;
            state.address = job.addrs->argv[j];
            state.sender = sender;
            local_result(&state, out, vstr_str(&dsn), "%s", vstr_str(&reason));
        }
        argv_free(job.addrs);
    }
    if (sent)
        trigger_qmgr();
    argv_free(done_senders);
    vstr_release(&dsn);
    vstr_release(&reason);
    vstr_release(&id);
}
