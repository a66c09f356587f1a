/*
 * Fuzz target for smtpd/smtpd_access_action and smtpd_access_keys: any
 * bytes as an access-table value, and as an address, host name and
 * client address to make lookup keys of.
 *
 * Beyond "no crash, no leak": a value is either refused with a reason or
 * parsed into a kind; a reply code is 4xx or 5xx and its status code, if
 * any, of the same class; the text is a piece of the input. Every
 * lookup key is non-empty and no longer than the input (the null-sender
 * key aside), and only the first key of each list goes to pattern tables.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "smtpd/smtpd_access.h"
#include "util/mem.h"
#include "util/msg.h"

static void check_keys(const access_keys *k, size_t bound)
{
    for (size_t i = 0; i < k->keys->argc; i++) {
        size_t n = strlen(k->keys->argv[i]);

        /* + 1: the '@' of "user@"; the null sender's key is "<>". */
        if (n == 0 || n > (bound < 2 ? 2 : bound + 1))
            msg_panic("key %zu has length %zu (input %zu)", i, n, bound);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = mem_alloc(size + 1);
    addr_find_opts o = {.delimiters = "+-"};
    access_action a;
    access_keys k;
    vstr why = VSTR_INIT;

    memcpy(text, data, size);
    text[size] = 0;
    access_action_init(&a);
    if (access_action_parse(text, &a, &why) < 0) {
        if (vstr_len(&why) == 0)
            msg_panic("refused without a reason");
    } else {
        if (a.kind < ACCESS_OK || a.kind > ACCESS_RESTRICTIONS)
            msg_panic("no kind");
        if (a.code != 0 && (a.code < 400 || a.code > 599))
            msg_panic("reply code %d", a.code);
        if (a.code != 0 && vstr_len(&a.dsn) && vstr_str(&a.dsn)[0] - '0' != a.code / 100)
            msg_panic("status %s with reply %d", vstr_str(&a.dsn), a.code);
        if (strstr(text, vstr_str(&a.text)) == NULL)
            msg_panic("text is not from the input");
    }
    access_action_release(&a);
    vstr_release(&why);

    access_keys_init(&k);
    access_keys_address(&k, text, &o, size > 0 && (data[0] & 1), "<>");
    check_keys(&k, size);
    access_keys_release(&k);
    access_keys_init(&k);
    access_keys_host(&k, text, 0);
    access_keys_ipaddr(&k, text);
    check_keys(&k, size);
    if (k.keys->argc > 0 && !k.whole[0])
        msg_panic("the first key does not go to pattern tables");
    access_keys_release(&k);
    mem_free(text);
    return 0;
}
