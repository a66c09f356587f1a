/*
 * sasl_cyrus - what the SASL server and client wrappers share: starting
 * the Cyrus library, security options, base64
 *
 * SYNOPSIS
 *   sasl_cyrus_set_config_path(config_str(cfg, "cyrus_sasl_config_path"));
 *   if (sasl_security_flags(config_str(cfg, "smtpd_sasl_security_options"), &f, &err) < 0) ...
 *   sasl_base64_decode(line, len, &bytes);    sasl_base64_encode(p, n, &text);
 *
 * DESCRIPTION
 *   Cyrus reads its configuration (APPNAME.conf) and loads its mechanism
 *   plug-ins once per process, in sasl_server_init() or
 *   sasl_client_init(): that must happen before chroot and the privilege
 *   drop. The callbacks given to it here send its log lines to ours and
 *   point its search for APPNAME.conf at cyrus_sasl_config_path.
 *
 *   Security options are Postfix's words (noanonymous, noplaintext,
 *   noactive, nodictionary, mutual_auth, forward_secrecy), separated by
 *   commas or white space; they become Cyrus's SASL_SEC_* flags.
 */
#ifndef GLOBAL_SASL_CYRUS_H
#define GLOBAL_SASL_CYRUS_H

#include <stddef.h>

#include <sasl/sasl.h>

#include "util/vstr.h"

/* Where APPNAME.conf is searched (a colon-separated list); NULL or ""
 * leaves Cyrus's built-in path. Call before the library is initialised. */
void sasl_cyrus_set_config_path(const char *path);

/* The callbacks every sasl_*_init and sasl_*_new call passes: logging and
 * the configuration path. */
const sasl_callback_t *sasl_cyrus_callbacks(void);

/* Parse a security-options list into SASL_SEC_* flags. 0, or -1 with the
 * unknown word in err. */
int sasl_security_flags(const char *options, unsigned *flags, vstr *err);

/* Decode one base64 line (no white space, padding required). 0, or -1
 * when it is not base64. */
int sasl_base64_decode(const char *text, size_t len, vstr *out);

/* Encode bytes as base64 into out (replacing its contents). */
void sasl_base64_encode(const char *data, size_t len, vstr *out);

#endif
