/*
 * smtpd_check - may this recipient be accepted? Relay control and
 * local recipients
 *
 * At RCPT, in this order, as in Postfix:
 *
 *   1. smtpd_relay_restrictions, then smtpd_recipient_restrictions:
 *      ordered lists where the first restriction that permits or rejects
 *      decides the list (table below). Unless one of the lists can refuse
 *      a foreign destination (reject, defer, reject_unauth_destination,
 *      defer_unauth_destination), every recipient is refused with a
 *      configuration error: no main.cf makes an open relay by accident.
 *   2. An address that global/resolve cannot deliver as written (a
 *      routing trick aimed at a local domain, a malformed domain) is
 *      refused with its status, not accepted and bounced later.
 *   3. For the local domains: the local part (and, with
 *      recipient_delimiter, the part before the extension) must be a key
 *      in one of the tables of local_recipient_maps (default
 *      "unix:passwd.byname $alias_maps"). In an instance not started as
 *      root, unix:passwd.byname stands for the one account that runs it,
 *      as for local(8), which delivers to no one else there. An empty
 *      local_recipient_maps turns the check off.
 *   4. For virtual_mailbox_domains, when virtual_mailbox_maps is set: the
 *      address must be a key there, by local(8)'s keys (user+ext@domain,
 *      user@domain, @domain).
 *
 * The destination is "authorized" (for the *_unauth_destination
 * restrictions) when global/resolve, with the rules qmgr uses, puts it
 * in mydestination, virtual_mailbox_domains or relay_domains, and its
 * local part holds no routing operator ('@', '!', '%'): no percent
 * hack, bang path or quoted "a@b"@here may relay. A source route is
 * dropped by the parser, so "<@here:u@elsewhere>" is judged as
 * u@elsewhere.
 */
#include <fcntl.h>
#include <string.h>
#include <strings.h>

#include "global/resolve.h"
#include "smtpd/smtpd.h"
#include "util/mem.h"
#include "util/msg.h"

typedef enum check_result {
    CHECK_DUNNO, /* no decision: the next restriction */
    CHECK_PERMIT,
    CHECK_REJECT, /* the reply has been sent and logged */
} check_result;

typedef struct check_ctx {
    smtpd_state *s;
    const char *rcpt;
    resolve_result res;
} check_ctx;

typedef struct restriction {
    const char *name;
    check_result (*fn)(check_ctx *x);
    int guards; /* can refuse a foreign destination */
} restriction;

/* Does the local part hold '@', '!' or '%'? */
static int has_routing(const char *addr)
{
    const char *at = strrchr(addr, '@');
    size_t n = at ? (size_t)(at - addr) : strlen(addr);

    for (size_t i = 0; i < n; i++)
        if (addr[i] == '@' || addr[i] == '!' || addr[i] == '%')
            return 1;
    return 0;
}

/* 1: ours to accept; 0: a foreign destination; -1: a table failed (the
 * 451 has been sent). */
static int auth_destination(check_ctx *x)
{
    switch (x->res.rclass) {
    case RESOLVE_LOCAL:
    case RESOLVE_VIRTUAL:
    case RESOLVE_RELAY:
        return !has_routing(x->rcpt);
    case RESOLVE_ERROR:
        if (x->res.status[0] == '4') {
            msg_warn("%s: %s", x->rcpt, vstr_str(&x->res.reason));
            smtpd_reject(x->s, "RCPT", x->rcpt, "451 4.3.0 <%s>: Temporary lookup failure",
                         x->rcpt);
            return -1;
        }
        return 0;
    default:
        return 0;
    }
}

static check_result unauth_destination(check_ctx *x, int code, const char *dsn)
{
    int ok = auth_destination(x);

    if (ok < 0)
        return CHECK_REJECT;
    if (ok)
        return CHECK_DUNNO;
    smtpd_reject(x->s, "RCPT", x->rcpt, "%d %s <%s>: Relay access denied", code, dsn, x->rcpt);
    return CHECK_REJECT;
}

static check_result r_reject_unauth_destination(check_ctx *x)
{
    return unauth_destination(x, smtpd_cf.relay_reject_code,
                              smtpd_cf.relay_reject_code < 500 ? "4.7.1" : "5.7.1");
}

static check_result r_defer_unauth_destination(check_ctx *x)
{
    return unauth_destination(x, 454, "4.7.1");
}

static check_result r_permit_auth_destination(check_ctx *x)
{
    int ok = auth_destination(x);

    return ok < 0 ? CHECK_REJECT : ok ? CHECK_PERMIT : CHECK_DUNNO;
}

static check_result r_permit_mynetworks(check_ctx *x)
{
    return smtpd_check_mynetworks(x->s) ? CHECK_PERMIT : CHECK_DUNNO;
}

/* hook: true once AUTH exists and the client has authenticated. */
static check_result r_permit_sasl_authenticated(check_ctx *x)
{
    (void)x;
    return CHECK_DUNNO;
}

static check_result r_permit(check_ctx *x)
{
    (void)x;
    return CHECK_PERMIT;
}

static check_result r_reject(check_ctx *x)
{
    smtpd_reject(x->s, "RCPT", x->rcpt,
                 "554 5.7.1 <%s>: Recipient address rejected: Access denied", x->rcpt);
    return CHECK_REJECT;
}

static check_result r_defer(check_ctx *x)
{
    smtpd_reject(x->s, "RCPT", x->rcpt,
                 "450 4.7.1 <%s>: Recipient address rejected: Access denied", x->rcpt);
    return CHECK_REJECT;
}

static check_result r_reject_non_fqdn_recipient(check_ctx *x)
{
    const char *at = strrchr(x->rcpt, '@');
    const char *domain = at ? at + 1 : "";

    if (*domain == '[' || (strchr(domain, '.') != NULL && domain[strspn(domain, ".")] != 0))
        return CHECK_DUNNO;
    smtpd_reject(x->s, "RCPT", x->rcpt,
                 "%d 5.5.2 <%s>: Recipient address rejected: need fully-qualified address",
                 smtpd_cf.non_fqdn_code, x->rcpt);
    return CHECK_REJECT;
}

static const restriction restrictions[] = {
    {"permit", r_permit, 0},
    {"reject", r_reject, 1},
    {"defer", r_defer, 1},
    {"permit_mynetworks", r_permit_mynetworks, 0},
    {"permit_sasl_authenticated", r_permit_sasl_authenticated, 0},
    {"permit_auth_destination", r_permit_auth_destination, 0},
    {"reject_unauth_destination", r_reject_unauth_destination, 1},
    {"defer_unauth_destination", r_defer_unauth_destination, 1},
    {"reject_non_fqdn_recipient", r_reject_non_fqdn_recipient, 0},
};
#define NRESTRICTIONS (sizeof(restrictions) / sizeof(restrictions[0]))

static const restriction *find_restriction(const char *name)
{
    for (size_t i = 0; i < NRESTRICTIONS; i++)
        if (strcasecmp(name, restrictions[i].name) == 0)
            return &restrictions[i];
    return NULL;
}

/* Can this list refuse mail for a foreign destination? */
static int list_guards(const argv_t *list)
{
    for (size_t i = 0; i < list->argc; i++) {
        const restriction *r = find_restriction(list->argv[i]);

        if (r != NULL && r->guards)
            return 1;
    }
    return 0;
}

static int relay_guarded;

static check_result config_error(check_ctx *x)
{
    smtpd_reject(x->s, "RCPT", x->rcpt, "451 4.3.5 Server configuration error");
    return CHECK_REJECT;
}

static check_result apply(check_ctx *x, const char *param, const argv_t *list)
{
    for (size_t i = 0; i < list->argc; i++) {
        const restriction *r = find_restriction(list->argv[i]);
        check_result res;

        if (r == NULL) {
            msg_warn("%s: unknown restriction \"%s\"", param, list->argv[i]);
            return config_error(x);
        }
        if ((res = r->fn(x)) != CHECK_DUNNO)
            return res;
    }
    return CHECK_DUNNO;
}

int smtpd_check_mynetworks(const smtpd_state *s)
{
    return cidr_list_match(smtpd_cf.mynetworks, vstr_str(&s->addr));
}

void smtpd_check_init(config *cfg)
{
    static const char *const unimplemented[] = {
        "smtpd_client_restrictions", "smtpd_helo_restrictions",        "smtpd_sender_restrictions",
        "smtpd_data_restrictions",   "smtpd_end_of_data_restrictions",
    };
    argv_t *tables = maps_split(config_str(cfg, "local_recipient_maps"));
    vstr others = VSTR_INIT;

    for (size_t i = 0; i < tables->argc; i++) {
        const char *t = tables->argv[i];

        if (strncmp(t, "proxy:", 6) == 0)
            t += 6;
        smtpd_cf.local_rcpt_check = 1;
        if (strcmp(t, "unix:passwd.byname") == 0 && !smtpd_cf.privileged) {
            smtpd_cf.local_rcpt_self = 1;
            continue;
        }
        if (vstr_len(&others))
            vstr_append_char(&others, ' ');
        vstr_append_str(&others, t);
    }
    smtpd_cf.local_rcpt_list = vstr_steal(&others);
    smtpd_cf.local_rcpt_maps =
        maps_open("local_recipient_maps", smtpd_cf.local_rcpt_list, O_RDONLY, 0);
    smtpd_cf.virtual_mailbox_maps =
        maps_open("virtual_mailbox_maps", config_str(cfg, "virtual_mailbox_maps"), O_RDONLY, 0);
    argv_free(tables);
    /* Those come with the lookup-table restrictions; say so rather than
     * appear to enforce them. */
    for (size_t i = 0; i < sizeof(unimplemented) / sizeof(unimplemented[0]); i++)
        if (*config_str(cfg, unimplemented[i]))
            msg_warn("%s is not implemented yet and is ignored", unimplemented[i]);
    relay_guarded =
        list_guards(smtpd_cf.relay_restrictions) || list_guards(smtpd_cf.recipient_restrictions);
    if (!relay_guarded)
        msg_warn("neither smtpd_relay_restrictions nor smtpd_recipient_restrictions can refuse "
                 "mail for other destinations (reject_unauth_destination); every recipient "
                 "will be refused");
}

void smtpd_check_refresh(void)
{
    (void)maps_refresh(&smtpd_cf.local_rcpt_maps, smtpd_cf.local_rcpt_list, O_RDONLY, 0);
    (void)maps_refresh(&smtpd_cf.virtual_mailbox_maps,
                       config_str(smtpd_cf.cfg, "virtual_mailbox_maps"), O_RDONLY, 0);
}

void smtpd_check_free(void)
{
    maps_free(smtpd_cf.local_rcpt_maps);
    maps_free(smtpd_cf.virtual_mailbox_maps);
    mem_free(smtpd_cf.local_rcpt_list);
}

/* Is name a local recipient? 1 yes, 0 no, -1 a table failed. */
static int local_name_known(const char *name)
{
    vstr value = VSTR_INIT;
    int st;

    if (smtpd_cf.local_rcpt_self && strcmp(name, smtpd_cf.self_name) == 0)
        return 1;
    st = maps_find(smtpd_cf.local_rcpt_maps, name, &value, NULL);
    vstr_release(&value);
    return st == DICT_FOUND ? 1 : st == DICT_NOTFOUND ? 0 : -1;
}

/* The local part of addr in lower case, and the same without its
 * recipient_delimiter extension (empty when it has none). */
static void split_local(const char *addr, vstr *full, vstr *base)
{
    const char *at = strrchr(addr, '@');
    const char *delims = smtpd_cf.recipient_delimiter;
    size_t n;

    vstr_set(full, addr, at ? (size_t)(at - addr) : strlen(addr));
    vstr_lower(full);
    vstr_reset(base);
    if (*delims && (n = strcspn(vstr_str(full), delims)) > 0 && n < vstr_len(full))
        vstr_set(base, vstr_str(full), n);
}

/* A local recipient: the local part, then without its extension. */
static int local_recipient_known(const char *addr)
{
    vstr full = VSTR_INIT, base = VSTR_INIT;
    int found;

    split_local(addr, &full, &base);
    found = local_name_known(vstr_str(&full));
    if (found == 0 && vstr_len(&base))
        found = local_name_known(vstr_str(&base));
    vstr_release(&full);
    vstr_release(&base);
    return found;
}

/* A virtual mailbox, by local(8)'s keys: user+ext@domain, user@domain,
 * then @domain (a catch-all). 1 found, 0 not, -1 a table failed. */
static int virtual_recipient_known(const char *addr, const char *domain)
{
    vstr full = VSTR_INIT, base = VSTR_INIT, key = VSTR_INIT, value = VSTR_INIT;
    int st = DICT_NOTFOUND;

    split_local(addr, &full, &base);
    for (int i = 0; i < 3 && st == DICT_NOTFOUND; i++) {
        if (i == 1 && vstr_len(&base) == 0)
            continue;
        vstr_set_fmt(&key, "%s@%s",
                     i == 0   ? vstr_str(&full)
                     : i == 1 ? vstr_str(&base)
                              : "",
                     domain);
        st = maps_find(smtpd_cf.virtual_mailbox_maps, vstr_str(&key), &value, NULL);
    }
    vstr_release(&full);
    vstr_release(&base);
    vstr_release(&key);
    vstr_release(&value);
    return st == DICT_FOUND ? 1 : st == DICT_NOTFOUND ? 0 : -1;
}

/* Is the recipient known where it is delivered? 1 yes (or not checked),
 * 0 no, -1 a table failed; *table names the table for the reply. */
static int recipient_known(const check_ctx *x, const char **table, const maps **m)
{
    if (x->res.rclass == RESOLVE_LOCAL && smtpd_cf.local_rcpt_check) {
        *table = "local recipient table";
        *m = smtpd_cf.local_rcpt_maps;
        return local_recipient_known(x->rcpt);
    }
    if (x->res.rclass == RESOLVE_VIRTUAL && smtpd_cf.virtual_mailbox_maps->count > 0) {
        *table = "virtual mailbox table";
        *m = smtpd_cf.virtual_mailbox_maps;
        return virtual_recipient_known(x->rcpt, vstr_str(&x->res.domain));
    }
    return 1;
}

int smtpd_check_rcpt(smtpd_state *s, const char *addr)
{
    check_ctx x = {.s = s, .rcpt = addr};
    const char *table = NULL;
    const maps *m = NULL;
    int status = -1;
    int known;

    resolve_result_init(&x.res);
    resolve_addr(&smtpd_cf.resolve.rules, addr, &x.res);
    if (!relay_guarded) {
        config_error(&x);
    } else if (apply(&x, "smtpd_relay_restrictions", smtpd_cf.relay_restrictions) ==
                   CHECK_REJECT ||
               apply(&x, "smtpd_recipient_restrictions", smtpd_cf.recipient_restrictions) ==
                   CHECK_REJECT) {
        /* refused */
    } else if (x.res.rclass == RESOLVE_ERROR) {
        smtpd_reject(s, "RCPT", addr, "%d %s <%s>: Recipient address rejected: %s",
                     x.res.status[0] == '4' ? 450 : 550, x.res.status, addr,
                     vstr_str(&x.res.reason));
    } else if ((known = recipient_known(&x, &table, &m)) > 0) {
        status = 0;
    } else if (known == 0) {
        smtpd_reject(s, "RCPT", addr,
                     "%d 5.1.1 <%s>: Recipient address rejected: User unknown in %s",
                     x.res.rclass == RESOLVE_LOCAL ? smtpd_cf.unknown_local_code
                                                   : smtpd_cf.unknown_virtual_code,
                     addr, table);
    } else {
        msg_warn("%s", maps_error(m));
        smtpd_reject(s, "RCPT", addr, "451 4.3.0 <%s>: Temporary lookup failure", addr);
    }
    resolve_result_release(&x.res);
    return status;
}
