/*
 * dict_rules - tables that are ordered lists of patterns (pcre:, regexp:, cidr:)
 *
 * The file is parsed whole at open into an array of rules; an "if" rule
 * records where its endif is, so a lookup that does not enter the block
 * jumps over it. Results are checked at open (every $n within the
 * pattern's groups) with the same code that expands them at lookup, so
 * what open accepts, lookup can expand.
 */
#include <ctype.h>
#include <fcntl.h>
#include <string.h>

#include "util/dict_rules.h"
#include "util/dict_source.h"
#include "util/mem.h"

enum { RULE_MATCH, RULE_IF, RULE_ENDIF };

typedef struct dict_rule {
    int kind;
    int negate;
    int lineno;
    void *pattern;    /* RULE_MATCH, RULE_IF */
    char *result;     /* RULE_MATCH */
    size_t skip;      /* RULE_IF: the index of its endif */
    int wants_groups; /* the result names groups: ask match for them */
} dict_rule;

typedef struct dict_rules {
    dict dict;
    const dict_rules_ops *ops;
    dict_rule *rules;
    size_t count;
    dict_rules_groups groups; /* scratch for lookups */
    void *scratch;            /* ops->scratch_new */
} dict_rules;

/* Expand result into out with the groups of key. With g NULL, only check
 * that every $n is at most max_group (0 for a negated pattern: there is
 * no match to take groups from). 0, or -1 with a reason in why. */
static int expand(const char *result, const char *key, const dict_rules_groups *g, int max_group,
                  vstr *out, vstr *why)
{
    const char *p = result;

    vstr_reset(out);
    while (*p) {
        const char *dollar = strchr(p, '$');
        long n = 0;
        int digits = 0;
        char close = 0;

        if (dollar == NULL) {
            vstr_append_str(out, p);
            break;
        }
        vstr_append(out, p, (size_t)(dollar - p));
        p = dollar + 1;
        if (*p == '$') {
            vstr_append_char(out, '$');
            p++;
            continue;
        }
        if (*p == '{' || *p == '(') {
            close = *p == '{' ? '}' : ')';
            p++;
        }
        while (isdigit((unsigned char)*p) && digits < 3) {
            n = n * 10 + (*p++ - '0');
            digits++;
        }
        if (digits == 0 || (close && *p != close) || (!close && isalpha((unsigned char)*p))) {
            vstr_set_str(why, "bad $ in result: use $1 .. $9, ${NN}, or $$ for a '$'");
            return -1;
        }
        if (close)
            p++;
        if (n > max_group) {
            if (max_group == 0)
                vstr_set_fmt(why, "$%ld in the result of a pattern without groups or negated", n);
            else
                vstr_set_fmt(why, "$%ld in the result, but the pattern has %d groups", n,
                             max_group);
            return -1;
        }
        if (g != NULL && n < g->count && g->start[n] != (size_t)-1)
            vstr_append(out, key + g->start[n], g->end[n] - g->start[n]);
        if (vstr_len(out) > DICT_RULES_RESULT_MAX) {
            vstr_set_fmt(why, "result longer than %d bytes after substitution",
                         DICT_RULES_RESULT_MAX);
            return -1;
        }
    }
    if (vstr_len(out) > DICT_RULES_RESULT_MAX) {
        vstr_set_fmt(why, "result longer than %d bytes", DICT_RULES_RESULT_MAX);
        return -1;
    }
    return 0;
}

static int dict_rules_lookup(dict *d, const char *key, vstr *value)
{
    dict_rules *dr = (dict_rules *)d;
    vstr why = VSTR_INIT;
    int status = DICT_NOTFOUND;
    dict_rules_key k = {key, strlen(key), dr->scratch};

    if (dr->ops->prepare != NULL)
        dr->ops->prepare(dr->scratch, key);
    for (size_t i = 0; i < dr->count;) {
        dict_rule *r = &dr->rules[i];
        int m;

        if (r->kind == RULE_ENDIF) {
            i++;
            continue;
        }
        dr->groups.count = 0;
        /* Where groups go unused, not asking for them spares the engine
         * work (POSIX regexec then skips finding the sub-matches). */
        m = dr->ops->match(r->pattern, &k, r->wants_groups ? &dr->groups : NULL, &why);
        if (m < 0) {
            status = dict_set_error(d, "%s:%s, line %d: %s", d->type, d->name, r->lineno,
                                    vstr_str(&why));
            break;
        }
        if (r->negate)
            m = !m;
        if (r->kind == RULE_IF) {
            i = m ? i + 1 : r->skip;
            continue;
        }
        if (m && !dr->ops->substitute) {
            vstr_set_str(value, r->result);
            status = DICT_FOUND;
            break;
        }
        if (m) {
            if (expand(r->result, key, r->negate ? NULL : &dr->groups, DICT_RULES_GROUPS_MAX,
                       value, &why) < 0)
                status = dict_set_error(d, "%s:%s, line %d: %s", d->type, d->name, r->lineno,
                                        vstr_str(&why));
            else
                status = DICT_FOUND;
            break;
        }
        i++;
    }
    vstr_release(&why);
    return status;
}

static void dict_rules_release(dict_rules *dr)
{
    for (size_t i = 0; i < dr->count; i++) {
        if (dr->rules[i].pattern != NULL)
            dr->ops->release(dr->rules[i].pattern);
        mem_free(dr->rules[i].result);
    }
    mem_free(dr->rules);
    dr->rules = NULL;
    dr->count = 0;
    if (dr->scratch != NULL)
        dr->ops->scratch_free(dr->scratch);
    dr->scratch = NULL;
}

static int dict_rules_close(dict *d, int commit)
{
    (void)commit;
    dict_rules_release((dict_rules *)d);
    return 0;
}

/* "if" or "endif" as a word at the start of line. */
static int keyword(const char *line, const char *word)
{
    size_t n = strlen(word);

    return strncmp(line, word, n) == 0 && (line[n] == 0 || isspace((unsigned char)line[n]));
}

/* Parse one logical line into r: 0, or -1 with a reason in why. */
static int parse_rule(const dict_rules_ops *ops, const char *line, dict_rule *r, vstr *why)
{
    const char *p = line;
    size_t used;
    int groups;
    vstr check = VSTR_INIT;

    if (keyword(p, "endif")) {
        if (p[5] != 0) {
            vstr_set_str(why, "text after \"endif\"");
            return -1;
        }
        r->kind = RULE_ENDIF;
        return 0;
    }
    if (keyword(p, "if")) {
        r->kind = RULE_IF;
        p += 2;
        while (isspace((unsigned char)*p))
            p++;
    } else {
        r->kind = RULE_MATCH;
    }
    if (*p == '!') {
        r->negate = 1;
        p++;
    }
    if (*p == 0) {
        vstr_set_str(why, "missing pattern");
        return -1;
    }
    if (ops->compile(p, &used, &r->pattern, &groups, why) < 0)
        return -1;
    p += used;
    if (*p != 0 && !isspace((unsigned char)*p)) {
        vstr_set_fmt(why, "unexpected text after the pattern: \"%.32s\"", p);
        return -1;
    }
    while (isspace((unsigned char)*p))
        p++;
    if (r->kind == RULE_IF) {
        if (*p != 0) {
            vstr_set_str(why, "text after the pattern of \"if\"");
            return -1;
        }
        return 0;
    }
    if (*p == 0) {
        vstr_set_str(why, "missing result after the pattern");
        return -1;
    }
    if (ops->substitute) {
        if (expand(p, "", NULL, r->negate ? 0 : groups, &check, why) < 0) {
            vstr_release(&check);
            return -1;
        }
        vstr_release(&check);
    }
    r->result = mem_strdup(p);
    r->wants_groups = ops->substitute && !r->negate && strchr(p, '$') != NULL;
    return 0;
}

dict *dict_rules_open(const dict_rules_ops *ops, const char *name, int open_flags, int dict_flags,
                      vstr *err)
{
    dict_rules *dr;
    dict_source src;
    vstr why = VSTR_INIT;
    size_t cap = 0, open_ifs[DICT_RULES_DEPTH_MAX];
    int depth = 0, status;

    if ((open_flags & O_ACCMODE) != O_RDONLY) {
        vstr_set_fmt(err, "%s:%s: the table is read-only: edit the file instead", ops->type, name);
        return NULL;
    }
    if (dict_source_load(&src, name, &why) < 0) {
        vstr_set_fmt(err, "%s:%s: %s", ops->type, name, vstr_str(&why));
        vstr_release(&why);
        return NULL;
    }
    dr = (dict_rules *)dict_alloc(sizeof(*dr), ops->type, name, open_flags,
                                  (dict_flags & ~DICT_FLAG_FOLD_KEY) | DICT_FLAG_PATTERN);
    dr->ops = ops;
    if (ops->scratch_new != NULL)
        dr->scratch = ops->scratch_new();
    while ((status = dict_source_next(&src, &why)) != 0) {
        dict_rule *r;

        if (status < 0) {
            vstr_set_fmt(err, "%s:%s", ops->type, vstr_str(&why));
            goto fail;
        }
        if (dr->count >= DICT_RULES_MAX) {
            vstr_set_fmt(err, "%s:%s, line %d: more than %d rules", ops->type, name, src.lineno,
                         DICT_RULES_MAX);
            goto fail;
        }
        if (dr->count == cap) {
            cap = cap ? 2 * cap : 16;
            dr->rules = mem_reallocarray(dr->rules, cap, sizeof(*dr->rules));
        }
        r = &dr->rules[dr->count];
        memset(r, 0, sizeof(*r));
        r->lineno = src.lineno;
        dr->count++;
        if (parse_rule(ops, vstr_str(&src.line), r, &why) < 0) {
            vstr_set_fmt(err, "%s:%s, line %d: %s", ops->type, name, src.lineno, vstr_str(&why));
            goto fail;
        }
        if (r->kind == RULE_IF) {
            if (depth >= DICT_RULES_DEPTH_MAX) {
                vstr_set_fmt(err, "%s:%s, line %d: \"if\" nested deeper than %d", ops->type, name,
                             src.lineno, DICT_RULES_DEPTH_MAX);
                goto fail;
            }
            open_ifs[depth++] = dr->count - 1;
        } else if (r->kind == RULE_ENDIF) {
            if (depth == 0) {
                vstr_set_fmt(err, "%s:%s, line %d: \"endif\" without \"if\"", ops->type, name,
                             src.lineno);
                goto fail;
            }
            dr->rules[open_ifs[--depth]].skip = dr->count;
        }
    }
    if (depth > 0) {
        vstr_set_fmt(err, "%s:%s, line %d: \"if\" without \"endif\"", ops->type, name,
                     dr->rules[open_ifs[depth - 1]].lineno);
        goto fail;
    }
    dict_source_identify(&src, &dr->dict);
    dict_source_free(&src);
    vstr_release(&why);
    dr->dict.lookup = dict_rules_lookup;
    dr->dict.close = dict_rules_close;
    return &dr->dict;

fail:
    dict_source_free(&src);
    vstr_release(&why);
    dict_rules_release(dr);
    dict_free(&dr->dict);
    return NULL;
}

int dict_rules_regex(const char *text, size_t *used, vstr *regex, vstr *flags, vstr *why)
{
    const char *p = text, *start;
    char delim = *p;

    if (delim == 0 || isalnum((unsigned char)delim) || isspace((unsigned char)delim) ||
        delim == '\\') {
        vstr_set_str(why, "a pattern starts with a delimiter such as '/'");
        return -1;
    }
    start = ++p;
    while (*p && *p != delim) {
        if (*p == '\\' && p[1] != 0)
            p++;
        p++;
    }
    if (*p != delim) {
        vstr_set_fmt(why, "missing closing '%c' of the pattern", delim);
        return -1;
    }
    vstr_set(regex, start, (size_t)(p - start));
    start = ++p;
    while (*p && !isspace((unsigned char)*p))
        p++;
    vstr_set(flags, start, (size_t)(p - start));
    *used = (size_t)(p - text);
    return 0;
}
