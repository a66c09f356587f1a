/*
 * smtpd_access - check_client_access, check_reverse_client_hostname_access,
 * check_helo_access, check_sender_access, check_recipient_access
 *
 * DESCRIPTION
 *   The table is searched in Postfix's order (smtpd_access_keys.c); the
 *   first key found decides, and its value is an action
 *   (smtpd_access_action.c):
 *
 *     OK, all digits      permit
 *     DUNNO               no decision: the next restriction
 *     REJECT, DEFER [t]   access_map_reject_code / access_map_defer_code,
 *                         "<name>: Class rejected: t" (t: Access denied)
 *     4NN t, 5NN t        that code and text
 *     DEFER_IF_REJECT     as the restriction defer_if_reject
 *     DEFER_IF_PERMIT [t] as the restriction defer_if_permit (with t)
 *     WARN [t]            a "warn:" log line; no decision
 *     HOLD, PREPEND h, REDIRECT a, FILTER t:d
 *                         logged and kept for the message (applied
 *                         through global/cleanup's action API as soon as
 *                         its queue file exists, and at the end of DATA);
 *                         no decision
 *     DISCARD [t]         kept for the message, which is accepted and
 *                         dropped; permit (nothing later can matter)
 *     anything else       a restriction list, evaluated here: a class
 *                         name, or "reject_unauth_destination, permit".
 *                         A table-taking restriction there is a
 *                         configuration error (its table would be opened
 *                         after the privilege drop).
 *
 *   A table that fails answers "451 4.3.0 <name>: Temporary lookup
 *   failure", never "not found". A value that does not parse (a bad
 *   reply code, PREPEND without a header) is a configuration error.
 *   Actions found at CONNECT or HELO (smtpd_delay_reject = no) apply to
 *   every message of the session.
 */
#include <string.h>

#include "smtpd/smtpd_access.h"
#include "smtpd/smtpd_check.h"
#include "util/mem.h"
#include "util/msg.h"


/* OK where it is not allowed: logged, no decision (Postfix's rule for
 * the MX, NS and A checks, whose hosts a sender chooses). */
static int ok_refused(const char *value, int ok_allowed, const char *name)
{
    access_action a;
    vstr why = VSTR_INIT;
    int refused;

    if (ok_allowed)
        return 0;
    access_action_init(&a);
    refused = access_action_parse(value, &a, &why) == 0 && a.kind == ACCESS_OK;
    if (refused)
        msg_warn("access table result for <%s>: OK is not allowed here; DUNNO is used", name);
    access_action_release(&a);
    vstr_release(&why);
    return refused;
}

check_result check_access_search(check_ctx *x, const check_item *it, const access_keys *k,
                                 const char *name, const char *cls, int ok_allowed)
{
    vstr value = VSTR_INIT;
    check_result res = CHECK_DUNNO;

    for (size_t i = 0; i < k->keys->argc; i++) {
        int st = k->whole[i] ? maps_find(it->table, k->keys->argv[i], &value, NULL)
                             : maps_find_fixed(it->table, k->keys->argv[i], &value, NULL);

        if (st == DICT_ERROR) {
            res = check_lookup_error(x, name, maps_error(it->table));
            break;
        }
        if (st == DICT_FOUND) {
            if (!ok_refused(vstr_str(&value), ok_allowed, k->keys->argv[i]))
                res = check_access_result(x, vstr_str(&value), name, cls);
            break;
        }
    }
    vstr_release(&value);
    return res;
}

static int parent_style(void)
{
    return addr_find_parent_style(config_str(smtpd_cf.cfg, "parent_domain_matches_subdomains"),
                                  "smtpd_access_maps");
}

/* A host name unless it is "unknown", then the address. */
static check_result client_search(check_ctx *x, const check_item *it, const vstr *host)
{
    access_keys k;
    check_result res;

    access_keys_init(&k);
    if (!vstr_equals(host, "unknown"))
        access_keys_host(&k, vstr_str(host), parent_style());
    if (!vstr_equals(&x->s->addr, "unknown"))
        access_keys_ipaddr(&k, vstr_str(&x->s->addr));
    res = check_access_search(x, it, &k, vstr_str(&x->s->namaddr), "Client host", 1);
    access_keys_release(&k);
    return res;
}

check_result check_client_access(check_ctx *x, const check_item *it)
{
    return client_search(x, it, &x->s->name);
}

check_result check_reverse_client_access(check_ctx *x, const check_item *it)
{
    return client_search(x, it, &x->s->reverse_name);
}

check_result check_helo_access(check_ctx *x, const check_item *it)
{
    access_keys k;
    check_result res;

    if (x->helo == NULL)
        return CHECK_DUNNO;
    access_keys_init(&k);
    access_keys_host(&k, x->helo, parent_style());
    res = check_access_search(x, it, &k, x->helo, "Helo command", 1);
    access_keys_release(&k);
    return res;
}

static check_result address_search(check_ctx *x, const check_item *it, const char *addr,
                                   const char *cls)
{
    access_keys k;
    check_result res;

    access_keys_init(&k);
    access_keys_address(&k, addr, &smtpd_cf.addr_opts, parent_style(),
                        config_str(smtpd_cf.cfg, "smtpd_null_access_lookup_key"));
    res = check_access_search(x, it, &k, addr, cls, 1);
    access_keys_release(&k);
    return res;
}

check_result check_sender_access(check_ctx *x, const check_item *it)
{
    if (x->sender == NULL)
        return CHECK_DUNNO;
    return address_search(x, it, x->sender, "Sender address");
}

check_result check_recipient_access(check_ctx *x, const check_item *it)
{
    if (x->rcpt == NULL)
        return CHECK_DUNNO;
    return address_search(x, it, x->rcpt, "Recipient address");
}

/* Keep a message action (the table value) for smtpd_access_apply. */
static void keep_action(check_ctx *x, const char *value)
{
    int session = strcmp(x->cmd, "CONNECT") == 0 || strcmp(x->cmd, "HELO") == 0;
    argv_t **list = session ? &x->s->session_actions : &x->s->actions;

    if (*list == NULL)
        *list = argv_new();
    argv_add(*list, value);
}

/* "<name>: Class triggers WORD action" or the table's own text. */
static void log_action(check_ctx *x, const char *what, const char *word, const access_action *a,
                       const char *name, const char *cls)
{
    vstr text = VSTR_INIT;

    if (vstr_len(&a->text) && a->kind == ACCESS_WARN)
        vstr_set(&text, vstr_str(&a->text), vstr_len(&a->text)); /* Postfix logs it alone */
    else if (vstr_len(&a->text) && a->kind != ACCESS_PREPEND)
        vstr_set_fmt(&text, "<%s>: %s %s", name, cls, vstr_str(&a->text));
    else
        vstr_set_fmt(&text, "<%s>: %s triggers %s action", name, cls, word);
    if (a->kind == ACCESS_REDIRECT || a->kind == ACCESS_FILTER)
        vstr_set_fmt(&text, "<%s>: %s triggers %s %s", name, cls, word, vstr_str(&a->text));
    check_log(x, what, vstr_str(&text));
    vstr_release(&text);
}

static check_result refusal(check_ctx *x, const access_action *a, const char *name,
                            const char *cls)
{
    int code = a->code ? a->code
               : a->is_defer ? smtpd_cf.access_map_defer_code
                             : smtpd_cf.access_map_reject_code;
    const char *dsn = vstr_str(&a->dsn);
    const char *text = vstr_len(&a->text) ? vstr_str(&a->text) : "Access denied";
    vstr tail = VSTR_INIT;
    check_result res;

    /* REJECT "5.7.2 text": the status code leads the text. */
    if (a->code == 0 && (text[0] == '4' || text[0] == '5') && text[1] == '.' &&
        strchr(text, ' ') != NULL) {
        vstr_set(&tail, text, (size_t)(strchr(text, ' ') - text));
        dsn = vstr_str(&tail);
        text = strchr(text, ' ') + 1;
    }
    /* A status code of the other class is replaced by the reply's. */
    if (*dsn == 0 || *dsn - '0' != code / 100)
        dsn = code >= 500 ? "5.7.1" : "4.7.1";
    res = check_reject(x, "%d %s <%s>: %s rejected: %s", code, dsn, name, cls, text);
    vstr_release(&tail);
    return res;
}

/* HOLD, DISCARD, REDIRECT, FILTER, PREPEND: logged (PREPEND aside) and
 * kept for the message; DISCARD permits, the others decide nothing. */
static check_result message_action(check_ctx *x, const access_action *a, const char *value,
                                   const char *name, const char *cls)
{
    static const struct {
        access_action_kind kind;
        const char *what, *word;
    } logged[] = {
        {ACCESS_HOLD, "hold", "HOLD"},
        {ACCESS_DISCARD, "discard", "DISCARD"},
        {ACCESS_REDIRECT, "redirect", "REDIRECT"},
        {ACCESS_FILTER, "filter", "FILTER"},
    };

    for (size_t i = 0; i < sizeof(logged) / sizeof(logged[0]); i++)
        if (logged[i].kind == a->kind)
            log_action(x, logged[i].what, logged[i].word, a, name, cls);
    keep_action(x, value);
    return a->kind == ACCESS_DISCARD ? CHECK_PERMIT : CHECK_DUNNO;
}

check_result check_access_result(check_ctx *x, const char *value, const char *name,
                                 const char *cls)
{
    access_action a;
    vstr why = VSTR_INIT;
    check_result res = CHECK_DUNNO;
    check_list l;

    access_action_init(&a);
    if (access_action_parse(value, &a, &why) < 0) {
        res = check_config_error(x, "bad access table result for <%s>: %s", name,
                                 vstr_str(&why));
        goto done;
    }
    switch (a.kind) {
    case ACCESS_OK:
        res = CHECK_PERMIT;
        break;
    case ACCESS_DUNNO:
        break;
    case ACCESS_REJECT:
        res = refusal(x, &a, name, cls);
        break;
    case ACCESS_DEFER_IF_REJECT:
        x->defer_if_reject = 1;
        break;
    case ACCESS_DEFER_IF_PERMIT:
        x->defer_if_permit = 1;
        vstr_set_fmt(&x->permit_defer, "%d 4.7.1 <%s>: %s rejected: %s", smtpd_cf.defer_code,
                     name, cls, vstr_len(&a.text) ? vstr_str(&a.text) : "Access denied");
        break;
    case ACCESS_WARN:
        log_action(x, "warn", "WARN", &a, name, cls);
        break;
    case ACCESS_HOLD:
    case ACCESS_DISCARD:
    case ACCESS_REDIRECT:
    case ACCESS_FILTER:
    case ACCESS_PREPEND:
        res = message_action(x, &a, value, name, cls);
        break;
    case ACCESS_RESTRICTIONS:
        if (check_list_compile(&l, x->param, vstr_str(&a.text), 0) < 0)
            res = check_config_error(x, "access table result for <%s>: %s", name, l.error);
        else
            res = check_list_eval(x, &l);
        check_list_release(&l);
        break;
    }
done:
    access_action_release(&a);
    vstr_release(&why);
    return res;
}

/* Apply kept actions to the message's queue file. */
static void apply_list(smtpd_state *s, const argv_t *list)
{
    access_action a;
    vstr why = VSTR_INIT;

    access_action_init(&a);
    for (size_t i = 0; list != NULL && i < list->argc; i++) {
        if (access_action_parse(list->argv[i], &a, &why) < 0)
            continue; /* refused when it was found */
        switch (a.kind) {
        case ACCESS_HOLD:
            cleanup_hold(s->cleanup, NULL, vstr_str(&a.text));
            break;
        case ACCESS_DISCARD:
            cleanup_discard(s->cleanup, NULL, vstr_str(&a.text));
            break;
        case ACCESS_REDIRECT:
            if (cleanup_redirect(s->cleanup, vstr_str(&a.text), NULL) < 0)
                msg_warn("access table: REDIRECT to an unusable address: %s",
                         vstr_str(&a.text));
            break;
        case ACCESS_FILTER:
            (void)cleanup_filter(s->cleanup, vstr_str(&a.text), NULL);
            break;
        case ACCESS_PREPEND:
            (void)cleanup_prepend_header(s->cleanup, vstr_str(&a.text));
            break;
        default:
            break;
        }
    }
    access_action_release(&a);
    vstr_release(&why);
}

void smtpd_access_apply(smtpd_state *s)
{
    if (s->cleanup == NULL)
        return;
    if (!s->session_actions_applied) {
        apply_list(s, s->session_actions);
        s->session_actions_applied = 1;
    }
    apply_list(s, s->actions);
    argv_free(s->actions);
    s->actions = NULL;
}
