/*
 * Fuzz target for global/sasl_cyrus's base64 decoder: any bytes as an
 * AUTH response line.
 *
 * Beyond "no crash, no leak": what decodes is at most 3/4 of the input,
 * and encoding it again gives back exactly the input (the decoder takes
 * canonical base64 only).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "global/sasl_cyrus.h"
#include "util/msg.h"
#include "util/vstr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vstr dec = VSTR_INIT, enc = VSTR_INIT;

    if (sasl_base64_decode((const char *)data, size, &dec) == 0) {
        if (vstr_len(&dec) > size / 4 * 3)
            msg_panic("decoded %zu bytes from %zu", vstr_len(&dec), size);
        sasl_base64_encode(vstr_str(&dec), vstr_len(&dec), &enc);
        if (vstr_len(&enc) != size || memcmp(vstr_str(&enc), data, size) != 0)
            msg_panic("round trip changed the text");
    }
    vstr_release(&dec);
    vstr_release(&enc);
    return 0;
}
