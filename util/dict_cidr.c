/*
 * dict_cidr - cidr:FILE, rules of IPv4 and IPv6 networks (cidr_table(5))
 *
 * A pattern is an address, matching itself, or network/prefix-length
 * (util/cidr parses both: 192.168.0.0/16, [192.0.2.1]/32, 2001:db8::/32,
 * [2001:db8::]/32). A network with bits set after its prefix is refused,
 * naming the network it would have been. Results are literal text. A
 * key that is not a bare address matches nothing; an IPv4 key never
 * matches an IPv6 rule nor the other way round.
 *
 * The key is parsed once per lookup (prepare), not once per rule.
 */
#include <string.h>

#include "util/cidr.h"
#include "util/dict_cidr.h"
#include "util/dict_rules.h"
#include "util/mem.h"

/* The key of the lookup in progress. */
typedef struct dict_cidr_key {
    int family; /* 0: not an address */
    unsigned char addr[16];
} dict_cidr_key;

static void dict_cidr_release(void *pattern)
{
    mem_free(pattern);
}

static int dict_cidr_compile(const char *text, size_t *used, void **pattern, int *groups,
                             vstr *why)
{
    size_t len = strcspn(text, " \t");
    cidr_net net;

    if (cidr_net_parse(text, len, &net, why) < 0)
        return -1;
    *pattern = mem_memdup0(&net, sizeof(net));
    *groups = 0;
    *used = len;
    return 0;
}

static void *dict_cidr_scratch_new(void)
{
    return mem_calloc(1, sizeof(dict_cidr_key));
}

static void dict_cidr_scratch_free(void *scratch)
{
    mem_free(scratch);
}

static void dict_cidr_prepare(void *scratch, const char *key)
{
    dict_cidr_key *k = scratch;

    k->family = cidr_addr_parse(key, k->addr);
}

static int dict_cidr_match(void *pattern, const dict_rules_key *key, dict_rules_groups *g,
                           vstr *why)
{
    const dict_cidr_key *k = key->scratch;

    (void)g;
    (void)why;
    return k->family != 0 && cidr_net_match(pattern, k->family, k->addr);
}

static const dict_rules_ops dict_cidr_ops = {
    .type = "cidr",
    .compile = dict_cidr_compile,
    .match = dict_cidr_match,
    .release = dict_cidr_release,
    .substitute = 0,
    .scratch_new = dict_cidr_scratch_new,
    .scratch_free = dict_cidr_scratch_free,
    .prepare = dict_cidr_prepare,
};

dict *dict_cidr_open(const char *name, int open_flags, int dict_flags, vstr *err)
{
    return dict_rules_open(&dict_cidr_ops, name, open_flags, dict_flags, err);
}
