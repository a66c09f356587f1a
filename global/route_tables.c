/*
 * route_tables - relocated_maps, transport_maps, sender_dependent_relayhost_maps
 * and the content_filter route; see route_tables.h
 */
#include <fcntl.h>
#include <string.h>
#include <strings.h>

#include "global/route_tables.h"
#include "util/mem.h"

static const char *const transport_param = "transport_maps";
static const char *const relocated_param = "relocated_maps";
static const char *const sender_relay_param = "sender_dependent_relayhost_maps";

route_tables *route_tables_open(config *cfg)
{
    route_tables *rt = mem_calloc(1, sizeof(*rt));

    rt->cfg = cfg;
    rt->transport = maps_open_param(cfg, transport_param);
    rt->relocated = maps_open_param(cfg, relocated_param);
    rt->sender_relay = maps_open_param(cfg, sender_relay_param);
    addr_find_opts_from_config(&rt->opts, cfg);
    rt->opts.delimiters = mem_strdup(rt->opts.delimiters);
    rt->parent_style = addr_find_parent_style(config_str(cfg, "parent_domain_matches_subdomains"),
                                              transport_param);
    rt->null_sender_key = mem_strdup(config_str(cfg, "empty_address_relayhost_maps_lookup_key"));
    rt->error = "";
    return rt;
}

void route_tables_refresh(route_tables *rt)
{
    maps_refresh_param(&rt->transport, rt->cfg, transport_param);
    maps_refresh_param(&rt->relocated, rt->cfg, relocated_param);
    maps_refresh_param(&rt->sender_relay, rt->cfg, sender_relay_param);
}

void route_tables_free(route_tables *rt)
{
    if (rt == NULL)
        return;
    maps_free(rt->transport);
    maps_free(rt->relocated);
    maps_free(rt->sender_relay);
    mem_free(rt->null_sender_key);
    mem_free((char *)rt->opts.delimiters);
    mem_free(rt);
}

const char *route_tables_error(const route_tables *rt)
{
    return rt->error;
}

/* Remember the reason of a DICT_ERROR from m. */
static int noted(route_tables *rt, maps *m, int status)
{
    if (status == DICT_ERROR)
        rt->error = maps_error(m);
    return status;
}

int route_tables_sender_relayhost(route_tables *rt, const char *sender, vstr *relayhost)
{
    int st;

    if (rt->sender_relay->count == 0)
        return DICT_NOTFOUND;
    if (*sender == 0)
        st = maps_find(rt->sender_relay, rt->null_sender_key, relayhost, NULL);
    else
        st = addr_find(rt->sender_relay, sender, &rt->opts, 0, relayhost, NULL);
    if (st == DICT_FOUND && strcasecmp(vstr_str(relayhost), "DUNNO") == 0)
        return DICT_NOTFOUND;
    return noted(rt, rt->sender_relay, st);
}

int route_tables_relocated(route_tables *rt, const char *rcpt, int is_local, vstr *location)
{
    if (rt->relocated->count == 0)
        return DICT_NOTFOUND;
    return noted(
        rt, rt->relocated,
        addr_find(rt->relocated, rcpt, &rt->opts, is_local ? ADDR_FIND_LOCAL : 0, location, NULL));
}

void route_apply_entry(const char *value, const char *domain, vstr *transport, vstr *nexthop)
{
    const char *colon = strchr(value, ':');
    size_t tlen = colon ? (size_t)(colon - value) : strlen(value);
    const char *hop = colon ? colon + 1 : "";

    if (tlen == 0) {
        /* ":nexthop" keeps the class's transport; "" and ":" change nothing */
        if (*hop)
            vstr_set_str(nexthop, hop);
        return;
    }
    vstr_set(transport, value, tlen);
    if (*hop)
        vstr_set_str(nexthop, hop);
    else if (vstr_equals(transport, "error") || vstr_equals(transport, "retry"))
        vstr_set_str(nexthop, "Address is undeliverable");
    else
        vstr_set_str(nexthop, domain);
}

int route_tables_transport(route_tables *rt, const char *rcpt, resolve_result *res)
{
    argv_t *keys = argv_new();
    addr_find_kind kinds[5];
    addr_find_kind *all;
    vstr value = VSTR_INIT;
    size_t naddr;
    int st;

    if (rt->transport->count == 0) {
        argv_free(keys);
        return DICT_NOTFOUND;
    }
    /* user+ext@domain and user@domain only: transport_maps has no
     * local-part or @domain keys; then domain, parents, "*". */
    addr_find_keys(rcpt, &rt->opts, 0, keys, kinds);
    argv_truncate(keys, keys->argc - (strrchr(rcpt, '@') != NULL));
    naddr = keys->argc;
    if (*vstr_str(&res->domain))
        addr_find_domain_keys(vstr_str(&res->domain), rt->parent_style, keys);
    argv_add(keys, "*");
    all = mem_calloc(keys->argc, sizeof(*all));
    for (size_t i = 0; i < keys->argc; i++) {
        if (i < naddr)
            all[i] = kinds[i];
        else if (i + 1 == keys->argc)
            all[i] = ADDR_FIND_KEY_WILDCARD;
        else
            all[i] = i == naddr ? ADDR_FIND_KEY_FULL : ADDR_FIND_KEY_PARENT;
    }
    st = noted(rt, rt->transport, addr_find_list(rt->transport, keys, all, &value, NULL));
    if (st == DICT_FOUND)
        route_apply_entry(vstr_str(&value), vstr_str(&res->domain), &res->transport,
                          &res->nexthop);
    mem_free(all);
    argv_free(keys);
    vstr_release(&value);
    return st;
}

int route_filter_parse(const char *filter, const char *default_nexthop, const char *domain,
                       vstr *transport, vstr *nexthop)
{
    const char *colon = strchr(filter, ':');
    size_t tlen = colon ? (size_t)(colon - filter) : strlen(filter);

    if (tlen == 0)
        return -1;
    vstr_set(transport, filter, tlen);
    if (colon && colon[1])
        vstr_set_str(nexthop, colon + 1);
    else
        vstr_set_str(nexthop, *default_nexthop ? default_nexthop : domain);
    return 0;
}
