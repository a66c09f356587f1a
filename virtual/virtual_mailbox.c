/*
 * virtual_mailbox - write one message into a virtual mailbox as its owner
 *
 * Rights. virtual runs as root and, for each delivery, switches its
 * effective ids to the mailbox owner's (setegid, setgroups to that one
 * group, seteuid), writes, then switches back (seteuid(0), setegid(0),
 * no supplementary groups), as Postfix's virtual does. The order
 * matters: the group ids can only be changed while the effective uid is
 * 0. No fork per delivery: a fork costs more than the delivery itself
 * (copy-on-write faults), and virtual needs nothing of the user's
 * environment, only that files and directories are made by the owner's
 * ids, so the owner's quota applies and nothing is created as root in a
 * directory the owner controls.
 *
 * Why seteuid and not setfsuid: setfsuid changes only the file-system
 * ids, is Linux-only and cannot report failure; seteuid is portable and
 * checked. While switched, the process keeps real and saved uid 0, so
 * the owner cannot signal it, and the kernel makes it non-dumpable, so
 * the owner cannot trace it either. A failure to switch, or to switch
 * back, is fatal (the process exits; qmgr defers the mail): virtual never
 * writes as the wrong user and never keeps serving with the wrong ids.
 *
 * Maildir (a path ending in '/'): global/maildir writes tmp/NAME, fsyncs
 * it, links it into new/ and fsyncs new/; directories are made mode 0700
 * when missing. mbox: global/mbox_lock opens (creating mode 0600, and the
 * directories above it) and locks it (virtual_mailbox_lock), global/mbox
 * appends all of the message or nothing, with a From_ line and >From
 * quoting. Both get Return-Path:, X-Original-To: (when
 * enable_original_recipient) and Delivered-To: first (global/mail_copy).
 * A file or mailbox growing past virtual_mailbox_limit bounces (5.2.2), as
 * does a quota; a full disk or other write error defers.
 */
#include <errno.h>
#include <grp.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "global/mail_copy.h"
#include "global/maildir.h"
#include "global/mbox.h"
#include "util/msg.h"
#include "util/safe_open.h"
#include "virtual/virtual.h"

/* Become uid:gid for file access (effective ids only). */
static void become_owner(uid_t uid, gid_t gid)
{
    if (setegid(gid) < 0)
        msg_fatal("setegid(%lu): %s", (unsigned long)gid, strerror(errno));
    if (setgroups(1, &gid) < 0)
        msg_fatal("setgroups(%lu): %s", (unsigned long)gid, strerror(errno));
    if (seteuid(uid) < 0)
        msg_fatal("seteuid(%lu): %s", (unsigned long)uid, strerror(errno));
}

/* Back to root. */
static void become_root(void)
{
    if (seteuid(0) < 0)
        msg_fatal("seteuid(0): %s", strerror(errno));
    if (setegid(0) < 0)
        msg_fatal("setegid(0): %s", strerror(errno));
    if (setgroups(0, NULL) < 0)
        msg_fatal("setgroups(0): %s", strerror(errno));
}

static void copy_headers(const virtual_mailbox *box, mail_copy_headers *h,
                         const virtual_message *msg)
{
    h->return_path = msg->req->sender;
    h->orig_to = box->orig_to;
    h->delivered_to = box->address;
}

static void deliver_maildir(const virtual_message *msg, const virtual_mailbox *box,
                            virtual_result *res)
{
    vstr err = VSTR_INIT;
    mail_copy_headers h;
    maildir_file *m = maildir_create(box->path, virtual_cf.myhostname, &err);
    mbox_writer *w;

    if (m == NULL) {
        virtual_set_result(res, mbox_lock_dsn(errno), "cannot deliver to maildir %s: %s",
                           box->path, vstr_str(&err));
        vstr_release(&err);
        return;
    }
    copy_headers(box, &h, msg);
    w = mbox_begin(maildir_fd(m), 0, (off_t)virtual_cf.mailbox_limit);
    if (mail_copy(w, msg->reader, &h, VIRTUAL_LINE_BOUND, &err) < 0) {
        mbox_abort(w);
        maildir_abort(m);
        virtual_set_result(res, "4.3.0", "%s", vstr_str(&err));
    } else if (mbox_finish(w, &err) < 0) {
        virtual_set_result(res, mbox_lock_dsn(errno), "cannot write maildir file in %s: %s",
                           box->path, vstr_str(&err));
        maildir_abort(m);
    } else if (maildir_commit(m, &err) < 0) {
        virtual_set_result(res, "4.2.0", "cannot deliver to maildir %s: %s", box->path,
                           vstr_str(&err));
    } else {
        virtual_set_result(res, "2.0.0", "delivered to maildir");
    }
    vstr_release(&err);
}

static void deliver_mbox(const virtual_message *msg, const virtual_mailbox *box,
                         virtual_result *res)
{
    vstr err = VSTR_INIT, dsn = VSTR_INIT, line = VSTR_INIT;
    mail_copy_headers h;
    mbox_writer *w;
    int fd, dotlocked;

    if (mbox_lock_make_parents(box->path, &err) < 0) {
        virtual_set_result(res, mbox_lock_dsn(errno), "%s", vstr_str(&err));
        goto done;
    }
    fd = mbox_lock_open(box->path, &virtual_cf.lock,
                        virtual_cf.privileged ? box->uid : SAFE_OPEN_ANY_OWNER, (uid_t)-1,
                        (gid_t)-1, 0, &dotlocked, &dsn, &err);
    if (fd < 0) {
        virtual_set_result(res, vstr_str(&dsn), "%s", vstr_str(&err));
        goto done;
    }
    copy_headers(box, &h, msg);
    w = mbox_begin(fd, MBOX_FLAG_MBOX, (off_t)virtual_cf.mailbox_limit);
    mbox_from_line(&line, msg->req->sender, time(NULL));
    mbox_put_unquoted(w, vstr_str(&line), vstr_len(&line));
    if (mail_copy(w, msg->reader, &h, VIRTUAL_LINE_BOUND, &err) < 0) {
        mbox_abort(w);
        virtual_set_result(res, "4.3.0", "%s", vstr_str(&err));
    } else if (mbox_finish(w, &err) < 0) {
        virtual_set_result(res, mbox_lock_dsn(errno), "cannot update mailbox %s: %s", box->path,
                           vstr_str(&err));
    } else {
        virtual_set_result(res, "2.0.0", "delivered to mailbox");
    }
    mbox_lock_close(box->path, fd, dotlocked);

done:
    vstr_release(&err);
    vstr_release(&dsn);
    vstr_release(&line);
}

void virtual_mailbox_deliver(const virtual_message *msg, const virtual_mailbox *box,
                             virtual_result *res)
{
    size_t len = strlen(box->path);

    if (virtual_cf.privileged)
        become_owner(box->uid, box->gid);
    if (len > 0 && box->path[len - 1] == '/')
        deliver_maildir(msg, box, res);
    else
        deliver_mbox(msg, box, res);
    if (virtual_cf.privileged)
        become_root();
}
