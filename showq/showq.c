/*
 * NAME
 *   showq - the queue listing, for users who cannot read the queue
 *
 * SYNOPSIS
 *   master.cf:  showq  unix  n  -  n  -  -  showq
 *
 * DESCRIPTION
 *   In an instance started as root the queue directories belong to
 *   mail_owner (mode 0700), so an ordinary user's postqueue -p cannot
 *   read them. postqueue is set-gid setgid_group and so may enter public/,
 *   where this service listens; showq runs as mail_owner and reads the
 *   queue for it, as in Postfix.
 *
 *   One request per connection (docs/PROTOCOLS.md, "showq"): the client
 *   sends "p" LF for the listing of postqueue -p or "j" LF for the JSON
 *   lines of postqueue -j; showq writes what global/queue_list produces
 *   and closes. Anything else (a longer line, another letter, nothing
 *   within SHOWQ_REQUEST_TIMEOUT_MS) is logged and the connection closed
 *   without a byte written.
 *
 *   showq says nothing about the queue that postqueue would not show;
 *   who may see the listing (authorized_mailq_users) is decided by
 *   postqueue, from its caller's real uid, before it connects.
 *
 * DIAGNOSTICS
 *   Problems are logged (postern/showq); a queue directory that cannot be
 *   read ends the reply early, as the client's own reading would.
 */
#include <errno.h>
#include <string.h>

#include "global/config.h"
#include "global/queue_list.h"
#include "global/server.h"
#include "util/msg.h"
#include "util/vstr.h"
#include "util/vstream.h"

/* The whole request must arrive within this time. */
#define SHOWQ_REQUEST_TIMEOUT_MS 10000
/* Each write of the reply must complete within this time. */
#define SHOWQ_REPLY_TIMEOUT_MS 60000
/* The longest request line, LF included ("p" LF). */
#define SHOWQ_REQUEST_MAX 2

static void showq_serve(vstream *client, const char *service, char **argv)
{
    vstr line = VSTR_INIT, err = VSTR_INIT;
    const char *queue_dir = config_str(server_config(), "queue_directory");
    vstream_status st;
    int ret;

    (void)service;
    (void)argv;
    vstream_set_timeout(client, SHOWQ_REQUEST_TIMEOUT_MS);
    (void)vstream_begin_deadline(client, SHOWQ_REQUEST_TIMEOUT_MS);
    st = vstream_get_line(client, &line, SHOWQ_REQUEST_MAX);
    vstream_end_deadline(client);
    if (st != VSTREAM_OK || vstr_len(&line) != 2
        || (vstr_str(&line)[0] != 'p' && vstr_str(&line)[0] != 'j')) {
        msg_warn("bad request from a client (%s): connection closed",
                 vstream_timed_out(client) ? "timeout"
                 : st == VSTREAM_EOF       ? "no complete line"
                                           : "not p or j");
        vstr_release(&line);
        return;
    }
    vstream_set_timeout(client, SHOWQ_REPLY_TIMEOUT_MS);
    ret = vstr_str(&line)[0] == 'j' ? queue_list_print_json(queue_dir, client, &err)
                                    : queue_list_print(queue_dir, client, &err);
    if (ret < 0)
        msg_warn("%s", vstr_str(&err));
    else if (vstream_flush(client) < 0)
        msg_warn("write to client: %s", strerror(vstream_errno(client)));
    vstr_release(&line);
    vstr_release(&err);
}

int main(int argc, char **argv)
{
    static const server_service svc = {
        .name = "showq",
        .single = showq_serve,
    };

    server_single_main(argc, argv, &svc);
}
