/*
 * mastercf - master.cf parsing into service records
 *
 * The line syntax (continuations, comments, bounds, NUL bytes) is
 * util/cfgfile's. Every bad line is reported, not only the first, so that
 * postern check lists all of them in one run; but a file with any bad
 * line yields no records, because master must not run half a
 * configuration.
 */
#include <ctype.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "global/mastercf.h"
#include "util/cfgfile.h"
#include "util/htable.h"
#include "util/mem.h"

#define MASTERCF_FIELDS 8 /* service type private unpriv chroot wakeup maxproc command */

static const struct {
    const char *name;
    mastercf_type type;
} mastercf_types[] = {
    {"inet", MASTERCF_INET}, {"unix", MASTERCF_UNIX}, {"unix-dgram", MASTERCF_UNIX_DGRAM},
    {"fifo", MASTERCF_FIFO}, {"pass", MASTERCF_PASS},
};

static const char *const column_names[] = {"private", "unpriv", "chroot", "wakeup", "maxproc"};

/* A word of a master.cf line: text, and whether it was a { } group. */
typedef struct word {
    char *text;
    int grouped;
} word;

typedef struct words {
    word *w;
    size_t n, cap;
} words;

static void words_add(words *ws, const char *s, size_t len, int grouped)
{
    if (ws->n == ws->cap) {
        ws->cap = ws->cap ? 2 * ws->cap : 16;
        ws->w = mem_reallocarray(ws->w, ws->cap, sizeof(*ws->w));
    }
    ws->w[ws->n].text = mem_strndup(s, len);
    ws->w[ws->n].grouped = grouped;
    ws->n++;
}

static void words_free(words *ws)
{
    for (size_t i = 0; i < ws->n; i++)
        mem_free(ws->w[i].text);
    mem_free(ws->w);
}

/* Split a logical line into words; "{ text }" is one word, its text
 * trimmed. -1 with a reason for an unbalanced group. */
static int split_words(const char *s, words *ws, vstr *why)
{
    while (*s) {
        const char *start;

        while (isspace((unsigned char)*s))
            s++;
        if (*s == 0)
            break;
        if (*s == '{') {
            int depth = 1;
            const char *end;

            for (end = s + 1; *end && depth > 0; end++)
                depth += *end == '{' ? 1 : *end == '}' ? -1 : 0;
            if (depth > 0) {
                vstr_set_str(why, "missing '}'");
                return -1;
            }
            if (*end && !isspace((unsigned char)*end)) {
                vstr_set_str(why, "text after '}' without white space");
                return -1;
            }
            start = s + 1;
            s = end;
            end -= 2; /* the last byte before '}' */
            while (start <= end && isspace((unsigned char)*start))
                start++;
            while (end >= start && isspace((unsigned char)*end))
                end--;
            words_add(ws, start, (size_t)(end + 1 - start), 1);
            continue;
        }
        for (start = s; *s && !isspace((unsigned char)*s); s++)
            ;
        words_add(ws, start, (size_t)(s - start), 0);
    }
    return 0;
}

static void service_free(mastercf_service *svc)
{
    if (svc == NULL)
        return;
    mem_free(svc->name);
    mem_free(svc->type_name);
    for (int i = 0; i < 5; i++)
        mem_free(svc->columns[i]);
    argv_free(svc->argv);
    argv_free(svc->override_names);
    argv_free(svc->override_values);
    mem_free(svc);
}

void mastercf_free(mastercf *mcf)
{
    if (mcf == NULL)
        return;
    for (size_t i = 0; i < mcf->count; i++)
        service_free(mcf->services[i]);
    mem_free(mcf->services);
    mem_free(mcf->path);
    mem_free(mcf);
}

/* A y/n/- column. */
static int parse_flag(const char *text, int dflt, int *out)
{
    if (strcmp(text, "-") == 0)
        *out = dflt;
    else if (strcmp(text, "y") == 0)
        *out = 1;
    else if (strcmp(text, "n") == 0)
        *out = 0;
    else
        return -1;
    return 0;
}

/* A count column: digits, at most INT_MAX. */
static int parse_count(const char *text, size_t len, int *out)
{
    long long n = 0;

    if (len == 0)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (!isdigit((unsigned char)text[i]))
            return -1;
        n = n * 10 + (text[i] - '0');
        if (n > INT_MAX)
            return -1;
    }
    *out = (int)n;
    return 0;
}

/* Is this a plausible service name for its type? For unix-like types it
 * names a socket in private/ or public/: no path tricks. */
static int check_name(const mastercf_service *svc, vstr *why)
{
    const char *n = svc->name, *colon, *port;

    if (svc->type != MASTERCF_INET) {
        if (*n == 0 || strchr(n, '/') != NULL || strcmp(n, ".") == 0 || strcmp(n, "..") == 0) {
            vstr_set_fmt(why,
                         "bad service name \"%.64s\": a %s service names a socket, "
                         "without '/'",
                         n, svc->type_name);
            return -1;
        }
        return 0;
    }
    if (*n == '[') {
        const char *close = strchr(n, ']');

        if (close == NULL || close[1] != ':') {
            vstr_set_fmt(why, "bad inet service \"%.64s\": expected [address]:port", n);
            return -1;
        }
        port = close + 2;
    } else {
        colon = strrchr(n, ':');
        port = colon ? colon + 1 : n;
    }
    if (*port == 0 || strspn(port, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                   "0123456789-_.") != strlen(port)) {
        vstr_set_fmt(why,
                     "bad inet service \"%.64s\": expected port, host:port or "
                     "[address]:port",
                     n);
        return -1;
    }
    return 0;
}

/* Take the -o overrides out of the arguments (keeping them in argv). */
static int parse_args(mastercf_service *svc, const words *ws, vstr *why)
{
    vstr setting = VSTR_INIT;

    for (size_t i = MASTERCF_FIELDS - 1; i < ws->n; i++) {
        const word *w = &ws->w[i];
        const char *text, *eq;
        size_t name_len;
        vstr value = VSTR_INIT;

        if (i == MASTERCF_FIELDS - 1 || w->grouped || strcmp(w->text, "-o") != 0) {
            argv_add(svc->argv, w->text);
            continue;
        }
        if (++i >= ws->n) {
            vstr_set_str(why, "-o at the end of the line: expected -o name=value");
            vstr_release(&setting);
            return -1;
        }
        text = ws->w[i].text;
        eq = strchr(text, '=');
        name_len = eq ? (size_t)(eq - text) : 0;
        while (name_len > 0 && isspace((unsigned char)text[name_len - 1]))
            name_len--;
        for (size_t j = 0; j < name_len; j++)
            if (!cfgfile_name_char((unsigned char)text[j]))
                name_len = 0;
        if (name_len == 0) {
            vstr_set_fmt(why,
                         "bad -o setting \"%.64s\": expected -o name=value or "
                         "-o { name = value }",
                         text);
            vstr_release(&setting);
            return -1;
        }
        vstr_set_str(&value, eq + 1);
        vstr_trim(&value);
        argv_addn(svc->override_names, text, name_len);
        argv_add(svc->override_values, vstr_str(&value));
        vstr_set_fmt(&setting, "%s=%s", svc->override_names->argv[svc->override_names->argc - 1],
                     vstr_str(&value));
        argv_add(svc->argv, "-o");
        argv_add(svc->argv, vstr_str(&setting));
        vstr_release(&value);
    }
    vstr_release(&setting);
    return 0;
}

/* One service from the words of a logical line; NULL with a reason. */
static mastercf_service *parse_service(const words *ws, int lineno, vstr *why)
{
    mastercf_service *svc;
    size_t t;

    if (ws->n < MASTERCF_FIELDS) {
        vstr_set_fmt(why,
                     "expected at least %d fields (service type private unpriv chroot "
                     "wakeup maxproc command), found %zu",
                     MASTERCF_FIELDS, ws->n);
        return NULL;
    }
    svc = mem_calloc(1, sizeof(*svc));
    svc->lineno = lineno;
    svc->name = mem_strdup(ws->w[0].text);
    svc->type_name = mem_strdup(ws->w[1].text);
    svc->argv = argv_new();
    svc->override_names = argv_new();
    svc->override_values = argv_new();
    for (int i = 0; i < 5; i++)
        svc->columns[i] = mem_strdup(ws->w[2 + i].text);

    for (t = 0; t < sizeof(mastercf_types) / sizeof(mastercf_types[0]); t++)
        if (strcmp(svc->type_name, mastercf_types[t].name) == 0)
            break;
    if (t == sizeof(mastercf_types) / sizeof(mastercf_types[0])) {
        vstr_set_fmt(why,
                     "unknown service type \"%.64s\": expected inet, unix, unix-dgram, "
                     "fifo or pass",
                     svc->type_name);
        goto bad;
    }
    svc->type = mastercf_types[t].type;
    if (check_name(svc, why) < 0)
        goto bad;
    {
        int *flags[] = {&svc->is_private, &svc->is_unpriv, &svc->is_chroot};
        static const int defaults[] = {1, 1, 0};

        for (int i = 0; i < 3; i++) {
            if (parse_flag(svc->columns[i], defaults[i], flags[i]) < 0) {
                vstr_set_fmt(why, "bad %s field \"%.64s\": expected y, n or -", column_names[i],
                             svc->columns[i]);
                goto bad;
            }
        }
    }
    if (strcmp(svc->columns[3], "-") != 0) {
        size_t len = strlen(svc->columns[3]);

        svc->wakeup_if_used = len > 0 && svc->columns[3][len - 1] == '?';
        if (parse_count(svc->columns[3], len - (size_t)svc->wakeup_if_used, &svc->wakeup) < 0) {
            vstr_set_fmt(why, "bad wakeup field \"%.64s\": expected seconds, seconds? or -",
                         svc->columns[3]);
            goto bad;
        }
    }
    svc->maxproc = -1;
    if (strcmp(svc->columns[4], "-") != 0 &&
        parse_count(svc->columns[4], strlen(svc->columns[4]), &svc->maxproc) < 0) {
        vstr_set_fmt(why, "bad maxproc field \"%.64s\": expected a number or -", svc->columns[4]);
        goto bad;
    }
    if (parse_args(svc, ws, why) < 0)
        goto bad;
    return svc;

bad:
    service_free(svc);
    return NULL;
}

mastercf *mastercf_parse(const char *path, const char *text, size_t len, vstr *err)
{
    mastercf *mcf = mem_calloc(1, sizeof(*mcf));
    vstr line = VSTR_INIT, why = VSTR_INIT, key = VSTR_INIT;
    htable *seen = htable_new(64);
    cfgfile_reader r;
    cfgfile_line at;
    size_t cap = 0;
    int st, errors = 0;

    vstr_reset(err);
    mcf->path = mem_strdup(path);
    cfgfile_reader_init(&r, text, len, CONFIG_LINE_MAX);
    while ((st = cfgfile_next(&r, &line, &at, &why)) != 0) {
        mastercf_service *svc = NULL;
        words ws = {NULL, 0, 0};
        htable_entry *first;

        if (st > 0 && split_words(vstr_str(&line), &ws, &why) == 0)
            svc = parse_service(&ws, at.lineno, &why);
        words_free(&ws);
        if (svc != NULL) {
            vstr_set_fmt(&key, "%s/%s", svc->name, svc->type_name);
            if ((first = htable_locate(seen, vstr_str(&key))) != NULL) {
                vstr_set_fmt(&why, "duplicate service %.64s/%s (first on line %d)", svc->name,
                             svc->type_name, (int)(intptr_t)first->value);
                service_free(svc);
                svc = NULL;
            } else {
                htable_enter(seen, vstr_str(&key), (void *)(intptr_t)at.lineno);
            }
        }
        if (svc == NULL) {
            vstr_append_fmt(err, "%s%s, line %d: %s", errors ? "\n" : "", path, at.lineno,
                            vstr_str(&why));
            errors++;
            continue;
        }
        if (mcf->count == cap) {
            cap = cap ? 2 * cap : 16;
            mcf->services = mem_reallocarray(mcf->services, cap, sizeof(*mcf->services));
        }
        mcf->services[mcf->count++] = svc;
    }
    htable_free(seen, NULL);
    vstr_release(&line);
    vstr_release(&why);
    vstr_release(&key);
    if (errors) {
        mastercf_free(mcf);
        return NULL;
    }
    return mcf;
}

mastercf *mastercf_load(const char *dir, vstr *err)
{
    vstr path = VSTR_INIT, text = VSTR_INIT;
    mastercf *mcf = NULL;

    vstr_set_fmt(&path, "%s/master.cf", dir);
    if (cfgfile_read(vstr_str(&path), CONFIG_FILE_MAX, &text, err) == 0)
        mcf = mastercf_parse(vstr_str(&path), vstr_str(&text), vstr_len(&text), err);
    vstr_release(&path);
    vstr_release(&text);
    return mcf;
}

const mastercf_service *mastercf_find(const mastercf *mcf, const char *name, const char *type)
{
    for (size_t i = 0; i < mcf->count; i++)
        if (strcmp(mcf->services[i]->name, name) == 0 &&
            strcmp(mcf->services[i]->type_name, type) == 0)
            return mcf->services[i];
    return NULL;
}

static int has_space(const char *s)
{
    for (; *s; s++)
        if (isspace((unsigned char)*s))
            return 1;
    return 0;
}

void mastercf_format(const mastercf_service *svc, vstr *out)
{
    vstr_append_fmt(out, "%-10s %-5s %-7s %-7s %-7s %-7s %-7s", svc->name, svc->type_name,
                    svc->columns[0], svc->columns[1], svc->columns[2], svc->columns[3],
                    svc->columns[4]);
    for (size_t i = 0; i < svc->argv->argc; i++) {
        const char *a = svc->argv->argv[i];

        vstr_append_char(out, ' ');
        if (i > 0 && strcmp(svc->argv->argv[i - 1], "-o") == 0 && has_space(a)) {
            const char *eq = strchr(a, '=');

            /* -o { name = value with spaces } */
            vstr_append_str(out, "{ ");
            vstr_append(out, a, (size_t)(eq - a));
            vstr_append_fmt(out, " = %s }", eq + 1);
        } else if (*a == 0 || has_space(a) || *a == '{') {
            vstr_append_fmt(out, "{ %s }", a);
        } else {
            vstr_append_str(out, a);
        }
    }
}

void mastercf_apply(const mastercf_service *svc, config *cfg)
{
    for (size_t i = 0; i < svc->override_names->argc; i++)
        config_override(cfg, svc->override_names->argv[i], svc->override_values->argv[i]);
}
