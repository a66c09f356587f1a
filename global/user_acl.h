/*
 * user_acl - may this user submit mail, list or flush the queue?
 *
 * SYNOPSIS
 *   vstr login = VSTR_INIT, err = VSTR_INIT;
 *   switch (user_acl_check(config_str(cfg, "authorized_submit_users"),
 *                          user_acl_login(getuid(), &login), &err)) {
 *   case USER_ACL_ALLOW: ...
 *   case USER_ACL_DENY:  ... "User NAME(UID) is not allowed to submit mail" ...
 *   case USER_ACL_ERROR: ... vstr_str(&err): a table could not be read ...
 *   }
 *
 * DESCRIPTION
 *   The user lists of Postfix's authorized_submit_users,
 *   authorized_mailq_users and authorized_flush_users: names and
 *   "type:table" lookup tables, separated by commas or white space,
 *   tried left to right; the first that matches decides. A table matches
 *   when it has the login name as a key (the value does not matter, so
 *   static:anyone matches everyone). "!pattern" denies what pattern
 *   matches. A name no pattern matches is denied, so an empty list
 *   denies everyone. A process whose uid has no password entry is
 *   looked up as "unknown", as in Postfix. Postfix's "/file/name"
 *   patterns are not supported: they are an error.
 *
 * DIAGNOSTICS
 *   USER_ACL_ERROR with a reason in err when a table cannot be opened or
 *   read, or for an unsupported pattern; the caller refuses (it cannot
 *   tell whether the user would have been allowed).
 */
#ifndef GLOBAL_USER_ACL_H
#define GLOBAL_USER_ACL_H

#include <sys/types.h>

#include "util/vstr.h"

typedef enum user_acl_result {
    USER_ACL_ALLOW = 0,
    USER_ACL_DENY,
    USER_ACL_ERROR,
} user_acl_result;

/* Is login on list? */
user_acl_result user_acl_check(const char *list, const char *login, vstr *err);
/* The login name of uid into buf, "unknown" when it has none; returns buf's text. */
const char *user_acl_login(uid_t uid, vstr *buf);

#endif
