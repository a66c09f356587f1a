/*
 * NAME
 *   smtpd_addr - the argument of MAIL FROM: and RCPT TO:, parsed once
 *
 * SYNOPSIS
 *   smtpd_args a;
 *   vstr reply = VSTR_INIT;
 *   smtpd_args_init(&a);
 *   if (smtpd_args_parse(&a, SMTPD_ARGS_RCPT, "TO:<u@example.com> NOTIFY=NEVER", &reply) < 0)
 *       ... send vstr_str(&reply): "501 5.1.3 Bad recipient address syntax" ...
 *   smtpd_args_release(&a);
 *
 * DESCRIPTION
 *   Untrusted text from the network is taken apart here and nowhere else
 *   (the command reader has already refused bare CR, bare LF and lines
 *   over line_length_limit). Accepted, as RFC 5321 and Postfix do:
 *
 *   - "FROM:" / "TO:" in any case, white space after the colon allowed;
 *   - a path in angle brackets: "<>" (MAIL only, the null sender), an
 *     optional source route "<@a,@b:user@c>" (dropped, RFC 5321 section
 *     C: the route is never followed), a local part as a dot-string or a
 *     quoted string, "@" and a domain or an address literal "[...]". A
 *     recipient without a domain ("<postmaster>") is kept unqualified;
 *     cleanup appends myorigin;
 *   - a bare address without brackets, up to the next space (old
 *     clients; Postfix's default);
 *   - 8-bit bytes in local part and domain (SMTPUTF8 addresses).
 *
 *   The address comes out in internal form: quotes and quoted pairs of the
 *   local part removed ("\"a b\"@x" is "a b@x"), the domain as written.
 *   At most SMTPD_ADDR_MAX bytes; control characters are refused even
 *   inside quotes.
 *
 *   ESMTP parameters follow the path, "KEYWORD" or "KEYWORD=VALUE", at
 *   most SMTPD_PARAM_MAX of them, each keyword at most once. MAIL: SIZE
 *   (digits), BODY (7BIT, 8BITMIME), SMTPUTF8, RET (FULL, HDRS), ENVID
 *   (xtext, RFC 3461, decoded), AUTH (xtext, RFC 4954). RCPT: NOTIFY (NEVER, or a list of
 *   SUCCESS, FAILURE, DELAY), ORCPT ("addr-type;xtext", decoded). Any
 *   other keyword is "555 5.5.4 Unsupported option".
 *
 * DIAGNOSTICS
 *   smtpd_args_parse returns 0, or -1 with the whole reply for the client
 *   in reply ("501 5.5.4 Syntax: MAIL FROM:<address>", "501 5.1.7 Bad
 *   sender address syntax", "501 5.5.4 Bad NOTIFY parameter syntax",
 *   "555 5.5.4 Unsupported option: X-FOO"). Time and memory are linear in
 *   the input.
 */
#ifndef SMTPD_ADDR_H
#define SMTPD_ADDR_H

#include <stddef.h>

#include "util/vstr.h"

/* Longest address accepted (internal form). */
#define SMTPD_ADDR_MAX 1024
/* Most ESMTP parameters in one command. */
#define SMTPD_PARAM_MAX 10
typedef enum smtpd_args_kind {
    SMTPD_ARGS_MAIL,
    SMTPD_ARGS_RCPT,
} smtpd_args_kind;

typedef struct smtpd_args {
    vstr addr; /* internal form; "" for the null sender */
    /* MAIL */
    long long size;   /* SIZE=; -1 when not given */
    const char *body; /* "7BIT" or "8BITMIME"; NULL when not given */
    int smtputf8;     /* SMTPUTF8 given */
    const char *ret;  /* "FULL" or "HDRS"; NULL when not given */
    int has_envid;
    vstr envid; /* ENVID, decoded */
    int has_auth;
    vstr auth; /* AUTH=, decoded ("<>" or an address) */
    /* RCPT */
    int notify; /* REC_DSN_NOTIFY_* bits; 0 when not given */
    vstr orcpt; /* ORCPT decoded as "type;address"; "" when not given */
} smtpd_args;

void smtpd_args_init(smtpd_args *a);
void smtpd_args_release(smtpd_args *a);

/* Parse text (the command line after "MAIL " or "RCPT ", without CR LF).
 * 0, or -1 with the reply in reply. a is reset first. */
int smtpd_args_parse(smtpd_args *a, smtpd_args_kind kind, const char *text, vstr *reply);


#endif
