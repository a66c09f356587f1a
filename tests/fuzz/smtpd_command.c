/*
 * Fuzz target for smtpd/smtpd_addr: any bytes as the argument of MAIL or
 * RCPT (the first byte chooses which).
 *
 * Beyond "no crash, no leak": an accepted address is within the bound
 * and free of control characters and of the "<>" the parser removed; a
 * refusal is one reply line "NNN X.Y.Z text" with no CR or LF that the
 * client could use to forge a second reply; accepted DSN values are
 * within their bounds.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "global/xtext.h"
#include "smtpd/smtpd_addr.h"
#include "util/mem.h"
#include "util/msg.h"

static void check_text(const char *what, const vstr *v, size_t max)
{
    if (vstr_len(v) > max)
        msg_panic("%s longer than %zu", what, max);
    for (size_t i = 0; i < vstr_len(v); i++) {
        unsigned char c = (unsigned char)vstr_str(v)[i];

        if (c < 0x20 || c == 0x7f)
            msg_panic("%s holds control character 0x%02x", what, c);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    smtpd_args a;
    vstr reply = VSTR_INIT;
    char *text;
    smtpd_args_kind kind;

    if (size == 0)
        return 0;
    kind = data[0] & 1 ? SMTPD_ARGS_RCPT : SMTPD_ARGS_MAIL;
    text = mem_memdup0(data + 1, size - 1); /* a NUL ends it, as in a C string */
    smtpd_args_init(&a);
    if (smtpd_args_parse(&a, kind, text, &reply) == 0) {
        check_text("address", &a.addr, SMTPD_ADDR_MAX);
        check_text("envid", &a.envid, XTEXT_MAX);
        check_text("orcpt", &a.orcpt, XTEXT_MAX + 64);
        if (kind == SMTPD_ARGS_RCPT && vstr_len(&a.addr) == 0)
            msg_panic("empty recipient accepted");
        if ((a.notify & 1) && a.notify != 1)
            msg_panic("NEVER with other NOTIFY values");
    } else {
        const char *r = vstr_str(&reply);

        if (vstr_len(&reply) < 10 || (r[0] != '5' && r[0] != '4') || r[3] != ' ' ||
            strpbrk(r, "\r\n") != NULL)
            msg_panic("bad reply \"%s\"", r);
    }
    smtpd_args_release(&a);
    vstr_release(&reply);
    mem_free(text);
    return 0;
}
