/*
 * dict_regexp - regexp:FILE, rules of POSIX regular expressions (regexp_table(5))
 *
 * The file syntax is pcre:'s (util/dict_rules). As in Postfix, a regex
 * is extended and caseless unless a flag toggles that: i case, x
 * extended (off means basic), m multi-line (REG_NEWLINE: '.' and
 * bracket expressions do not match a newline, ^ and $ match at one).
 */
#include <regex.h>
#include <string.h>

#include "util/dict_regexp.h"
#include "util/dict_rules.h"
#include "util/mem.h"

typedef struct dict_regexp_pattern {
    regex_t re;
} dict_regexp_pattern;

static void dict_regexp_release(void *pattern)
{
    dict_regexp_pattern *rp = pattern;

    regfree(&rp->re);
    mem_free(rp);
}

static int dict_regexp_compile(const char *text, size_t *used, void **pattern, int *groups,
                               vstr *why)
{
    vstr regex = VSTR_INIT, flags = VSTR_INIT;
    int cflags = REG_ICASE | REG_EXTENDED, rc, status = -1;
    dict_regexp_pattern *rp;

    if (dict_rules_regex(text, used, &regex, &flags, why) < 0)
        goto done;
    for (const char *f = vstr_str(&flags); *f; f++) {
        switch (*f) {
        case 'i':
            cflags ^= REG_ICASE;
            break;
        case 'x':
            cflags ^= REG_EXTENDED;
            break;
        case 'm':
            cflags ^= REG_NEWLINE;
            break;
        default:
            vstr_set_fmt(why, "unknown regexp flag '%c' (use i, x or m)", *f);
            goto done;
        }
    }
    rp = mem_calloc(1, sizeof(*rp));
    if ((rc = regcomp(&rp->re, vstr_str(&regex), cflags)) != 0) {
        char msg[256];

        (void)regerror(rc, &rp->re, msg, sizeof(msg));
        vstr_set_fmt(why, "regexp /%.64s/: %s", vstr_str(&regex), msg);
        mem_free(rp);
        goto done;
    }
    *groups = rp->re.re_nsub > DICT_RULES_GROUPS_MAX - 1 ? DICT_RULES_GROUPS_MAX - 1
                                                         : (int)rp->re.re_nsub;
    *pattern = rp;
    status = 0;
done:
    vstr_release(&regex);
    vstr_release(&flags);
    return status;
}

static int dict_regexp_match(void *pattern, const char *key, dict_rules_groups *g, vstr *why)
{
    dict_regexp_pattern *rp = pattern;
    regmatch_t m[DICT_RULES_GROUPS_MAX];
    size_t n =
        rp->re.re_nsub + 1 < DICT_RULES_GROUPS_MAX ? rp->re.re_nsub + 1 : DICT_RULES_GROUPS_MAX;
    int rc = regexec(&rp->re, key, n, m, 0);

    if (rc == REG_NOMATCH)
        return 0;
    if (rc != 0) {
        char msg[256];

        (void)regerror(rc, &rp->re, msg, sizeof(msg));
        vstr_set_fmt(why, "matching: %s", msg);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        g->start[i] = m[i].rm_so < 0 ? (size_t)-1 : (size_t)m[i].rm_so;
        g->end[i] = m[i].rm_eo < 0 ? 0 : (size_t)m[i].rm_eo;
    }
    g->count = (int)n;
    return 1;
}

static const dict_rules_ops dict_regexp_ops = {
    "regexp", dict_regexp_compile, dict_regexp_match, dict_regexp_release, 1,
};

dict *dict_regexp_open(const char *name, int open_flags, int dict_flags, vstr *err)
{
    return dict_rules_open(&dict_regexp_ops, name, open_flags, dict_flags, err);
}
