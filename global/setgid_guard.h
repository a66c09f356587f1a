/*
 * NAME
 *   setgid_guard - start-up hardening of a set-gid command (postdrop, postqueue)
 *
 * SYNOPSIS
 *   vstr dir = VSTR_INIT, why = VSTR_INIT;
 *   int privileged = setgid_guard_start(&dir);    (first thing in main)
 *   ... options; -c DIR replaces dir ...
 *   if (privileged && !setgid_guard_config_dir_trusted(vstr_str(&dir), &why))
 *       msg_fatal_status(EX_NOPERM, "untrusted configuration directory: %s", ...);
 *
 * DESCRIPTION
 *   A program installed set-gid setgid_group treats its caller as hostile.
 *   setgid_guard_start makes sure descriptors 0-2 are open (on /dev/null
 *   if the caller closed them, so that no file opened later lands there)
 *   and closes all others, sets umask 077, puts MAIL_CONFIG (or the
 *   default configuration directory) in dir and then drops the whole
 *   environment. It returns whether set-gid or set-uid is in effect.
 *
 *   Another configuration directory (-c or MAIL_CONFIG) decides where the
 *   program reads and writes, so a privileged caller may use one only when
 *   it is root or the default main.cf lists the directory in
 *   alternate_config_directories, as in Postfix. Run without privileges
 *   (an unprivileged instance) the program trusts any directory: it can do
 *   nothing its caller could not.
 *
 *   Sanitizer builds: linking this module also tells LeakSanitizer not to
 *   run in a set-gid process, which it cannot inspect (see the end of
 *   setgid_guard.c).
 *
 * DIAGNOSTICS
 *   setgid_guard_start exits EX_OSERR when descriptors 0-2 cannot be made
 *   open. setgid_guard_config_dir_trusted returns 0 with the reason in why.
 */
#ifndef GLOBAL_SETGID_GUARD_H
#define GLOBAL_SETGID_GUARD_H

#include "util/vstr.h"

/* Descriptors, umask and environment as above; dir gets MAIL_CONFIG or the
 * default. 1 if set-gid/set-uid is in effect, else 0. */
int setgid_guard_start(vstr *dir);
/* 1 if a privileged program may use dir for this caller, else 0 and why. */
int setgid_guard_config_dir_trusted(const char *dir, vstr *why);

#endif
