/*
 * dict_cidr_parse - libFuzzer target: any bytes as a cidr: table file
 * (util/dict_cidr over util/dict_rules), then lookups of IPv4 and IPv6
 * addresses and of things that are not addresses.
 *
 * Beyond "no crash, no leak": a table either fails to open with a reason
 * naming the file, or answers every lookup FOUND or NOTFOUND (a network
 * rule has no way to fail at lookup time).
 */
#include <stdint.h>
#include <string.h>

#include "tests/fuzz/table_file.h"
#include "util/dict.h"

static const char *const keys[] = {
    "192.0.2.1",        "10.1.2.3", "0.0.0.0", "255.255.255.255", "::1",   "2001:db8::1",
    "::ffff:192.0.2.1", "fe80::1",  "",        "not-an-address",  "[::1]", "1.2.3.4/24",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vstr value = VSTR_INIT;
    const char *path = fuzz_table_file("dict_cidr_parse", data, size);
    dict *d = path ? fuzz_table_open("cidr", path) : NULL;

    if (d == NULL)
        return 0;
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        int status = dict_lookup(d, keys[i], &value);

        if (status != DICT_FOUND && status != DICT_NOTFOUND)
            msg_panic("lookup of %s: status %d (%s)", keys[i], status, dict_error(d));
    }
    dict_close(d, NULL);
    vstr_release(&value);
    return 0;
}
