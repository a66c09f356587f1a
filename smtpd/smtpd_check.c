/*
 * smtpd_check - the restriction engine: which lists apply when, and how
 * a list decides
 *
 * DESCRIPTION
 *   Seven lists, Postfix's: smtpd_client_restrictions,
 *   smtpd_helo_restrictions, smtpd_sender_restrictions,
 *   smtpd_relay_restrictions, smtpd_recipient_restrictions,
 *   smtpd_data_restrictions and smtpd_end_of_data_restrictions. With
 *   smtpd_delay_reject = yes (the default) the client, HELO and sender
 *   lists are evaluated at each RCPT, before the relay and recipient
 *   lists, so every rejection names its recipient; with "no" they are
 *   evaluated at the connection, HELO/EHLO and MAIL. The data list is
 *   evaluated at DATA (and the first BDAT chunk), the end-of-data list
 *   once the content is in, before the queue file is committed.
 *
 *   A list is evaluated in order; the first restriction that permits or
 *   rejects decides that list, and the next list is evaluated. All lists
 *   passing (explicitly or not) is a permit. Beside the restrictions:
 *   - warn_if_reject: the next restriction's reject is only logged
 *     ("reject_warning: ...") and evaluation goes on;
 *   - defer_if_reject: a later 5xx reject at this command is answered
 *     with defer_code (4xx) instead;
 *   - defer_if_permit: if this command ends in a permit, it is answered
 *     with defer_code instead;
 *   - a name from smtpd_restriction_classes stands for the list set in
 *     the parameter of that name (usable in lists and access tables).
 *
 *   Safety rules. No main.cf makes an open relay by accident: unless the
 *   relay or recipient list can refuse a foreign destination (reject,
 *   defer, reject_unauth_destination, defer_unauth_destination, or a
 *   class holding one), every recipient is refused with a configuration
 *   error. An unknown restriction name, a table-taking restriction
 *   without its table and a class nested too deep are configuration
 *   errors too: "451 4.3.5 Server configuration error" and a log line
 *   naming the parameter, never a permit. A table that cannot be read
 *   answers "451 4.3.0 ... Temporary lookup failure", never "not found".
 *
 *   After the RCPT lists: an address that global/resolve cannot deliver
 *   as written is refused with its status, and with
 *   smtpd_reject_unlisted_recipient (default yes) an address in a local
 *   or virtual domain must be in its recipient table (smtpd_unlisted.c).
 */
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>

#include "global/dns.h"
#include "smtpd/smtpd.h"
#include "smtpd/smtpd_check.h"
#include "util/mem.h"
#include "util/msg.h"

/* The deepest nesting of classes and access-table results. */
#define CHECK_MAX_DEPTH 16

static const check_restriction restrictions[] = {
    {"check_client_a_access", check_client_a_access, CHECK_TABLE},
    {"check_client_access", check_client_access, CHECK_TABLE},
    {"check_client_mx_access", check_client_mx_access, CHECK_TABLE},
    {"check_client_ns_access", check_client_ns_access, CHECK_TABLE},
    {"check_helo_a_access", check_helo_a_access, CHECK_TABLE},
    {"check_helo_access", check_helo_access, CHECK_TABLE},
    {"check_helo_mx_access", check_helo_mx_access, CHECK_TABLE},
    {"check_helo_ns_access", check_helo_ns_access, CHECK_TABLE},
    {"check_policy_service", check_policy_service, CHECK_ARG},
    {"check_recipient_a_access", check_recipient_a_access, CHECK_TABLE},
    {"check_recipient_access", check_recipient_access, CHECK_TABLE},
    {"check_recipient_mx_access", check_recipient_mx_access, CHECK_TABLE},
    {"check_recipient_ns_access", check_recipient_ns_access, CHECK_TABLE},
    {"check_reverse_client_a_access", check_reverse_client_a_access, CHECK_TABLE},
    {"check_reverse_client_hostname_access", check_reverse_client_access, CHECK_TABLE},
    {"check_reverse_client_mx_access", check_reverse_client_mx_access, CHECK_TABLE},
    {"check_reverse_client_ns_access", check_reverse_client_ns_access, CHECK_TABLE},
    {"check_sender_a_access", check_sender_a_access, CHECK_TABLE},
    {"check_sender_access", check_sender_access, CHECK_TABLE},
    {"check_sender_mx_access", check_sender_mx_access, CHECK_TABLE},
    {"check_sender_ns_access", check_sender_ns_access, CHECK_TABLE},
    {"defer", check_defer_all, CHECK_GUARDS},
    {"defer_if_permit", check_defer_if_permit, 0},
    {"defer_if_reject", check_defer_if_reject, 0},
    {"defer_unauth_destination", check_defer_unauth_destination, CHECK_GUARDS},
    {"permit", check_permit, 0},
    {"permit_auth_destination", check_permit_auth_destination, 0},
    {"permit_dnswl_client", check_permit_dnswl_client, CHECK_ARG},
    {"permit_mynetworks", check_permit_mynetworks, 0},
    {"permit_sasl_authenticated", check_permit_sasl_authenticated, 0},
    {"permit_tls_clientcerts", check_permit_tls_clientcerts, 0},
    {"reject", check_reject_all, CHECK_GUARDS},
    {"reject_authenticated_sender_login_mismatch",
     check_reject_authenticated_sender_login_mismatch, 0},
    {"reject_invalid_helo_hostname", check_reject_invalid_helo, 0},
    {"reject_invalid_hostname", check_reject_invalid_helo, 0}, /* Postfix < 2.3 name */
    {"reject_non_fqdn_helo_hostname", check_reject_non_fqdn_helo, 0},
    {"reject_non_fqdn_hostname", check_reject_non_fqdn_helo, 0}, /* Postfix < 2.3 name */
    {"reject_non_fqdn_recipient", check_reject_non_fqdn_recipient, 0},
    {"reject_non_fqdn_sender", check_reject_non_fqdn_sender, 0},
    {"reject_rbl_client", check_reject_rbl_client, CHECK_ARG},
    {"reject_rhsbl_client", check_reject_rhsbl_client, CHECK_ARG},
    {"reject_rhsbl_helo", check_reject_rhsbl_helo, CHECK_ARG},
    {"reject_rhsbl_recipient", check_reject_rhsbl_recipient, CHECK_ARG},
    {"reject_rhsbl_reverse_client", check_reject_rhsbl_reverse_client, CHECK_ARG},
    {"reject_rhsbl_sender", check_reject_rhsbl_sender, CHECK_ARG},
    {"reject_sender_login_mismatch", check_reject_sender_login_mismatch, 0},
    {"reject_unauth_destination", check_reject_unauth_destination, CHECK_GUARDS},
    {"reject_unauth_pipelining", check_reject_unauth_pipelining, 0},
    {"reject_unauthenticated_sender_login_mismatch",
     check_reject_unauthenticated_sender_login_mismatch, 0},
    {"reject_unknown_client", check_reject_unknown_client, 0}, /* Postfix < 2.3 name */
    {"reject_unknown_client_hostname", check_reject_unknown_client, 0},
    {"reject_unknown_helo_hostname", check_reject_unknown_helo, 0},
    {"reject_unknown_hostname", check_reject_unknown_helo, 0}, /* Postfix < 2.3 name */
    {"reject_unknown_recipient_domain", check_reject_unknown_recipient_domain, 0},
    {"reject_unknown_reverse_client_hostname", check_reject_unknown_reverse_client, 0},
    {"reject_unknown_sender_domain", check_reject_unknown_sender_domain, 0},
    {"reject_unlisted_recipient", check_reject_unlisted_recipient, 0},
    {"reject_unlisted_sender", check_reject_unlisted_sender, 0},
    {"warn_if_reject", check_warn_if_reject, 0},
};
#define NRESTRICTIONS (sizeof(restrictions) / sizeof(restrictions[0]))

/* The lists, by the command that evaluates them. */
enum { L_CLIENT, L_HELO, L_SENDER, L_RELAY, L_RECIPIENT, L_DATA, L_EOD, L_COUNT };

static const struct list_def {
    const char *param;
    const char *reply_class;
} list_defs[L_COUNT] = {
    [L_CLIENT] = {"smtpd_client_restrictions", "Client host"},
    [L_HELO] = {"smtpd_helo_restrictions", "Helo command"},
    [L_SENDER] = {"smtpd_sender_restrictions", "Sender address"},
    [L_RELAY] = {"smtpd_relay_restrictions", "Recipient address"},
    [L_RECIPIENT] = {"smtpd_recipient_restrictions", "Recipient address"},
    [L_DATA] = {"smtpd_data_restrictions", "Data command"},
    [L_EOD] = {"smtpd_end_of_data_restrictions", "End-of-data"},
};

static check_list lists[L_COUNT];
static check_list *classes; /* smtpd_restriction_classes, compiled */
static size_t nclasses;
static int delay_reject;
static int relay_guarded;

static const check_restriction *find_restriction(const char *name)
{
    for (size_t i = 0; i < NRESTRICTIONS; i++)
        if (strcasecmp(name, restrictions[i].name) == 0)
            return &restrictions[i];
    return NULL;
}

const check_list *check_class_find(const char *name)
{
    for (size_t i = 0; i < nclasses; i++)
        if (strcasecmp(name, classes[i].param) == 0)
            return &classes[i];
    return NULL;
}

/* Is name one of smtpd_restriction_classes (compiled or not yet)? */
static int class_named(const char *name)
{
    argv_t *names = config_list(smtpd_cf.cfg, "smtpd_restriction_classes");
    int found = 0;

    for (size_t i = 0; i < names->argc && !found; i++)
        found = strcasecmp(names->argv[i], name) == 0;
    argv_free(names);
    return found;
}

/* The check a bare "type:table" stands for in list param, or NULL. */
static const check_restriction *implicit_table_check(const char *param)
{
    static const char *const implicit[][2] = {
        {"smtpd_client_restrictions", "check_client_access"},
        {"smtpd_helo_restrictions", "check_helo_access"},
        {"smtpd_sender_restrictions", "check_sender_access"},
        {"smtpd_relay_restrictions", "check_recipient_access"},
        {"smtpd_recipient_restrictions", "check_recipient_access"},
    };

    for (size_t i = 0; i < sizeof(implicit) / sizeof(implicit[0]); i++)
        if (strcmp(param, implicit[i][0]) == 0)
            return find_restriction(implicit[i][1]);
    return NULL;
}

static int list_fail(check_list *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int list_fail(check_list *l, const char *fmt, ...)
{
    vstr why = VSTR_INIT;
    va_list ap;

    va_start(ap, fmt);
    vstr_append_vfmt(&why, fmt, ap);
    va_end(ap);
    mem_free(l->error);
    l->error = vstr_steal(&why);
    return -1;
}

int check_list_compile(check_list *l, const char *param, const char *text, int open_tables)
{
    argv_t *words = maps_split(text);
    size_t i = 0;

    memset(l, 0, sizeof(*l));
    l->param = mem_strdup(param);
    l->items = mem_alloc((words->argc + 1) * sizeof(*l->items));
    while (i < words->argc) {
        const char *name = words->argv[i++];
        check_item *it = &l->items[l->count];

        memset(it, 0, sizeof(*it));
        it->r = find_restriction(name);
        if (it->r == NULL && strchr(name, ':') != NULL && open_tables &&
            (it->r = implicit_table_check(param)) != NULL) {
            /* Postfix's older form: a bare table is the list's own check. */
            it->arg = mem_strdup(name);
            it->table = maps_open(param, it->arg, O_RDONLY, 0);
            it->name = mem_strdup(name);
            l->count++;
            continue;
        }
        if (it->r == NULL && !class_named(name)) {
            list_fail(l, "unknown restriction \"%s\"", name);
            break;
        }
        if (it->r != NULL && (it->r->flags & (CHECK_TABLE | CHECK_ARG))) {
            if (i == words->argc) {
                list_fail(l, "restriction \"%s\" needs %s", name,
                          it->r->flags & CHECK_TABLE ? "a table" : "an argument");
                break;
            }
            if ((it->r->flags & CHECK_TABLE) && !open_tables) {
                list_fail(l, "restriction \"%s\" is not allowed in a lookup table result", name);
                break;
            }
            it->arg = mem_strdup(words->argv[i++]);
            if (it->r->flags & CHECK_TABLE)
                it->table = maps_open(param, it->arg, O_RDONLY, 0);
        }
        it->name = mem_strdup(name);
        l->count++;
    }
    argv_free(words);
    return l->error ? -1 : 0;
}

void check_list_release(check_list *l)
{
    for (size_t i = 0; i < l->count; i++) {
        mem_free(l->items[i].name);
        mem_free(l->items[i].arg);
        if (l->items[i].table)
            maps_free(l->items[i].table);
    }
    mem_free(l->items);
    mem_free(l->param);
    mem_free(l->error);
    memset(l, 0, sizeof(*l));
}

/* Can this list (or a class it names) refuse a foreign destination? */
static int list_guards(const check_list *l, int depth)
{
    for (size_t i = 0; i < l->count; i++) {
        const check_item *it = &l->items[i];
        const check_list *cls;

        if (it->r != NULL ? (it->r->flags & CHECK_GUARDS) != 0
                          : depth < CHECK_MAX_DEPTH && (cls = check_class_find(it->name)) &&
                                list_guards(cls, depth + 1))
            return 1;
    }
    return 0;
}

check_result check_reject(check_ctx *x, const char *fmt, ...)
{
    va_list ap;

    vstr_reset(&x->reply);
    va_start(ap, fmt);
    vstr_append_vfmt(&x->reply, fmt, ap);
    va_end(ap);
    return CHECK_REJECT;
}

check_result check_reject_generic(check_ctx *x, int code, const char *dsn, const char *text)
{
    return check_reject(x, "%d %s <%s>: %s rejected: %s", code, dsn, x->reply_name,
                        x->reply_class, text);
}

check_result check_config_error(check_ctx *x, const char *fmt, ...)
{
    vstr why = VSTR_INIT;
    va_list ap;

    va_start(ap, fmt);
    vstr_append_vfmt(&why, fmt, ap);
    va_end(ap);
    msg_warn("%s: %s; answering 451 4.3.5 Server configuration error", x->param,
             vstr_str(&why));
    vstr_release(&why);
    vstr_set_str(&x->reply, "451 4.3.5 Server configuration error");
    return CHECK_ERROR;
}

check_result check_lookup_error(check_ctx *x, const char *name, const char *why)
{
    msg_warn("%s: %s", x->param, why);
    vstr_set_fmt(&x->reply, "451 4.3.0 <%s>: Temporary lookup failure", name);
    return CHECK_ERROR;
}

void check_log(const check_ctx *x, const char *what, const char *text)
{
    smtpd_log_event(x->s, what, x->cmd, x->rcpt, text);
}

static check_result eval_item(check_ctx *x, const check_item *it)
{
    const check_list *cls;

    if (it->r != NULL)
        return it->r->fn(x, it);
    if ((cls = check_class_find(it->name)) == NULL)
        return check_config_error(x, "unknown restriction class \"%s\"", it->name);
    return check_list_eval(x, cls);
}

check_result check_list_eval(check_ctx *x, const check_list *l)
{
    check_result res = CHECK_DUNNO;

    if (l->error)
        return check_config_error(x, "%s", l->error);
    if (x->depth >= CHECK_MAX_DEPTH)
        return check_config_error(x, "restriction classes nested more than %d deep at \"%s\"",
                                  CHECK_MAX_DEPTH, l->param);
    x->depth++;
    for (size_t i = 0; i < l->count && res == CHECK_DUNNO; i++) {
        int warn = x->warn_next;

        x->warn_next = 0;
        res = eval_item(x, &l->items[i]);
        if (res == CHECK_REJECT && warn) {
            check_log(x, "reject_warning", vstr_str(&x->reply));
            res = CHECK_DUNNO;
        }
    }
    x->depth--;
    return res;
}

/* Send x->reply as a reject (turned into a deferral by defer_if_reject). */
static void send_reject(check_ctx *x)
{
    const char *r = vstr_str(&x->reply);

    if (x->defer_if_reject && r[0] == '5') {
        vstr text = VSTR_INIT;
        const char *rest = r + strspn(r, "0123456789");

        rest += strspn(rest, " ");
        /* "5.7.1 text" keeps its detail as "4.7.1 text". */
        if (rest[0] == '5' && rest[1] == '.')
            vstr_set_fmt(&text, "%d 4%s", smtpd_cf.defer_code, rest + 1);
        else
            vstr_set_fmt(&text, "%d %s", smtpd_cf.defer_code, rest);
        vstr_set(&x->reply, vstr_str(&text), vstr_len(&text));
        vstr_release(&text);
    }
    smtpd_reject(x->s, x->cmd, x->rcpt, "%s", vstr_str(&x->reply));
}

static void ctx_init(check_ctx *x, smtpd_state *s, const char *cmd)
{
    memset(x, 0, sizeof(*x));
    x->s = s;
    x->cmd = cmd;
    x->helo = vstr_len(&s->helo) ? vstr_str(&s->helo) : NULL;
    x->sender = s->sender_given ? vstr_str(&s->sender) : NULL;
    resolve_result_init(&x->res);
}

static void ctx_release(check_ctx *x)
{
    resolve_result_release(&x->res);
    vstr_release(&x->reply);
    vstr_release(&x->permit_defer);
}

/* Evaluate one of the top-level lists, with its reply subject. */
static check_result eval_top(check_ctx *x, int which)
{
    const smtpd_state *s = x->s;

    x->param = list_defs[which].param;
    x->reply_class = list_defs[which].reply_class;
    switch (which) {
    case L_CLIENT:
        x->reply_name = vstr_str(&s->namaddr);
        break;
    case L_HELO:
        /* No HELO yet: there is nothing to judge. */
        if (x->helo == NULL)
            return CHECK_DUNNO;
        x->reply_name = x->helo;
        break;
    case L_SENDER:
        if (x->sender == NULL)
            return CHECK_DUNNO;
        x->reply_name = x->sender;
        break;
    case L_RELAY:
    case L_RECIPIENT:
        x->reply_name = x->rcpt;
        break;
    case L_DATA:
        x->reply_name = "DATA";
        break;
    default:
        x->reply_name = "END-OF-MESSAGE";
        break;
    }
    x->warn_next = 0; /* warn_if_reject at the end of a list applies to nothing */
    return check_list_eval(x, &lists[which]);
}

/* Evaluate lists [first..last] of `order` for one command; send the reply
 * of a refusal. 0: permitted (so far); -1: refused. */
static int run_lists(check_ctx *x, const int *order, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        check_result res = eval_top(x, order[i]);

        if (res == CHECK_ERROR) {
            smtpd_reject(x->s, x->cmd, x->rcpt, "%s", vstr_str(&x->reply));
            return -1;
        }
        if (res == CHECK_REJECT) {
            send_reject(x);
            return -1;
        }
    }
    return 0;
}

/* A permit at the end of a command's lists, after defer_if_permit. */
static int permit_or_defer(check_ctx *x)
{
    if (!x->defer_if_permit)
        return 0;
    smtpd_reject(x->s, x->cmd, x->rcpt, "%s", vstr_str(&x->permit_defer));
    return -1;
}

/* One command's lists; 0 or -1 (the reply has been sent). A
 * defer_if_permit waits in *saved for RCPT when saved is not NULL. */
static int check_stage(smtpd_state *s, const char *cmd, const int *order, size_t n,
                       vstr *saved)
{
    check_ctx x;
    int st;

    ctx_init(&x, s, cmd);
    /* DATA and after, as Postfix: with one recipient the lists (and the
     * log line) see it; with several, none of them stands for all. */
    if (s->stage == SMTPD_STAGE_RCPT && s->rcpt_count == 1) {
        x.rcpt = vstr_str(&s->last_rcpt);
        resolve_addr(&smtpd_cf.resolve.rules, x.rcpt, &x.res);
    }
    st = run_lists(&x, order, n);
    if (saved != NULL) {
        vstr_reset(saved);
        if (st == 0 && x.defer_if_permit)
            vstr_set(saved, vstr_str(&x.permit_defer), vstr_len(&x.permit_defer));
    } else if (st == 0) {
        st = permit_or_defer(&x);
    }
    ctx_release(&x);
    return st;
}

int smtpd_check_connect(smtpd_state *s)
{
    static const int order[] = {L_CLIENT};

    if (delay_reject)
        return 0;
    return check_stage(s, "CONNECT", order, 1, &s->defer_client);
}

int smtpd_check_helo(smtpd_state *s, const char *verb, const char *helo)
{
    static const int order[] = {L_HELO};
    vstr saved = VSTR_INIT;
    int st;

    if (delay_reject)
        return 0;
    /* Judged before it becomes the session's HELO name. */
    vstr_set(&saved, vstr_str(&s->helo), vstr_len(&s->helo));
    vstr_set_str(&s->helo, helo);
    st = check_stage(s, verb, order, 1, &s->defer_helo);
    vstr_set(&s->helo, vstr_str(&saved), vstr_len(&saved));
    vstr_release(&saved);
    return st;
}

/* smtpd_reject_unlisted_sender, after the sender list. 0 or -1 (sent). */
static int implicit_unlisted_sender(check_ctx *x)
{
    check_result res;

    if (!smtpd_cf.reject_unlisted_sender)
        return 0;
    x->param = "smtpd_reject_unlisted_sender";
    if ((res = check_reject_unlisted_sender(x, NULL)) == CHECK_ERROR)
        smtpd_reject(x->s, x->cmd, x->rcpt, "%s", vstr_str(&x->reply));
    else if (res == CHECK_REJECT)
        send_reject(x);
    return res == CHECK_DUNNO ? 0 : -1;
}

int smtpd_check_mail(smtpd_state *s)
{
    static const int order[] = {L_SENDER};
    check_ctx x;
    int st;

    if (delay_reject)
        return 0;
    ctx_init(&x, s, "MAIL");
    st = run_lists(&x, order, 1);
    if (st == 0)
        st = implicit_unlisted_sender(&x);
    vstr_reset(&s->defer_sender);
    if (st == 0 && x.defer_if_permit)
        vstr_set(&s->defer_sender, vstr_str(&x.permit_defer), vstr_len(&x.permit_defer));
    ctx_release(&x);
    return st;
}

/* A defer_if_permit that an earlier stage left for RCPT. */
static void earlier_defer_if_permit(check_ctx *x)
{
    const vstr *saved[] = {&x->s->defer_client, &x->s->defer_helo, &x->s->defer_sender};

    for (size_t i = 0; i < 3 && !x->defer_if_permit; i++) {
        if (vstr_len(saved[i]) == 0)
            continue;
        x->defer_if_permit = 1;
        vstr_set(&x->permit_defer, vstr_str(saved[i]), vstr_len(saved[i]));
    }
}

int smtpd_check_data(smtpd_state *s)
{
    static const int order[] = {L_DATA};

    return check_stage(s, "DATA", order, 1, NULL);
}

int smtpd_check_eod(smtpd_state *s)
{
    static const int order[] = {L_EOD};

    return check_stage(s, "END-OF-MESSAGE", order, 1, NULL);
}

int smtpd_check_rcpt(smtpd_state *s, const char *addr)
{
    static const int delayed[] = {L_CLIENT, L_HELO, L_SENDER, L_RELAY, L_RECIPIENT};
    check_ctx x;
    int status = -1;

    ctx_init(&x, s, "RCPT");
    x.rcpt = addr;
    if (!delay_reject)
        earlier_defer_if_permit(&x);
    resolve_addr(&smtpd_cf.resolve.rules, addr, &x.res);
    if (!relay_guarded) {
        x.param = "smtpd_relay_restrictions";
        check_config_error(&x, "neither it nor smtpd_recipient_restrictions can refuse mail "
                               "for other destinations");
        smtpd_reject(s, "RCPT", addr, "%s", vstr_str(&x.reply));
    } else if (run_lists(&x, delay_reject ? delayed : delayed + 3, delay_reject ? 5 : 2) < 0 ||
               (delay_reject && implicit_unlisted_sender(&x) < 0)) {
        /* refused */
    } else if (x.res.rclass == RESOLVE_ERROR) {
        smtpd_reject(s, "RCPT", addr, "%d %s <%s>: Recipient address rejected: %s",
                     x.res.status[0] == '4' ? 450 : 550, x.res.status, addr,
                     vstr_str(&x.res.reason));
    } else {
        check_result res = CHECK_DUNNO;

        if (smtpd_cf.reject_unlisted_recipient) {
            x.param = "smtpd_reject_unlisted_recipient";
            res = check_reject_unlisted_recipient(&x, NULL);
        }
        if (res == CHECK_ERROR)
            smtpd_reject(s, "RCPT", addr, "%s", vstr_str(&x.reply));
        else if (res == CHECK_REJECT)
            send_reject(&x);
        else
            status = permit_or_defer(&x);
    }
    ctx_release(&x);
    return status;
}

int smtpd_check_mynetworks(const smtpd_state *s, vstr *why)
{
    return cidr_list_match(smtpd_cf.mynetworks, vstr_str(&s->addr), why);
}

static void compile_param(check_list *l, config *cfg, const char *param)
{
    vstr err = VSTR_INIT;
    const char *text = config_expand(cfg, param, &err);

    if (text == NULL) {
        memset(l, 0, sizeof(*l));
        l->param = mem_strdup(param);
        list_fail(l, "%s", vstr_str(&err));
    } else {
        check_list_compile(l, param, text, 1);
    }
    if (l->error)
        msg_warn("%s: %s; every command it applies to will be answered 451 4.3.5", param,
                 l->error);
    vstr_release(&err);
}

void smtpd_check_init(config *cfg)
{
    argv_t *names = config_list(cfg, "smtpd_restriction_classes");

    delay_reject = config_bool(cfg, "smtpd_delay_reject");
    check_unlisted_init(cfg);
    dns_configure(cfg);
    check_dnsbl_init(cfg);
    check_policy_init(cfg);
    check_login_init(cfg);
    classes = mem_alloc((names->argc + 1) * sizeof(*classes));
    for (nclasses = 0; nclasses < names->argc; nclasses++)
        compile_param(&classes[nclasses], cfg, names->argv[nclasses]);
    argv_free(names);
    for (int i = 0; i < L_COUNT; i++)
        compile_param(&lists[i], cfg, list_defs[i].param);
    relay_guarded = list_guards(&lists[L_RELAY], 0) || list_guards(&lists[L_RECIPIENT], 0);
    if (!relay_guarded)
        msg_warn("neither smtpd_relay_restrictions nor smtpd_recipient_restrictions can refuse "
                 "mail for other destinations (reject_unauth_destination); every recipient "
                 "will be refused");
}

/* Open the tables of a list again that were rebuilt (postmap) since. */
static void list_refresh(check_list *l)
{
    for (size_t i = 0; i < l->count; i++)
        if (l->items[i].table != NULL)
            (void)maps_refresh(&l->items[i].table, l->items[i].arg, O_RDONLY, 0);
}

void smtpd_check_refresh(void)
{
    check_unlisted_refresh();
    check_login_refresh();
    for (int i = 0; i < L_COUNT; i++)
        list_refresh(&lists[i]);
    for (size_t i = 0; i < nclasses; i++)
        list_refresh(&classes[i]);
}

void smtpd_check_free(void)
{
    check_unlisted_free();
    check_dnsbl_free();
    check_policy_free();
    check_login_free();
    for (int i = 0; i < L_COUNT; i++)
        check_list_release(&lists[i]);
    for (size_t i = 0; i < nclasses; i++)
        check_list_release(&classes[i]);
    mem_free(classes);
    classes = NULL;
    nclasses = 0;
}
