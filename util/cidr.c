/*
 * cidr - parse and match IPv4 and IPv6 networks (see cidr.h)
 */
#include <arpa/inet.h>
#include <string.h>

#include "util/cidr.h"

/* Bytes of an address of family. */
static int cidr_bytes(int family)
{
    return family == AF_INET ? 4 : 16;
}

int cidr_addr_parse(const char *text, unsigned char addr[16])
{
    int family = strchr(text, ':') != NULL ? AF_INET6 : AF_INET;

    return inet_pton(family, text, addr) == 1 ? family : 0;
}

/* The address part of a pattern, brackets allowed: family, or 0. */
static int cidr_pattern_addr(const char *text, size_t len, unsigned char addr[16])
{
    char buf[INET6_ADDRSTRLEN + 1];

    if (len >= 2 && text[0] == '[' && text[len - 1] == ']') {
        text++;
        len -= 2;
    }
    if (len == 0 || len >= sizeof(buf))
        return 0;
    memcpy(buf, text, len);
    buf[len] = 0;
    return cidr_addr_parse(buf, addr);
}

int cidr_net_parse(const char *text, size_t len, cidr_net *net, vstr *why)
{
    const char *slash = memchr(text, '/', len);
    size_t alen = slash ? (size_t)(slash - text) : len;
    int bits;

    memset(net, 0, sizeof(*net));
    if ((net->family = cidr_pattern_addr(text, alen, net->addr)) == 0) {
        vstr_set_fmt(why, "bad address \"%.*s\"", (int)(alen > 64 ? 64 : alen), text);
        return -1;
    }
    bits = cidr_bytes(net->family) * 8;
    net->prefix = bits;
    if (slash != NULL) {
        const char *p = slash + 1, *end = text + len;
        int n = 0;

        if (p == end) {
            vstr_set_str(why, "missing prefix length after '/'");
            return -1;
        }
        if (end - p > 3) {
            vstr_set_fmt(why, "bad prefix length \"%.*s\" (0 to %d)",
                         (int)(end - p > 16 ? 16 : end - p), p, bits);
            return -1;
        }
        for (; p < end; p++) {
            if (*p < '0' || *p > '9' || (n = n * 10 + (*p - '0')) > bits) {
                vstr_set_fmt(why, "bad prefix length \"%.*s\" (0 to %d)",
                             (int)(end - slash - 1 > 16 ? 16 : end - slash - 1), slash + 1, bits);
                return -1;
            }
        }
        net->prefix = n;
    }
    for (int bit = net->prefix; bit < bits; bit++) {
        if (net->addr[bit / 8] & (0x80 >> (bit % 8))) {
            char shown[INET6_ADDRSTRLEN];

            for (int b = net->prefix; b < bits; b++)
                net->addr[b / 8] &= (unsigned char)~(0x80 >> (b % 8));
            inet_ntop(net->family, net->addr, shown, sizeof(shown));
            vstr_set_fmt(why, "\"%.*s\" has bits set after its /%d prefix (the network is %s/%d)",
                         (int)(len > 80 ? 80 : len), text, net->prefix, shown, net->prefix);
            return -1;
        }
    }
    return 0;
}

int cidr_net_match(const cidr_net *net, int family, const unsigned char addr[16])
{
    int full = net->prefix / 8, rest = net->prefix % 8;

    if (family != net->family || memcmp(addr, net->addr, (size_t)full) != 0)
        return 0;
    return rest == 0 || ((addr[full] ^ net->addr[full]) & (0xff << (8 - rest)) & 0xff) == 0;
}
