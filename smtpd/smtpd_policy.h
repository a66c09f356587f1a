/*
 * smtpd_policy.h - the policy delegation protocol (Postfix's
 * SMTPD_POLICY_README): the pure parts, with no session (the unit test
 * and the fuzz target link smtpd_policy_proto.c alone)
 *
 * SYNOPSIS
 *   vstr req = VSTR_INIT;
 *   policy_request_add(&req, "request", "smtpd_access_policy");
 *   ... one "name=value\n" line per attribute, then "\n" ...
 *
 *   policy_reply r;
 *   policy_reply_init(&r);
 *   while ((st = policy_reply_line(&r, line, len, &why)) == 0)
 *       ... read the next line ...
 *   if (st == 1) ... vstr_str(&r.action) ...
 *   policy_reply_release(&r);
 *
 * DESCRIPTION
 *   A request is "name=value" lines ended by an empty line. A value is
 *   sent as it is, except that a byte below 0x20 or 0x7f (a client's
 *   certificate name, say) becomes '?': no value can end a line or the
 *   request early.
 *
 *   A reply is "name=value" lines ended by an empty line, one of them
 *   "action=..." (an access(5) action); other attributes are ignored, as
 *   in Postfix. A line may end in CR LF.
 *
 * DIAGNOSTICS
 *   policy_reply_line returns -1 with a reason for a line over
 *   POLICY_LINE_MAX bytes, more than POLICY_LINES_MAX lines, a line
 *   without '=' or with a control byte (NUL, a CR before the end, ...),
 *   a second action, an empty action,
 *   and a reply that ends without an action.
 */
#ifndef SMTPD_SMTPD_POLICY_H
#define SMTPD_SMTPD_POLICY_H

#include <stddef.h>

#include "util/vstr.h"

/* The longest reply line, and the most lines in one reply. */
#define POLICY_LINE_MAX 4096
#define POLICY_LINES_MAX 100

/* Append "name=value\n", the value's control bytes as '?'. */
void policy_request_add(vstr *req, const char *name, const char *value);

typedef struct policy_reply {
    vstr action; /* "" until the action= line */
    int lines;   /* read so far */
} policy_reply;

void policy_reply_init(policy_reply *r);
void policy_reply_release(policy_reply *r);
/* One line of a reply (len bytes, without its LF): 0 wants more, 1 the
 * reply ended with an action, -1 a malformed reply (why says how). */
int policy_reply_line(policy_reply *r, const char *line, size_t len, vstr *why);

#endif
