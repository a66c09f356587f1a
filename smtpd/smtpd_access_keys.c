/*
 * smtpd_access_keys - the keys check_*_access looks up, in Postfix's
 * order (see smtpd_access.h); the domain part comes from global/addr_find
 */
#include <string.h>

#include "smtpd/smtpd_access.h"
#include "util/mem.h"

void access_keys_init(access_keys *k)
{
    k->keys = argv_new();
    k->whole = NULL;
    k->cap = 0;
}

void access_keys_release(access_keys *k)
{
    argv_free(k->keys);
    mem_free(k->whole);
    k->keys = NULL;
    k->whole = NULL;
}

static void add(access_keys *k, const char *key, size_t len, int whole)
{
    if (k->keys->argc >= k->cap) {
        k->cap = k->cap ? 2 * k->cap : 8;
        k->whole = mem_realloc(k->whole, k->cap);
    }
    k->whole[k->keys->argc] = (unsigned char)whole;
    argv_addn(k->keys, key, len);
}

/* The domain and its parents: the first is whole, the parents partial. */
static void add_domain(access_keys *k, const char *domain, int parent_style)
{
    argv_t *d = argv_new();

    addr_find_domain_keys(domain, parent_style, d);
    for (size_t i = 0; i < d->argc; i++)
        if (*d->argv[i])
            add(k, d->argv[i], strlen(d->argv[i]), i == 0);
    argv_free(d);
}

void access_keys_address(access_keys *k, const char *addr, const addr_find_opts *o,
                         int parent_style, const char *null_key)
{
    vstr user = VSTR_INIT, ext = VSTR_INIT, domain = VSTR_INIT, key = VSTR_INIT;
    int delim;

    if (*addr == 0) {
        add(k, null_key, strlen(null_key), 1);
        return;
    }
    delim = addr_find_split(addr, o, &user, &ext, &domain);
    add(k, addr, strlen(addr), 1);
    if (delim && vstr_len(&domain)) {
        vstr_set_fmt(&key, "%s@%s", vstr_str(&user), vstr_str(&domain));
        add(k, vstr_str(&key), vstr_len(&key), 0);
    }
    if (vstr_str(&domain)[0] == '[') {
        /* An address literal has no parent domains. */
        add(k, vstr_str(&domain), vstr_len(&domain), 0);
    } else if (vstr_len(&domain)) {
        size_t first = k->keys->argc;

        add_domain(k, vstr_str(&domain), parent_style);
        /* The domain of an address is a partial key. */
        for (size_t i = first; i < k->keys->argc; i++)
            k->whole[i] = 0;
    }
    /* user+ext@ and user@: the local part, in any domain. */
    vstr_set(&key, addr, strrchr(addr, '@') ? (size_t)(strrchr(addr, '@') - addr) : strlen(addr));
    vstr_append_char(&key, '@');
    add(k, vstr_str(&key), vstr_len(&key), 0);
    if (delim) {
        vstr_set_fmt(&key, "%s@", vstr_str(&user));
        add(k, vstr_str(&key), vstr_len(&key), 0);
    }
    vstr_release(&user);
    vstr_release(&ext);
    vstr_release(&domain);
    vstr_release(&key);
}

void access_keys_host(access_keys *k, const char *name, int parent_style)
{
    size_t n = strlen(name);

    if (n == 0)
        return;
    /* "[192.0.2.1]" is an address, not a domain with parents. */
    if (n > 2 && name[0] == '[' && name[n - 1] == ']') {
        add(k, name, n, 1);
        return;
    }
    add_domain(k, name, parent_style);
}

void access_keys_ipaddr(access_keys *k, const char *addr)
{
    int delim = strchr(addr, ':') ? ':' : '.';
    size_t n = strlen(addr);

    if (n == 0)
        return;
    add(k, addr, n, 1);
    for (;;) {
        while (n > 0 && addr[n - 1] != delim)
            n--;
        /* "2001:db8::" loses its empty parts too. */
        while (n > 0 && addr[n - 1] == delim)
            n--;
        if (n == 0)
            break;
        add(k, addr, n, 0);
    }
}
