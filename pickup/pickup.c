/*
 * pickup - move maildrop files (from postdrop) into the queue
 *
 * SYNOPSIS
 *   pickup -c CONFIG_DIR -n pickup -t unix      (started by master, see master.cf)
 *   pickup -c CONFIG_DIR -S unix:PATH -w 60     (stand-alone, for tests)
 *
 * DESCRIPTION
 *   A trigger service on the daemon skeleton (global/server.h), running as
 *   mail_owner. At start, on master's wakeup ('W') and on postdrop's
 *   trigger ('A') it scans queue_directory/maildrop and hands each file
 *   whose name is a queue id to pickup_file() (pickup_file.c), which
 *   validates it, commits it to incoming through the queue-file writer
 *   and removes it. Names that are no queue id (postdrop's temporary
 *   .tNNNN files) are skipped.
 *
 *   The work is bounded: the loop hook takes PICKUP_BATCH files and
 *   returns to the event loop, so triggers are read and master's
 *   lifeline is watched during a long pass; a trigger during a pass asks
 *   for one more pass after it. When a pass has queued mail, qmgr is
 *   woken through public/qmgr.
 *
 *   Failures that may pass never spin. One file that cannot be read now
 *   is left alone for PICKUP_RETRY_SECS while the pass goes on; when the
 *   queue itself cannot take mail (incoming not writable, disk full) the
 *   pass stops and the next one waits as long, whatever triggers come.
 *
 * DIAGNOSTICS
 *   Problems with one file are logged and never stop the daemon;
 *   configuration errors at start are fatal.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/htable.h"
#include "util/msg.h"
#include "global/master_proto.h"
#include "global/queue_id.h"
#include "global/cleanup_checks.h"
#include "global/addr_rewrite.h"
#include "global/server.h"
#include "global/trigger.h"
#include "pickup/pickup.h"

/* Files per loop iteration. */
#define PICKUP_BATCH 20
/* How long a file (or, when the queue is stalled, every file) waits after
 * a failure that may pass. */
#define PICKUP_RETRY_SECS 10

static struct {
    pickup_ctx ctx;
    DIR *dir;           /* a pass under way */
    int wanted;         /* a pass is asked for */
    int64_t not_before; /* no pass before this (monotonic ms): the queue stalled */
    size_t queued;      /* committed since qmgr was last woken */
    htable *later;      /* name -> (intptr_t) monotonic second before which it waits */
} pk;

static void pickup_pre_init(config *cfg, const char *service, char **argv)
{
    (void)service;
    (void)argv;
    memset(&pk, 0, sizeof(pk));
    pk.ctx.cfg = cfg;
    pk.ctx.queue_dir = config_str(cfg, "queue_directory");
    /* As root the skeleton makes us mail_owner and users' files are
     * expected; otherwise every file must be the instance user's. */
    pk.ctx.privileged = geteuid() == 0;
    pk.ctx.instance_uid = geteuid();
    pk.ctx.checks = cleanup_checks_open(cfg);
    /* The queue-file writer's rewriting tables, before the privilege drop. */
    (void)addr_rewrite_tables(cfg);
}

static void pickup_post_init(config *cfg, const char *service, char **argv)
{
    (void)cfg;
    (void)service;
    (void)argv;
    pk.later = htable_new(16);
    pk.wanted = 1; /* what waited while we were down */
}

static void pickup_trigger(const char *bytes, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        switch (bytes[i]) {
        case TRIGGER_NEW:
        case TRIGGER_WAKEUP:
            pk.wanted = 1;
            break;
        default:
            if (msg_verbose_level())
                msg_debug("ignoring trigger byte 0x%02x", (unsigned char)bytes[i]);
            break;
        }
    }
}

static void wake_qmgr(void)
{
    vstr err = VSTR_INIT;

    if (trigger_send(pk.ctx.queue_dir, "qmgr", TRIGGER_NEW, 1000, &err) < 0 && msg_verbose_level())
        msg_debug("trigger qmgr: %s", vstr_str(&err));
    pk.queued = 0;
    vstr_release(&err);
}

static void end_pass(void)
{
    closedir(pk.dir);
    pk.dir = NULL;
}

/* 1 when name waits after a failure; forgets it once its time is up. */
static int waiting(const char *name, int64_t now_s)
{
    htable_entry *e = htable_locate(pk.later, name);

    if (e == NULL)
        return 0;
    if (now_s < (int64_t)(intptr_t)e->value)
        return 1;
    htable_delete(pk.later, name, NULL);
    return 0;
}

/* Up to PICKUP_BATCH files of the pass. */
static void run_batch(void)
{
    int64_t now_s = clock_mono_ms() / 1000;
    struct dirent *d;

    for (int done = 0; done < PICKUP_BATCH;) {
        errno = 0;
        if ((d = readdir(pk.dir)) == NULL) {
            if (errno)
                msg_warn("read %s/maildrop: %s", pk.ctx.queue_dir, strerror(errno));
            end_pass();
            return;
        }
        if (!queue_id_valid(d->d_name) || waiting(d->d_name, now_s))
            continue;
        done++;
        switch (pickup_file(&pk.ctx, d->d_name)) {
        case PICKUP_QUEUED:
            pk.queued++;
            break;
        case PICKUP_BOUNCED:
            pk.queued++; /* the report */
            break;
        case PICKUP_CORRUPT:
        case PICKUP_GONE:
            break;
        case PICKUP_RETRY:
            htable_enter(pk.later, d->d_name, (void *)(intptr_t)(now_s + PICKUP_RETRY_SECS));
            break;
        case PICKUP_STALLED:
            end_pass();
            pk.not_before = clock_mono_ms() + PICKUP_RETRY_SECS * 1000;
            pk.wanted = 1; /* the pass is tried again then, trigger or not */
            return;
        }
    }
}

static int pickup_loop(const char *service, char **argv)
{
    int64_t now = clock_mono_ms();
    vstr path = VSTR_INIT;

    (void)service;
    (void)argv;
    if (pk.dir == NULL && pk.wanted && now >= pk.not_before) {
        vstr_set_fmt(&path, "%s/maildrop", pk.ctx.queue_dir);
        pk.wanted = 0;
        cleanup_checks_refresh(pk.ctx.checks);
        if ((pk.dir = opendir(vstr_str(&path))) == NULL) {
            msg_warn("open %s: %s", vstr_str(&path), strerror(errno));
            pk.not_before = now + PICKUP_RETRY_SECS * 1000;
        }
        vstr_release(&path);
    }
    if (pk.dir != NULL)
        run_batch();
    /* Wake qmgr after each batch that queued mail: it need not wait for
     * the end of a long pass. */
    if (pk.queued > 0)
        wake_qmgr();
    if (pk.dir != NULL)
        return 0;
    if (pk.wanted) {
        now = clock_mono_ms();
        return pk.not_before > now ? (int)(pk.not_before - now) : 0;
    }
    return -1;
}

static void pickup_pre_exit(const char *service, char **argv)
{
    (void)service;
    (void)argv;
    if (pk.dir)
        end_pass();
    htable_free(pk.later, NULL);
    pk.later = NULL;
    cleanup_checks_free(pk.ctx.checks);
    pk.ctx.checks = NULL;
    addr_rewrite_release();
}

int main(int argc, char **argv)
{
    static const server_service svc = {
        .name = "pickup",
        .pre_init = pickup_pre_init,
        .post_init = pickup_post_init,
        .loop = pickup_loop,
        .pre_exit = pickup_pre_exit,
        .trigger = pickup_trigger,
    };

    server_trigger_main(argc, argv, &svc);
}
