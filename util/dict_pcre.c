/*
 * dict_pcre - pcre:FILE, rules of PCRE2 regular expressions (pcre_table(5))
 *
 * A rule is "/regex/flags result" (util/dict_rules has the file syntax).
 * As in Postfix, matching is caseless unless the flag i turns that off;
 * the other flags switch a PCRE2 option on (and, given twice, off again):
 * m multi-line, s dot matches newline, x extended, A anchored, E dollar
 * matches only at the end, U ungreedy. X (PCRE1's "extra") is accepted
 * and does nothing: PCRE2 always refuses unknown escapes.
 *
 * Keys come from clients, so every match runs under a match and depth
 * limit; a key that hits one makes the lookup a DICT_ERROR (deferred
 * mail), not a silent "no match".
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <string.h>

#include "util/dict_pcre.h"
#include "util/dict_rules.h"
#include "util/mem.h"
#include "util/msg.h"

#define DICT_PCRE_MATCH_LIMIT 1000000
#define DICT_PCRE_DEPTH_LIMIT 10000

/* Backtracking memory for one match, in KiB. */
#define DICT_PCRE_HEAP_LIMIT (16 * 1024)

/* One match block per table, made at open with room for every group a
 * result may name, serves all its rules: no lookup allocates one per
 * rule. (Not one per pattern: PCRE2 keeps a match's backtracking memory
 * in it, which would add up over a table of thousands of rules; per
 * table it stays under DICT_PCRE_HEAP_LIMIT.) */
typedef struct dict_pcre_pattern {
    pcre2_code *code;
    pcre2_match_context *context;
} dict_pcre_pattern;

static const struct {
    char flag;
    uint32_t option;
} dict_pcre_flags[] = {
    {'i', PCRE2_CASELESS}, {'m', PCRE2_MULTILINE},
    {'s', PCRE2_DOTALL},   {'x', PCRE2_EXTENDED},
    {'A', PCRE2_ANCHORED}, {'E', PCRE2_DOLLAR_ENDONLY},
    {'U', PCRE2_UNGREEDY}, {'X', 0},
};

static void pcre_message(int code, vstr *out)
{
    PCRE2_UCHAR text[256];

    if (pcre2_get_error_message(code, text, sizeof(text)) < 0)
        vstr_append_fmt(out, "PCRE2 error %d", code);
    else
        vstr_append_str(out, (const char *)text);
}

static void dict_pcre_release(void *pattern)
{
    dict_pcre_pattern *pp = pattern;

    pcre2_match_context_free(pp->context);
    pcre2_code_free(pp->code);
    mem_free(pp);
}

static int dict_pcre_compile(const char *text, size_t *used, void **pattern, int *groups,
                             vstr *why)
{
    vstr regex = VSTR_INIT, flags = VSTR_INIT;
    uint32_t options = PCRE2_CASELESS, captures = 0;
    dict_pcre_pattern *pp;
    PCRE2_SIZE offset;
    int code, status = -1;

    if (dict_rules_regex(text, used, &regex, &flags, why) < 0)
        goto done;
    for (const char *f = vstr_str(&flags); *f; f++) {
        size_t i;

        for (i = 0; i < sizeof(dict_pcre_flags) / sizeof(dict_pcre_flags[0]); i++)
            if (dict_pcre_flags[i].flag == *f)
                break;
        if (i == sizeof(dict_pcre_flags) / sizeof(dict_pcre_flags[0])) {
            vstr_set_fmt(why, "unknown pcre flag '%c' (use i, m, s, x, A, E, U or X)", *f);
            goto done;
        }
        options ^= dict_pcre_flags[i].option;
    }
    pp = mem_calloc(1, sizeof(*pp));
    pp->code = pcre2_compile((PCRE2_SPTR)vstr_str(&regex), vstr_len(&regex), options, &code,
                             &offset, NULL);
    if (pp->code == NULL) {
        vstr_set_fmt(why, "pcre pattern /%.64s/ at offset %zu: ", vstr_str(&regex),
                     (size_t)offset);
        pcre_message(code, why);
        mem_free(pp);
        goto done;
    }
    pp->context = pcre2_match_context_create(NULL);
    if (pp->context == NULL)
        msg_fatal("pcre: out of memory");
    pcre2_set_match_limit(pp->context, DICT_PCRE_MATCH_LIMIT);
    pcre2_set_depth_limit(pp->context, DICT_PCRE_DEPTH_LIMIT);
    pcre2_set_heap_limit(pp->context, DICT_PCRE_HEAP_LIMIT);
    (void)pcre2_pattern_info(pp->code, PCRE2_INFO_CAPTURECOUNT, &captures);
    *groups = captures > DICT_RULES_GROUPS_MAX - 1 ? DICT_RULES_GROUPS_MAX - 1 : (int)captures;
    *pattern = pp;
    status = 0;
done:
    vstr_release(&regex);
    vstr_release(&flags);
    return status;
}

static void *dict_pcre_scratch_new(void)
{
    pcre2_match_data *data = pcre2_match_data_create(DICT_RULES_GROUPS_MAX, NULL);

    if (data == NULL)
        msg_fatal("pcre: out of memory");
    return data;
}

static void dict_pcre_scratch_free(void *scratch)
{
    pcre2_match_data_free(scratch);
}

static int dict_pcre_match(void *pattern, const dict_rules_key *key, dict_rules_groups *g,
                           vstr *why)
{
    dict_pcre_pattern *pp = pattern;
    pcre2_match_data *data = key->scratch;
    PCRE2_SIZE *ovector;
    int rc;

    rc = pcre2_match(pp->code, (PCRE2_SPTR)key->text, key->len, 0, 0, data, pp->context);
    if (rc == PCRE2_ERROR_NOMATCH) {
        rc = 0;
    } else if (rc < 0) {
        vstr_set_str(why, "matching: ");
        pcre_message(rc, why);
        rc = -1;
    } else if (g == NULL) {
        rc = 1;
    } else {
        ovector = pcre2_get_ovector_pointer(data);
        /* 0: more groups than the block holds; it kept the first ones. */
        g->count = rc == 0 || rc > DICT_RULES_GROUPS_MAX ? DICT_RULES_GROUPS_MAX : rc;
        for (int i = 0; i < g->count; i++) {
            g->start[i] = ovector[2 * i] == PCRE2_UNSET ? (size_t)-1 : ovector[2 * i];
            g->end[i] = ovector[2 * i + 1];
        }
        rc = 1;
    }
    return rc;
}

static const dict_rules_ops dict_pcre_ops = {
    .type = "pcre",
    .compile = dict_pcre_compile,
    .match = dict_pcre_match,
    .release = dict_pcre_release,
    .substitute = 1,
    .scratch_new = dict_pcre_scratch_new,
    .scratch_free = dict_pcre_scratch_free,
};

dict *dict_pcre_open(const char *name, int open_flags, int dict_flags, vstr *err)
{
    return dict_rules_open(&dict_pcre_ops, name, open_flags, dict_flags, err);
}
