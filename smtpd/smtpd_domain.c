/*
 * smtpd_domain - do the names a client gives exist in the DNS?
 * reject_unknown_helo_hostname, reject_unknown_sender_domain,
 * reject_unknown_recipient_domain
 *
 * DESCRIPTION
 *   A name "exists" with an MX record, or else an A or AAAA record
 *   (global/dns, with dns_servers and one dns_lookup_timeout budget per
 *   check). A null MX (RFC 7505) is a domain that takes no mail: refused
 *   for sender and recipient, as Postfix does. Address literals are not
 *   looked up, nor are the sender and recipient domains this host is
 *   the final destination for (mydestination, virtual_mailbox_domains).
 *
 *   Not found: unknown_hostname_reject_code (HELO) or
 *   unknown_address_reject_code (addresses). A lookup that fails for now
 *   does what unknown_helo_hostname_tempfail_action or
 *   unknown_address_tempfail_action says (defer_if_permit by default):
 *   defer, defer_if_permit, defer_if_reject, or reject (with the 450).
 */
#include <string.h>

#include "global/dns.h"
#include "smtpd/smtpd_check.h"
#include "util/msg.h"

typedef enum name_state { NAME_EXISTS, NAME_UNKNOWN, NAME_NULL_MX, NAME_RETRY } name_state;

/* Look domain up for MX, then A and AAAA; why says what failed for now. */
static name_state name_lookup(const char *domain, vstr *why)
{
    int64_t deadline = dns_deadline();
    static const int types[] = {DNS_T_MX, DNS_T_A, DNS_T_AAAA};
    int retry = 0;

    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        dns_answer ans;
        dns_status st = dns_lookup(domain, types[i], deadline, &ans, why);

        if (st == DNS_OK) {
            int null_mx = types[i] == DNS_T_MX && ans.count == 1 && ans.rr[0].data[0] == 0;

            dns_answer_free(&ans);
            return null_mx ? NAME_NULL_MX : NAME_EXISTS;
        }
        if (st == DNS_NOTFOUND && !retry)
            return NAME_UNKNOWN; /* no such name: no other type can exist */
        if (st == DNS_RETRY)
            retry = 1;
    }
    return retry ? NAME_RETRY : NAME_UNKNOWN;
}

/* The tempfail action named in param, with the 4xx reply in x->reply. */
static check_result tempfail(check_ctx *x, const char *param)
{
    const char *action = config_str(smtpd_cf.cfg, param);

    if (strcmp(action, "defer_if_permit") == 0) {
        x->defer_if_permit = 1;
        vstr_set(&x->permit_defer, vstr_str(&x->reply), vstr_len(&x->reply));
        return CHECK_DUNNO;
    }
    if (strcmp(action, "defer_if_reject") == 0) {
        x->defer_if_reject = 1;
        return CHECK_DUNNO;
    }
    if (strcmp(action, "defer") == 0 || strcmp(action, "reject") == 0)
        return CHECK_REJECT;
    return check_config_error(x, "%s: unknown action \"%s\"", param, action);
}

/* An address literal ("[192.0.2.1]") is not a DNS name. */
static int literal(const char *name)
{
    return name[0] == '[';
}

check_result check_reject_unknown_helo(check_ctx *x, const check_item *it)
{
    int code = smtpd_cf.unknown_hostname_code;
    vstr why = VSTR_INIT;
    check_result res = CHECK_DUNNO;

    (void)it;
    if (x->helo == NULL || literal(x->helo))
        return CHECK_DUNNO;
    switch (name_lookup(x->helo, &why)) {
    case NAME_EXISTS:
        break;
    case NAME_UNKNOWN:
    case NAME_NULL_MX: /* a HELO name needs an address, not mail */
        res = check_reject(x, "%d %c.7.1 <%s>: Helo command rejected: Host not found", code,
                           code / 100 + '0', x->helo);
        break;
    case NAME_RETRY:
        msg_info("%s: %s", x->helo, vstr_str(&why));
        check_reject(x, "450 4.7.1 <%s>: Helo command rejected: Host not found", x->helo);
        res = tempfail(x, "unknown_helo_hostname_tempfail_action");
        break;
    }
    vstr_release(&why);
    return res;
}

/* What sender and recipient share: detail is the status detail of "not
 * found" ("8" sender, "2" recipient); null_mx_code and null_mx_dsn that
 * of a domain that takes no mail. */
static check_result unknown_domain(check_ctx *x, const char *addr, const char *cls,
                                   const char *detail, int null_mx_code, const char *null_mx_dsn)
{
    const char *at = addr ? strrchr(addr, '@') : NULL;
    int code = smtpd_cf.unknown_address_code;
    resolve_result res;
    vstr why = VSTR_INIT, domain = VSTR_INIT;
    check_result st = CHECK_DUNNO;

    if (at == NULL || at[1] == 0 || literal(at + 1))
        return CHECK_DUNNO;
    resolve_result_init(&res);
    resolve_addr(&smtpd_cf.resolve.rules, addr, &res);
    if (res.rclass == RESOLVE_LOCAL || res.rclass == RESOLVE_VIRTUAL) {
        resolve_result_release(&res);
        return CHECK_DUNNO;
    }
    resolve_result_release(&res);
    vstr_set_str(&domain, at + 1);
    while (vstr_len(&domain) && vstr_str(&domain)[vstr_len(&domain) - 1] == '.')
        vstr_truncate(&domain, vstr_len(&domain) - 1);
    switch (name_lookup(vstr_str(&domain), &why)) {
    case NAME_EXISTS:
        break;
    case NAME_UNKNOWN:
        st = check_reject(x, "%d %c.1.%s <%s>: %s rejected: Domain not found", code,
                          code / 100 + '0', detail, addr, cls);
        break;
    case NAME_NULL_MX:
        st = check_reject(x, "%d %s <%s>: %s rejected: Domain %s does not accept mail (nullMX)",
                          null_mx_code, null_mx_dsn, addr, cls, vstr_str(&domain));
        break;
    case NAME_RETRY:
        msg_info("%s: %s", vstr_str(&domain), vstr_str(&why));
        check_reject(x, "450 4.1.%s <%s>: %s rejected: Domain not found", detail, addr, cls);
        st = tempfail(x, "unknown_address_tempfail_action");
        break;
    }
    vstr_release(&why);
    vstr_release(&domain);
    return st;
}

check_result check_reject_unknown_sender_domain(check_ctx *x, const check_item *it)
{
    (void)it;
    if (x->sender == NULL)
        return CHECK_DUNNO;
    return unknown_domain(x, x->sender, "Sender address", "8", 550, "5.7.27");
}

check_result check_reject_unknown_recipient_domain(check_ctx *x, const check_item *it)
{
    (void)it;
    if (x->rcpt == NULL)
        return CHECK_DUNNO;
    return unknown_domain(x, x->rcpt, "Recipient address", "2", 556, "5.1.10");
}
