/*
 * dict_pcre_parse - libFuzzer target: any bytes as a pcre: table file
 * (util/dict_pcre over util/dict_rules), then lookups with keys that
 * exercise substitution, if blocks and negation. The input also serves
 * as a regexp: file, which shares the syntax.
 *
 * Beyond "no crash, no leak": a table either fails to open with a reason
 * that names its line, or answers every lookup with FOUND, NOTFOUND or
 * an ERROR that says why, and a result never exceeds the bound.
 */
#include <stdint.h>
#include <string.h>

#include "tests/fuzz/table_file.h"
#include "util/dict.h"
#include "util/dict_rules.h"

static const char *const keys[] = {
    "",
    "a",
    "user@example.com",
    "Joe@Example.COM",
    "192.0.2.1",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaab",
    "Subject: hello\nX-Spam: yes",
    "$1${2}$$",
};

static void try_type(const char *type, const char *path)
{
    vstr value = VSTR_INIT;
    dict *d = fuzz_table_open(type, path);

    if (d == NULL)
        return;
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        int status = dict_lookup(d, keys[i], &value);

        if (status == DICT_FOUND && vstr_len(&value) > DICT_RULES_RESULT_MAX)
            msg_panic("result of %zu bytes", vstr_len(&value));
        if (status == DICT_ERROR && strstr(dict_error(d), ", line ") == NULL)
            msg_panic("lookup error without a line: %s", dict_error(d));
        if (status != DICT_FOUND && status != DICT_NOTFOUND && status != DICT_ERROR)
            msg_panic("lookup status %d", status);
    }
    dict_close(d, NULL);
    vstr_release(&value);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_table_file("dict_pcre_parse", data, size);

    if (path == NULL)
        return 0;
    try_type("pcre", path);
    try_type("regexp", path);
    return 0;
}
