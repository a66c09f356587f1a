/*
 * Fuzz target for the hosts-file reader (util/hosts_file): any bytes as
 * the file.
 *
 * Checks beyond "no crash, no leak": every name kept is a bounded,
 * NUL-free host name, and both lookups find what was kept.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "util/hosts_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hosts_file h;

    hosts_file_parse((const char *)data, size, &h);
    for (size_t i = 0; i < h.count; i++) {
        const hosts_entry *e = &h.list[i];
        size_t len = strlen(e->name);

        if (len == 0 || len > HOSTS_NAME_MAX || (e->family != AF_INET && e->family != AF_INET6))
            abort();
        if (hosts_file_lookup(&h, e->name, e->family, e->addr) != 1)
            abort();
        if (hosts_file_name_of(&h, e->family, e->addr) == NULL)
            abort();
    }
    hosts_file_free(&h);
    return 0;
}
