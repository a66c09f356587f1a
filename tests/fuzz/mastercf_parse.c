/*
 * mastercf_parse - libFuzzer target: master.cf text through
 * global/mastercf. Parses the input, formats every service as postconf -M
 * does, applies every service's -o overrides to a configuration and
 * expands and validates the result.
 */
#include <stddef.h>
#include <stdint.h>

#include "global/config.h"
#include "global/mastercf.h"
#include "global/param_table.h"
#include "util/msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int initialized;
    vstr err = VSTR_INIT, out = VSTR_INIT;
    mastercf *mcf;

    if (!initialized) {
        msg_init("mastercf_parse");
        msg_use_stderr(0);
        initialized = 1;
    }
    mcf = mastercf_parse("/fuzz/master.cf", (const char *)data, size, &err);
    if (mcf != NULL) {
        for (size_t i = 0; i < mcf->count; i++) {
            const mastercf_service *svc = mcf->services[i];
            config *cfg = config_new_defaults("/fuzz");

            vstr_reset(&out);
            mastercf_format(svc, &out);
            (void)mastercf_find(mcf, svc->name, svc->type_name);
            mastercf_apply(svc, cfg);
            for (size_t j = 0; j < svc->override_names->argc; j++)
                (void)config_expand(cfg, svc->override_names->argv[j], &err);
            (void)config_validate(cfg, &out);
            config_free(cfg);
        }
        mastercf_free(mcf);
    }
    vstr_release(&err);
    vstr_release(&out);
    return 0;
}
