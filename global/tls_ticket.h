/*
 * NAME
 *   tls_ticket - session ticket keys shared by every server process of an
 *   instance, kept in a file and rotated
 *
 * SYNOPSIS
 *   #include "global/tls_ticket.h"
 *
 *   tls_tickets *t = tls_tickets_new("DATA_DIRECTORY/smtpd_tls_ticket_keys", 3600);
 *   ... in OpenSSL's ticket key callback (global/tls.c):
 *   tls_tickets_callback(t, key_name, iv, cipher_ctx, mac_ctx, enc);
 *   tls_tickets_free(t);
 *
 * DESCRIPTION
 *   A TLS session ticket is the server's state encrypted under a key only
 *   servers know; a client that shows it again skips the full handshake.
 *   smtpd runs as many processes, and a client's next connection usually
 *   meets another one, so the key must be the same in every process: it
 *   lives in one file (mode 0600, mail_owner's data_directory), read by
 *   each process and replaced when it is older than the lifetime.
 *
 *   Rotation: a key encrypts new tickets for `lifetime` seconds; then the
 *   first process that needs it makes a new key under an fcntl lock on
 *   FILE.lock (so two processes never rotate at once), writes both keys
 *   atomically (temporary file, fsync, rename) and the others pick the
 *   new file up by its inode and mtime. The previous key still decrypts
 *   (and such a ticket is renewed) until it is 2 x lifetime old; older
 *   tickets are refused and the client makes a full handshake. So a
 *   stolen key file exposes at most two lifetimes of sessions.
 *
 *   Nothing happens at tls_tickets_new: the file is made at the first
 *   handshake, after the daemon has dropped privileges, so it belongs to
 *   the account that must read it.
 *
 * DIAGNOSTICS
 *   A file that cannot be read, locked or written is logged (once until
 *   it works again); the handshake then goes on without a ticket.
 */
#ifndef GLOBAL_TLS_TICKET_H
#define GLOBAL_TLS_TICKET_H

#include <openssl/evp.h>

typedef struct tls_tickets tls_tickets;

/* Keys in path, each used for new tickets for lifetime_s seconds (> 0). */
tls_tickets *tls_tickets_new(const char *path, int lifetime_s);
void tls_tickets_free(tls_tickets *t);
/* OpenSSL's SSL_CTX_set_tlsext_ticket_key_evp_cb contract: enc 1 sets up
 * a new ticket (1, or 0 for no ticket); enc 0 finds the key named
 * key_name (1, 2 when the ticket should be renewed, 0 unknown or
 * expired: full handshake). */
int tls_tickets_callback(tls_tickets *t, unsigned char key_name[16], unsigned char *iv,
                         EVP_CIPHER_CTX *cipher_ctx, EVP_MAC_CTX *mac_ctx, int enc);

#endif
