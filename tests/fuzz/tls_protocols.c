/*
 * Fuzz target for global/tls's text parsers: any bytes as a protocol list
 * (*_tls_protocols) and as a cipher exclusion list.
 *
 * Beyond "no crash, no leak": a parsed protocol list enables something,
 * only TLS versions, and its range is ordered; a failure always says why;
 * an accepted exclusion list adds only ":!NAME" items to the grade list.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "global/tls.h"
#include "util/mem.h"
#include "util/msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = mem_strndup((const char *)data, size);
    vstr err = VSTR_INIT, list = VSTR_INIT;
    tls_protocols p;

    if (tls_protocols_parse(text, &p, &err) == 0) {
        if (p.mask == 0 || (p.mask & (TLS_PROTO_SSLv2 | TLS_PROTO_SSLv3)) != 0 ||
            p.min_version > p.max_version || vstr_len(&err) != 0)
            msg_panic("bad protocols result for \"%s\"", text);
    } else if (vstr_len(&err) == 0) {
        msg_panic("protocols failure without a reason for \"%s\"", text);
    }
    vstr_reset(&err);
    if (tls_cipher_list("HIGH", text, &list, &err) == 0) {
        const char *rest = vstr_str(&list) + 4;

        if (strncmp(vstr_str(&list), "HIGH", 4) != 0 || strchr(text, '@') || strchr(text, '!'))
            msg_panic("exclusions changed the list: \"%s\"", vstr_str(&list));
        while (*rest) {
            if (strncmp(rest, ":!", 2) != 0 || rest[2] == 0 || rest[2] == ':')
                msg_panic("bad exclusion item in \"%s\"", vstr_str(&list));
            rest = strchr(rest + 2, ':') ? strchr(rest + 2, ':') : rest + strlen(rest);
        }
    } else if (vstr_len(&err) == 0) {
        msg_panic("exclusion failure without a reason");
    }
    vstr_release(&err);
    vstr_release(&list);
    mem_free(text);
    return 0;
}
