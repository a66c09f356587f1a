/*
 * dict_cidr - cidr:FILE, rules of IPv4 and IPv6 networks (cidr_table(5))
 *
 * A pattern is an address, matching itself, or network/prefix-length:
 * 192.168.0.0/16, 2001:db8::/32, [2001:db8::]/32 (brackets optional).
 * A network with bits set after its prefix is a mistake in the file
 * (192.168.1.1/16 probably meant something else) and is refused, naming
 * the network it would have been. Results are literal text. A key that
 * is not an address matches nothing; an IPv4 key never matches an IPv6
 * rule nor the other way round.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "util/dict_cidr.h"
#include "util/dict_rules.h"
#include "util/mem.h"

typedef struct dict_cidr_net {
    int family;
    int bytes; /* 4 or 16 */
    int prefix;
    unsigned char addr[16];
} dict_cidr_net;

/* Parse an address (brackets allowed) into net; 0 or -1. */
static int parse_addr(const char *text, size_t len, dict_cidr_net *net)
{
    char buf[INET6_ADDRSTRLEN + 2];

    if (len >= 2 && text[0] == '[' && text[len - 1] == ']') {
        text++;
        len -= 2;
    }
    if (len == 0 || len >= sizeof(buf))
        return -1;
    memcpy(buf, text, len);
    buf[len] = 0;
    if (strchr(buf, ':') == NULL) {
        net->family = AF_INET;
        net->bytes = 4;
    } else {
        net->family = AF_INET6;
        net->bytes = 16;
    }
    return inet_pton(net->family, buf, net->addr) == 1 ? 0 : -1;
}

static void dict_cidr_release(void *pattern)
{
    mem_free(pattern);
}

static int dict_cidr_compile(const char *text, size_t *used, void **pattern, int *groups,
                             vstr *why)
{
    size_t len = strcspn(text, " \t");
    const char *slash = memchr(text, '/', len);
    size_t alen = slash ? (size_t)(slash - text) : len;
    dict_cidr_net net;

    memset(&net, 0, sizeof(net));
    if (parse_addr(text, alen, &net) < 0) {
        vstr_set_fmt(why, "bad address \"%.*s\"", (int)(alen > 64 ? 64 : alen), text);
        return -1;
    }
    net.prefix = net.bytes * 8;
    if (slash != NULL) {
        const char *p = slash + 1;
        long n = 0;

        if (p == text + len) {
            vstr_set_str(why, "missing prefix length after '/'");
            return -1;
        }
        for (; p < text + len; p++) {
            if (!isdigit((unsigned char)*p) || (n = n * 10 + (*p - '0')) > net.bytes * 8) {
                vstr_set_fmt(why, "bad prefix length \"%.*s\" (0 to %d)",
                             (int)(text + len - slash - 1 > 16 ? 16 : text + len - slash - 1),
                             slash + 1, net.bytes * 8);
                return -1;
            }
        }
        net.prefix = (int)n;
    }
    for (int bit = net.prefix; bit < net.bytes * 8; bit++) {
        if (net.addr[bit / 8] & (0x80 >> (bit % 8))) {
            char shown[INET6_ADDRSTRLEN];

            for (int b = net.prefix; b < net.bytes * 8; b++)
                net.addr[b / 8] &= (unsigned char)~(0x80 >> (b % 8));
            inet_ntop(net.family, net.addr, shown, sizeof(shown));
            vstr_set_fmt(why, "\"%.*s\" has bits set after its /%d prefix (the network is %s/%d)",
                         (int)len, text, net.prefix, shown, net.prefix);
            return -1;
        }
    }
    *pattern = mem_memdup0(&net, sizeof(net));
    *groups = 0;
    *used = len;
    return 0;
}

static int dict_cidr_match(void *pattern, const char *key, dict_rules_groups *g, vstr *why)
{
    const dict_cidr_net *net = pattern;
    dict_cidr_net k;
    int full, rest;

    (void)g;
    (void)why;
    if (parse_addr(key, strlen(key), &k) < 0 || k.family != net->family)
        return 0;
    full = net->prefix / 8;
    rest = net->prefix % 8;
    if (memcmp(k.addr, net->addr, (size_t)full) != 0)
        return 0;
    if (rest != 0 && ((k.addr[full] ^ net->addr[full]) & (0xff << (8 - rest)) & 0xff) != 0)
        return 0;
    return 1;
}

static const dict_rules_ops dict_cidr_ops = {
    "cidr", dict_cidr_compile, dict_cidr_match, dict_cidr_release, 0,
};

dict *dict_cidr_open(const char *name, int open_flags, int dict_flags, vstr *err)
{
    return dict_rules_open(&dict_cidr_ops, name, open_flags, dict_flags, err);
}
