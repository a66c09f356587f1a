/*
 * sasl_cli - SMTP AUTH, client side, over Cyrus SASL
 *
 * SYNOPSIS
 *   sasl_cli_init_lib(&err);                       // once, before chroot
 *   sasl_cli *a = sasl_cli_create("smtp", "relay.example", user, password, flags, &err);
 *   st = sasl_cli_start(a, "PLAIN LOGIN", &mech, &resp, &has_resp, &reason);
 *   while (server says 334 challenge)
 *       st = sasl_cli_step(a, challenge, len, &resp, &reason);
 *   sasl_cli_free(a);
 *
 * DESCRIPTION
 *   One sasl_cli per authentication attempt. Cyrus picks the strongest
 *   mechanism of the server's list that satisfies the security flags
 *   (SASL_SEC_*, sasl_security_flags): with SASL_SEC_NOPLAINTEXT it
 *   refuses PLAIN and LOGIN, so no password goes out in the clear. No
 *   security layer is negotiated. Responses and challenges are raw
 *   bytes; base64 is the caller's.
 */
#ifndef GLOBAL_SASL_CLI_H
#define GLOBAL_SASL_CLI_H

#include <stddef.h>

#include "util/vstr.h"

typedef struct sasl_cli sasl_cli;

typedef enum sasl_cli_status {
    SASL_CLI_OK,     /* a response to send (start: maybe an initial one) */
    SASL_CLI_NOMECH, /* no mechanism of the list is allowed: nothing was sent */
    SASL_CLI_FAIL,   /* the library failed (reason) */
} sasl_cli_status;

/* Once per process. 0, or -1 with err. */
int sasl_cli_init_lib(vstr *err);
void sasl_cli_done_lib(void);

/* A context for logging in to server as user with password. NULL with
 * err on failure. */
sasl_cli *sasl_cli_create(const char *service, const char *server, const char *user,
                          const char *password, unsigned sec_flags, vstr *err);
/* Choose a mechanism from mechs (space-separated) into mech; the initial
 * response, when the mechanism has one, into resp with *has_resp set. */
sasl_cli_status sasl_cli_start(sasl_cli *a, const char *mechs, vstr *mech, vstr *resp,
                               int *has_resp, vstr *reason);
/* The response to a challenge. */
sasl_cli_status sasl_cli_step(sasl_cli *a, const char *challenge, size_t len, vstr *resp,
                              vstr *reason);
void sasl_cli_free(sasl_cli *a);

#endif
