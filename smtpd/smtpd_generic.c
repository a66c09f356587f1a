/*
 * smtpd_generic - the built-in restrictions that need no table or DNS
 *
 * DESCRIPTION
 *   permit, reject, defer, defer_if_permit, defer_if_reject,
 *   warn_if_reject, permit_mynetworks, permit_sasl_authenticated,
 *   permit_auth_destination, reject_unauth_destination,
 *   defer_unauth_destination, reject_unauth_pipelining,
 *   reject_non_fqdn_helo_hostname, reject_invalid_helo_hostname,
 *   reject_non_fqdn_sender, reject_non_fqdn_recipient,
 *   reject_unknown_client_hostname and
 *   reject_unknown_reverse_client_hostname, with Postfix's reply codes
 *   (reject_code, defer_code, non_fqdn_reject_code,
 *   invalid_hostname_reject_code, unknown_client_reject_code) and texts.
 *
 *   A restriction about something the command does not have yet (the
 *   recipient in the client list with smtpd_delay_reject = no, the HELO
 *   name before HELO) makes no decision.
 *
 *   The destination is "authorized" (for the *_unauth_destination
 *   restrictions) when global/resolve, with the rules qmgr uses, puts it
 *   in mydestination, virtual_mailbox_domains or relay_domains, and its
 *   local part holds no routing operator ('@', '!', '%'): no percent
 *   hack, bang path or quoted "a@b"@here may relay. A source route is
 *   dropped by the parser, so "<@here:u@elsewhere>" is judged as
 *   u@elsewhere.
 */
#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

#include "smtpd/smtpd_check.h"
#include "util/msg.h"

check_result check_permit(check_ctx *x, const check_item *it)
{
    (void)x;
    (void)it;
    return CHECK_PERMIT;
}

check_result check_reject_all(check_ctx *x, const check_item *it)
{
    (void)it;
    return check_reject_generic(x, smtpd_cf.reject_code,
                                smtpd_cf.reject_code < 500 ? "4.7.1" : "5.7.1", "Access denied");
}

check_result check_defer_all(check_ctx *x, const check_item *it)
{
    (void)it;
    return check_reject_generic(x, smtpd_cf.defer_code, "4.7.1", "Access denied");
}

check_result check_defer_if_permit(check_ctx *x, const check_item *it)
{
    (void)it;
    x->defer_if_permit = 1;
    vstr_set_fmt(&x->permit_defer, "%d 4.7.0 <%s>: %s rejected: defer_if_permit requested",
                 smtpd_cf.defer_code, x->reply_name, x->reply_class);
    return CHECK_DUNNO;
}

check_result check_defer_if_reject(check_ctx *x, const check_item *it)
{
    (void)it;
    x->defer_if_reject = 1;
    return CHECK_DUNNO;
}

check_result check_warn_if_reject(check_ctx *x, const check_item *it)
{
    (void)it;
    x->warn_next = 1;
    return CHECK_DUNNO;
}

/* A table of mynetworks that cannot be read is a temporary failure, never
 * a permit. */
check_result check_permit_mynetworks(check_ctx *x, const check_item *it)
{
    vstr why = VSTR_INIT;
    check_result res;

    (void)it;
    switch (smtpd_check_mynetworks(x->s, &why)) {
    case 1:
        res = CHECK_PERMIT;
        break;
    case 0:
        res = CHECK_DUNNO;
        break;
    default:
        res = check_lookup_error(x, vstr_str(&x->s->namaddr), vstr_str(&why));
        break;
    }
    vstr_release(&why);
    return res;
}

check_result check_permit_sasl_authenticated(check_ctx *x, const check_item *it)
{
    (void)it;
    return smtpd_sasl_authenticated(x->s) ? CHECK_PERMIT : CHECK_DUNNO;
}

/* The client's TLS certificate fingerprint is a key in relay_clientcerts. */
check_result check_permit_tls_clientcerts(check_ctx *x, const check_item *it)
{
    const char *why = NULL;

    (void)it;
    switch (smtpd_tls_client_cert_listed(x->s, &why)) {
    case 1:
        return CHECK_PERMIT;
    case 0:
        return CHECK_DUNNO;
    default:
        return check_lookup_error(x, vstr_str(&x->s->namaddr), why);
    }
}

/* Does the local part hold '@', '!' or '%'? */
static int has_routing(const char *addr)
{
    const char *at = strrchr(addr, '@');
    size_t n = at ? (size_t)(at - addr) : strlen(addr);

    for (size_t i = 0; i < n; i++)
        if (addr[i] == '@' || addr[i] == '!' || addr[i] == '%')
            return 1;
    return 0;
}

int check_auth_destination(check_ctx *x)
{
    switch (x->res.rclass) {
    case RESOLVE_LOCAL:
    case RESOLVE_ALIAS:
    case RESOLVE_VIRTUAL:
    case RESOLVE_RELAY:
        return !has_routing(x->rcpt);
    case RESOLVE_ERROR:
        if (x->res.status[0] == '4') {
            check_lookup_error(x, x->rcpt, vstr_str(&x->res.reason));
            return -1;
        }
        return 0;
    default:
        return 0;
    }
}

static check_result unauth_destination(check_ctx *x, int code, const char *dsn)
{
    int ok;

    if (x->rcpt == NULL)
        return CHECK_DUNNO;
    if ((ok = check_auth_destination(x)) < 0)
        return CHECK_ERROR;
    if (ok)
        return CHECK_DUNNO;
    return check_reject(x, "%d %s <%s>: Relay access denied", code, dsn, x->rcpt);
}

check_result check_reject_unauth_destination(check_ctx *x, const check_item *it)
{
    (void)it;
    return unauth_destination(x, smtpd_cf.relay_reject_code,
                              smtpd_cf.relay_reject_code < 500 ? "4.7.1" : "5.7.1");
}

check_result check_defer_unauth_destination(check_ctx *x, const check_item *it)
{
    (void)it;
    return unauth_destination(x, 454, "4.7.1");
}

check_result check_permit_auth_destination(check_ctx *x, const check_item *it)
{
    int ok;

    (void)it;
    if (x->rcpt == NULL)
        return CHECK_DUNNO;
    ok = check_auth_destination(x);
    return ok < 0 ? CHECK_ERROR : ok ? CHECK_PERMIT : CHECK_DUNNO;
}

check_result check_reject_unauth_pipelining(check_ctx *x, const check_item *it)
{
    (void)it;
    if (!x->s->ill_pipelining)
        return CHECK_DUNNO;
    return check_reject_generic(x, 503, "5.5.0", "Improper use of SMTP command pipelining");
}

/* An address literal: "[192.0.2.1]" or "[IPv6:2001:db8::1]". */
static int valid_address_literal(const char *name)
{
    size_t n = strlen(name);
    char buf[64];
    unsigned char bin[16];
    const char *inner = name + 1;
    int family = AF_INET;

    if (n < 3 || name[0] != '[' || name[n - 1] != ']' || n - 2 >= sizeof(buf))
        return 0;
    if (strncasecmp(inner, "IPv6:", 5) == 0) {
        inner += 5;
        family = AF_INET6;
    }
    memcpy(buf, inner, (size_t)(name + n - 1 - inner));
    buf[name + n - 1 - inner] = 0;
    return inet_pton(family, buf, bin) == 1;
}

/* RFC 1035 host name syntax as Postfix's valid_hostname: labels of
 * letters, digits, '-' and '_', 1..63 bytes, no '-' at either end, at
 * most 255 bytes, one trailing dot allowed, not all numeric. */
static int valid_hostname(const char *name)
{
    size_t n = strlen(name), label = 0;
    int all_digits = 1;

    if (n > 0 && name[n - 1] == '.')
        n--;
    if (n == 0 || n > 255)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];

        if (c == '.') {
            if (label == 0 || name[i - 1] == '-')
                return 0;
            label = 0;
            continue;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return 0;
        if ((c == '-' && label == 0) || ++label > 63)
            return 0;
        if (c < '0' || c > '9')
            all_digits = 0;
    }
    return name[n - 1] != '-' && !all_digits;
}

/* A bare IPv4 address counts as a valid (if unqualified) HELO name. */
static int bare_ipv4(const char *name)
{
    unsigned char bin[4];

    return inet_pton(AF_INET, name, bin) == 1;
}

check_result check_reject_invalid_helo(check_ctx *x, const check_item *it)
{
    (void)it;
    if (x->helo == NULL || valid_address_literal(x->helo) || bare_ipv4(x->helo) ||
        valid_hostname(x->helo))
        return CHECK_DUNNO;
    return check_reject(x, "%d 5.5.2 <%s>: Helo command rejected: Invalid name",
                        smtpd_cf.invalid_hostname_code, x->helo);
}

/* A domain with a dot inside it (not only at the end), or a literal. */
static int fqdn(const char *domain)
{
    const char *dot = strchr(domain, '.');
    size_t n = strlen(domain);

    if (domain[0] == '[')
        return 1;
    return dot != NULL && dot != domain && dot < domain + n - 1;
}

check_result check_reject_non_fqdn_helo(check_ctx *x, const check_item *it)
{
    (void)it;
    if (x->helo == NULL || valid_address_literal(x->helo) || bare_ipv4(x->helo) || fqdn(x->helo))
        return CHECK_DUNNO;
    return check_reject(x, "%d 5.5.2 <%s>: Helo command rejected: need fully-qualified hostname",
                        smtpd_cf.non_fqdn_code, x->helo);
}

static const char *domain_of(const char *addr)
{
    const char *at = strrchr(addr, '@');

    return at ? at + 1 : "";
}

check_result check_reject_non_fqdn_sender(check_ctx *x, const check_item *it)
{
    (void)it;
    if (x->sender == NULL || *x->sender == 0 || fqdn(domain_of(x->sender)))
        return CHECK_DUNNO;
    return check_reject(x, "%d 5.5.2 <%s>: Sender address rejected: need fully-qualified address",
                        smtpd_cf.non_fqdn_code, x->sender);
}

check_result check_reject_non_fqdn_recipient(check_ctx *x, const check_item *it)
{
    (void)it;
    if (x->rcpt == NULL || fqdn(domain_of(x->rcpt)))
        return CHECK_DUNNO;
    return check_reject(x,
                        "%d 5.5.2 <%s>: Recipient address rejected: need fully-qualified address",
                        smtpd_cf.non_fqdn_code, x->rcpt);
}

/* The reply code for a client name that was not found: 450 when the
 * lookup failed for now (it may work next time), as in Postfix. */
static int unknown_client_code(int status)
{
    return status == SMTPD_PEER_TEMP ? 450 : smtpd_cf.unknown_client_code;
}

/* The client's name was not forward-confirmed (smtpd_peer.c). */
check_result check_reject_unknown_client(check_ctx *x, const check_item *it)
{
    int code = unknown_client_code(x->s->name_status);

    (void)it;
    if (!vstr_equals(&x->s->name, "unknown"))
        return CHECK_DUNNO;
    return check_reject(x, "%d %c.7.25 Client host rejected: cannot find your hostname, [%s]",
                        code, code / 100 + '0', vstr_str(&x->s->addr));
}

/* The client's address has no reverse (PTR) name at all. */
check_result check_reject_unknown_reverse_client(check_ctx *x, const check_item *it)
{
    int code = unknown_client_code(x->s->reverse_name_status);

    (void)it;
    if (!vstr_equals(&x->s->reverse_name, "unknown"))
        return CHECK_DUNNO;
    return check_reject(x,
                        "%d %c.7.25 Client host rejected: cannot find your reverse hostname, [%s]",
                        code, code / 100 + '0', vstr_str(&x->s->addr));
}
