/*
 * queue_dirs - the directories under queue_directory, their modes and owners
 *
 * SYNOPSIS
 *   for (const queue_dir *d = queue_dirs; d->name; d++)
 *       ... d->name, d->mode, d->owner, d->group ...
 *
 * DESCRIPTION
 *   One table that says what an instance's queue tree looks like, so that
 *   the program that creates it (postern init) and the ones that verify it
 *   (postern check, and later start) cannot disagree. The modes are
 *   Postfix's: maildrop is writable by the set-gid group only through
 *   postdrop (1730, sticky so nobody removes another's file), public lets
 *   that group reach the trigger sockets (710), everything else belongs to
 *   mail_owner alone (700). The queue directory itself and pid/ belong to
 *   whoever runs master: root, or the user of an unprivileged instance.
 */
#ifndef GLOBAL_QUEUE_DIRS_H
#define GLOBAL_QUEUE_DIRS_H

#include <sys/types.h>

typedef enum queue_dir_owner {
    QUEUE_OWNER_MASTER, /* root, or the user who runs an unprivileged instance */
    QUEUE_OWNER_MAIL,   /* mail_owner */
} queue_dir_owner;

typedef struct queue_dir {
    const char *name;      /* relative to queue_directory; "" is queue_directory itself */
    mode_t mode;           /* permission bits, set-id and sticky included */
    queue_dir_owner owner; /* who owns it */
    int setgid_group;      /* 1: group must be setgid_group; 0: group not checked */
} queue_dir;

/* Every queue directory, queue_directory itself first; ends with name NULL. */
extern const queue_dir queue_dirs[];

/* The entry for name, or NULL. */
const queue_dir *queue_dir_find(const char *name);

/* Mode of data_directory: mail_owner's private state. */
#define QUEUE_DATA_DIR_MODE 0700

#endif
