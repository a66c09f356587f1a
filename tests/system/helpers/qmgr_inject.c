/*
 * qmgr_inject - queue one message with global/cleanup, for qmgr's tests
 *
 * SYNOPSIS
 *   qmgr_inject -c CONFIG_DIR -f SENDER [-N NOTIFY] [-R FULL|HDRS] [-a SECONDS_AGO]
 *               RECIPIENT... < message
 *
 * DESCRIPTION
 *   Built by tests/system/test_qmgr.py against the build tree's
 *   libraries. Reads a message (LF or CRLF lines) on standard input and
 *   commits it to incoming/ exactly as pickup or smtpd would, then prints
 *   the queue id. It does not trigger qmgr: the test does, so that it
 *   controls when qmgr looks. -N sets every recipient's DSN NOTIFY bits
 *   (docs/PROTOCOLS.md), -R the RET attribute, -a backdates the arrival
 *   time (to test expiry and delay warnings without waiting days). An
 *   empty SENDER ("") is the null sender.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "global/cleanup.h"
#include "global/config.h"
#include "util/msg.h"
#include "util/vstr.h"

int main(int argc, char **argv)
{
    const char *dir = NULL, *sender = NULL, *ret = NULL;
    long long ago = 0;
    int notify = 0, ch;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    vstr err = VSTR_INIT;
    config *cfg;
    cleanup *c;
    cleanup_status st;

    msg_init("qmgr_inject");
    while ((ch = getopt(argc, argv, "c:f:N:R:a:")) != -1) {
        switch (ch) {
        case 'c':
            dir = optarg;
            break;
        case 'f':
            sender = optarg;
            break;
        case 'N':
            notify = atoi(optarg);
            break;
        case 'R':
            ret = optarg;
            break;
        case 'a':
            ago = atoll(optarg);
            break;
        default:
            msg_fatal("usage: qmgr_inject -c DIR -f SENDER [-N n] [-R ret] [-a secs] rcpt...");
        }
    }
    if (dir == NULL || sender == NULL || optind >= argc)
        msg_fatal("usage: qmgr_inject -c DIR -f SENDER [-N n] [-R ret] [-a secs] rcpt...");
    if ((cfg = config_load(dir, &err)) == NULL)
        msg_fatal("%s", vstr_str(&err));
    if ((c = cleanup_open(cfg, 0, &err)) == NULL)
        msg_fatal("%s", vstr_str(&err));
    if (ago > 0)
        cleanup_set_arrival(c, (long long)time(NULL) - ago, 0);
    cleanup_set_sender(c, sender);
    for (int i = optind; i < argc; i++)
        cleanup_add_rcpt(c, argv[i], NULL, NULL, notify);
    if (ret)
        cleanup_set_attr(c, "dsn_ret", ret);
    cleanup_set_attr(c, "rewrite_context", "local");
    printf("%s\n", cleanup_id(c));
    while ((len = getline(&line, &cap, stdin)) > 0) {
        if (len > 0 && line[len - 1] == '\n')
            len--;
        if (len > 0 && line[len - 1] == '\r')
            len--;
        cleanup_put_line(c, line, (size_t)len);
    }
    free(line);
    if ((st = cleanup_finish(c, &err)) != CLEANUP_OK)
        msg_fatal("%s %s", cleanup_status_dsn(st), vstr_str(&err));
    config_free(cfg);
    vstr_release(&err);
    return 0;
}
