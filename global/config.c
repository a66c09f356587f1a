/*
 * config - main.cf: parameters with compiled-in defaults, lazy expansion
 *
 * Each parameter that is set, or that has been asked for, has a
 * config_param: its text as set (or NULL for the default) and, once
 * expanded, its value. Expansion walks $name references depth first; a
 * parameter being expanded is marked busy, so meeting it again is a loop,
 * reported with the chain of names from the one asked for. The loop is
 * attributed to the parameter where it was entered (the first name that
 * repeats): that is the line an administrator has to look at.
 *
 * Expanded values are cached until an override changes the configuration.
 * Values handed out stay valid until config_free: a cache that is cleared
 * moves its strings to a list freed only then, so that a daemon holding a
 * config_str() result across config_override keeps a valid pointer.
 *
 * Derived defaults (myhostname, mydomain, mynetworks) are computed when
 * first needed; what depends only on the system (the host name, its
 * addresses) is computed once per process and kept in static storage.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "global/config.h"
#include "global/mastercf.h"
#include "global/param_table.h"
#include "util/cfgfile.h"
#include "util/htable.h"
#include "util/mem.h"
#include "util/msg.h"

typedef struct config_param {
    char *raw;            /* text as set, NULL at the default */
    int lineno;           /* main.cf line that set it; 0 otherwise */
    char *value;          /* expanded value once computed */
    int busy;             /* being expanded */
    const param_def *def; /* table row, NULL for a user-defined name */
} config_param;

struct config {
    char *dir;
    char *file;
    htable *params;    /* name -> config_param */
    argv_t *order;     /* names set in main.cf, first setting first */
    htable *used;      /* names referred to as $name; service names */
    htable *services;  /* master.cf service names, for per-transport names */
    char **old_values; /* cleared cache entries, freed by config_free */
    size_t old_count, old_cap;
};

/* An expansion in progress: the chain of parameters being expanded, and
 * where an error came from. */
typedef struct expander {
    config *cfg;
    const char *stack[CONFIG_EXPAND_DEPTH];
    int depth;
    int nest; /* ${name?text} nesting inside one value */
    vstr *err;
    char *origin; /* the parameter an error is about */
    argv_t *loop; /* the names in the loop, when the error is one */
} expander;

/* Parameters that a transport name may prefix (relay_destination_...):
 * qmgr and the delivery agents look them up per master.cf service. */
static const char *const transport_suffixes[] = {
    "destination_concurrency_limit",
    "destination_recipient_limit",
    "destination_rate_delay",
    "destination_concurrency_failed_cohort_limit",
    "destination_concurrency_positive_feedback",
    "destination_concurrency_negative_feedback",
    "initial_destination_concurrency",
    "extra_recipient_limit",
    "recipient_limit",
    "recipient_refill_limit",
    "recipient_refill_delay",
    "delivery_slot_cost",
    "delivery_slot_loan",
    "delivery_slot_discount",
    "minimum_delivery_slots",
    "time_limit",
    NULL,
};

static int expand_text(expander *x, const char *text, size_t len, vstr *out);

/* ------------------------------------------------------------------ */
/* Bookkeeping                                                          */

static void param_free(void *ptr)
{
    config_param *p = ptr;

    mem_free(p->raw);
    mem_free(p->value);
    mem_free(p);
}

static config *config_alloc(const char *dir)
{
    config *cfg = mem_calloc(1, sizeof(*cfg));
    vstr file = VSTR_INIT;

    cfg->dir = mem_strdup(dir ? dir : CONFIG_DIR_DEFAULT);
    vstr_set_fmt(&file, "%s/main.cf", cfg->dir);
    cfg->file = vstr_steal(&file);
    cfg->params = htable_new(512);
    cfg->order = argv_new();
    cfg->used = htable_new(64);
    cfg->services = htable_new(32);
    return cfg;
}

void config_free(config *cfg)
{
    if (cfg == NULL)
        return;
    htable_free(cfg->params, param_free);
    htable_free(cfg->used, NULL);
    htable_free(cfg->services, NULL);
    argv_free(cfg->order);
    for (size_t i = 0; i < cfg->old_count; i++)
        mem_free(cfg->old_values[i]);
    mem_free(cfg->old_values);
    mem_free(cfg->dir);
    mem_free(cfg->file);
    mem_free(cfg);
}

const char *config_dir(const config *cfg)
{
    return cfg->dir;
}

const char *config_file(const config *cfg)
{
    return cfg->file;
}

const char *config_directory(const char *cmdline_dir)
{
    const char *env;

    if (cmdline_dir != NULL && *cmdline_dir)
        return cmdline_dir;
    /* The one place that reads MAIL_CONFIG: every command goes through here. */
    if ((env = getenv("MAIL_CONFIG")) != NULL && *env)
        return env;
    return CONFIG_DIR_DEFAULT;
}

/* The record for name; created for a table parameter or when create is
 * set, else NULL for a name that is neither set nor in the table. */
static config_param *param_get(const config *cfg, const char *name, int create)
{
    config_param *p = htable_find(cfg->params, name);
    const param_def *def;

    if (p != NULL)
        return p;
    def = param_lookup(name);
    if (def == NULL && !create)
        return NULL;
    p = mem_calloc(1, sizeof(*p));
    p->def = def;
    htable_enter(cfg->params, name, p);
    return p;
}

/* Forget every expanded value, keeping the strings for config_free. */
static void clear_cache(config *cfg)
{
    htable_entry **list = htable_list(cfg->params);

    for (htable_entry **e = list; *e; e++) {
        config_param *p = (*e)->value;

        if (p->value == NULL)
            continue;
        if (cfg->old_count == cfg->old_cap) {
            cfg->old_cap = cfg->old_cap ? 2 * cfg->old_cap : 16;
            cfg->old_values = mem_reallocarray(cfg->old_values, cfg->old_cap, sizeof(char *));
        }
        cfg->old_values[cfg->old_count++] = p->value;
        p->value = NULL;
    }
    mem_free(list);
}

/* Note every name text refers to as $name, ${name...} or $(name...). */
static void note_references(config *cfg, const char *text)
{
    for (const char *p = text; (p = strchr(p, '$')) != NULL;) {
        const char *start;

        p++;
        if (*p == '$') {
            p++;
            continue;
        }
        if (*p == '{' || *p == '(')
            p++;
        for (start = p; cfgfile_name_char((unsigned char)*p); p++)
            ;
        if (p > start) {
            char *name = mem_strndup(start, (size_t)(p - start));

            htable_enter(cfg->used, name, NULL);
            mem_free(name);
        }
    }
}

static void set_param(config *cfg, const char *name, const char *value, int lineno)
{
    config_param *p = param_get(cfg, name, 1);

    mem_free(p->raw);
    p->raw = mem_strdup(value);
    p->lineno = lineno;
    note_references(cfg, value);
}

/* ------------------------------------------------------------------ */
/* Loading                                                              */

static config *parse_main_cf(const char *dir, const char *text, size_t len, vstr *err)
{
    config *cfg = config_alloc(dir);
    vstr line = VSTR_INIT, name = VSTR_INIT, value = VSTR_INIT, why = VSTR_INIT;
    cfgfile_reader r;
    cfgfile_line at;
    int st;

    cfgfile_reader_init(&r, text, len, CONFIG_LINE_MAX);
    while ((st = cfgfile_next(&r, &line, &at, &why)) != 0) {
        if (st > 0 && cfgfile_split(vstr_str(&line), vstr_len(&line), &name, &value, &why) < 0)
            st = -1;
        if (st < 0) {
            vstr_set_fmt(err, "%s, line %d: %s", cfg->file, at.lineno, vstr_str(&why));
            config_free(cfg);
            cfg = NULL;
            break;
        }
        if (config_raw(cfg, vstr_str(&name)) == NULL)
            argv_add(cfg->order, vstr_str(&name));
        /* As in Postfix, a later setting replaces an earlier one. */
        set_param(cfg, vstr_str(&name), vstr_str(&value), at.lineno);
    }
    vstr_release(&line);
    vstr_release(&name);
    vstr_release(&value);
    vstr_release(&why);
    return cfg;
}

config *config_load_text(const char *dir, const char *text, size_t len, vstr *err)
{
    return parse_main_cf(dir, text, len, err);
}

/* Names master.cf makes legitimate: -o names, $names in -o values, and
 * the service names that per-transport parameters start with. */
static void note_master_cf(config *cfg)
{
    vstr err = VSTR_INIT;
    mastercf *mcf = mastercf_load(cfg->dir, &err);

    /* A broken or missing master.cf is reported by whoever runs it. */
    if (mcf != NULL) {
        for (size_t i = 0; i < mcf->count; i++) {
            const mastercf_service *svc = mcf->services[i];

            htable_enter(cfg->services, svc->name, NULL);
            for (size_t j = 0; j < svc->override_names->argc; j++) {
                htable_enter(cfg->used, svc->override_names->argv[j], NULL);
                note_references(cfg, svc->override_values->argv[j]);
            }
        }
    }
    mastercf_free(mcf);
    vstr_release(&err);
}

config *config_load(const char *dir, vstr *err)
{
    vstr text = VSTR_INIT, path = VSTR_INIT, unknown = VSTR_INIT;
    config *cfg = NULL;

    vstr_set_fmt(&path, "%s/main.cf", dir);
    if (cfgfile_read(vstr_str(&path), CONFIG_FILE_MAX, &text, err) == 0 &&
        (cfg = parse_main_cf(dir, vstr_str(&text), vstr_len(&text), err)) != NULL) {
        note_master_cf(cfg);
        if (config_unknown(cfg, &unknown) > 0) {
            argv_t *lines = argv_split(vstr_str(&unknown), "\n");

            for (size_t i = 0; i < lines->argc; i++)
                msg_warn("%s", lines->argv[i]);
            argv_free(lines);
        }
    }
    vstr_release(&text);
    vstr_release(&path);
    vstr_release(&unknown);
    return cfg;
}

config *config_new_defaults(const char *dir)
{
    return config_alloc(dir);
}

void config_override(config *cfg, const char *name, const char *value)
{
    clear_cache(cfg);
    set_param(cfg, name, value, 0);
}

/* ------------------------------------------------------------------ */
/* Names                                                                */

/* Is name SERVICE_SUFFIX for a master.cf service and a known suffix? */
static int transport_param(const config *cfg, const char *name)
{
    for (const char *const *s = transport_suffixes; *s; s++) {
        size_t n = strlen(name), sn = strlen(*s);

        if (n > sn + 1 && name[n - sn - 1] == '_' && strcmp(name + n - sn, *s) == 0) {
            char *service = mem_strndup(name, n - sn - 1);
            int found = htable_locate(cfg->services, service) != NULL;

            mem_free(service);
            if (found)
                return 1;
        }
    }
    return 0;
}

int config_name_known(const config *cfg, const char *name)
{
    config_param *p = htable_find(cfg->params, name);

    if (param_lookup(name) != NULL)
        return 1;
    if (p != NULL && p->raw != NULL && htable_locate(cfg->used, name) != NULL)
        return 1;
    return transport_param(cfg, name);
}

int config_unknown(const config *cfg, vstr *lines)
{
    argv_t *classes = NULL;
    config_param *rc = htable_find(cfg->params, "smtpd_restriction_classes");
    int count = 0;

    /* Restriction classes are parameters named in this list. */
    if (rc != NULL && rc->raw != NULL)
        classes = argv_split(rc->raw, " \t\r\n,");
    for (size_t i = 0; i < cfg->order->argc; i++) {
        const char *name = cfg->order->argv[i];
        config_param *p = htable_find(cfg->params, name);
        int is_class = 0;

        for (size_t j = 0; classes && j < classes->argc; j++)
            is_class |= strcmp(classes->argv[j], name) == 0;
        if (p == NULL || p->lineno == 0 || is_class || config_name_known(cfg, name))
            continue;
        vstr_append_fmt(lines, "%s, line %d: unknown parameter %s\n", cfg->file, p->lineno, name);
        count++;
    }
    argv_free(classes);
    return count;
}

const char *config_raw(const config *cfg, const char *name)
{
    config_param *p = htable_find(cfg->params, name);

    return p ? p->raw : NULL;
}

int config_line(const config *cfg, const char *name)
{
    config_param *p = htable_find(cfg->params, name);

    return p ? p->lineno : 0;
}

argv_t *config_names_set(const config *cfg)
{
    argv_t *names = argv_new();

    for (size_t i = 0; i < cfg->order->argc; i++)
        argv_add(names, cfg->order->argv[i]);
    return names;
}

/* ------------------------------------------------------------------ */
/* Derived defaults                                                     */

/* The system's host name, fully qualified if the resolver knows how. */
static const char *system_hostname(void)
{
    static char *cached;
    char name[256];
    struct addrinfo hints, *res = NULL;
    vstr v = VSTR_INIT;

    if (cached != NULL)
        return cached;
    if (gethostname(name, sizeof(name)) < 0 || name[0] == 0)
        snprintf(name, sizeof(name), "localhost");
    name[sizeof(name) - 1] = 0;
    vstr_set_str(&v, name);
    if (strchr(name, '.') == NULL) {
        memset(&hints, 0, sizeof(hints));
        hints.ai_family = AF_UNSPEC;
        hints.ai_flags = AI_CANONNAME;
        if (getaddrinfo(name, NULL, &hints, &res) == 0 && res != NULL &&
            res->ai_canonname != NULL && strchr(res->ai_canonname, '.') != NULL)
            vstr_set_str(&v, res->ai_canonname);
        else
            vstr_append_str(&v, ".localdomain");
        if (res != NULL)
            freeaddrinfo(res);
    }
    while (vstr_len(&v) > 1 && vstr_str(&v)[vstr_len(&v) - 1] == '.')
        vstr_truncate(&v, vstr_len(&v) - 1);
    vstr_lower(&v);
    cached = vstr_steal(&v);
    return cached;
}

/* myhostname without its first label; localdomain when it has one only. */
static void domain_of(const char *host, vstr *out)
{
    const char *dot = strchr(host, '.');

    vstr_set_str(out, dot != NULL && dot[1] != 0 ? dot + 1 : "localdomain");
}

static void append_net(vstr *out, const char *net)
{
    /* Interfaces may share a subnet: list each network once. */
    for (const char *p = vstr_str(out); (p = strstr(p, net)) != NULL; p++) {
        size_t n = strlen(net);

        if ((p == vstr_str(out) || p[-1] == ' ') && (p[n] == 0 || p[n] == ' '))
            return;
    }
    vstr_append_fmt(out, " %s", net);
}

static int prefix_len(const unsigned char *mask, size_t bytes)
{
    int bits = 0;

    for (size_t i = 0; i < bytes; i++)
        for (int b = 7; b >= 0; b--)
            bits += (mask[i] >> b) & 1;
    return bits;
}

static void mask_bits(unsigned char *addr, size_t bytes, int bits)
{
    for (size_t i = 0; i < bytes; i++) {
        int keep = bits >= 8 ? 8 : bits > 0 ? bits : 0;

        addr[i] &= (unsigned char)(0xff << (8 - keep));
        bits -= 8;
    }
}

/* mynetworks for style host, subnet or class: loopback, then this host's
 * addresses (host) or networks (subnet, class). IPv6 link-local networks
 * are left out: without their interface they mean nothing. */
static const char *system_networks(const char *style)
{
    static char *cached[3];
    static const char *const styles[] = {"host", "subnet", "class"};
    struct ifaddrs *ifs = NULL;
    vstr out = VSTR_INIT;
    int k;

    for (k = 0; k < 3 && strcasecmp(style, styles[k]) != 0; k++)
        ;
    if (k == 3)
        return NULL;
    if (cached[k] != NULL)
        return cached[k];
    vstr_set_str(&out, "127.0.0.0/8 [::1]/128");
    if (getifaddrs(&ifs) == 0) {
        for (struct ifaddrs *i = ifs; i != NULL; i = i->ifa_next) {
            char text[INET6_ADDRSTRLEN], net[INET6_ADDRSTRLEN + 16];

            if (i->ifa_addr == NULL)
                continue;
            if (i->ifa_addr->sa_family == AF_INET) {
                struct in_addr a = ((struct sockaddr_in *)i->ifa_addr)->sin_addr;
                unsigned char *b = (unsigned char *)&a;
                int bits = 32;

                if (b[0] == 127)
                    continue;
                if (k == 1 && i->ifa_netmask != NULL)
                    bits = prefix_len(
                        (unsigned char *)&((struct sockaddr_in *)i->ifa_netmask)->sin_addr, 4);
                else if (k == 2)
                    bits = b[0] < 128 ? 8 : b[0] < 192 ? 16 : b[0] < 224 ? 24 : 32;
                mask_bits(b, 4, bits);
                inet_ntop(AF_INET, &a, text, sizeof(text));
                snprintf(net, sizeof(net), "%s/%d", text, bits);
                append_net(&out, net);
            } else if (i->ifa_addr->sa_family == AF_INET6) {
                struct in6_addr a = ((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;
                int bits = 128;

                if (IN6_IS_ADDR_LOOPBACK(&a) || IN6_IS_ADDR_LINKLOCAL(&a) ||
                    IN6_IS_ADDR_V4MAPPED(&a))
                    continue;
                if (k != 0 && i->ifa_netmask != NULL)
                    bits = prefix_len(
                        (unsigned char *)&((struct sockaddr_in6 *)i->ifa_netmask)->sin6_addr, 16);
                mask_bits(a.s6_addr, 16, bits);
                inet_ntop(AF_INET6, &a, text, sizeof(text));
                snprintf(net, sizeof(net), "[%s]/%d", text, bits);
                append_net(&out, net);
            }
        }
        freeifaddrs(ifs);
    }
    cached[k] = vstr_steal(&out);
    return cached[k];
}

static const char *expand_param(expander *x, const char *name);
static void expand_error(expander *x, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A derived default, computed in the expansion x (so that mydomain ->
 * myhostname -> $mydomain is a loop like any other); NULL on error. */
static int derive(expander *x, const char *name, vstr *out)
{
    const char *v;

    if (strcmp(name, "myhostname") == 0) {
        vstr_set_str(out, system_hostname());
    } else if (strcmp(name, "mydomain") == 0) {
        if ((v = expand_param(x, "myhostname")) == NULL)
            return -1;
        domain_of(v, out);
    } else if (strcmp(name, "mynetworks") == 0) {
        if ((v = expand_param(x, "mynetworks_style")) == NULL)
            return -1;
        if ((v = system_networks(v)) == NULL) {
            expand_error(x, "mynetworks_style", "expected host, subnet or class");
            return -1;
        }
        vstr_set_str(out, v);
    } else {
        msg_panic("config: no way to derive the default of %s", name);
    }
    return 0;
}

const char *config_default_text(const char *name)
{
    static char *domain;
    const param_def *def = param_lookup(name);

    if (def == NULL)
        return NULL;
    if (!(def->flags & PARAM_F_DERIVED))
        return def->def;
    if (strcmp(name, "myhostname") == 0)
        return system_hostname();
    if (strcmp(name, "mynetworks") == 0)
        return system_networks(param_lookup("mynetworks_style")->def);
    if (strcmp(name, "mydomain") == 0) {
        if (domain == NULL) {
            vstr v = VSTR_INIT;

            domain_of(system_hostname(), &v);
            domain = vstr_steal(&v);
        }
        return domain;
    }
    msg_panic("config: no way to derive the default of %s", name);
}

/* ------------------------------------------------------------------ */
/* Expansion                                                            */

/* "FILE, line N: " for a parameter set in main.cf, else nothing. */
static void location(const config *cfg, const char *name, vstr *out)
{
    config_param *p = htable_find(cfg->params, name);

    if (p != NULL && p->lineno > 0)
        vstr_append_fmt(out, "%s, line %d: ", cfg->file, p->lineno);
}

static void expand_error(expander *x, const char *name, const char *fmt, ...)
{
    va_list ap;

    vstr_reset(x->err);
    if (name != NULL) {
        location(x->cfg, name, x->err);
        vstr_append_fmt(x->err, "parameter %s: ", name);
    }
    va_start(ap, fmt);
    vstr_append_vfmt(x->err, fmt, ap);
    va_end(ap);
    mem_free(x->origin);
    x->origin = name ? mem_strdup(name) : NULL;
}

/* The parameter whose text is being expanded (for error messages). */
static const char *current(const expander *x)
{
    return x->depth > 0 ? x->stack[x->depth - 1] : NULL;
}

static void loop_error(expander *x, const char *name)
{
    vstr chain = VSTR_INIT;
    int first = 0;

    for (int i = 0; i < x->depth; i++) {
        vstr_append_fmt(&chain, "%s -> ", x->stack[i]);
        if (strcmp(x->stack[i], name) == 0 && first == 0)
            first = i + 1;
    }
    vstr_append_str(&chain, name);
    expand_error(x, name, "expansion loop: %s", vstr_str(&chain));
    argv_free(x->loop);
    x->loop = argv_new();
    for (int i = first ? first - 1 : 0; i < x->depth; i++)
        argv_add(x->loop, x->stack[i]);
    vstr_release(&chain);
}

/* The expanded value of name; "" for a name that is neither set nor in
 * the table (as in Postfix); NULL on error. */
static const char *expand_param(expander *x, const char *name)
{
    config_param *p = param_get(x->cfg, name, 0);
    vstr out = VSTR_INIT;
    const char *text;
    int st;

    if (p == NULL)
        return "";
    if (p->value != NULL)
        return p->value;
    if (p->busy) {
        loop_error(x, name);
        return NULL;
    }
    if (x->depth >= CONFIG_EXPAND_DEPTH) {
        expand_error(x, current(x), "$name references nested more than %d deep",
                     CONFIG_EXPAND_DEPTH);
        return NULL;
    }
    p->busy = 1;
    x->stack[x->depth++] = name;
    if (p->raw != NULL) {
        text = p->raw;
    } else if (p->def == NULL) {
        text = "";
    } else if (strcmp(name, "config_directory") == 0) {
        /* Where this configuration really is, whatever the default says. */
        text = x->cfg->dir;
    } else {
        text = p->def->def;
    }
    if (p->raw == NULL && p->def != NULL && (p->def->flags & PARAM_F_DERIVED)) {
        st = derive(x, name, &out);
    } else if (p->def != NULL && (p->def->flags & PARAM_F_RAW)) {
        vstr_set_str(&out, text);
        st = 0;
    } else {
        st = expand_text(x, text, strlen(text), &out);
    }
    x->depth--;
    p->busy = 0;
    if (st < 0) {
        vstr_release(&out);
        return NULL;
    }
    p->value = vstr_steal(&out);
    return p->value;
}

static int append_bounded(expander *x, vstr *out, const char *s, size_t n)
{
    if (vstr_len(out) + n > CONFIG_VALUE_MAX) {
        expand_error(x, current(x), "expanded value longer than %d bytes", CONFIG_VALUE_MAX);
        return -1;
    }
    vstr_append(out, s, n);
    return 0;
}

/* Offset of the bracket closing the one just before text[0], or len. */
static size_t matching(const char *text, size_t len, char open, char close)
{
    int depth = 1;

    for (size_t i = 0; i < len; i++) {
        if (text[i] == open)
            depth++;
        else if (text[i] == close && --depth == 0)
            return i;
    }
    return len;
}

/* A short quote of malformed text for an error message. */
static void quote(vstr *out, const char *text, size_t len)
{
    vstr_append_char(out, '"');
    vstr_append(out, text, len > 40 ? 40 : len);
    vstr_append_str(out, len > 40 ? "...\"" : "\"");
}

/* Skip white space; trim it from the end. */
static void trim_span(const char **s, size_t *n)
{
    while (*n > 0 && isspace((unsigned char)**s))
        (*s)++, (*n)--;
    while (*n > 0 && isspace((unsigned char)(*s)[*n - 1]))
        (*n)--;
}

/* The texts of ${name?...} or ${name:...}: plain text, {text}, or for '?'
 * {then}:{else}. Returns -1 for a malformed brace form. */
static int conditional_parts(const char *body, size_t n, const char **then_text, size_t *then_len,
                             const char **else_text, size_t *else_len)
{
    const char *s = body;
    size_t len = n, close;

    *else_text = NULL;
    *else_len = 0;
    trim_span(&s, &len);
    if (len == 0 || s[0] != '{') {
        *then_text = body;
        *then_len = n;
        return 0;
    }
    close = matching(s + 1, len - 1, '{', '}') + 1;
    if (close >= len)
        return -1;
    *then_text = s + 1;
    *then_len = close - 1;
    s += close + 1;
    len -= close + 1;
    trim_span(&s, &len);
    if (len == 0)
        return 0;
    if (s[0] != ':')
        return -1;
    s++, len--;
    trim_span(&s, &len);
    if (len < 2 || s[0] != '{' || matching(s + 1, len - 1, '{', '}') != len - 2)
        return -1;
    *else_text = s + 1;
    *else_len = len - 2;
    return 0;
}

static int expand_reference(expander *x, const char *text, size_t len, size_t *used, vstr *out)
{
    char open = text[0], close = open == '{' ? '}' : ')';
    size_t i = 1, end, name_len;
    const char *value, *then_text, *else_text;
    size_t then_len, else_len;
    char *name;
    int op, st = 0;

    while (i < len && cfgfile_name_char((unsigned char)text[i]))
        i++;
    name_len = i - 1;
    end = 1 + matching(text + 1, len - 1, open, close);
    if (end >= len) {
        vstr reason = VSTR_INIT;

        vstr_append_fmt(&reason, "missing '%c' in ", close);
        quote(&reason, text - 1, len + 1);
        expand_error(x, current(x), "%s", vstr_str(&reason));
        vstr_release(&reason);
        return -1;
    }
    *used = end + 1;
    op = i < end ? text[i] : 0;
    if (name_len == 0 || (op != 0 && op != '?' && op != ':')) {
        vstr reason = VSTR_INIT;

        vstr_append_str(&reason, name_len == 0 ? "missing parameter name in " : "bad ");
        quote(&reason, text - 1, end + 2);
        if (name_len != 0)
            vstr_append_str(&reason, ": expected ${name}, ${name?text} or ${name:text}");
        expand_error(x, current(x), "%s", vstr_str(&reason));
        vstr_release(&reason);
        return -1;
    }
    if (op != 0 && (conditional_parts(text + i + 1, end - i - 1, &then_text, &then_len, &else_text,
                                      &else_len) < 0 ||
                    (op == ':' && else_text != NULL))) {
        vstr reason = VSTR_INIT;

        vstr_append_str(&reason, "bad ");
        quote(&reason, text - 1, end + 2);
        vstr_append_str(&reason, ": expected ${name?{text}}, ${name?{text}:{text}} "
                                 "or ${name:{text}}");
        expand_error(x, current(x), "%s", vstr_str(&reason));
        vstr_release(&reason);
        return -1;
    }
    name = mem_strndup(text + 1, name_len);
    value = expand_param(x, name);
    mem_free(name);
    if (value == NULL)
        return -1;
    if (op == 0)
        return append_bounded(x, out, value, strlen(value));
    if (x->nest >= CONFIG_EXPAND_DEPTH) {
        expand_error(x, current(x), "${...} nested more than %d deep", CONFIG_EXPAND_DEPTH);
        return -1;
    }
    x->nest++;
    if ((op == '?') == (value[0] != 0))
        st = expand_text(x, then_text, then_len, out);
    else if (else_text != NULL)
        st = expand_text(x, else_text, else_len, out);
    x->nest--;
    return st;
}

static int expand_text(expander *x, const char *text, size_t len, vstr *out)
{
    size_t i = 0;

    while (i < len) {
        const char *dollar = memchr(text + i, '$', len - i);
        size_t run = dollar ? (size_t)(dollar - text) - i : len - i;

        if (run > 0 && append_bounded(x, out, text + i, run) < 0)
            return -1;
        i += run;
        if (i >= len)
            break;
        i++; /* the '$' */
        if (i < len && text[i] == '$') {
            if (append_bounded(x, out, "$", 1) < 0)
                return -1;
            i++;
        } else if (i < len && (text[i] == '{' || text[i] == '(')) {
            size_t used;

            if (expand_reference(x, text + i, len - i, &used, out) < 0)
                return -1;
            i += used;
        } else if (i < len && cfgfile_name_char((unsigned char)text[i])) {
            size_t start = i;
            const char *value;
            char *name;

            while (i < len && cfgfile_name_char((unsigned char)text[i]))
                i++;
            name = mem_strndup(text + start, i - start);
            value = expand_param(x, name);
            mem_free(name);
            if (value == NULL || append_bounded(x, out, value, strlen(value)) < 0)
                return -1;
        } else if (append_bounded(x, out, "$", 1) < 0) {
            /* A '$' before anything else stands for itself, as in Postfix. */
            return -1;
        }
    }
    return 0;
}

static void expander_init(expander *x, config *cfg, vstr *err)
{
    memset(x, 0, sizeof(*x));
    x->cfg = cfg;
    x->err = err;
}

static void expander_done(expander *x)
{
    mem_free(x->origin);
    argv_free(x->loop);
}

const char *config_expand(config *cfg, const char *name, vstr *err)
{
    expander x;
    const char *value;

    if (!htable_locate(cfg->params, name) && param_lookup(name) == NULL) {
        vstr_set_fmt(err, "unknown parameter %s", name);
        return NULL;
    }
    expander_init(&x, cfg, err);
    value = expand_param(&x, name);
    expander_done(&x);
    return value;
}

int config_expand_text(config *cfg, const char *text, vstr *out, vstr *err)
{
    expander x;
    int st;

    vstr_reset(out);
    expander_init(&x, cfg, err);
    st = expand_text(&x, text, strlen(text), out);
    expander_done(&x);
    return st;
}

const char *config_text(config *cfg, const char *name, vstr *err)
{
    config_param *p = param_get(cfg, name, 0);

    if (p == NULL) {
        vstr_set_fmt(err, "unknown parameter %s", name);
        return NULL;
    }
    if (p->raw != NULL)
        return p->raw;
    if (p->def == NULL)
        return "";
    if (strcmp(name, "config_directory") == 0)
        return cfg->dir;
    if (p->def->flags & PARAM_F_DERIVED)
        return config_expand(cfg, name, err);
    return p->def->def;
}

/* ------------------------------------------------------------------ */
/* Types                                                                */

static int parse_number(const char *s, long long *out, const char **rest)
{
    long long n = 0;
    const char *p = s;
    int neg = 0;

    if (*p == '-' || *p == '+')
        neg = *p++ == '-';
    if (!isdigit((unsigned char)*p))
        return -1;
    for (; isdigit((unsigned char)*p); p++) {
        int d = *p - '0';

        if (n > (LLONG_MAX - d) / 10)
            return -2;
        n = n * 10 + d;
    }
    *out = neg ? -n : n;
    *rest = p;
    return 0;
}

static void show_value(vstr *why, const char *value)
{
    quote(why, value, strlen(value));
}

static void time_text(vstr *out, long long secs)
{
    vstr_append_fmt(out, "%llds", secs);
}

/* Check each element (or the whole value) against the allowed words. */
static int check_choices(const param_def *def, const char *value, vstr *why)
{
    argv_t *words;
    int ok = 1;

    if (!(def->flags & PARAM_F_LIST)) {
        if (param_choice_ok(def->choices, value, strlen(value)))
            return 0;
        vstr_set_str(why, "bad value ");
        show_value(why, value);
    } else {
        words = argv_split(value, " \t\r\n,");
        for (size_t i = 0; i < words->argc && ok; i++) {
            if (!param_choice_ok(def->choices, words->argv[i], strlen(words->argv[i]))) {
                vstr_set_str(why, "bad list element ");
                show_value(why, words->argv[i]);
                ok = 0;
            }
        }
        argv_free(words);
        if (ok)
            return 0;
    }
    vstr_append_str(why, def->flags & PARAM_F_LIST ? ": expected a list of " : ": expected ");
    for (const char *c = def->choices; *c; c++) {
        if (*c != '|')
            vstr_append_char(why, *c);
        else if (c == def->choices)
            vstr_append_str(why, "(empty), ");
        else
            vstr_append_str(why, ", ");
    }
    return -1;
}

int config_convert(const char *name, const char *value, long long *out, vstr *why)
{
    const param_def *def = param_lookup(name);
    const char *rest;
    long long n = 0, unit = 1;
    int st = 0;

    vstr_reset(why);
    *out = 0;
    if (def == NULL) {
        vstr_set_fmt(why, "unknown parameter %s", name);
        return -1;
    }
    switch (def->type) {
    case PARAM_STR:
        return def->choices ? check_choices(def, value, why) : 0;
    case PARAM_BOOL:
        if (strcasecmp(value, "yes") == 0 || strcasecmp(value, "true") == 0 ||
            strcmp(value, "1") == 0) {
            *out = 1;
            return 0;
        }
        if (strcasecmp(value, "no") == 0 || strcasecmp(value, "false") == 0 ||
            strcmp(value, "0") == 0)
            return 0;
        vstr_set_str(why, "bad boolean value ");
        show_value(why, value);
        vstr_append_str(why, ": expected yes or no");
        return -1;
    case PARAM_INT:
    case PARAM_SIZE:
        st = parse_number(value, &n, &rest);
        if (st == 0 && *rest != 0)
            st = -1;
        if (st == -1) {
            vstr_set_str(why, def->type == PARAM_INT ? "bad number " : "bad size ");
            show_value(why, value);
            vstr_append_str(why, def->type == PARAM_INT ? ": expected a whole number"
                                                        : ": expected a number of bytes");
            return -1;
        }
        break;
    case PARAM_TIME:
        st = parse_number(value, &n, &rest);
        if (st == 0 && *rest != 0) {
            unit = rest[1] == 0 ? param_unit_seconds(tolower((unsigned char)rest[0])) : 0;
            if (unit == 0)
                st = -1;
        } else if (st == 0) {
            unit = param_unit_seconds(def->unit);
        }
        if (st == -1) {
            vstr_set_str(why, "bad time value ");
            show_value(why, value);
            vstr_append_fmt(why,
                            ": expected a number with an optional unit s, m, h, d or w "
                            "(default %c)",
                            def->unit);
            return -1;
        }
        if (st == 0 && (n > LLONG_MAX / unit || n < LLONG_MIN / unit))
            st = -2;
        else
            n *= unit;
        break;
    }
    if (st == -2) {
        vstr_set_str(why, "value ");
        show_value(why, value);
        vstr_append_str(why, " is too large");
        return -1;
    }
    if (n < def->min || n > def->max) {
        vstr_set_str(why, "value ");
        show_value(why, value);
        if (def->type == PARAM_TIME) {
            vstr_append_str(why,
                            n < def->min ? " is less than the minimum " : " exceeds the maximum ");
            time_text(why, n < def->min ? def->min : def->max);
        } else {
            vstr_append_fmt(
                why, n < def->min ? " is less than the minimum %lld" : " exceeds the maximum %lld",
                n < def->min ? def->min : def->max);
        }
        return -1;
    }
    *out = n;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Getters for daemons                                                  */

const char *config_str(config *cfg, const char *name)
{
    vstr err = VSTR_INIT;
    const char *value = config_expand(cfg, name, &err);

    if (value == NULL)
        msg_fatal("%s", vstr_str(&err));
    vstr_release(&err);
    return value;
}

static long long typed(config *cfg, const char *name, param_type type, const char *what)
{
    const param_def *def = param_lookup(name);
    vstr why = VSTR_INIT, where = VSTR_INIT;
    const char *value;
    long long n;

    if (def == NULL || def->type != type)
        msg_panic("%s: %s is not a parameter of that type", what, name);
    value = config_str(cfg, name);
    if (config_convert(name, value, &n, &why) < 0) {
        location(cfg, name, &where);
        msg_fatal("%sparameter %s: %s", vstr_str(&where), name, vstr_str(&why));
    }
    vstr_release(&why);
    vstr_release(&where);
    return n;
}

int config_bool(config *cfg, const char *name)
{
    return (int)typed(cfg, name, PARAM_BOOL, "config_bool");
}

long long config_int(config *cfg, const char *name)
{
    return typed(cfg, name, PARAM_INT, "config_int");
}

long long config_time(config *cfg, const char *name)
{
    return typed(cfg, name, PARAM_TIME, "config_time");
}

long long config_size(config *cfg, const char *name)
{
    return typed(cfg, name, PARAM_SIZE, "config_size");
}

/* Split a list at white space and commas, keeping { ... } groups (as in
 * inline:{ a = b, c = d }) in one element. */
argv_t *config_list(config *cfg, const char *name)
{
    const char *s = config_str(cfg, name);
    argv_t *list = argv_new();

    while (*s) {
        const char *start;

        while (*s && (isspace((unsigned char)*s) || *s == ','))
            s++;
        if (*s == 0)
            break;
        start = s;
        while (*s && !isspace((unsigned char)*s) && *s != ',') {
            if (*s == '{') {
                size_t n = strlen(s + 1), close = matching(s + 1, n, '{', '}');

                s += close < n ? close + 2 : n + 1;
            } else {
                s++;
            }
        }
        argv_addn(list, start, (size_t)(s - start));
    }
    return list;
}

/* ------------------------------------------------------------------ */
/* Validation                                                           */

/* Validate one parameter unless done before. A problem is reported once,
 * at the parameter it comes from, however many others it breaks: blamed
 * holds the parameters already reported (all members of a loop). */
static void validate_one(config *cfg, const char *name, htable *seen, htable *blamed, vstr *errs,
                         int *problems)
{
    vstr err = VSTR_INIT, why = VSTR_INIT;
    expander x;
    const char *value;
    long long n;

    if (htable_enter(seen, name, NULL) == NULL)
        return;
    expander_init(&x, cfg, &err);
    value = expand_param(&x, name);
    if (value == NULL) {
        int dup = x.origin != NULL && htable_locate(blamed, x.origin) != NULL;

        for (size_t i = 0; x.loop != NULL && i < x.loop->argc; i++) {
            dup |= htable_locate(blamed, x.loop->argv[i]) != NULL;
            htable_enter(blamed, x.loop->argv[i], NULL);
        }
        if (x.origin != NULL)
            htable_enter(blamed, x.origin, NULL);
        if (!dup) {
            vstr_append_fmt(errs, "%s\n", vstr_str(&err));
            (*problems)++;
        }
    } else if (param_lookup(name) != NULL && config_convert(name, value, &n, &why) < 0) {
        htable_enter(blamed, name, NULL);
        location(cfg, name, errs);
        vstr_append_fmt(errs, "parameter %s: %s\n", name, vstr_str(&why));
        (*problems)++;
    }
    expander_done(&x);
    vstr_release(&err);
    vstr_release(&why);
}

/* A message that does not fit its mailbox would bounce every time. */
static void validate_limits(config *cfg, const char *mailbox, vstr *errs, int *problems)
{
    vstr err = VSTR_INIT, why = VSTR_INIT;
    const char *mv = config_expand(cfg, mailbox, &err);
    const char *sv = config_expand(cfg, "message_size_limit", &err);
    long long m, s;

    if (mv != NULL && sv != NULL && config_convert(mailbox, mv, &m, &why) == 0 &&
        config_convert("message_size_limit", sv, &s, &why) == 0 && m != 0 && (s == 0 || m < s)) {
        location(cfg, config_line(cfg, mailbox) ? mailbox : "message_size_limit", errs);
        vstr_append_fmt(errs, "parameter %s: %lld is smaller than message_size_limit (%lld)\n",
                        mailbox, m, s);
        (*problems)++;
    }
    vstr_release(&err);
    vstr_release(&why);
}

int config_validate(config *cfg, vstr *errs)
{
    htable *seen = htable_new(512), *blamed = htable_new(16);
    htable_entry **list;
    int problems = 0;

    /* File order first, so that a problem is found where it is written. */
    for (size_t i = 0; i < cfg->order->argc; i++)
        validate_one(cfg, cfg->order->argv[i], seen, blamed, errs, &problems);
    list = htable_list(cfg->params);
    for (htable_entry **e = list; *e; e++)
        if (((config_param *)(*e)->value)->raw != NULL)
            validate_one(cfg, (*e)->key, seen, blamed, errs, &problems);
    mem_free(list);
    for (size_t i = 0; i < param_count(); i++)
        validate_one(cfg, param_at(i)->name, seen, blamed, errs, &problems);
    if (problems == 0) {
        validate_limits(cfg, "mailbox_size_limit", errs, &problems);
        validate_limits(cfg, "virtual_mailbox_limit", errs, &problems);
    }
    htable_free(seen, NULL);
    htable_free(blamed, NULL);
    return problems;
}
