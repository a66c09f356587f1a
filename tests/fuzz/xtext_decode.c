/*
 * Fuzz target for global/xtext's decoder: any bytes as the value of an
 * ENVID, ORCPT or AUTH= parameter.
 *
 * Beyond "no crash, no leak": what decodes is no longer than the input
 * nor than the bound, holds no control character, and encoding it then
 * decoding that gives it back.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "global/xtext.h"
#include "util/msg.h"
#include "util/vstr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vstr dec = VSTR_INIT, enc = VSTR_INIT, again = VSTR_INIT;

    if (xtext_decode((const char *)data, size, XTEXT_MAX, &dec) == 0) {
        if (vstr_len(&dec) > size || vstr_len(&dec) > XTEXT_MAX)
            msg_panic("decoded %zu bytes from %zu", vstr_len(&dec), size);
        for (size_t i = 0; i < vstr_len(&dec); i++) {
            unsigned char c = (unsigned char)vstr_str(&dec)[i];

            if (c < 0x20 || c == 0x7f)
                msg_panic("decoded a control character 0x%02x", c);
        }
        xtext_encode(&enc, vstr_str(&dec));
        if (xtext_decode(vstr_str(&enc), vstr_len(&enc), XTEXT_MAX, &again) != 0 ||
            vstr_len(&again) != vstr_len(&dec) ||
            memcmp(vstr_str(&again), vstr_str(&dec), vstr_len(&dec)) != 0)
            msg_panic("round trip changed the text");
    }
    vstr_release(&dec);
    vstr_release(&enc);
    vstr_release(&again);
    return 0;
}
