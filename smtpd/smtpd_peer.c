/*
 * smtpd_peer - who the client is: address, port and a verified name
 *
 * The name is the reverse (PTR) name of the address, kept only when it
 * resolves forward to the same address again; otherwise "unknown", as in
 * Postfix, so that a client cannot name itself after someone else by
 * controlling its own PTR record. An IPv4 client on an IPv6 socket is
 * shown as plain IPv4 (util/sock).
 */
#include <netdb.h>
#include <string.h>
#include <sys/socket.h>

#include "smtpd/smtpd.h"
#include "util/msg.h"
#include "util/sock.h"

/* Does name resolve to the address addr (text)? */
static int forward_confirmed(const char *name, const char *addr)
{
    struct addrinfo hints, *res = NULL;
    int found = 0;

    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(name, NULL, &hints, &res) != 0)
        return 0;
    for (struct addrinfo *a = res; a != NULL && !found; a = a->ai_next) {
        vstr text = VSTR_INIT;
        int port;

        if (sock_addr_text(a->ai_addr, a->ai_addrlen, &text, &port) == 0)
            found = strcmp(vstr_str(&text), addr) == 0;
        vstr_release(&text);
    }
    freeaddrinfo(res);
    return found;
}

void smtpd_peer_init(smtpd_state *s)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    char host[NI_MAXHOST];
    const char *addr;

    vstr_set_str(&s->name, "unknown");
    vstr_set_str(&s->reverse_name, "unknown");
    if (getpeername(vstream_fd(s->client), (struct sockaddr *)&ss, &len) < 0 ||
        sock_addr_text((struct sockaddr *)&ss, len, &s->addr, &s->port) < 0) {
        /* Not a socket (a test's pipe): a client without an address. */
        vstr_set_str(&s->addr, "unknown");
        s->port = 0;
    }
    addr = vstr_str(&s->addr);
    if (smtpd_cf.peername_lookup && strcmp(addr, "unknown") != 0 &&
        getnameinfo((struct sockaddr *)&ss, len, host, sizeof(host), NULL, 0, NI_NAMEREQD) == 0) {
        vstr_set_str(&s->reverse_name, host);
        if (forward_confirmed(host, addr))
            vstr_set_str(&s->name, host);
        else
            msg_warn("hostname %s does not resolve to address %s", host, addr);
    }
    vstr_set_fmt(&s->namaddr, "%s[%s]", vstr_str(&s->name), addr);
}
