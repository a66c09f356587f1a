/*
 * maincf_parse - libFuzzer target: main.cf text through the whole of
 * global/config. Parses the input as main.cf, then expands every
 * parameter set and every table parameter, converts typed values, lists
 * unknown names, validates, and does it again after an override. Any
 * crash, hang, leak or sanitizer report is a bug: hostile main.cf text
 * must only ever produce error messages.
 */
#include <stddef.h>
#include <stdint.h>

#include "global/config.h"
#include "global/param_table.h"
#include "util/msg.h"

static void expand_all(config *cfg, const argv_t *names)
{
    vstr err = VSTR_INIT, why = VSTR_INIT;
    long long n;

    for (size_t i = 0; i < names->argc; i++) {
        const char *value = config_expand(cfg, names->argv[i], &err);

        (void)config_text(cfg, names->argv[i], &err);
        if (value != NULL)
            argv_free(config_list(cfg, names->argv[i]));
    }
    for (size_t i = 0; i < param_count(); i++) {
        const char *name = param_at(i)->name;
        const char *value = config_expand(cfg, name, &err);

        if (value != NULL)
            (void)config_convert(name, value, &n, &why);
    }
    vstr_release(&err);
    vstr_release(&why);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int initialized;
    vstr err = VSTR_INIT, out = VSTR_INIT;
    argv_t *names;
    config *cfg;

    if (!initialized) {
        msg_init("maincf_parse");
        msg_use_stderr(0);
        initialized = 1;
    }
    cfg = config_load_text("/fuzz", (const char *)data, size, &err);
    if (cfg != NULL) {
        names = config_names_set(cfg);
        expand_all(cfg, names);
        (void)config_unknown(cfg, &out);
        (void)config_validate(cfg, &out);
        if (names->argc > 0) {
            /* An override clears the cache; everything must hold after it. */
            (void)config_expand_text(cfg, config_raw(cfg, names->argv[0]), &out, &err);
            config_override(cfg, names->argv[0], names->argv[names->argc - 1]);
            expand_all(cfg, names);
            (void)config_validate(cfg, &out);
        }
        argv_free(names);
        config_free(cfg);
    }
    vstr_release(&err);
    vstr_release(&out);
    return 0;
}
