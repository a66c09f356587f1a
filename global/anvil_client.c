/*
 * anvil_client - ask the anvil service for connection counts and rates
 * (see anvil_client.h; the protocol is in docs/PROTOCOLS.md)
 */
#include <errno.h>
#include <string.h>

#include "global/anvil_client.h"
#include "global/attr.h"
#include "global/master_proto.h"
#include "util/mem.h"
#include "util/sock.h"
#include "util/vstream.h"

struct anvil_client {
    vstream *stream; /* NULL after a failure */
    attr_list *req, *reply;
};

/* A reply is three small numbers; anything bigger is not anvil. */
static const attr_limits anvil_reply_limits = {16, 64, 32, 1024};

anvil_client *anvil_client_open(const char *queue_dir, int timeout_ms, vstr *err)
{
    vstr path = VSTR_INIT;
    anvil_client *a;
    int fd;

    vstr_set_fmt(&path, "%s/%s/%s", queue_dir, MASTER_PRIVATE_DIR, ANVIL_SERVICE);
    fd = sock_connect_unix(vstr_str(&path), timeout_ms, err);
    vstr_release(&path);
    if (fd < 0)
        return NULL;
    (void)sock_set_cloexec(fd, 1);
    a = mem_calloc(1, sizeof(*a));
    a->stream = vstream_fdopen(fd, VSTREAM_READ | VSTREAM_WRITE);
    vstream_set_timeout(a->stream, timeout_ms);
    a->req = attr_list_new();
    a->reply = attr_list_new();
    return a;
}

static void client_fail(anvil_client *a)
{
    (void)vstream_close(a->stream);
    a->stream = NULL;
}

int anvil_client_request(anvil_client *a, const char *request, const char *service,
                         const char *addr, long long *count, long long *rate, vstr *err)
{
    vstr ident = VSTR_INIT;
    long long status;
    attr_status st;

    if (a->stream == NULL) {
        vstr_set_str(err, "the connection to anvil failed earlier");
        return -1;
    }
    vstr_set_fmt(&ident, "%s:%s", service, addr);
    attr_list_reset(a->req);
    attr_set_str(a->req, ANVIL_ATTR_REQUEST, request);
    attr_set_str(a->req, ANVIL_ATTR_IDENT, vstr_str(&ident));
    vstr_release(&ident);
    if (attr_write(a->stream, a->req) < 0 || vstream_flush(a->stream) < 0) {
        vstr_set_fmt(err, "send a request to anvil: %s",
                     vstream_timed_out(a->stream) ? "timeout"
                                                  : strerror(vstream_errno(a->stream)));
        client_fail(a);
        return -1;
    }
    if ((st = attr_read(a->stream, a->reply, &anvil_reply_limits, err)) != ATTR_OK) {
        if (st == ATTR_EOF)
            vstr_set_str(err, "anvil closed the connection");
        client_fail(a);
        return -1;
    }
    if (attr_get_int(a->reply, ANVIL_ATTR_STATUS, ANVIL_STAT_OK, ANVIL_STAT_FULL, &status) !=
            ATTR_OK ||
        attr_get_int(a->reply, ANVIL_ATTR_COUNT, 0, (1LL << 62), count) != ATTR_OK ||
        attr_get_int(a->reply, ANVIL_ATTR_RATE, 0, (1LL << 62), rate) != ATTR_OK) {
        vstr_set_str(err, "a malformed reply from anvil");
        client_fail(a);
        return -1;
    }
    return status == ANVIL_STAT_OK ? 0 : 1;
}

void anvil_client_close(anvil_client *a)
{
    if (a == NULL)
        return;
    if (a->stream != NULL)
        (void)vstream_close(a->stream);
    attr_list_free(a->req);
    attr_list_free(a->reply);
    mem_free(a);
}
