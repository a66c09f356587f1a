/*
 * pickup - what pickup.c (the daemon, its scan) and pickup_file.c (one
 * maildrop file) share
 */
#ifndef PICKUP_PICKUP_H
#define PICKUP_PICKUP_H

#include <sys/types.h>

#include "global/config.h"

typedef struct pickup_ctx {
    config *cfg;
    const char *queue_dir;
    /* Started as root: files may belong to any user. Otherwise (an
     * unprivileged instance) only to instance_uid, the user it runs as. */
    int privileged;
    uid_t instance_uid;
    struct cleanup_checks *checks; /* header/body checks, opened before the privilege drop */
} pickup_ctx;

typedef enum pickup_result {
    PICKUP_QUEUED,  /* committed to incoming; the maildrop file is gone */
    PICKUP_BOUNCED, /* refused by the queue-file writer, reported to the sender; gone */
    PICKUP_CORRUPT, /* broke the contract: moved to corrupt/ */
    PICKUP_GONE,    /* vanished before it was read: nothing to do */
    PICKUP_RETRY,   /* a problem with this file that may pass (a read error): left */
    PICKUP_STALLED, /* the queue cannot take mail now (incoming, disk): left */
} pickup_result;

/* Move maildrop/NAME into the queue (or corrupt/, or back to its sender);
 * logs what it did. */
pickup_result pickup_file(const pickup_ctx *ctx, const char *name);

#endif
