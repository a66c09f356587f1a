/*
 * Fuzz target for global/addr_list: any bytes as a header value.
 *
 * Beyond "no crash, no leak", it checks the round trip the queue relies
 * on: every address parsed, put in external form by addr_list_quote and
 * parsed again, gives back exactly itself.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "util/msg.h"
#include "util/vstr.h"
#include "global/addr_list.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    addr_list *list = addr_list_new(64);
    vstr err = VSTR_INIT, ext = VSTR_INIT;

    (void)addr_list_parse(list, (const char *)data, size, &err);
    for (size_t i = 0; i < list->count; i++) {
        addr_list *again = addr_list_new(2);
        const char *addr = list->entries[i].addr;

        if (addr[0] == 0 || strlen(addr) > ADDR_LIST_ADDR_MAX)
            msg_panic("bad entry length");
        vstr_reset(&ext);
        addr_list_quote(&ext, addr);
        if (addr_list_parse(again, vstr_str(&ext), vstr_len(&ext), NULL) != ADDR_LIST_OK ||
            again->count != 1 || strcmp(again->entries[0].addr, addr) != 0)
            msg_panic("round trip failed for \"%s\" via \"%s\"", addr, vstr_str(&ext));
        addr_list_free(again);
    }
    vstr_release(&err);
    vstr_release(&ext);
    addr_list_free(list);
    return 0;
}
