/*
 * var_expand - fill $name references in with per-delivery values
 */
#include <ctype.h>
#include <string.h>

#include "global/var_expand.h"
#include "util/mem.h"

typedef struct expander {
    var_lookup_fn lookup;
    void *ctx;
    const char *filter;
    int flags;
    vstr *err;
} expander;

static void append_value(const expander *x, vstr *out, const char *value)
{
    for (const char *p = value; *p; p++)
        vstr_append_char(out, x->filter == NULL || strchr(x->filter, *p) != NULL ? *p : '_');
}

static int is_name_char(int c)
{
    return isalnum(c) || c == '_';
}

static int expand(const expander *x, const char *p, const char *end, vstr *out, int depth)
{
    if (depth > VAR_EXPAND_DEPTH) {
        vstr_set_fmt(x->err, "nesting deeper than %d", VAR_EXPAND_DEPTH);
        return -1;
    }
    while (p < end) {
        const char *start = p, *name, *name_end, *text = NULL, *text_end = NULL, *value;
        int op = 0;
        char *n;

        if (*p != '$') {
            vstr_append_char(out, *p++);
            continue;
        }
        p++;
        if (p < end && *p == '$') {
            vstr_append_char(out, '$');
            p++;
            continue;
        }
        if (p < end && *p == '{') {
            int level = 1;

            name = ++p;
            while (p < end && is_name_char((unsigned char)*p))
                p++;
            name_end = p;
            if (p < end && (*p == '?' || *p == ':')) {
                op = *p++;
                text = p;
                for (; p < end; p++) {
                    if (*p == '{')
                        level++;
                    else if (*p == '}' && --level == 0)
                        break;
                }
                text_end = p;
            }
            if (p >= end || *p != '}') {
                vstr_set_fmt(x->err, "missing '}' after \"${%.*s\"", (int)(name_end - name), name);
                return -1;
            }
            p++;
        } else {
            name = p;
            while (p < end && is_name_char((unsigned char)*p))
                p++;
            name_end = p;
        }
        if (name == name_end) {
            vstr_set_str(x->err, "'$' without a name");
            return -1;
        }
        n = mem_strndup(name, (size_t)(name_end - name));
        value = x->lookup(x->ctx, n);
        if (value == NULL && (x->flags & VAR_EXPAND_KEEP_UNKNOWN)) {
            vstr_append(out, start, (size_t)(p - start));
            mem_free(n);
            continue;
        }
        if (value == NULL) {
            vstr_set_fmt(x->err, "unknown name \"%s\"", n);
            mem_free(n);
            return -1;
        }
        mem_free(n);
        if (op == 0)
            append_value(x, out, value);
        else if ((op == '?') == (*value != 0) && expand(x, text, text_end, out, depth + 1) < 0)
            return -1;
    }
    return 0;
}

int var_expand(const char *text, var_lookup_fn lookup, void *ctx, const char *filter, int flags,
               vstr *out, vstr *err)
{
    expander x = {lookup, ctx, filter, flags, err};

    vstr_reset(out);
    return expand(&x, text, text + strlen(text), out, 0);
}
