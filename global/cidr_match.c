/*
 * cidr_match - client address against a list of networks (see cidr_match.h)
 *
 * Addresses are kept as 16 bytes: IPv4 as its IPv4-mapped IPv6 form
 * (::ffff:a.b.c.d, prefix length + 96), so one comparison serves both
 * families and a mapped client address needs no special case.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "global/cidr_match.h"
#include "util/mem.h"

typedef struct cidr_net {
    unsigned char addr[16];
    int bits; /* 0..128 */
} cidr_net;

struct cidr_list {
    cidr_net *nets;
    size_t count;
};

/* Text to 16 bytes; *max_bits is 32 for IPv4, 128 for IPv6. 0 on failure. */
static int parse_addr(const char *text, size_t len, unsigned char out[16], int *max_bits)
{
    char buf[INET6_ADDRSTRLEN + 2];
    struct in_addr a4;

    if (len >= 2 && text[0] == '[' && text[len - 1] == ']') {
        text++;
        len -= 2;
        if (memchr(text, ':', len) == NULL)
            return 0; /* brackets are for IPv6 */
    }
    if (len == 0 || len >= sizeof(buf))
        return 0;
    memcpy(buf, text, len);
    buf[len] = 0;
    if (inet_pton(AF_INET, buf, &a4) == 1) {
        memset(out, 0, 10);
        out[10] = out[11] = 0xff;
        memcpy(out + 12, &a4, 4);
        *max_bits = 32;
        return 1;
    }
    if (inet_pton(AF_INET6, buf, out) == 1) {
        *max_bits = 128;
        return 1;
    }
    return 0;
}

static int parse_bits(const char *text, int max_bits)
{
    char *end;
    long n;

    if (*text < '0' || *text > '9' || strlen(text) > 3)
        return -1;
    n = strtol(text, &end, 10);
    if (*end != 0 || n > max_bits)
        return -1;
    return (int)n;
}

/* Keep the first bits bits of addr, clear the rest. */
static void mask(unsigned char addr[16], int bits)
{
    for (int i = 0; i < 16; i++) {
        int keep = bits - 8 * i;

        if (keep >= 8)
            continue;
        addr[i] &= keep <= 0 ? 0 : (unsigned char)(0xff << (8 - keep));
    }
}

cidr_list *cidr_list_parse(const argv_t *list, vstr *err)
{
    cidr_list *nets = mem_calloc(1, sizeof(*nets));

    nets->nets = mem_calloc(list->argc ? list->argc : 1, sizeof(cidr_net));
    for (size_t i = 0; i < list->argc; i++) {
        const char *e = list->argv[i];
        const char *slash = strrchr(e, '/');
        cidr_net *n = &nets->nets[nets->count];
        int max_bits;

        if (!parse_addr(e, slash ? (size_t)(slash - e) : strlen(e), n->addr, &max_bits)) {
            vstr_set_fmt(err, "bad network: %s (not an IPv4 or IPv6 address)", e);
            cidr_list_free(nets);
            return NULL;
        }
        n->bits = slash ? parse_bits(slash + 1, max_bits) : max_bits;
        if (n->bits < 0) {
            vstr_set_fmt(err, "bad network: %s (prefix length not 0..%d)", e, max_bits);
            cidr_list_free(nets);
            return NULL;
        }
        if (max_bits == 32)
            n->bits += 96;
        mask(n->addr, n->bits);
        nets->count++;
    }
    return nets;
}

int cidr_list_match(const cidr_list *nets, const char *addr)
{
    unsigned char a[16];
    int max_bits;

    if (!parse_addr(addr, strlen(addr), a, &max_bits))
        return 0;
    for (size_t i = 0; i < nets->count; i++) {
        unsigned char m[16];

        memcpy(m, a, 16);
        mask(m, nets->nets[i].bits);
        if (memcmp(m, nets->nets[i].addr, 16) == 0)
            return 1;
    }
    return 0;
}

size_t cidr_list_count(const cidr_list *nets)
{
    return nets->count;
}

void cidr_list_free(cidr_list *nets)
{
    if (nets == NULL)
        return;
    mem_free(nets->nets);
    mem_free(nets);
}
