/*
 * Fuzz target for sendmail -bs (postdrop/sendmail_smtp.c with the message
 * reader and address parsing): any bytes as the client's side of the
 * session, the hand-over to postdrop replaced by a checker.
 *
 * Checks beyond "no crash, no leak": every record handed over is an L or
 * P of at most SENDMAIL_PIECE_MAX + 1 bytes, no P is the last record of
 * a message that is finished as complete, and every message begun is
 * finished exactly once.
 */
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "postdrop/sendmail_input.c"
#include "postdrop/sendmail_opts.c"
#include "postdrop/sendmail_smtp.c"

typedef struct checker {
    int open;      /* a message is begun and not finished */
    int last_type; /* of the last record of the open message */
} checker;

static void *check_begin(void *context, const sendmail_envelope *env, vstr *err)
{
    checker *c = context;

    (void)err;
    if (c->open || env->rcpts->argc == 0)
        abort();
    c->open = 1;
    c->last_type = REC_TYPE_NORM;
    return c;
}

static int check_record(void *handle, int type, const char *data, size_t len)
{
    checker *c = handle;

    (void)data;
    if (!c->open || (type != REC_TYPE_NORM && type != REC_TYPE_CONT) ||
        len > SENDMAIL_PIECE_MAX + 1)
        abort();
    c->last_type = type;
    return 0;
}

static int check_finish(void *handle, int complete, vstr *why)
{
    checker *c = handle;

    (void)why;
    if (!c->open || (complete && c->last_type == REC_TYPE_CONT))
        abort();
    c->open = 0;
    return complete ? 0 : 75;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int null_fd = -1;
    checker c = {0, 0};
    sendmail_smtp_config cfg = {"fuzz.test", "fuzz.test ESMTP", 4096, 5, 0};
    sendmail_smtp_ops ops = {&c, check_begin, check_record, check_finish};
    vstream *in, *out;

    if (null_fd < 0)
        null_fd = open("/dev/null", O_WRONLY);
    in = vstream_open_memory(data, size);
    out = vstream_fdopen(dup(null_fd), VSTREAM_WRITE);
    (void)sendmail_smtp_session(in, out, &cfg, &ops);
    if (c.open)
        abort();
    vstream_close(out);
    vstream_close(in);
    return 0;
}
