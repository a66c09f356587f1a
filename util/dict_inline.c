/*
 * dict_inline - inline:{ key=value, ... }, a small table written in place
 *
 * Elements are separated by commas or white space. An element is
 * key=value, or { key = value } when the value holds white space or
 * commas (white space around key and value is dropped). Keys are folded
 * to lower case. A duplicate key is an error at open, as is an element
 * without '=' or an unbalanced brace: a table in main.cf that does not
 * mean what it says should stop the daemon, not half-work.
 */
#include <string.h>

#include "util/dict_inline.h"
#include "util/dict_mem.h"

static int is_sep(int c)
{
    return c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* One element, at *pp; its text goes to elem without outer braces. Returns
 * 1 for an element, 0 at the end, -1 for an unbalanced brace. */
static int next_element(const char **pp, const char *end, vstr *elem, int *braced)
{
    const char *p = *pp, *start;
    int depth = 0;

    while (p < end && is_sep((unsigned char)*p))
        p++;
    if (p >= end)
        return 0;
    *braced = (*p == '{');
    start = p;
    for (; p < end; p++) {
        if (*p == '{')
            depth++;
        else if (*p == '}' && --depth < 0)
            return -1;
        else if (depth == 0 && is_sep((unsigned char)*p))
            break;
        if (*braced && depth == 0) {
            p++;
            break;
        }
    }
    if (depth != 0)
        return -1;
    if (*braced)
        vstr_set(elem, start + 1, (size_t)(p - start) - 2);
    else
        vstr_set(elem, start, (size_t)(p - start));
    *pp = p;
    return 1;
}

dict *dict_inline_open(const char *name, int open_flags, int dict_flags, vstr *err)
{
    size_t len = strlen(name);
    const char *p, *end, *eq;
    vstr elem = VSTR_INIT, key = VSTR_INIT, value = VSTR_INIT;
    dict_mem *di;
    int braced, r;

    if (len < 2 || name[0] != '{' || name[len - 1] != '}') {
        vstr_set_fmt(err, "inline:%s: need inline:{ key=value, ... }", name);
        return NULL;
    }
    di = dict_mem_alloc("inline", name, open_flags, dict_flags);
    p = name + 1;
    end = name + len - 1;
    while ((r = next_element(&p, end, &elem, &braced)) > 0) {
        eq = strchr(vstr_str(&elem), '=');
        if (eq == NULL) {
            vstr_set_fmt(err, "inline:%s: missing '=' after \"%s\"", name, vstr_str(&elem));
            goto fail;
        }
        vstr_set(&key, vstr_str(&elem), (size_t)(eq - vstr_str(&elem)));
        vstr_set_str(&value, eq + 1);
        vstr_trim(&key);
        vstr_trim(&value);
        vstr_lower(&key);
        if (vstr_len(&key) == 0) {
            vstr_set_fmt(err, "inline:%s: empty key in \"%s\"", name, vstr_str(&elem));
            goto fail;
        }
        if (htable_locate(di->table, vstr_str(&key)) != NULL) {
            vstr_set_fmt(err, "inline:%s: duplicate key \"%s\"", name, vstr_str(&key));
            goto fail;
        }
        (void)dict_mem_update(&di->dict, vstr_str(&key), vstr_str(&value));
    }
    if (r < 0) {
        vstr_set_fmt(err, "inline:%s: unbalanced '{' or '}'", name);
        goto fail;
    }
    vstr_release(&elem);
    vstr_release(&key);
    vstr_release(&value);
    return &di->dict;

fail:
    vstr_release(&elem);
    vstr_release(&key);
    vstr_release(&value);
    dict_discard(&di->dict);
    return NULL;
}
