/*
 * queue_dirs - the directories under queue_directory, their modes and owners
 *
 * Order matters to whoever creates the tree: the parent comes first.
 */
#include <string.h>

#include "global/queue_dirs.h"

const queue_dir queue_dirs[] = {
    {"", 0755, QUEUE_OWNER_MASTER, 0},       {"maildrop", 01770, QUEUE_OWNER_MAIL, 1},
    {"incoming", 0700, QUEUE_OWNER_MAIL, 0}, {"active", 0700, QUEUE_OWNER_MAIL, 0},
    {"deferred", 0700, QUEUE_OWNER_MAIL, 0}, {"hold", 0700, QUEUE_OWNER_MAIL, 0},
    {"corrupt", 0700, QUEUE_OWNER_MAIL, 0},  {"bounce", 0700, QUEUE_OWNER_MAIL, 0},
    {"defer", 0700, QUEUE_OWNER_MAIL, 0},    {"trace", 0700, QUEUE_OWNER_MAIL, 0},
    {"public", 0710, QUEUE_OWNER_MAIL, 1},   {"private", 0700, QUEUE_OWNER_MAIL, 0},
    {"pid", 0755, QUEUE_OWNER_MASTER, 0},    {NULL, 0, QUEUE_OWNER_MASTER, 0},
};

const queue_dir *queue_dir_find(const char *name)
{
    for (const queue_dir *d = queue_dirs; d->name; d++)
        if (strcmp(d->name, name) == 0)
            return d;
    return NULL;
}
