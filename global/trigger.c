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

int trigger_send(const char *queue_dir, const char *service, char byte, int timeout_ms, vstr *err)
{
    vstr path = VSTR_INIT;
    int fd, ret = 0;

    vstr_set_fmt(&path, "%s/%s/%s", queue_dir, MASTER_PUBLIC_DIR, service);
    if ((fd = sock_connect_unix(vstr_str(&path), timeout_ms, err)) < 0) {
        vstr_release(&path);
        return -1;
    }
    if (send(fd, &byte, 1, MSG_NOSIGNAL) != 1) {
        vstr_set_fmt(err, "trigger %s: %s", vstr_str(&path), strerror(errno));
        ret = -1;
    }
    (void)close(fd);
    vstr_release(&path);
    return ret;
}
