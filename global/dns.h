/*
 * dns - DNS lookups with a deadline: A, AAAA, MX, NS, PTR, TXT, TLSA
 *
 * SYNOPSIS
 *   dns_configure(cfg);                     once, before chroot
 *   int64_t deadline = dns_deadline();      now + dns_lookup_timeout
 *   dns_answer ans;
 *   vstr why = VSTR_INIT;
 *   switch (dns_lookup("example.com", DNS_T_MX, deadline, &ans, &why)) {
 *   case DNS_OK:       ... ans.rr[i].pref, ans.rr[i].data (the exchange)
 *                      dns_answer_free(&ans);
 *   case DNS_NOTFOUND: the name does not exist (permanent)
 *   case DNS_NODATA:   it exists, without records of that type (permanent)
 *   case DNS_RETRY:    temporary: no answer before the deadline, SERVFAIL
 *   case DNS_FAIL:     permanent: malformed name, server refuses, bad answer
 *   }
 *
 * DESCRIPTION
 *   Postern's own stub resolver over libresolv's message parser. Queries
 *   go over UDP (EDNS0, AD bit asked for, RFC 6840) to the servers of
 *   dns_servers, else of /etc/resolv.conf, else 127.0.0.1; a truncated
 *   answer is asked again over TCP. Names are looked up as given, never
 *   with resolv.conf's search list (as Postfix does).
 *
 *   The deadline is absolute (util/clock's clock_mono_ms()), so that a
 *   caller with several lookups to make (MX, then the addresses of each
 *   exchange; PTR, then its forward check) gives them one budget: take
 *   dns_deadline() (or your own now + limit) once, pass it to every
 *   lookup. Nothing waits past it: each try waits at most what is left,
 *   and a lookup whose deadline has passed returns DNS_RETRY at once.
 *
 *   An answer holds the records of the asked type from the answer
 *   section (an alias chain's CNAMEs are followed by the server, and not
 *   returned). authentic is set when the server set the AD bit: only then
 *   may the records be trusted for DANE.
 *
 * DIAGNOSTICS
 *   why says what failed in Postfix's words ("Host not found", "Host not
 *   found, try again", ...), with the name and type.
 */
#ifndef GLOBAL_DNS_H
#define GLOBAL_DNS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "global/config.h"
#include "util/vstr.h"

/* Record types (their wire numbers). */
#define DNS_T_A 1
#define DNS_T_NS 2
#define DNS_T_PTR 12
#define DNS_T_MX 15
#define DNS_T_TXT 16
#define DNS_T_AAAA 28
#define DNS_T_TLSA 52

/* Most servers used, and the longest answer read (TCP's limit). */
#define DNS_SERVERS_MAX 8
#define DNS_ANSWER_MAX 65535

typedef enum dns_status {
    DNS_OK = 0,
    DNS_NOTFOUND, /* NXDOMAIN: the name does not exist */
    DNS_NODATA,   /* the name exists but has no record of the type */
    DNS_RETRY,    /* temporary: deadline, SERVFAIL, no server answered */
    DNS_FAIL,     /* permanent: bad name, refused, unparsable answer */
} dns_status;

typedef struct dns_rr {
    int type;
    unsigned ttl;
    unsigned pref; /* MX preference */
    /* A: 4 bytes, AAAA: 16; MX, NS and PTR: the name without a trailing dot
     * ("" for the root, a null MX); TXT: the strings joined; TLSA and
     * others: the raw rdata. Always followed by a NUL not in len. */
    unsigned char *data;
    size_t len;
} dns_rr;

typedef struct dns_answer {
    dns_rr *rr;
    size_t count;
    int authentic; /* the server set AD */
} dns_answer;

/* Use dns_servers (else resolv.conf) and dns_lookup_timeout from cfg. */
void dns_configure(config *cfg);
/* Set the servers from a dns_servers value ("addr", "addr:port",
 * "[v6addr]:port", separated by commas or spaces), else from the
 * nameserver lines of resolv_conf; the number of servers (at least one:
 * 127.0.0.1 when nothing is named). Bad entries are warned about. */
int dns_configure_servers(const char *dns_servers, const char *resolv_conf);
/* clock_mono_ms() + dns_lookup_timeout. */
int64_t dns_deadline(void);

/* Look name up for type before deadline (clock_mono_ms() time); on DNS_OK
 * out holds at least one record (free it with dns_answer_free), else why
 * says what happened. */
dns_status dns_lookup(const char *name, int type, int64_t deadline, dns_answer *out, vstr *why);
void dns_answer_free(dns_answer *a);

/* Parse a DNS response to a query for type: its status (from the
 * rcode and the records found) with the records in out on DNS_OK.
 * Any bytes are safe here. */
dns_status dns_answer_parse(const unsigned char *msg, size_t len, int type, dns_answer *out);
/* The reverse-lookup name of an address: "4.3.2.1.in-addr.arpa" or the
 * nibbles under ip6.arpa; 0, or -1 for another family. */
int dns_ptr_name(const struct sockaddr *sa, vstr *out);
/* "A", "MX", ... or the number. */
const char *dns_type_name(int type);
/* Postfix's text for a failure: "Host not found", ... */
const char *dns_status_text(dns_status st);

#endif
