/*
 * maps - a list of lookup tables searched in order
 */
#include <fcntl.h>
#include <string.h>

#include "global/maps.h"
#include "util/mem.h"
#include "util/msg.h"

static int is_sep(int c)
{
    return c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

argv_t *maps_split(const char *list)
{
    argv_t *out = argv_new();
    const char *p = list;

    while (*p) {
        const char *start;
        int depth = 0;

        while (*p && is_sep((unsigned char)*p))
            p++;
        if (*p == 0)
            break;
        for (start = p; *p && (depth > 0 || !is_sep((unsigned char)*p)); p++) {
            if (*p == '{')
                depth++;
            else if (*p == '}' && depth > 0)
                depth--;
        }
        argv_addn(out, start, (size_t)(p - start));
    }
    return out;
}

maps *maps_open(const char *title, const char *list, int open_flags, int dict_flags)
{
    maps *m = mem_calloc(1, sizeof(*m));
    argv_t *specs = maps_split(list);
    vstr err = VSTR_INIT;

    m->title = mem_strdup(title);
    vstr_init(&m->error);
    m->dicts = mem_calloc(specs->argc + 1, sizeof(dict *));
    for (size_t i = 0; i < specs->argc; i++) {
        dict *d = dict_open(specs->argv[i], open_flags, dict_flags, &err);

        if (d == NULL) {
            msg_warn("%s: %s", title, vstr_str(&err));
            d = dict_surrogate(specs->argv[i], vstr_str(&err));
        }
        m->dicts[m->count++] = d;
    }
    argv_free(specs);
    vstr_release(&err);
    return m;
}

static int maps_search(maps *m, const char *key, vstr *value, dict **which, int skip)
{
    for (size_t i = 0; i < m->count; i++) {
        int status;

        if (m->dicts[i]->flags & skip)
            continue;
        status = dict_lookup(m->dicts[i], key, value);

        if (status == DICT_FOUND) {
            if (which != NULL)
                *which = m->dicts[i];
            return DICT_FOUND;
        }
        if (status == DICT_ERROR) {
            vstr_set_fmt(&m->error, "%s: %s", m->title, dict_error(m->dicts[i]));
            return DICT_ERROR;
        }
    }
    return DICT_NOTFOUND;
}

int maps_find(maps *m, const char *key, vstr *value, dict **which)
{
    return maps_search(m, key, value, which, 0);
}

int maps_find_fixed(maps *m, const char *key, vstr *value, dict **which)
{
    return maps_search(m, key, value, which, DICT_FLAG_PATTERN);
}

const char *maps_error(const maps *m)
{
    return vstr_str(&m->error);
}

int maps_changed(const maps *m)
{
    for (size_t i = 0; i < m->count; i++)
        if (dict_changed(m->dicts[i]) || maps_is_surrogate(m->dicts[i]))
            return 1;
    return 0;
}

int maps_refresh(maps **m, const char *list, int open_flags, int dict_flags)
{
    int was_open = 1;
    char *title;

    if (!maps_changed(*m))
        return 0;
    for (size_t i = 0; i < (*m)->count; i++)
        if (maps_is_surrogate((*m)->dicts[i]))
            was_open = 0;
    if (was_open)
        msg_info("%s: table has changed -- opening it again", (*m)->title);
    title = mem_strdup((*m)->title);
    maps_free(*m);
    *m = maps_open(title, list, open_flags, dict_flags);
    mem_free(title);
    return 1;
}

maps *maps_open_param(config *cfg, const char *param)
{
    return maps_open(param, config_str(cfg, param), O_RDONLY, 0);
}

int maps_refresh_param(maps **m, config *cfg, const char *param)
{
    return maps_refresh(m, config_str(cfg, param), O_RDONLY, 0);
}

int maps_is_surrogate(const dict *d)
{
    return strcmp(d->type, "surrogate") == 0;
}

void maps_free(maps *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < m->count; i++)
        dict_close(m->dicts[i], NULL);
    mem_free(m->dicts);
    mem_free(m->title);
    vstr_release(&m->error);
    mem_free(m);
}
