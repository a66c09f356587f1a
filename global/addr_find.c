/*
 * addr_find - Postfix's lookup order for an address or a domain; see addr_find.h
 */
#include <string.h>

#include "global/addr_find.h"
#include "util/mem.h"

void addr_find_opts_from_config(addr_find_opts *o, config *cfg)
{
    o->delimiters = config_str(cfg, "recipient_delimiter");
    o->owner_request_special = config_bool(cfg, "owner_request_special");
}

void addr_find_result_init(addr_find_result *r)
{
    r->kind = 0;
    vstr_init(&r->key);
    vstr_init(&r->extension);
    r->delimiter = 0;
}

void addr_find_result_release(addr_find_result *r)
{
    vstr_release(&r->key);
    vstr_release(&r->extension);
}

int addr_find_split(const char *addr, const addr_find_opts *o, vstr *user, vstr *extension,
                    vstr *domain)
{
    const char *at = strrchr(addr, '@');
    const char *delims = o->delimiters ? o->delimiters : "";
    size_t llen = at ? (size_t)(at - addr) : strlen(addr), ulen = llen;
    int delim = 0;

    if (*delims && !(o->owner_request_special && strchr(delims, '-') != NULL &&
                     (strncmp(addr, "owner-", 6) == 0 ||
                      (llen > 8 && strncmp(addr + llen - 8, "-request", 8) == 0)))) {
        size_t n = strcspn(addr, delims);

        /* A delimiter first ("+x") or none in the local part: no extension. */
        if (n > 0 && n < llen) {
            ulen = n;
            delim = (unsigned char)addr[n];
        }
    }
    if (user != NULL)
        vstr_set(user, addr, ulen);
    if (extension != NULL) {
        if (delim)
            vstr_set(extension, addr + ulen + 1, llen - ulen - 1);
        else
            vstr_reset(extension);
    }
    if (domain != NULL)
        vstr_set_str(domain, at ? at + 1 : "");
    return delim;
}

static void add_key(argv_t *keys, addr_find_kind *kinds, size_t *n, const char *key,
                    addr_find_kind kind)
{
    argv_add(keys, key);
    if (kinds != NULL)
        kinds[*n] = kind;
    (*n)++;
}

void addr_find_keys(const char *addr, const addr_find_opts *o, int flags, argv_t *keys,
                    addr_find_kind *kinds)
{
    vstr user = VSTR_INIT, ext = VSTR_INIT, domain = VSTR_INIT, key = VSTR_INIT;
    int delim = addr_find_split(addr, o, &user, &ext, &domain);
    int qualified = strrchr(addr, '@') != NULL;
    size_t n = 0;

    add_key(keys, kinds, &n, addr, ADDR_FIND_KEY_FULL);
    if (qualified) {
        if (delim) {
            vstr_set_fmt(&key, "%s@%s", vstr_str(&user), vstr_str(&domain));
            add_key(keys, kinds, &n, vstr_str(&key), ADDR_FIND_KEY_NOEXT);
        }
        if (flags & ADDR_FIND_LOCAL) {
            vstr_set(&key, addr, (size_t)(strrchr(addr, '@') - addr));
            add_key(keys, kinds, &n, vstr_str(&key), ADDR_FIND_KEY_LOCAL);
            if (delim)
                add_key(keys, kinds, &n, vstr_str(&user), ADDR_FIND_KEY_LOCAL_NOEXT);
        }
        vstr_set_fmt(&key, "@%s", vstr_str(&domain));
        add_key(keys, kinds, &n, vstr_str(&key), ADDR_FIND_KEY_DOMAIN);
    } else if (delim) {
        add_key(keys, kinds, &n, vstr_str(&user), ADDR_FIND_KEY_LOCAL_NOEXT);
    }
    vstr_release(&user);
    vstr_release(&ext);
    vstr_release(&domain);
    vstr_release(&key);
}

int addr_find_list(maps *m, const argv_t *keys, const addr_find_kind *kinds, vstr *value,
                     addr_find_result *r)
{
    for (size_t i = 0; i < keys->argc; i++) {
        int st = i == 0 ? maps_find(m, keys->argv[i], value, NULL)
                        : maps_find_fixed(m, keys->argv[i], value, NULL);

        if (st == DICT_FOUND && r != NULL) {
            r->kind = kinds[i];
            vstr_set_str(&r->key, keys->argv[i]);
        }
        if (st != DICT_NOTFOUND)
            return st;
    }
    return DICT_NOTFOUND;
}

int addr_find(maps *m, const char *addr, const addr_find_opts *o, int flags, vstr *value,
              addr_find_result *r)
{
    argv_t *keys = argv_new();
    addr_find_kind kinds[5];
    int st;

    addr_find_keys(addr, o, flags, keys, kinds);
    if (r != NULL) {
        r->kind = 0;
        r->delimiter = addr_find_split(addr, o, NULL, &r->extension, NULL);
    }
    st = addr_find_list(m, keys, kinds, value, r);
    argv_free(keys);
    return st;
}

int addr_find_parent_style(const char *pdms, const char *feature)
{
    argv_t *names = argv_split(pdms ? pdms : "", ", \t\r\n");
    int found = 0;

    for (size_t i = 0; i < names->argc && !found; i++)
        found = strcmp(names->argv[i], feature) == 0;
    argv_free(names);
    return found;
}

void addr_find_domain_keys(const char *domain, int parent_style, argv_t *keys)
{
    size_t len = strlen(domain);
    vstr name = VSTR_INIT;

    while (len > 0 && domain[len - 1] == '.')
        len--;
    vstr_set(&name, domain, len);
    argv_add(keys, vstr_str(&name));
    for (const char *p = strchr(vstr_str(&name) + (len > 0), '.'); p != NULL && p[1] != 0;
         p = strchr(p + 1, '.'))
        argv_add(keys, parent_style ? p + 1 : p);
    vstr_release(&name);
}

int addr_find_domain(maps *m, const char *domain, int parent_style, vstr *value,
                     addr_find_result *r)
{
    argv_t *keys = argv_new();
    addr_find_kind *kinds;
    int st;

    addr_find_domain_keys(domain, parent_style, keys);
    kinds = mem_calloc(keys->argc, sizeof(*kinds));
    for (size_t i = 0; i < keys->argc; i++)
        kinds[i] = i == 0 ? ADDR_FIND_KEY_FULL : ADDR_FIND_KEY_PARENT;
    if (r != NULL) {
        r->kind = 0;
        r->delimiter = 0;
        vstr_reset(&r->extension);
    }
    st = addr_find_list(m, keys, kinds, value, r);
    mem_free(kinds);
    argv_free(keys);
    return st;
}
