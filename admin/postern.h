/*
 * postern - what the postern command's files share
 *
 * DESCRIPTION
 *   postern.c parses the global options and dispatches on a table of verbs;
 *   each verb lives in its own postern_VERB.c. The helpers below are the
 *   pieces more than one verb needs: where the programs are, the embedded
 *   stock configuration, and who should own an instance's files.
 */
#ifndef ADMIN_POSTERN_H
#define ADMIN_POSTERN_H

#include <sys/types.h>

#include "global/config.h"
#include "util/vstr.h"

/* What every verb gets from the command line before its own arguments. */
typedef struct postern_opts {
    const char *config_dir; /* -c DIR, else $MAIL_CONFIG, else the default */
    int force;              /* -f */
} postern_opts;

/* A verb's handler: argv[0] is the verb, the rest its arguments. Returns
 * the exit status. */
typedef int (*postern_handler)(const postern_opts *opts, int argc, char **argv);

/* The verbs (postern_init.c, postern_check.c, ...). */
int postern_init(const postern_opts *opts, int argc, char **argv);
int postern_check(const postern_opts *opts, int argc, char **argv);

/* Exit status for a command-line mistake (after the usage text). */
#define POSTERN_EXIT_USAGE 2

/* Print "usage: postern [-v] [-c DIR] VERB ..." for verb to stderr. */
void postern_usage_verb(const char *verb);

/* The stock configuration files compiled into postern (from conf/). */
const char *postern_stock_main_cf(void);
const char *postern_stock_master_cf(void);
const char *postern_stock_aliases(void);

/* The directory holding the running postern (command_directory) and the
 * one holding the daemons (daemon_directory): its sibling ../libexec in a
 * build tree, ../lib/postern when installed. Fatal when /proc/self/exe
 * cannot be read. */
void postern_program_dirs(vstr *command_dir, vstr *daemon_dir);

/* Who owns an instance's files, resolved from its configuration. */
typedef struct postern_owners {
    uid_t master_uid; /* who runs master: root, or the unprivileged user */
    const char *mail_owner;
    int mail_owner_known; /* mail_owner exists in the password database */
    uid_t mail_uid;
    gid_t mail_gid;
    const char *setgid_group;
    int setgid_group_known;
    gid_t setgid_gid;
} postern_owners;

/* Resolve mail_owner and setgid_group of cfg; names stay owned by cfg.
 * Returns -1 with a reason in err when either cannot be expanded. */
int postern_owners_lookup(config *cfg, postern_owners *owners, vstr *err);

/* A user or group name for messages ("1234" when it has none). */
const char *postern_user_name(uid_t uid, vstr *buf);
const char *postern_group_name(gid_t gid, vstr *buf);

#endif
