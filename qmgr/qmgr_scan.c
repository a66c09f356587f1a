/*
 * qmgr_scan - take messages from the queue directories into the active queue
 *
 * DESCRIPTION
 *   A scan is a pass over one directory with readdir(), done a little at
 *   a time from the event loop, so that a queue of a million files never
 *   stops deliveries. A request during a pass asks for one more pass
 *   after it (new files may have been missed by the one under way).
 *
 *   - active (at start only): what a crash left there, taken as it is;
 *   - incoming: every complete file, renamed to active;
 *   - deferred: files whose mtime (the next retry time) has passed, or
 *     all of them on a flush, renamed to active; a pass asked for by
 *     postqueue -s or -i also takes the files with a recipient still to
 *     deliver in the site's domain, or with the id asked for.
 *
 *   A file whose id is still in memory is left where it is: postsuper
 *   moved it away from active while qmgr was delivering it, and two
 *   copies of one message must never be in flight. It is taken when
 *   that copy is finished (qmgr_message_free asks for another pass).
 *
 *   The active queue is bounded (qmgr_message_active_limit messages,
 *   qmgr_message_recipient_limit recipients): a pass pauses while it is
 *   full and goes on when deliveries make room. hold is never scanned.
 *   Names that are no queue id (cleanup's temporary files) are skipped.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "util/argv.h"
#include "util/mem.h"
#include "util/msg.h"
#include "global/queue_file.h"
#include "global/queue_id.h"
#include "qmgr/qmgr.h"

/* Messages taken in per loop iteration and scan, so that events are not
 * starved while a big queue is read. */
#define QMGR_SCAN_BATCH 100

struct qmgr_scan {
    char *name;
    DIR *dir;       /* a pass under way */
    int wanted;     /* a pass is asked for */
    int flush;      /* the pass under way (or wanted) ignores retry times */
    int want_flush; /* ... and the next one */
    argv_t *sites, *want_sites; /* postqueue -s: this pass's, the next one's */
    argv_t *ids, *want_ids;     /* postqueue -i */
};

qmgr_scan *qmgr_scan_new(const char *name)
{
    qmgr_scan *s = mem_calloc(1, sizeof(*s));

    s->name = mem_strdup(name);
    s->sites = argv_new();
    s->want_sites = argv_new();
    s->ids = argv_new();
    s->want_ids = argv_new();
    return s;
}

void qmgr_scan_free(qmgr_scan *s)
{
    if (s == NULL)
        return;
    if (s->dir)
        closedir(s->dir);
    mem_free(s->name);
    argv_free(s->sites);
    argv_free(s->want_sites);
    argv_free(s->ids);
    argv_free(s->want_ids);
    mem_free(s);
}

void qmgr_scan_request(qmgr_scan *s, int flush)
{
    s->wanted = 1;
    s->want_flush |= flush;
}

/* Sites compare without case, queue ids with it. */
static int in_list(const argv_t *list, const char *s, int nocase)
{
    for (size_t i = 0; i < list->argc; i++)
        if ((nocase ? strcasecmp(list->argv[i], s) : strcmp(list->argv[i], s)) == 0)
            return 1;
    return 0;
}

void qmgr_scan_request_pick(qmgr_scan *s, const char *site, const char *id)
{
    s->wanted = 1;
    /* Repeated requests cost nothing: each name is kept once. */
    if (site && !in_list(s->want_sites, site, 1))
        argv_add(s->want_sites, site);
    if (id && !in_list(s->want_ids, id, 0))
        argv_add(s->want_ids, id);
}

int qmgr_scan_busy(const qmgr_scan *s)
{
    return s->dir != NULL || s->wanted;
}

/* The next queue id of the pass, or NULL at its end. */
static const char *scan_next(qmgr *q, qmgr_scan *s)
{
    struct dirent *d;
    char path[4096];

    if (s->dir == NULL) {
        if (!s->wanted)
            return NULL;
        s->wanted = 0;
        s->flush = s->want_flush;
        s->want_flush = 0;
        argv_truncate(s->sites, 0);
        argv_truncate(s->ids, 0);
        for (size_t i = 0; i < s->want_sites->argc; i++)
            argv_add(s->sites, s->want_sites->argv[i]);
        for (size_t i = 0; i < s->want_ids->argc; i++)
            argv_add(s->ids, s->want_ids->argv[i]);
        argv_truncate(s->want_sites, 0);
        argv_truncate(s->want_ids, 0);
        snprintf(path, sizeof(path), "%s/%s", q->set.queue_dir, s->name);
        if ((s->dir = opendir(path)) == NULL) {
            msg_warn("scan %s: %s", path, strerror(errno));
            return NULL;
        }
    }
    while ((d = readdir(s->dir)) != NULL) {
        if (queue_id_valid(d->d_name))
            return d->d_name;
    }
    closedir(s->dir);
    s->dir = NULL;
    return NULL;
}

/* Move QUEUE_DIR/from/ID to active; 0, or -1 when it is gone or cannot. */
static int move_to_active(qmgr *q, const char *from, const char *id)
{
    char src[4096], dst[4096];

    snprintf(src, sizeof(src), "%s/%s/%s", q->set.queue_dir, from, id);
    snprintf(dst, sizeof(dst), "%s/active/%s", q->set.queue_dir, id);
    if (rename(src, dst) < 0) {
        /* ENOENT: removed meanwhile (postsuper), or taken by a previous
         * pass; nothing to do. */
        if (errno != ENOENT)
            msg_warn("%s: rename %s to active: %s", id, from, strerror(errno));
        return -1;
    }
    return 0;
}

/* True when deferred/ID has a recipient still to deliver in one of sites. */
static int for_sites(qmgr *q, const argv_t *sites, const char *id)
{
    vstr err = VSTR_INIT;
    queue_reader *r = queue_file_open(q->set.queue_dir, "deferred", id, QUEUE_FILE_QUEUE, &err);
    const queue_envelope *env;
    int found = 0;

    vstr_release(&err);
    if (r == NULL)
        return 0;
    /* A file that cannot be read is taken: loading it moves it to corrupt. */
    if ((env = queue_file_read_envelope(r)) == NULL)
        found = 1;
    for (size_t i = 0; env != NULL && !found && i < env->rcpt_count; i++) {
        const char *at = strrchr(env->rcpts[i].address, '@');

        found = !env->rcpts[i].done && at != NULL && in_list(sites, at + 1, 1);
    }
    queue_file_close(r);
    return found;
}

/* True when a deferred message's retry time has come, or it was asked for. */
static int due(qmgr *q, qmgr_scan *s, const char *id)
{
    char path[4096];
    struct stat st;

    if (s->flush || in_list(s->ids, id, 0))
        return 1;
    snprintf(path, sizeof(path), "%s/deferred/%s", q->set.queue_dir, id);
    if (lstat(path, &st) < 0)
        return 0;
    if (st.st_mtime <= qmgr_now())
        return 1;
    return s->sites->argc > 0 && for_sites(q, s->sites, id);
}

static void scan_some(qmgr *q, qmgr_scan *s)
{
    char id[QUEUE_ID_SIZE];
    const char *name;

    for (int n = 0; n < QMGR_SCAN_BATCH && qmgr_message_room(q); n++) {
        if ((name = scan_next(q, s)) == NULL)
            return;
        snprintf(id, sizeof(id), "%s", name);
        if (htable_find(q->active_ids, id) != NULL) {
            q->skipped_busy |= s != q->scan_active;
            continue;
        }
        if (s == q->scan_deferred && !due(q, s, id))
            continue;
        if (s != q->scan_active && move_to_active(q, s->name, id) < 0)
            continue;
        (void)qmgr_message_load(q, id);
    }
}

void qmgr_scan_run(qmgr *q)
{
    /* Crash leftovers first, then new mail, then retries. */
    scan_some(q, q->scan_active);
    if (qmgr_scan_busy(q->scan_active))
        return;
    scan_some(q, q->scan_incoming);
    scan_some(q, q->scan_deferred);
}
