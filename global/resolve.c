/*
 * resolve - a recipient address to (transport, nexthop); see resolve.h
 */
#include <string.h>

#include "global/resolve.h"

void resolve_result_init(resolve_result *res)
{
    res->rclass = RESOLVE_ERROR;
    vstr_init(&res->transport);
    vstr_init(&res->nexthop);
    vstr_init(&res->domain);
    res->status = NULL;
    vstr_init(&res->reason);
}

void resolve_result_release(resolve_result *res)
{
    vstr_release(&res->transport);
    vstr_release(&res->nexthop);
    vstr_release(&res->domain);
    vstr_release(&res->reason);
}

const char *resolve_class_name(resolve_class rclass)
{
    switch (rclass) {
    case RESOLVE_LOCAL:
        return "local";
    case RESOLVE_ALIAS:
        return "alias";
    case RESOLVE_VIRTUAL:
        return "virtual";
    case RESOLVE_RELAY:
        return "relay";
    case RESOLVE_DEFAULT:
        return "default";
    case RESOLVE_ERROR:
        break;
    }
    return "error";
}

int resolve_element_is_table(const char *element)
{
    const char *colon;

    if (element[0] == '/' || element[0] == '!')
        return 1;
    /* "type:name" where type is a word; a domain never holds ':' */
    colon = strchr(element, ':');
    return colon != NULL && colon > element;
}

/* Copy s to out in lower case without trailing dots. */
static void normalize_domain(vstr *out, const char *s, size_t len)
{
    while (len > 0 && s[len - 1] == '.')
        len--;
    vstr_set(out, s, len);
    vstr_lower(out);
}

/* Compare an element with a normalized domain. */
static int element_matches(const char *element, const char *domain, int subdomains)
{
    vstr pat = VSTR_INIT;
    size_t dlen = strlen(domain), plen;
    int match = 0, dotted = 0;

    if (*element == '.') {
        dotted = 1;
        element++;
    }
    normalize_domain(&pat, element, strlen(element));
    plen = vstr_len(&pat);
    if (plen == 0) {
        vstr_release(&pat);
        return 0;
    }
    if (!dotted && dlen == plen && memcmp(domain, vstr_str(&pat), plen) == 0)
        match = 1;
    else if ((dotted || subdomains) && dlen > plen + 1 &&
             memcmp(domain + dlen - plen, vstr_str(&pat), plen) == 0 &&
             domain[dlen - plen - 1] == '.')
        match = 1;
    vstr_release(&pat);
    return match;
}

/* Look domain, and with subdomains its parents (as "parent" and
 * ".parent", Postfix's two spellings), up in one table. */
static int table_match(const resolve_rules *rules, const char *table, const char *domain,
                       int subdomains, vstr *err)
{
    vstr key = VSTR_INIT;
    int found;

    if (rules->table_lookup == NULL)
        return 0;
    found = rules->table_lookup(rules->table_ctx, table, domain, err);
    for (const char *p = strchr(domain, '.'); found == 0 && subdomains && p != NULL;
         p = strchr(p + 1, '.')) {
        if ((found = rules->table_lookup(rules->table_ctx, table, p + 1, err)) != 0)
            break;
        vstr_set_str(&key, p);
        found = rules->table_lookup(rules->table_ctx, table, vstr_str(&key), err);
    }
    vstr_release(&key);
    return found;
}

int resolve_domain_match_tables(const resolve_rules *rules, const argv_t *list, const char *domain,
                                int subdomains, vstr *err)
{
    vstr norm = VSTR_INIT;
    int match = 0;

    if (list == NULL)
        return 0;
    normalize_domain(&norm, domain, strlen(domain));
    for (size_t i = 0; i < list->argc && match == 0 && vstr_len(&norm) > 0; i++) {
        const char *e = list->argv[i];

        if (!resolve_element_is_table(e))
            match = element_matches(e, vstr_str(&norm), subdomains);
        else if (e[0] != '/' && e[0] != '!')
            match = table_match(rules, e, vstr_str(&norm), subdomains, err);
    }
    vstr_release(&norm);
    return match;
}

int resolve_domain_match(const argv_t *list, const char *domain, int subdomains)
{
    static const resolve_rules no_tables = {.table_lookup = NULL};

    return resolve_domain_match_tables(&no_tables, list, domain, subdomains, NULL);
}

/* A domain we are willing to hand to a transport: a [literal] or a name
 * without white space, controls, or address punctuation. */
static int domain_syntax_ok(const char *d)
{
    size_t len = strlen(d);

    if (len == 0)
        return 0;
    if (d[0] == '[')
        return len > 2 && d[len - 1] == ']' && strcspn(d + 1, "[]") == len - 2 &&
               strspn(d + 1, "0123456789abcdefABCDEF.:IPv6") == len - 2;
    for (const unsigned char *p = (const unsigned char *)d; *p; p++) {
        if (*p <= ' ' || *p == 0x7f || strchr("<>()[]\\,;:\"@!%/", *p) != NULL)
            return 0;
    }
    return 1;
}

static resolve_class fail(resolve_result *res, const char *status, const char *reason)
{
    res->rclass = RESOLVE_ERROR;
    res->status = status;
    vstr_set_str(&res->reason, reason);
    vstr_reset(&res->transport);
    vstr_reset(&res->nexthop);
    return RESOLVE_ERROR;
}

/* A table in a domain list failed: defer (4.3.0), with its reason (already
 * in res->reason) named. */
static resolve_class table_failed(resolve_result *res, const char *param)
{
    vstr why = VSTR_INIT;

    vstr_set_fmt(&why, "%s lookup failure: %s", param, vstr_str(&res->reason));
    fail(res, "4.3.0", vstr_str(&why));
    vstr_release(&why);
    return RESOLVE_ERROR;
}

/* Split "transport:nexthop" into res; nexthop falls back to dflt. */
static void use_transport(resolve_result *res, const char *spec, const char *dflt)
{
    const char *colon = strchr(spec, ':');

    if (colon == NULL) {
        vstr_set_str(&res->transport, spec);
        vstr_set_str(&res->nexthop, dflt ? dflt : "");
    } else {
        vstr_set(&res->transport, spec, (size_t)(colon - spec));
        vstr_set_str(&res->nexthop, colon[1] ? colon + 1 : (dflt ? dflt : ""));
    }
}

static int has_nexthop(const char *spec)
{
    const char *colon = strchr(spec, ':');

    return colon != NULL && colon[1] != 0;
}

resolve_class resolve_addr(const resolve_rules *rules, const char *addr, resolve_result *res)
{
    const char *at = strrchr(addr, '@');
    size_t local_len = at ? (size_t)(at - addr) : strlen(addr);
    int routed = memchr(addr, '!', local_len) != NULL || memchr(addr, '%', local_len) != NULL ||
                 memchr(addr, '@', local_len) != NULL;
    const char *relayhost = rules->relayhost ? rules->relayhost : "";
    const char *spec;
    int match = 0;

    res->status = NULL;
    vstr_reset(&res->reason);
    vstr_reset(&res->domain);
    if (*addr == 0)
        return fail(res, "5.1.3", "empty recipient address");

    if (at != NULL)
        normalize_domain(&res->domain, at + 1, strlen(at + 1));
    if (at != NULL && vstr_len(&res->domain) == 0)
        return fail(res, "5.1.3", "recipient address has an empty domain");

    /* Local: unqualified, or mydestination. */
    if (at != NULL &&
        (match = resolve_domain_match_tables(rules, rules->mydestination, vstr_str(&res->domain),
                                             0, &res->reason)) < 0)
        return table_failed(res, "mydestination");
    if (at == NULL || match) {
        if (routed)
            return fail(res, "5.1.3",
                        "local part with a routing operator (@, ! or %) is not delivered here");
        if (local_len == 0)
            return fail(res, "5.1.3", "recipient address has an empty local part");
        use_transport(res, rules->local_transport, rules->myhostname);
        res->rclass = RESOLVE_LOCAL;
        return res->rclass;
    }
    if (!domain_syntax_ok(vstr_str(&res->domain)))
        return fail(res, "5.1.2", "bad destination domain syntax");

    if ((match = resolve_domain_match_tables(rules, rules->virtual_alias_domains,
                                             vstr_str(&res->domain), 0, &res->reason)) < 0)
        return table_failed(res, "virtual_alias_domains");
    if (match) {
        use_transport(res, "error:" RESOLVE_ALIAS_UNKNOWN, NULL);
        res->rclass = RESOLVE_ALIAS;
        return res->rclass;
    }

    if ((match = resolve_domain_match_tables(rules, rules->virtual_mailbox_domains,
                                             vstr_str(&res->domain), 0, &res->reason)) < 0)
        return table_failed(res, "virtual_mailbox_domains");
    if (match) {
        if (routed)
            return fail(res, "5.1.3",
                        "local part with a routing operator (@, ! or %) is not delivered here");
        if (local_len == 0)
            return fail(res, "5.1.3", "recipient address has an empty local part");
        use_transport(res, rules->virtual_transport, vstr_str(&res->domain));
        res->rclass = RESOLVE_VIRTUAL;
        return res->rclass;
    }

    if ((match = resolve_domain_match_tables(rules, rules->relay_domains, vstr_str(&res->domain),
                                             1, &res->reason)) < 0)
        return table_failed(res, "relay_domains");
    if (match) {
        spec = rules->relay_transport;
        res->rclass = RESOLVE_RELAY;
    } else {
        spec = rules->default_transport;
        res->rclass = RESOLVE_DEFAULT;
    }
    /* Precedence, as in Postfix: the transport's own nexthop, then
     * relayhost, then the recipient domain. */
    if (has_nexthop(spec) || *relayhost == 0)
        use_transport(res, spec, vstr_str(&res->domain));
    else
        use_transport(res, spec, relayhost);
    return res->rclass;
}
