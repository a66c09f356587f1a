/*
 * test_server - a daemon on the global/server skeleton, for master's tests
 *
 * SYNOPSIS
 *   test_echo    [skeleton options] [LOGFILE]   (a single service)
 *   test_trigger [skeleton options] LOGFILE     (a trigger service)
 *
 * DESCRIPTION
 *   Built by tests/system/test_master.py against the build tree's
 *   libraries; the name it is run under picks the kind of service.
 *
 *   test_echo answers each line a client sends with "PID UID: line" until
 *   the client sends "quit" or closes; "sleep N" makes it wait N seconds
 *   before answering (a delivery in progress); "crash" aborts; "env NAME"
 *   answers with the variable's value, or "(unset)". test_trigger
 *   appends "PID UID: BYTES" to LOGFILE for every read of trigger bytes.
 *   Both append "PID start UID" to LOGFILE, when given, once ready.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "global/server.h"
#include "util/msg.h"
#include "util/vstr.h"

static const char *logfile;

static void log_line(const char *fmt, const char *text, size_t len)
{
    char buf[2048];
    int n, fd;

    if (logfile == NULL)
        return;
    n = snprintf(buf, sizeof(buf), fmt, (long)getpid(), (long)geteuid(), (int)len, text);
    if (n < 0 || (size_t)n >= sizeof(buf))
        return;
    if ((fd = open(logfile, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666)) < 0)
        return;
    if (write(fd, buf, (size_t)n) != n)
        msg_warn("write %s failed", logfile);
    close(fd);
}

static void post_init(config *cfg, const char *service, char **argv)
{
    (void)cfg;
    (void)service;
    logfile = argv[0];
    log_line("%ld start %ld%.*s\n", "", 0);
}

static void echo(vstream *client, const char *service, char **argv)
{
    vstr line = VSTR_INIT;

    (void)service;
    (void)argv;
    vstream_set_timeout(client, 30000);
    while (vstream_get_line(client, &line, 1000) == VSTREAM_OK) {
        vstr_trim(&line);
        if (vstr_equals(&line, "quit"))
            break;
        if (vstr_equals(&line, "crash"))
            abort();
        if (strncmp(vstr_str(&line), "sleep ", 6) == 0)
            sleep((unsigned)atoi(vstr_str(&line) + 6));
        if (strncmp(vstr_str(&line), "env ", 4) == 0) {
            const char *value = getenv(vstr_str(&line) + 4);

            vstr_set_str(&line, value ? value : "(unset)");
        }
        vstream_printf(client, "%ld %ld: %s\n", (long)getpid(), (long)geteuid(), vstr_str(&line));
        if (vstream_flush(client) < 0)
            break;
    }
    vstr_release(&line);
}

static void trigger(const char *bytes, size_t n)
{
    log_line("%ld %ld: %.*s\n", bytes, n);
}

int main(int argc, char **argv)
{
    const char *base = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
    static const server_service echo_service = {
        .name = "test_echo",
        .post_init = post_init,
        .single = echo,
    };
    static const server_service trigger_service = {
        .name = "test_trigger",
        .post_init = post_init,
        .trigger = trigger,
    };

    if (strcmp(base, "test_trigger") == 0)
        server_trigger_main(argc, argv, &trigger_service);
    server_single_main(argc, argv, &echo_service);
}
