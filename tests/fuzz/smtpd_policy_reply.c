/*
 * Fuzz target for smtpd/smtpd_policy_proto: any bytes as what a policy
 * server sends, split into lines at LF and fed to the reply parser, and
 * as a request value.
 *
 * Beyond "no crash, no leak": a reply either ends with a non-empty
 * action no longer than a line bound, is refused with a reason, or wants
 * more; the parser never reads more than POLICY_LINES_MAX attribute
 * lines; a request value never adds a line.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "smtpd/smtpd_policy.h"
#include "util/mem.h"
#include "util/msg.h"

static void check_reply(const uint8_t *data, size_t size)
{
    policy_reply r;
    vstr why = VSTR_INIT;
    size_t pos = 0;
    int st = 0;

    policy_reply_init(&r);
    while (st == 0 && pos < size) {
        const uint8_t *nl = memchr(data + pos, '\n', size - pos);
        size_t len = nl ? (size_t)(nl - (data + pos)) : size - pos;

        st = policy_reply_line(&r, (const char *)data + pos, len, &why);
        pos += len + 1;
    }
    if (st == 1 && (vstr_len(&r.action) == 0 || vstr_len(&r.action) > POLICY_LINE_MAX))
        msg_panic("action of length %zu", vstr_len(&r.action));
    if (st == -1 && vstr_len(&why) == 0)
        msg_panic("refused without a reason");
    if (r.lines > POLICY_LINES_MAX + 1)
        msg_panic("%d lines read", r.lines);
    policy_reply_release(&r);
    vstr_release(&why);
}

static void check_request(const uint8_t *data, size_t size)
{
    char *text = mem_alloc(size + 1);
    vstr req = VSTR_INIT;

    memcpy(text, data, size);
    text[size] = 0;
    policy_request_add(&req, "helo_name", text);
    if (memchr(vstr_str(&req), '\n', vstr_len(&req)) != vstr_str(&req) + vstr_len(&req) - 1)
        msg_panic("a value ended a line early");
    vstr_release(&req);
    mem_free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_reply(data, size);
    check_request(data, size);
    return 0;
}
