/*
 * Fuzz target for global/attr: any bytes as what a peer sends on an IPC
 * connection, through a memory-backed vstream into attr_read.
 *
 * Beyond "no crash, no leak, no allocation past the bounds", it checks the
 * round trip every daemon pair relies on: each list decoded, encoded again
 * and decoded again, gives back the same names and values in the same order.
 * Tight limits are used for the first lists so that the bound checks are
 * exercised as often as the parser.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "global/attr.h"
#include "util/msg.h"
#include "util/vstream.h"

static void check_round_trip(const attr_list *list, const attr_limits *limits)
{
    attr_list *again = attr_list_new();
    vstr err = VSTR_INIT;
    vstream *s;
    int fd;

    /* Encode to a memory file rather than a pipe: a pipe could fill and block. */
    if ((fd = memfd_create("attr_decode", MFD_CLOEXEC)) < 0)
        msg_panic("memfd_create: %m");
    s = vstream_fdopen(fd, VSTREAM_READ | VSTREAM_WRITE);
    if (attr_write(s, list) < 0 || vstream_seek(s, 0, SEEK_SET) != 0)
        msg_panic("attr_write to a temporary file failed");
    if (attr_read(s, again, limits, &err) != ATTR_OK)
        msg_panic("re-decoding failed: %s", vstr_str(&err));
    if (again->count != list->count)
        msg_panic("round trip changed the count");
    for (size_t i = 0; i < list->count; i++) {
        const attr *a = &list->items[i], *b = &again->items[i];

        if (strcmp(a->name, b->name) != 0 || a->len != b->len ||
            memcmp(a->value, b->value, a->len) != 0 || b->value[b->len] != 0)
            msg_panic("round trip changed attribute %zu", i);
        if (!attr_name_valid(a->name) || strlen(a->name) > limits->max_name ||
            a->len > limits->max_value)
            msg_panic("decoded attribute %zu outside the bounds", i);
    }
    if (vstream_getc(s) != -1)
        msg_panic("encoder wrote bytes after the list");
    vstream_close(s);
    attr_list_free(again);
    vstr_release(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const attr_limits tight = {8, 16, 256, 1024};
    vstream *s = vstream_open_memory(data, size);
    attr_list *list = attr_list_new();
    vstr err = VSTR_INIT;
    long long n;

    /* Several lists back to back, as on a connection, until one fails. */
    for (int round = 0; round < 16; round++) {
        const attr_limits *limits = round < 2 ? &tight : &attr_default_limits;
        attr_status status = attr_read(s, list, limits, &err);

        if (status != ATTR_OK) {
            if (list->count != 0 || vstr_len(&err) == 0)
                msg_panic("failed read left %zu attributes or no reason", list->count);
            break;
        }
        (void)attr_get_int(list, "index", -1000, 1000, &n);
        (void)attr_get(list, "reason");
        check_round_trip(list, limits);
    }
    vstream_close(s);
    attr_list_free(list);
    vstr_release(&err);
    return 0;
}
