/*
 * trigger - wake a trigger service; see trigger.h
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/sock.h"
#include "global/master_proto.h"
#include "global/trigger.h"

/* Connect, send len bytes in one write, close. */
static int send_bytes(const char *queue_dir, const char *service, const char *bytes, size_t len,
                      int timeout_ms, vstr *err)
{
    vstr path = VSTR_INIT;
    int fd, ret = 0;

    vstr_set_fmt(&path, "%s/%s/%s", queue_dir, MASTER_PUBLIC_DIR, service);
    if ((fd = sock_connect_unix(vstr_str(&path), timeout_ms, err)) < 0) {
        vstr_release(&path);
        return -1;
    }
    if (send(fd, bytes, len, MSG_NOSIGNAL) != (ssize_t)len) {
        vstr_set_fmt(err, "trigger %s: %s", vstr_str(&path), strerror(errno));
        ret = -1;
    }
    (void)close(fd);
    vstr_release(&path);
    return ret;
}

int trigger_send(const char *queue_dir, const char *service, char byte, int timeout_ms, vstr *err)
{
    return send_bytes(queue_dir, service, &byte, 1, timeout_ms, err);
}

int trigger_send_arg(const char *queue_dir, const char *service, char byte, const char *arg,
                     int timeout_ms, vstr *err)
{
    vstr req = VSTR_INIT;
    size_t len = strlen(arg);
    int ret;

    if (len == 0 || len > TRIGGER_ARG_MAX) {
        vstr_set_fmt(err, "request argument must be 1 to %d bytes", TRIGGER_ARG_MAX);
        return -1;
    }
    for (const unsigned char *p = (const unsigned char *)arg; *p; p++) {
        if (*p <= ' ' || *p == 0x7f) {
            vstr_set_str(err, "request argument contains a space or control character");
            return -1;
        }
    }
    vstr_append_char(&req, byte);
    vstr_append(&req, arg, len);
    vstr_append_char(&req, '\n');
    ret = send_bytes(queue_dir, service, vstr_str(&req), vstr_len(&req), timeout_ms, err);
    vstr_release(&req);
    return ret;
}
