/*
 * addr_rewrite - envelope address rewriting: canonical, masquerade,
 * virtual alias; see addr_rewrite.h
 */
#include <fcntl.h>
#include <string.h>
#include <strings.h>

#include "global/addr_list.h"
#include "global/addr_rewrite.h"
#include "util/htable.h"
#include "util/mem.h"
#include "util/msg.h"

/* Postfix's limit on canonical re-lookups of a result. */
#define ADDR_REWRITE_CANONICAL_DEPTH 10

static const char *const canonical_param = "canonical_maps";
static const char *const sender_param = "sender_canonical_maps";
static const char *const recipient_param = "recipient_canonical_maps";
static const char *const virtual_param = "virtual_alias_maps";

/* The tables of this process: cleanup is opened per message, the tables
 * once (as Postfix's cleanup keeps its maps open between messages). */
static addr_rewrite *current;

static int class_bits(config *cfg, const char *param)
{
    argv_t *names = config_list(cfg, param);
    int bits = 0;

    for (size_t i = 0; i < names->argc; i++) {
        if (strcmp(names->argv[i], "envelope_sender") == 0)
            bits |= ADDR_REWRITE_ENV_SENDER;
        else if (strcmp(names->argv[i], "envelope_recipient") == 0)
            bits |= ADDR_REWRITE_ENV_RECIPIENT;
        else if (strcmp(names->argv[i], "header_sender") == 0)
            bits |= ADDR_REWRITE_HDR_SENDER;
        else if (strcmp(names->argv[i], "header_recipient") == 0)
            bits |= ADDR_REWRITE_HDR_RECIPIENT;
    }
    argv_free(names);
    return bits;
}

static int listed(config *cfg, const char *param, const char *name)
{
    argv_t *names = config_list(cfg, param);
    int found = 0;

    for (size_t i = 0; i < names->argc && !found; i++)
        found = strcmp(names->argv[i], name) == 0;
    argv_free(names);
    return found;
}

static addr_rewrite *open_tables(config *cfg)
{
    addr_rewrite *rw = mem_calloc(1, sizeof(*rw));

    rw->cfg = cfg;
    rw->canonical = maps_open_param(cfg, canonical_param);
    rw->sender_canonical = maps_open_param(cfg, sender_param);
    rw->recipient_canonical = maps_open_param(cfg, recipient_param);
    rw->virtual_alias = maps_open_param(cfg, virtual_param);
    addr_find_opts_from_config(&rw->opts, cfg);
    rw->opts.delimiters = mem_strdup(rw->opts.delimiters);
    resolve_config_init(&rw->local, cfg);
    rw->myorigin = mem_strdup(config_str(cfg, "myorigin"));
    rw->canonical_classes = class_bits(cfg, "canonical_classes");
    rw->masquerade_classes = class_bits(cfg, "masquerade_classes");
    rw->propagate_canonical = listed(cfg, "propagate_unmatched_extensions", "canonical");
    rw->propagate_virtual = listed(cfg, "propagate_unmatched_extensions", "virtual");
    rw->masquerade_domains = config_list(cfg, "masquerade_domains");
    rw->masquerade_exceptions = config_list(cfg, "masquerade_exceptions");
    rw->recursion_limit = config_int(cfg, "virtual_alias_recursion_limit");
    rw->expansion_limit = config_int(cfg, "virtual_alias_expansion_limit");
    rw->length_limit = config_int(cfg, "virtual_alias_address_length_limit");
    return rw;
}

void addr_rewrite_release(void)
{
    addr_rewrite *rw = current;

    if (rw == NULL)
        return;
    current = NULL;
    maps_free(rw->canonical);
    maps_free(rw->sender_canonical);
    maps_free(rw->recipient_canonical);
    maps_free(rw->virtual_alias);
    resolve_config_free(&rw->local);
    mem_free(rw->myorigin);
    mem_free((char *)rw->opts.delimiters);
    argv_free(rw->masquerade_domains);
    argv_free(rw->masquerade_exceptions);
    mem_free(rw);
}

addr_rewrite *addr_rewrite_tables(config *cfg)
{
    if (current != NULL && current->cfg != cfg)
        addr_rewrite_release();
    if (current == NULL) {
        current = open_tables(cfg);
    } else {
        maps_refresh_param(&current->canonical, cfg, canonical_param);
        maps_refresh_param(&current->sender_canonical, cfg, sender_param);
        maps_refresh_param(&current->recipient_canonical, cfg, recipient_param);
        maps_refresh_param(&current->virtual_alias, cfg, virtual_param);
    }
    return current;
}

/* Is the domain of addr local (myorigin, mydestination)? -1: a table failed. */
static int domain_is_local(addr_rewrite *rw, const char *addr, vstr *why)
{
    const char *at = strrchr(addr, '@');

    if (at == NULL || strcasecmp(at + 1, rw->myorigin) == 0)
        return 1;
    return resolve_domain_match_tables(&rw->local.rules, rw->local.mydestination, at + 1, 0, why);
}

/* One result address into out: "@domain" keeps addr's local part, the
 * extension goes back when the match was without it, no domain gets
 * myorigin. */
static void add_result(addr_rewrite *rw, const char *addr, const char *result,
                       const addr_find_result *r, int propagate, argv_t *out)
{
    const char *at = strrchr(result, '@');
    size_t llen = at ? (size_t)(at - result) : strlen(result);
    vstr v = VSTR_INIT;

    if (llen == 0 && at != NULL) {
        /* "@domain": the local part stays, without an unmatched
         * extension (Postfix does not propagate it here). */
        const char *oat = strrchr(addr, '@');
        size_t keep = oat ? (size_t)(oat - addr) : strlen(addr);

        if (r->delimiter && r->kind != ADDR_FIND_KEY_FULL && r->kind != ADDR_FIND_KEY_LOCAL)
            keep -= vstr_len(&r->extension) + 1;
        vstr_set(&v, addr, keep);
        vstr_append_str(&v, at);
    } else {
        vstr_set(&v, result, llen);
        if (propagate && r->delimiter && r->kind != ADDR_FIND_KEY_FULL &&
            r->kind != ADDR_FIND_KEY_LOCAL) {
            vstr_append_char(&v, r->delimiter);
            vstr_append_str(&v, vstr_str(&r->extension));
        }
        vstr_append_fmt(&v, "@%s", at ? at + 1 : rw->myorigin);
    }
    argv_add(out, vstr_str(&v));
    vstr_release(&v);
}

/* Look addr up in m and append the result's addresses to out: DICT_FOUND,
 * DICT_NOTFOUND, DICT_ERROR (why says). */
static int lookup(addr_rewrite *rw, maps *m, const char *addr, int propagate, argv_t *out,
                  vstr *why)
{
    vstr value = VSTR_INIT, err = VSTR_INIT;
    addr_find_result r;
    size_t before = out->argc;
    int local = domain_is_local(rw, addr, why), st;

    if (local < 0)
        return DICT_ERROR;
    addr_find_result_init(&r);
    st = addr_find(m, addr, &rw->opts, local ? ADDR_FIND_LOCAL : 0, &value, &r);
    if (st == DICT_ERROR) {
        vstr_set_str(why, maps_error(m));
    } else if (st == DICT_FOUND) {
        const char *v = vstr_str(&value);
        size_t len = vstr_len(&value);

        while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t'))
            len--;
        while (*v == ' ' || *v == '\t')
            v++, len--;
        if (*v == '@' && strcspn(v, ", \t") >= len) {
            vstr_set(&err, v, len);
            add_result(rw, addr, vstr_str(&err), &r, 0, out);
        } else {
            addr_list *list = addr_list_new((size_t)rw->expansion_limit + 1);

            if (addr_list_parse(list, v, len, &err) != ADDR_LIST_OK)
                msg_warn("%s: entry for %s: %s", m->title, addr, vstr_str(&err));
            for (size_t i = 0; i < list->count; i++)
                add_result(rw, addr, list->entries[i].addr, &r, propagate, out);
            addr_list_free(list);
        }
        /* A value that names no address is a broken entry: try again
         * later rather than deliver as if it were not there (Postfix). */
        if (out->argc == before) {
            vstr_set_fmt(why, "%s: lookup of %s returns non-address result \"%.100s\"", m->title,
                         addr, vstr_str(&value));
            st = DICT_ERROR;
        }
    }
    addr_find_result_release(&r);
    vstr_release(&value);
    vstr_release(&err);
    return st;
}

/* canonical-style one-to-one mapping of addr through m. */
static int map_one(addr_rewrite *rw, maps *m, vstr *addr, vstr *why)
{
    for (int count = 0; count < ADDR_REWRITE_CANONICAL_DEPTH; count++) {
        argv_t *res = argv_new();
        int st = lookup(rw, m, vstr_str(addr), rw->propagate_canonical, res, why), self;

        if (st != DICT_FOUND) {
            argv_free(res);
            return st == DICT_ERROR ? -1 : 0;
        }
        if (res->argc > 1)
            msg_warn("%s: multi-valued entry for %s: using %s", m->title, vstr_str(addr),
                     res->argv[0]);
        self = strcasecmp(res->argv[0], vstr_str(addr)) == 0;
        vstr_set_str(addr, res->argv[0]);
        argv_free(res);
        if (self)
            return 0;
    }
    msg_warn("%s: unreasonable nesting for %s", m->title, vstr_str(addr));
    return 0;
}

int addr_rewrite_masquerade(const argv_t *domains, const argv_t *exceptions, const char *addr,
                            vstr *out)
{
    const char *at = strrchr(addr, '@');
    const char *domain;
    size_t dlen;

    vstr_set_str(out, addr);
    if (at == NULL || domains == NULL)
        return 0;
    domain = at + 1;
    dlen = strlen(domain);
    for (size_t i = 0; exceptions != NULL && i < exceptions->argc; i++)
        if (strlen(exceptions->argv[i]) == (size_t)(at - addr) &&
            strncasecmp(exceptions->argv[i], addr, (size_t)(at - addr)) == 0)
            return 0;
    for (size_t i = 0; i < domains->argc; i++) {
        const char *masq = domains->argv[i];
        int excluded = *masq == '!';
        size_t mlen;

        masq += excluded;
        if ((mlen = strlen(masq)) == 0)
            continue;
        if (mlen == dlen && strcasecmp(masq, domain) == 0)
            return 0;
        if (mlen < dlen && domain[dlen - mlen - 1] == '.' &&
            strcasecmp(masq, domain + dlen - mlen) == 0) {
            if (excluded)
                return 0;
            vstr_set(out, addr, (size_t)(at - addr) + 1);
            vstr_append_str(out, masq);
            return 1;
        }
    }
    return 0;
}

/* Canonical mapping through first then canonical_maps, then masquerade. */
static int rewrite_one(addr_rewrite *rw, maps *first, int cls, const char *addr, vstr *out,
                       vstr *why)
{
    vstr_set_str(out, addr);
    if (*addr == 0)
        return 0;
    if (rw->canonical_classes & cls) {
        if (map_one(rw, first, out, why) < 0 || map_one(rw, rw->canonical, out, why) < 0)
            return -1;
    }
    if ((rw->masquerade_classes & cls) && rw->masquerade_domains->argc > 0) {
        vstr m = VSTR_INIT;

        if (addr_rewrite_masquerade(rw->masquerade_domains, rw->masquerade_exceptions,
                                    vstr_str(out), &m))
            vstr_set_str(out, vstr_str(&m));
        vstr_release(&m);
    }
    return 0;
}

int addr_rewrite_sender(addr_rewrite *rw, const char *addr, vstr *out, vstr *why)
{
    return rewrite_one(rw, rw->sender_canonical, ADDR_REWRITE_ENV_SENDER, addr, out, why);
}

int addr_rewrite_recipient(addr_rewrite *rw, const char *addr, vstr *out, vstr *why)
{
    return rewrite_one(rw, rw->recipient_canonical, ADDR_REWRITE_ENV_RECIPIENT, addr, out, why);
}

int addr_rewrite_header(addr_rewrite *rw, int cls, const char *addr, vstr *out, vstr *why)
{
    maps *first = cls == ADDR_REWRITE_HDR_SENDER ? rw->sender_canonical : rw->recipient_canonical;

    return rewrite_one(rw, first, cls, addr, out, why);
}

/* Mark key (case folded) in seen. */
static void remember(htable *seen, const char *key)
{
    vstr k = VSTR_INIT;

    vstr_set_str(&k, key);
    vstr_lower(&k);
    (void)htable_enter(seen, vstr_str(&k), NULL);
    vstr_release(&k);
}

static int seen_before(htable *seen, const char *key)
{
    vstr k = VSTR_INIT;
    int found;

    vstr_set_str(&k, key);
    vstr_lower(&k);
    found = htable_locate(seen, vstr_str(&k)) != NULL;
    vstr_release(&k);
    return found;
}

/* Postfix's in-place expansion: each slot is expanded until it is not in
 * the table or has expanded into itself; new addresses go to the end
 * and are expanded in their turn. */
static int expand(addr_rewrite *rw, const char *addr, argv_t *list, htable *self, vstr *why)
{
    for (size_t arg = 0; arg < list->argc; arg++) {
        for (long long count = 0;; count++) {
            argv_t *res;
            char *lhs;
            int st;

            if ((long long)list->argc > rw->expansion_limit) {
                vstr_set_fmt(why,
                             "%s: more than virtual_alias_expansion_limit (%lld) addresses "
                             "for %s",
                             virtual_param, rw->expansion_limit, addr);
                return ADDR_REWRITE_LIMIT;
            }
            if (seen_before(self, list->argv[arg]))
                break;
            if (count >= rw->recursion_limit) {
                vstr_set_fmt(why,
                             "%s: more than virtual_alias_recursion_limit (%lld) steps for "
                             "%s (a loop?)",
                             virtual_param, rw->recursion_limit, addr);
                return ADDR_REWRITE_LIMIT;
            }
            res = argv_new();
            st = lookup(rw, rw->virtual_alias, list->argv[arg], rw->propagate_virtual, res, why);
            if (st == DICT_ERROR) {
                argv_free(res);
                return ADDR_REWRITE_TABLE;
            }
            if (st == DICT_NOTFOUND) {
                argv_free(res);
                break;
            }
            for (size_t i = 0; i < res->argc; i++) {
                if ((long long)strlen(res->argv[i]) > rw->length_limit) {
                    vstr_set_fmt(why,
                                 "%s: a result for %s is longer than "
                                 "virtual_alias_address_length_limit (%lld)",
                                 virtual_param, addr, rw->length_limit);
                    argv_free(res);
                    return ADDR_REWRITE_LIMIT;
                }
            }
            lhs = mem_strdup(list->argv[arg]);
            for (size_t i = 0; i < res->argc; i++) {
                if (i == 0) {
                    mem_free(list->argv[arg]);
                    list->argv[arg] = mem_strdup(res->argv[0]);
                } else {
                    argv_add(list, res->argv[i]);
                }
                if (strcasecmp(lhs, res->argv[i]) == 0)
                    remember(self, lhs);
            }
            mem_free(lhs);
            argv_free(res);
        }
    }
    return ADDR_REWRITE_OK;
}

int addr_rewrite_virtual(addr_rewrite *rw, const char *addr, argv_t *out, vstr *why)
{
    argv_t *list = argv_new();
    htable *self = htable_new(8);
    int st = ADDR_REWRITE_OK;

    argv_add(list, addr);
    if (rw->virtual_alias->count > 0)
        st = expand(rw, addr, list, self, why);
    if (st != ADDR_REWRITE_OK) {
        argv_add(out, addr);
    } else {
        for (size_t i = 0; i < list->argc; i++)
            argv_add(out, list->argv[i]);
    }
    htable_free(self, NULL);
    argv_free(list);
    return st;
}

/* Has m an entry for addr? 1, 0, -1 (why says). */
static int has_entry(addr_rewrite *rw, maps *m, const char *addr, vstr *why)
{
    argv_t *res = argv_new();
    int st = m->count == 0 ? DICT_NOTFOUND : lookup(rw, m, addr, 0, res, why);

    argv_free(res);
    return st == DICT_FOUND ? 1 : st == DICT_NOTFOUND ? 0 : -1;
}

int addr_rewrite_known(addr_rewrite *rw, const char *addr, int sender, vstr *why)
{
    maps *order[] = {sender ? rw->sender_canonical : rw->recipient_canonical, rw->canonical,
                     rw->virtual_alias};
    int known = 0;

    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]) && known == 0; i++)
        known = has_entry(rw, order[i], addr, why);
    return known;
}
