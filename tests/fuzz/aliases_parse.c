/*
 * Fuzz target for global/alias_parse: any bytes as an aliases file, and
 * every value it yields as an alias target list; the same bytes also as
 * a .forward file.
 *
 * Beyond "no crash, no leak", it checks what postalias and local rely
 * on: names are non-empty, lower case and domain-free; values are
 * non-empty and already normal (normalising again changes nothing, so a
 * value read back from the table means what was written); targets are
 * non-empty and bounded in number.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "global/alias_parse.h"
#include "util/msg.h"
#include "util/vstr.h"

static void check_targets(const char *value)
{
    argv_t *targets = argv_new();
    vstr err = VSTR_INIT;

    (void)alias_targets(value, targets, &err);
    if (targets->argc > ALIAS_TARGETS_MAX)
        msg_panic("%zu targets", targets->argc);
    for (size_t i = 0; i < targets->argc; i++) {
        if (targets->argv[i][0] == 0)
            msg_panic("empty target from \"%s\"", value);
        (void)alias_target_type(targets->argv[i]);
    }
    argv_free(targets);
    vstr_release(&err);
}

static void on_entry(void *ctx, const char *name, const char *value, long line)
{
    vstr again = VSTR_INIT;

    (void)ctx;
    if (name[0] == 0 || value[0] == 0 || line < 1)
        msg_panic("empty name or value at line %ld", line);
    if (strchr(name, '@') != NULL)
        msg_panic("name with a domain: \"%s\"", name);
    for (const char *p = name; *p; p++)
        if (isupper((unsigned char)*p))
            msg_panic("name not folded: \"%s\"", name);
    alias_value_normalize(value, strlen(value), &again);
    if (strcmp(vstr_str(&again), value) != 0)
        msg_panic("not idempotent: \"%s\" -> \"%s\"", value, vstr_str(&again));
    vstr_release(&again);
    check_targets(value);
}

static void on_warn(void *ctx, const char *text)
{
    (void)ctx;
    (void)text;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const alias_parse_ops ops = {on_entry, on_warn};
    argv_t *targets = argv_new();
    vstr err = VSTR_INIT;

    (void)alias_parse((const char *)data, size, "fuzz", &ops, NULL, &err);
    (void)alias_list_parse((const char *)data, size, targets, &err);
    argv_free(targets);
    vstr_release(&err);
    return 0;
}
