/*
 * sasl_srv - SMTP AUTH, server side, over Cyrus SASL
 *
 * SYNOPSIS
 *   sasl_srv_init_lib("smtpd", "/etc/postern/sasl", &err);  // as root, before chroot
 *   sasl_srv *a = sasl_srv_create("smtp", myhostname, realm, flags, &err);
 *   sasl_srv_mechanisms(a, &list);                   // "PLAIN LOGIN CRAM-MD5"
 *   st = sasl_srv_start(a, "PLAIN", resp, len, &challenge, &reason);
 *   while (st == SASL_SRV_CONTINUE)
 *       st = sasl_srv_step(a, resp, len, &challenge, &reason);
 *   if (st == SASL_SRV_OK) user = sasl_srv_username(a);
 *   sasl_srv_free(a);
 *
 * DESCRIPTION
 *   One sasl_srv per exchange: after a failed or cancelled one the
 *   caller makes a new one, as Cyrus keeps mechanism state. Responses and challenges are raw
 * bytes; base64 is the caller's (sasl_cyrus.h). No security layer is ever negotiated (max_ssf 0):
 * after AUTH the SMTP stream stays as it was.
 *
 *   The library is initialised once per process, with APPNAME.conf
 *   (pwcheck_method, mech_list, auxprop_plugin, sasldb_path, ...) read
 *   from config_path or Cyrus's default directories. Password back ends
 *   (sasldb, saslauthd's socket) are opened at authentication time, by
 *   the process as it then is: unprivileged and perhaps chrooted.
 */
#ifndef GLOBAL_SASL_SRV_H
#define GLOBAL_SASL_SRV_H

#include <stddef.h>

#include "util/vstr.h"

typedef struct sasl_srv sasl_srv;

typedef enum sasl_srv_status {
    SASL_SRV_OK,       /* authenticated */
    SASL_SRV_CONTINUE, /* send the challenge, read the next response */
    SASL_SRV_NOMECH,   /* no such mechanism, or not allowed now */
    SASL_SRV_FAIL,     /* authentication failed (reason: a short text for the client) */
    SASL_SRV_ERROR,    /* a temporary failure of the back end */
} sasl_srv_status;

/* Once per process. app_name selects APP_NAME.conf; config_path (may be
 * NULL or "") where it is searched. 0, or -1 with err. */
int sasl_srv_init_lib(const char *app_name, const char *config_path, vstr *err);
/* At exit. */
void sasl_srv_done_lib(void);

/* A context for one session. sec_flags: SASL_SEC_* (sasl_security_flags).
 * realm may be "" (none). NULL with err on failure. */
sasl_srv *sasl_srv_create(const char *service, const char *hostname, const char *realm,
                          unsigned sec_flags, vstr *err);
/* Change the required properties (after STARTTLS). 0, or -1 with err. */
int sasl_srv_set_flags(sasl_srv *a, unsigned sec_flags, vstr *err);
/* The mechanisms offered, separated by single spaces; 0 when there are
 * some, -1 when there are none. */
int sasl_srv_mechanisms(sasl_srv *a, vstr *out);
/* Begin with mechanism mech; resp is the initial response (NULL: none
 * given, which differs from an empty one). */
sasl_srv_status sasl_srv_start(sasl_srv *a, const char *mech, const char *resp, size_t len,
                               vstr *challenge, vstr *reason);
/* The client's next response. */
sasl_srv_status sasl_srv_step(sasl_srv *a, const char *resp, size_t len, vstr *challenge,
                              vstr *reason);
/* Cyrus's detailed text of the last failure, for the log (never for the
 * client: it may say whether the user exists). */
const char *sasl_srv_detail(sasl_srv *a);
/* The authenticated user name (after SASL_SRV_OK). */
const char *sasl_srv_username(sasl_srv *a);
void sasl_srv_free(sasl_srv *a);

#endif
