/*
 * NAME
 *   anvil_client - ask the anvil service for connection counts and rates
 *
 * SYNOPSIS
 *   #include "global/anvil_client.h"
 *
 *   anvil_client *a = anvil_client_open(queue_dir, 5000, &err);
 *   long long count, rate;
 *   switch (anvil_client_request(a, ANVIL_REQ_CONNECT, "smtp", "192.0.2.1",
 *                                &count, &rate, &err)) { ... }
 *   anvil_client_close(a);      (the close is the disconnect)
 *
 * DESCRIPTION
 *   anvil (anvil/anvil.c, man/man8/anvil.8) counts, per service and
 *   client address, the connections open now and the connections,
 *   messages and recipients per anvil_rate_time_unit, for all the
 *   processes of a service at once. A client (smtpd) opens one
 *   connection to queue_directory/private/anvil per session and sends
 *   requests on it, each an attribute list (global/attr):
 *
 *     request=connect|disconnect|message|recipient  ident=SERVICE:ADDRESS
 *
 *   and reads one reply per request:
 *
 *     status=0 (counted) or 1 (not counted: anvil's table is full)
 *     count=connections open now   rate=the request's events in this
 *     time unit (connections, messages or recipients)
 *
 *   Connections anvil counted for a client connection are counted down
 *   when it closes, so a client that dies (or just closes) never leaves
 *   a slot taken; an explicit disconnect request does the same earlier.
 *
 * DIAGNOSTICS
 *   Every failure (no anvil, a timeout, a malformed reply) is reported
 *   with a reason; the caller decides (smtpd serves the client anyway).
 */
#ifndef GLOBAL_ANVIL_CLIENT_H
#define GLOBAL_ANVIL_CLIENT_H

#include "util/vstr.h"

#define ANVIL_SERVICE "anvil"

/* Attribute names. */
#define ANVIL_ATTR_REQUEST "request"
#define ANVIL_ATTR_IDENT "ident"
#define ANVIL_ATTR_STATUS "status"
#define ANVIL_ATTR_COUNT "count"
#define ANVIL_ATTR_RATE "rate"

/* Requests. */
#define ANVIL_REQ_CONNECT "connect"
#define ANVIL_REQ_DISCONNECT "disconnect"
#define ANVIL_REQ_MESSAGE "message"
#define ANVIL_REQ_RECIPIENT "recipient"

/* Reply statuses. */
#define ANVIL_STAT_OK 0
#define ANVIL_STAT_FULL 1

/* Longest ident anvil accepts ("service:address"). */
#define ANVIL_IDENT_MAX 120

typedef struct anvil_client anvil_client;

/* Connect to queue_dir/private/anvil; each later read or write waits at
 * most timeout_ms. NULL with a reason in err. */
anvil_client *anvil_client_open(const char *queue_dir, int timeout_ms, vstr *err);
/* Send request for (service, addr) and read the reply: 0 with *count and
 * *rate set, 1 when anvil did not count it (its table is full), -1 with a
 * reason in err (the connection is then closed; later requests fail). */
int anvil_client_request(anvil_client *a, const char *request, const char *service,
                         const char *addr, long long *count, long long *rate, vstr *err);
/* Close the connection (anvil counts down what it counted for it); NULL
 * is fine. */
void anvil_client_close(anvil_client *a);

#endif
