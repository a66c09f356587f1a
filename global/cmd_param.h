/*
 * cmd_param - main.cf values for commands that exit with sysexits.h codes
 *
 * SYNOPSIS
 *   const char *dir = cmd_param_str(cfg, "queue_directory");
 *   long long limit = cmd_param_number(cfg, "message_size_limit");
 *   cmd_param_permit(cfg, "authorized_submit_users", "submit mail");
 *
 * DESCRIPTION
 *   config_str() and friends exit with status 1 on a bad value, which is
 *   right for a daemon. sendmail and postdrop answer to mail programs
 *   that read their exit status as sysexits.h, where a broken main.cf is
 *   EX_CONFIG: these getters say so, with the same "FILE: name = value:
 *   reason" text.
 *
 *   cmd_param_permit() enforces a user list (global/user_acl) on the real
 *   uid, root excepted, with Postfix's wording: "User NAME(UID) is not
 *   allowed to submit mail".
 *
 * DIAGNOSTICS
 *   A value that cannot be expanded or converted is fatal with EX_CONFIG;
 *   a user not on the list is fatal with EX_NOPERM, a table that cannot
 *   be read with EX_TEMPFAIL.
 */
#ifndef GLOBAL_CMD_PARAM_H
#define GLOBAL_CMD_PARAM_H

#include "global/config.h"

/* The expanded value of name. */
const char *cmd_param_str(config *cfg, const char *name);
/* A number (int, size in bytes, time in seconds, bool as 0/1). */
long long cmd_param_number(config *cfg, const char *name);
/* Unless the real uid is root or on the list in parameter param, exit:
 * "User NAME(UID) is not allowed to WHAT". */
void cmd_param_permit(config *cfg, const char *param, const char *what);

#endif
