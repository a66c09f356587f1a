/*
 * smtpd_dnsbl - DNS block and allow lists: reject_rbl_client,
 * reject_rhsbl_client, reject_rhsbl_reverse_client, reject_rhsbl_helo,
 * reject_rhsbl_sender, reject_rhsbl_recipient, permit_dnswl_client
 *
 * DESCRIPTION
 *   The argument is a zone, optionally with a filter on the answer:
 *   "zen.example", "zen.example=127.0.0.2", or per octet a number, a
 *   range or a list: "zen.example=127.0.[0..255].[2;4;10..11]". The
 *   client address is looked up reversed under the zone
 *   (2.0.0.127.zen.example; IPv6 as reversed nibbles), a domain as
 *   domain.zone. Listed means an A record that passes the filter
 *   (any A record without one).
 *
 *   A listed client is refused with default_rbl_reply (or the template
 *   rbl_reply_maps gives for the zone), Postfix's: "$rbl_code Service
 *   unavailable; $rbl_class [$rbl_what] blocked using
 *   $rbl_domain${rbl_reason?; $rbl_reason}", rbl_code being
 *   maps_rbl_reject_code and rbl_reason the zone's TXT record; a reply
 *   without a status code gets 5.7.1 (4.7.1). permit_dnswl_client
 *   permits a listed client. A lookup that fails for now counts as not
 *   listed (logged), as in Postfix: a broken list neither blocks nor
 *   admits everyone.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "global/dns.h"
#include "global/var_expand.h"
#include "smtpd/smtpd_check.h"
#include "util/mem.h"
#include "util/msg.h"

/* The longest TXT reason put in a reply. */
#define DNSBL_REASON_MAX 256

static maps *rbl_reply_maps;

void check_dnsbl_init(config *cfg)
{
    rbl_reply_maps = maps_open("rbl_reply_maps", config_str(cfg, "rbl_reply_maps"), O_RDONLY, 0);
}

void check_dnsbl_free(void)
{
    maps_free(rbl_reply_maps);
    rbl_reply_maps = NULL;
}

/* Does one octet match "N", "[N..M]" or "[N;M..K;...]"? */
static int octet_match(const char *pat, size_t len, unsigned value)
{
    char buf[64];
    char *p, *end;

    if (len == 0 || len >= sizeof(buf))
        return 0;
    memcpy(buf, pat, len);
    buf[len] = 0;
    if (buf[0] != '[')
        return strtoul(buf, &end, 10) == value && *end == 0;
    if (buf[len - 1] != ']')
        return 0;
    buf[len - 1] = 0;
    for (p = buf + 1; p != NULL && *p;) {
        char *next = strchr(p, ';');
        unsigned long lo, hi;

        if (next)
            *next++ = 0;
        lo = strtoul(p, &end, 10);
        hi = lo;
        if (strncmp(end, "..", 2) == 0)
            hi = strtoul(end + 2, &end, 10);
        if (*end == 0 && value >= lo && value <= hi)
            return 1;
        p = next;
    }
    return 0;
}

/* Does answer a (4 bytes) pass filter ("127.0.0.2", NULL: anything)? */
static int filter_match(const char *filter, const unsigned char *a)
{
    const char *p = filter;

    if (filter == NULL)
        return 1;
    for (int i = 0; i < 4; i++) {
        size_t n = strcspn(p, ".");

        /* A '.' inside "[0..255]" is not an octet separator. */
        if (*p == '[')
            n = strcspn(p, "]") + 1;
        if (!octet_match(p, n, a[i]))
            return 0;
        p += n;
        if (i < 3 && *p++ != '.')
            return 0;
    }
    return *p == 0;
}

/* Is name listed (an A record through filter)? 1, 0; a lookup that fails
 * for now is logged and counts as 0. */
static int listed(const char *name, const char *filter)
{
    dns_answer ans;
    vstr why = VSTR_INIT;
    dns_status st = dns_lookup(name, DNS_T_A, dns_deadline(), &ans, &why);
    int hit = 0;

    if (st == DNS_OK) {
        for (size_t i = 0; i < ans.count && !hit; i++)
            hit = ans.rr[i].len == 4 && filter_match(filter, ans.rr[i].data);
        dns_answer_free(&ans);
    } else if (st == DNS_RETRY) {
        msg_info("DNS list lookup of %s: %s", name, vstr_str(&why));
    }
    vstr_release(&why);
    return hit;
}

/* The TXT reason of a listing, made safe for a reply line. */
static void txt_reason(const char *name, vstr *out)
{
    dns_answer ans;
    vstr why = VSTR_INIT;

    vstr_reset(out);
    if (dns_lookup(name, DNS_T_TXT, dns_deadline(), &ans, &why) == DNS_OK) {
        size_t n = ans.rr[0].len < DNSBL_REASON_MAX ? ans.rr[0].len : DNSBL_REASON_MAX;

        for (size_t i = 0; i < n; i++) {
            unsigned char c = ans.rr[0].data[i];

            vstr_append_char(out, c < 0x20 || c >= 0x7f ? '?' : c);
        }
        dns_answer_free(&ans);
    }
    vstr_release(&why);
}

/* The name to look up: an address reversed, or a domain, under zone. */
static int query_name(const char *what, int is_address, const char *zone, vstr *out)
{
    unsigned char bin[16];

    vstr_reset(out);
    if (!is_address) {
        vstr_set_fmt(out, "%s.%s", what, zone);
    } else if (inet_pton(AF_INET, what, bin) == 1) {
        vstr_set_fmt(out, "%u.%u.%u.%u.%s", bin[3], bin[2], bin[1], bin[0], zone);
    } else if (inet_pton(AF_INET6, what, bin) == 1) {
        for (int i = 15; i >= 0; i--)
            vstr_append_fmt(out, "%x.%x.", bin[i] & 15, bin[i] >> 4);
        vstr_append_str(out, zone);
    } else {
        return -1;
    }
    return 0;
}

typedef struct rbl_hit {
    const check_ctx *x;
    const char *cls, *what, *domain;
    char code[8];
    vstr reason;
} rbl_hit;

static const char *rbl_attr(void *ctx, const char *name)
{
    rbl_hit *h = ctx;
    const check_ctx *x = h->x;

    if (strcmp(name, "rbl_code") == 0)
        return h->code;
    if (strcmp(name, "rbl_class") == 0)
        return h->cls;
    if (strcmp(name, "rbl_what") == 0)
        return h->what;
    if (strcmp(name, "rbl_domain") == 0)
        return h->domain;
    if (strcmp(name, "rbl_reason") == 0 || strcmp(name, "rbl_txt") == 0)
        return vstr_str(&h->reason);
    if (strcmp(name, "client_address") == 0)
        return vstr_str(&x->s->addr);
    if (strcmp(name, "client_name") == 0)
        return vstr_str(&x->s->name);
    if (strcmp(name, "helo_name") == 0)
        return x->helo ? x->helo : "";
    if (strcmp(name, "sender") == 0)
        return x->sender ? x->sender : "";
    if (strcmp(name, "recipient") == 0)
        return x->rcpt ? x->rcpt : "";
    return NULL;
}

/* The refusal of a listed client: the template for the zone, expanded. */
static check_result rbl_reply(check_ctx *x, const char *qname, const char *zone,
                              const char *cls, const char *what)
{
    int code = smtpd_cf.maps_rbl_code;
    rbl_hit h = {.x = x, .cls = cls, .what = what, .domain = zone};
    vstr template = VSTR_INIT, text = VSTR_INIT, err = VSTR_INIT;
    check_result res;
    const char *t;
    int st;

    snprintf(h.code, sizeof(h.code), "%d", code);
    vstr_init(&h.reason);
    txt_reason(qname, &h.reason);
    st = maps_find(rbl_reply_maps, zone, &template, NULL);
    if (st == DICT_ERROR)
        msg_warn("%s; using default_rbl_reply", maps_error(rbl_reply_maps));
    if (st != DICT_FOUND)
        vstr_set_str(&template, config_str(smtpd_cf.cfg, "default_rbl_reply"));
    if (var_expand(vstr_str(&template), rbl_attr, &h, NULL, 0, &text, &err) < 0) {
        res = check_config_error(x, "DNS list reply template for %s: %s", zone,
                                 vstr_str(&err));
    } else {
        /* "554 text" becomes "554 5.7.1 text". */
        t = vstr_str(&text);
        if (strspn(t, "0123456789") == 3 && t[3] == ' ' && !(t[4] >= '2' && t[4] <= '5' &&
                                                             t[5] == '.'))
            res = check_reject(x, "%.3s %c.7.1 %s", t, t[0], t + 4);
        else
            res = check_reject(x, "%s", t);
    }
    vstr_release(&h.reason);
    vstr_release(&template);
    vstr_release(&text);
    vstr_release(&err);
    return res;
}

/* Look what up under the item's zone; refuse or permit when listed. */
static check_result dns_list(check_ctx *x, const check_item *it, const char *what, int is_address,
                             const char *cls, int permit)
{
    char *zone = mem_strdup(it->arg);
    char *filter = strchr(zone, '=');
    vstr qname = VSTR_INIT;
    check_result res = CHECK_DUNNO;

    if (filter)
        *filter++ = 0;
    if (query_name(what, is_address, zone, &qname) == 0 && listed(vstr_str(&qname), filter)) {
        if (permit)
            res = CHECK_PERMIT;
        else
            res = rbl_reply(x, vstr_str(&qname), zone, cls, what);
    }
    vstr_release(&qname);
    mem_free(zone);
    return res;
}

static int known(const vstr *name)
{
    return !vstr_equals(name, "unknown");
}

check_result check_reject_rbl_client(check_ctx *x, const check_item *it)
{
    if (!known(&x->s->addr))
        return CHECK_DUNNO;
    return dns_list(x, it, vstr_str(&x->s->addr), 1, "Client host", 0);
}

check_result check_permit_dnswl_client(check_ctx *x, const check_item *it)
{
    if (!known(&x->s->addr))
        return CHECK_DUNNO;
    return dns_list(x, it, vstr_str(&x->s->addr), 1, "Client host", 1);
}

check_result check_reject_rhsbl_client(check_ctx *x, const check_item *it)
{
    if (!known(&x->s->name))
        return CHECK_DUNNO;
    return dns_list(x, it, vstr_str(&x->s->name), 0, "Client host", 0);
}

check_result check_reject_rhsbl_reverse_client(check_ctx *x, const check_item *it)
{
    if (!known(&x->s->reverse_name))
        return CHECK_DUNNO;
    return dns_list(x, it, vstr_str(&x->s->reverse_name), 0, "Unverified Client host", 0);
}

check_result check_reject_rhsbl_helo(check_ctx *x, const check_item *it)
{
    if (x->helo == NULL || x->helo[0] == '[')
        return CHECK_DUNNO;
    return dns_list(x, it, x->helo, 0, "Helo command", 0);
}

/* The domain of an address, or NULL. */
static const char *domain_of(const char *addr)
{
    const char *at = addr ? strrchr(addr, '@') : NULL;

    return at && at[1] && at[1] != '[' ? at + 1 : NULL;
}

check_result check_reject_rhsbl_sender(check_ctx *x, const check_item *it)
{
    const char *d = domain_of(x->sender);

    return d ? dns_list(x, it, d, 0, "Sender address", 0) : CHECK_DUNNO;
}

check_result check_reject_rhsbl_recipient(check_ctx *x, const check_item *it)
{
    const char *d = domain_of(x->rcpt);

    return d ? dns_list(x, it, d, 0, "Recipient address", 0) : CHECK_DUNNO;
}
