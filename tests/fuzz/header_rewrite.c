/*
 * Fuzz target for global/header_rewrite: any bytes as "To: " + a value,
 * each address mapped to a longer one (or, for one shape, a failure).
 *
 * Beyond "no crash, no leak": a changed header starts with the same
 * name, parses to as many addresses as before, each of them the mapped
 * one, and has no empty or blank continuation line unless the input
 * had one.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "util/msg.h"
#include "util/vstr.h"
#include "global/addr_list.h"
#include "global/header_rewrite.h"

static int map(void *ctx, const char *addr, vstr *out, vstr *why)
{
    (void)ctx;
    if (strcmp(addr, "fail@x") == 0) {
        vstr_set_str(why, "test failure");
        return -1;
    }
    vstr_set_fmt(out, "r.%s", addr);
    return 0;
}

/* Is a continuation line empty or white space alone? (NUL bytes count
 * as text: the input may hold them.) */
static int has_blank_line(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        size_t k = i + 1;

        if (s[i] != '\n')
            continue;
        while (k < len && (s[k] == ' ' || s[k] == '\t'))
            k++;
        if (k == len || s[k] == '\n')
            return 1;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vstr in = VSTR_INIT, out = VSTR_INIT, why = VSTR_INIT, mapped = VSTR_INIT;
    addr_list *before = addr_list_new(HEADER_REWRITE_ADDRS);
    addr_list *after = addr_list_new(HEADER_REWRITE_ADDRS);

    vstr_set_str(&in, "To: ");
    vstr_append(&in, (const char *)data, size);
    if (header_rewrite_text(vstr_str(&in), vstr_len(&in), map, NULL, &out, &why) ==
        HEADER_REWRITE_CHANGED) {
        const char *o = vstr_str(&out);

        if (strncmp(o, "To:", 3) != 0)
            msg_panic("header name lost");
        (void)addr_list_parse(before, vstr_str(&in) + 3, vstr_len(&in) - 3, NULL);
        if (addr_list_parse(after, o + 3, vstr_len(&out) - 3, NULL) != ADDR_LIST_OK ||
            after->count != before->count)
            msg_panic("rewritten header does not parse alike: \"%s\"", o);
        for (size_t i = 0; i < after->count; i++) {
            vstr_reset(&mapped);
            (void)map(NULL, before->entries[i].addr, &mapped, &why);
            if (strcmp(after->entries[i].addr, vstr_str(&mapped)) != 0)
                msg_panic("address %zu is \"%s\"", i, after->entries[i].addr);
        }
        if (has_blank_line(o, vstr_len(&out)) && !has_blank_line(vstr_str(&in), vstr_len(&in)))
            msg_panic("blank continuation line made in \"%s\"", o);
    }
    addr_list_free(before);
    addr_list_free(after);
    vstr_release(&in);
    vstr_release(&out);
    vstr_release(&why);
    vstr_release(&mapped);
    return 0;
}
