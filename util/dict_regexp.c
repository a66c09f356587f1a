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

/* glibc's regcomp copies what a + or {n,m} repeats, and its time grows
 * fast with repetition of what can match the empty string: "a++++...+"
 * or "((a{99}){99}){99}" take gigabytes, ten nested "(...)+" seconds,
 * before regcomp answers. So a regex is refused first when its estimated
 * size is above DICT_REGEXP_NODES_MAX or repetition is nested (or
 * stacked) deeper than DICT_REGEXP_REPEAT_DEPTH; pcre: has no such
 * limits of its own making. */
#define DICT_REGEXP_NODES_MAX 2000
#define DICT_REGEXP_REPEAT_DEPTH 5
#define DICT_REGEXP_GROUPS_DEPTH 100

/* n + add, kept at most just above the bound. */
static size_t grow(size_t n, size_t add)
{
    return n + add > DICT_REGEXP_NODES_MAX ? DICT_REGEXP_NODES_MAX + 1 : n + add;
}

/* n * k, kept at most just above the bound. */
static size_t times(size_t n, size_t k)
{
    return k != 0 && n > (DICT_REGEXP_NODES_MAX + 1) / k ? DICT_REGEXP_NODES_MAX + 1 : n * k;
}

/* The copies an interval "{n}", "{n,}" or "{n,m}" at p makes (0 when p is
 * not an interval); *end is set past it. */
static size_t interval(const char *p, const char **end, int extended)
{
    size_t n = 0, m = 0, digits = 0;
    const char *close;

    for (; *p >= '0' && *p <= '9'; p++, digits++)
        n = n < 100000 ? n * 10 + (size_t)(*p - '0') : n;
    if (*p == ',') {
        for (p++; *p >= '0' && *p <= '9'; p++, digits++)
            m = m < 100000 ? m * 10 + (size_t)(*p - '0') : m;
        if (m == 0)
            m = n + 1;
    }
    close = extended ? "}" : "\\}";
    if (digits == 0 || strncmp(p, close, strlen(close)) != 0)
        return 0;
    *end = p + strlen(close);
    return (m > n ? m : n) + 1;
}

/* Past a bracket expression that starts at p ('['). */
static const char *skip_bracket(const char *p)
{
    p++;
    if (*p == '^')
        p++;
    if (*p == ']')
        p++;
    while (*p && *p != ']') {
        if (*p == '[' && (p[1] == ':' || p[1] == '=' || p[1] == '.')) {
            char kind = p[1];

            for (p += 2; *p && !(*p == kind && p[1] == ']'); p++)
                ;
            if (*p)
                p += 2;
            continue;
        }
        p++;
    }
    return *p ? p + 1 : p;
}

/* Where the estimate stands within one group. */
typedef struct regexp_size {
    size_t total;   /* nodes so far */
    size_t last;    /* nodes of the last piece (what a repetition copies) */
    int last_depth; /* repetition depth of the last piece */
    int max_depth;  /* deepest repetition so far */
} regexp_size;

/* A repetition of the last piece: copies more nodes of it. */
static void repeat(regexp_size *s, size_t copies)
{
    s->total = grow(s->total, grow(times(s->last, copies), 1));
    s->last = grow(times(s->last, copies + 1), 1);
    if (++s->last_depth > s->max_depth)
        s->max_depth = s->last_depth;
}

/* Is re, as regcomp would build it, too large or too deeply repeated? */
static int regexp_too_big(const char *re, int extended)
{
    regexp_size level[DICT_REGEXP_GROUPS_DEPTH + 1];
    int d = 0;

    memset(level, 0, sizeof(level));
    for (const char *p = re; *p;) {
        const char *next = p + 1;
        int bs = *p == '\\';
        int open = extended ? *p == '(' : (bs && p[1] == '(');
        int close = extended ? *p == ')' : (bs && p[1] == ')');
        int plus = extended ? *p == '+' : (bs && p[1] == '+');
        int opt = extended ? *p == '?' : (bs && p[1] == '?');
        size_t k = 0;
        regexp_size *s = &level[d];

        if (*p == '{' && extended)
            k = interval(p + 1, &next, 1);
        else if (bs && p[1] == '{' && !extended)
            k = interval(p + 2, &next, 0);
        if (open) {
            if (++d > DICT_REGEXP_GROUPS_DEPTH)
                return 1;
            memset(&level[d], 0, sizeof(level[d]));
            next = p + (extended ? 1 : 2);
        } else if (close && d > 0) {
            regexp_size *outer = &level[d - 1];

            outer->last = grow(s->total, 1);
            outer->total = grow(outer->total, outer->last);
            outer->last_depth = s->max_depth;
            if (s->max_depth > outer->max_depth)
                outer->max_depth = s->max_depth;
            d--;
            next = p + (extended ? 1 : 2);
        } else if (plus || opt || *p == '*') {
            repeat(s, plus ? 1 : 0);
            next = p + (extended || *p == '*' ? 1 : 2);
        } else if (k > 0) {
            repeat(s, k - 1);
        } else {
            if (*p == '[')
                next = skip_bracket(p);
            else if (bs && p[1] != 0)
                next = p + 2;
            s->last = 1;
            s->last_depth = 0;
            s->total = grow(s->total, 1);
        }
        if (level[d].total > DICT_REGEXP_NODES_MAX ||
            level[d].max_depth > DICT_REGEXP_REPEAT_DEPTH)
            return 1;
        p = next;
    }
    return 0;
}

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
    if (regexp_too_big(vstr_str(&regex), cflags & REG_EXTENDED)) {
        vstr_set_fmt(why,
                     "regexp /%.64s/: too complex for regcomp (more than %d nodes once "
                     "repetition is expanded, or repetition nested deeper than %d): "
                     "split it, or use pcre:",
                     vstr_str(&regex), DICT_REGEXP_NODES_MAX, DICT_REGEXP_REPEAT_DEPTH);
        goto done;
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

static int dict_regexp_match(void *pattern, const dict_rules_key *key, dict_rules_groups *g,
                             vstr *why)
{
    dict_regexp_pattern *rp = pattern;
    regmatch_t m[DICT_RULES_GROUPS_MAX];
    size_t n =
        rp->re.re_nsub + 1 < DICT_RULES_GROUPS_MAX ? rp->re.re_nsub + 1 : DICT_RULES_GROUPS_MAX;
    int rc;

    if (g == NULL)
        n = 0;
    rc = regexec(&rp->re, key->text, n, n ? m : NULL, 0);

    if (rc == REG_NOMATCH)
        return 0;
    if (rc != 0) {
        char msg[256];

        (void)regerror(rc, &rp->re, msg, sizeof(msg));
        vstr_set_fmt(why, "matching: %s", msg);
        return -1;
    }
    if (g == NULL)
        return 1;
    for (size_t i = 0; i < n; i++) {
        g->start[i] = m[i].rm_so < 0 ? (size_t)-1 : (size_t)m[i].rm_so;
        g->end[i] = m[i].rm_eo < 0 ? 0 : (size_t)m[i].rm_eo;
    }
    g->count = (int)n;
    return 1;
}

static const dict_rules_ops dict_regexp_ops = {
    .type = "regexp",
    .compile = dict_regexp_compile,
    .match = dict_regexp_match,
    .release = dict_regexp_release,
    .substitute = 1,
};

dict *dict_regexp_open(const char *name, int open_flags, int dict_flags, vstr *err)
{
    return dict_rules_open(&dict_regexp_ops, name, open_flags, dict_flags, err);
}
