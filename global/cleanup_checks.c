/*
 * cleanup_checks - header_checks, mime_header_checks, nested_header_checks
 * and body_checks
 *
 * The tables answer with an action word and an optional text; the action
 * table maps each word to what it does. Effects on the message go through
 * cleanup's action API, so they are the same whether a content check or
 * an smtpd access table asked for them.
 */
#include <fcntl.h>
#include <string.h>
#include <strings.h>

#include "util/mem.h"
#include "util/msg.h"
#include "global/cleanup_checks.h"
#include "global/maps.h"

/* Bytes of the header or line named in a log line, as Postfix. */
#define CHECKS_LOG_TEXT_MAX 200

enum { K_HEADER, K_MIME, K_NESTED, K_BODY, K_COUNT };

static const char *const table_params[K_COUNT] = {"header_checks", "mime_header_checks",
                                                  "nested_header_checks", "body_checks"};

struct cleanup_checks {
    maps *maps[K_COUNT];
    char *lists[K_COUNT];
    int none;
    int mime_disabled;
    mime_limits limits;
    long long body_limit;
};

cleanup_checks *cleanup_checks_open(config *cfg)
{
    cleanup_checks *k = mem_calloc(1, sizeof(*k));
    int off = strstr(config_str(cfg, "receive_override_options"), "no_header_body_checks") != NULL;

    k->none = 1;
    for (int i = 0; i < K_COUNT; i++) {
        k->lists[i] = mem_strdup(off ? "" : config_str(cfg, table_params[i]));
        k->maps[i] = maps_open(table_params[i], k->lists[i], O_RDONLY, 0);
        if (k->maps[i]->count > 0)
            k->none = 0;
    }
    k->mime_disabled = config_bool(cfg, "disable_mime_input_processing");
    k->limits.nesting_limit = (int)config_int(cfg, "mime_nesting_limit");
    k->limits.boundary_length_limit = (size_t)config_int(cfg, "mime_boundary_length_limit");
    k->limits.header_size_limit = (size_t)config_size(cfg, "header_size_limit");
    k->body_limit = config_size(cfg, "body_checks_size_limit");
    return k;
}

void cleanup_checks_refresh(cleanup_checks *k)
{
    for (int i = 0; i < K_COUNT; i++)
        (void)maps_refresh(&k->maps[i], k->lists[i], O_RDONLY, 0);
}

void cleanup_checks_free(cleanup_checks *k)
{
    if (k == NULL)
        return;
    for (int i = 0; i < K_COUNT; i++) {
        maps_free(k->maps[i]);
        mem_free(k->lists[i]);
    }
    mem_free(k);
}

int cleanup_checks_none(const cleanup_checks *k)
{
    return k->none;
}

int cleanup_checks_mime_disabled(const cleanup_checks *k)
{
    return k->mime_disabled;
}

const mime_limits *cleanup_checks_mime_limits(const cleanup_checks *k)
{
    return &k->limits;
}

long long cleanup_checks_body_limit(const cleanup_checks *k)
{
    return k->body_limit;
}

/* ---- Actions ---- */

typedef struct check_ctx {
    cleanup *c;
    const char *where; /* "header Subject: x" for log lines */
    const char *text;  /* after the action word; "" when none */
    int is_header;
    vstr *out;
} check_ctx;

typedef cleanup_check_verdict (*action_fn)(check_ctx *x);

static cleanup_check_verdict act_reject(check_ctx *x)
{
    cleanup_reject(x->c, x->where, x->text);
    return CLEANUP_CHECK_KEEP;
}

static cleanup_check_verdict act_warn(check_ctx *x)
{
    cleanup_warn(x->c, x->where, x->text);
    return CLEANUP_CHECK_KEEP;
}

static cleanup_check_verdict act_ignore(check_ctx *x)
{
    (void)x;
    return CLEANUP_CHECK_DROP;
}

static cleanup_check_verdict act_discard(check_ctx *x)
{
    cleanup_discard(x->c, x->where, x->text);
    return CLEANUP_CHECK_KEEP;
}

static cleanup_check_verdict act_hold(check_ctx *x)
{
    cleanup_hold(x->c, x->where, x->text);
    return CLEANUP_CHECK_KEEP;
}

/* PREPEND and REPLACE text: a header line where a header was matched. */
static int text_fits(check_ctx *x, const char *action)
{
    size_t len = strlen(x->text);

    if (!x->is_header)
        return 1;
    if (len > 0 && mime_header_name_len(x->text, len) > 0)
        return 1;
    msg_warn("%s: %s action without a header line (\"Name: value\") in a header check; ignored",
             cleanup_id(x->c), action);
    return 0;
}

static cleanup_check_verdict act_prepend(check_ctx *x)
{
    if (!text_fits(x, "PREPEND"))
        return CLEANUP_CHECK_KEEP;
    vstr_set_str(x->out, x->text);
    return CLEANUP_CHECK_PREPEND;
}

static cleanup_check_verdict act_replace(check_ctx *x)
{
    if (!text_fits(x, "REPLACE"))
        return CLEANUP_CHECK_KEEP;
    vstr_set_str(x->out, x->text);
    return CLEANUP_CHECK_REPLACE;
}

static cleanup_check_verdict act_redirect(check_ctx *x)
{
    (void)cleanup_redirect(x->c, x->text, x->where);
    return CLEANUP_CHECK_KEEP;
}

static cleanup_check_verdict act_filter(check_ctx *x)
{
    (void)cleanup_filter(x->c, x->text, x->where);
    return CLEANUP_CHECK_KEEP;
}

static cleanup_check_verdict act_nothing(check_ctx *x)
{
    (void)x;
    return CLEANUP_CHECK_KEEP;
}

static const struct action {
    const char *name;
    action_fn fn;
} actions[] = {
    {"REJECT", act_reject},   {"WARN", act_warn},         {"IGNORE", act_ignore},
    {"DISCARD", act_discard}, {"HOLD", act_hold},         {"PREPEND", act_prepend},
    {"REPLACE", act_replace}, {"REDIRECT", act_redirect}, {"FILTER", act_filter},
    {"DUNNO", act_nothing},   {"OK", act_nothing},        {NULL, NULL},
};

/* Look key up in m and act on the answer. */
static cleanup_check_verdict inspect(maps *m, cleanup *c, const char *kind, const char *key,
                                     int is_header, vstr *out)
{
    vstr value = VSTR_INIT, where = VSTR_INIT;
    cleanup_check_verdict verdict = CLEANUP_CHECK_KEEP;
    const struct action *a;
    const char *v, *text;
    size_t n;
    int st;

    /* After a refusal or a discard nothing more can change the outcome. */
    if (m->count == 0 || cleanup_status_now(c) != CLEANUP_OK || cleanup_discarding(c))
        return CLEANUP_CHECK_KEEP;
    st = maps_find(m, key, &value, NULL);
    if (st == DICT_ERROR) {
        cleanup_lookup_failed(c, maps_error(m));
    } else if (st == DICT_FOUND) {
        v = vstr_str(&value);
        n = strcspn(v, " \t");
        for (text = v + n; *text == ' ' || *text == '\t'; text++)
            ;
        for (a = actions; a->name; a++)
            if (strlen(a->name) == n && strncasecmp(v, a->name, n) == 0)
                break;
        vstr_set_fmt(&where, "%s %.*s", kind, CHECKS_LOG_TEXT_MAX, key);
        if (a->name) {
            check_ctx x = {c, vstr_str(&where), text, is_header, out};

            verdict = a->fn(&x);
        } else {
            msg_warn("%s: unknown action in %s: \"%.100s\"; ignored", cleanup_id(c), m->title, v);
        }
    }
    vstr_release(&value);
    vstr_release(&where);
    return verdict;
}

cleanup_check_verdict cleanup_checks_header(const cleanup_checks *k, cleanup *c, mime_class cls,
                                            const char *text, size_t len, vstr *out)
{
    vstr key = VSTR_INIT;
    cleanup_check_verdict verdict;
    int which;

    if (mime_header_is_mime(text, len) || cls == MIME_HDR_MULTIPART)
        which = K_MIME;
    else if (cls == MIME_HDR_NESTED)
        which = K_NESTED;
    else
        which = K_HEADER;
    /* Unfolded: the line breaks go, the white space after them stays. A
     * NUL ends the key (the table sees a C string). */
    for (size_t i = 0; i < len && text[i]; i++)
        if (text[i] != '\n')
            vstr_append_char(&key, text[i]);
    verdict = inspect(k->maps[which], c, "header", vstr_str(&key), 1, out);
    vstr_release(&key);
    return verdict;
}

cleanup_check_verdict cleanup_checks_body(const cleanup_checks *k, cleanup *c, const char *data,
                                          size_t len, vstr *out)
{
    vstr key = VSTR_INIT;
    cleanup_check_verdict verdict;

    vstr_set(&key, data, strnlen(data, len));
    verdict = inspect(k->maps[K_BODY], c, "body", vstr_str(&key), 0, out);
    vstr_release(&key);
    return verdict;
}
