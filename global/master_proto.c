/*
 * master_proto - the one decision master and postern share
 *
 * DESCRIPTION
 *   Which master.cf services master_service_disable leaves out: master
 *   skips them, and postern start must not wait for their sockets.
 */
#include <string.h>

#include "global/master_proto.h"
#include "util/argv.h"

int master_service_disabled(const char *disable_list, const char *name, const char *type_name)
{
    argv_t *items = argv_split(disable_list, " \t\r\n,");
    size_t name_len = strlen(name);
    int hit = 0;

    for (size_t i = 0; i < items->argc && !hit; i++) {
        const char *item = items->argv[i];

        if (strcmp(item, type_name) == 0)
            hit = 1; /* a whole type */
        else if (strncmp(item, name, name_len) == 0 &&
                 (item[name_len] == '/' || item[name_len] == '.') &&
                 strcmp(item + name_len + 1, type_name) == 0)
            hit = 1;
    }
    argv_free(items);
    return hit;
}
