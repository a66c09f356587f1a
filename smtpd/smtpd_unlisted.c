/*
 * smtpd_unlisted - is an address in a local or virtual domain a real
 * recipient? (reject_unlisted_recipient, reject_unlisted_sender)
 *
 * DESCRIPTION
 *   - For the local domains: the local part (and, with
 *     recipient_delimiter, the part before the extension; split by
 *     global/addr_find, owner_request_special included) must be a key
 *     in one of the tables of local_recipient_maps (default
 *     "unix:passwd.byname $alias_maps"). In an instance not started as
 *     root, unix:passwd.byname stands for the one account that runs it,
 *     as for local(8), which delivers to no one else there. An empty
 *     local_recipient_maps turns the check off.
 *   - For virtual_mailbox_domains, when virtual_mailbox_maps is set: the
 *     address must be a key there, in global/addr_find's order
 *     (user+ext@domain, user@domain, @domain; pattern tables see the
 *     whole address only).
 *   - For virtual_alias_domains: the address must have an entry in
 *     virtual_alias_maps (global/addr_rewrite's lookup order), else
 *     "550 5.1.1 <addr>: Recipient address rejected: User unknown in
 *     virtual alias table" (unknown_virtual_alias_reject_code).
 *   In every class, an address with an entry in canonical_maps,
 *   (sender_|recipient_)canonical_maps or virtual_alias_maps is known, as
 *   in Postfix (the rewritten address decides where it goes). Otherwise,
 *   in every class, an entry in relocated_maps (global/route_tables, the
 *   lookup qmgr bounces with) is refused as Postfix's smtpd does: "550
 *   5.1.6 <addr>: Recipient address rejected: User has moved to NEW"
 *   (Postfix's trivial-rewrite resolves it to the error transport, and
 *   smtpd refuses that transport with 550 in any class).
 *   Other domains are not checked. A table that fails answers 451 4.3.0.
 *   smtpd_check.c applies the recipient check after the RCPT lists when
 *   smtpd_reject_unlisted_recipient is on (Postfix's default).
 */
#include <fcntl.h>
#include <string.h>

#include "global/addr_find.h"
#include "global/addr_rewrite.h"
#include "global/route_tables.h"
#include "smtpd/smtpd_check.h"
#include "util/mem.h"
#include "util/msg.h"

void check_unlisted_init(config *cfg)
{
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
    smtpd_cf.routes = route_tables_open(cfg);
    argv_free(tables);
}

void check_unlisted_refresh(void)
{
    (void)maps_refresh(&smtpd_cf.local_rcpt_maps, smtpd_cf.local_rcpt_list, O_RDONLY, 0);
    (void)maps_refresh(&smtpd_cf.virtual_mailbox_maps,
                       config_str(smtpd_cf.cfg, "virtual_mailbox_maps"), O_RDONLY, 0);
    route_tables_refresh(smtpd_cf.routes);
}

void check_unlisted_free(void)
{
    maps_free(smtpd_cf.local_rcpt_maps);
    maps_free(smtpd_cf.virtual_mailbox_maps);
    route_tables_free(smtpd_cf.routes);
    smtpd_cf.routes = NULL;
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

/* The local part of addr in lower case, in *local. */
static void lower_local_part(const char *addr, vstr *local)
{
    const char *at = strrchr(addr, '@');

    vstr_set(local, addr, at ? (size_t)(at - addr) : strlen(addr));
    vstr_lower(local);
}

/* A local recipient: the local part, then without its extension (the
 * unqualified keys of global/addr_find). 1 found, 0 not, -1 a table failed. */
static int local_recipient_known(const char *addr)
{
    vstr local = VSTR_INIT;
    argv_t *keys = argv_new();
    int found = 0;

    lower_local_part(addr, &local);
    addr_find_keys(vstr_str(&local), &smtpd_cf.addr_opts, 0, keys, NULL);
    for (size_t i = 0; i < keys->argc && found == 0; i++)
        found = local_name_known(keys->argv[i]);
    argv_free(keys);
    vstr_release(&local);
    return found;
}

/* A virtual mailbox, by global/addr_find's order: user+ext@domain,
 * user@domain, then @domain (a catch-all), domain being the resolved one.
 * 1 found, 0 not, -1 a table failed. */
static int virtual_recipient_known(const char *addr, const char *domain)
{
    vstr key = VSTR_INIT, value = VSTR_INIT;
    int st;

    lower_local_part(addr, &key);
    vstr_append_fmt(&key, "@%s", domain);
    st = addr_find(smtpd_cf.virtual_mailbox_maps, vstr_str(&key), &smtpd_cf.addr_opts, 0, &value, NULL);
    vstr_release(&key);
    vstr_release(&value);
    return st == DICT_FOUND ? 1 : st == DICT_NOTFOUND ? 0 : -1;
}

/* Does address rewriting know addr (a canonical or virtual alias entry)?
 * 1 yes, 0 no, -1 a table failed (the answer is set). */
static int rewrite_known(check_ctx *x, addr_rewrite *rw, const char *addr, int sender)
{
    vstr why = VSTR_INIT;
    int known = addr_rewrite_known(rw, addr, sender, &why);

    if (known < 0)
        (void)check_lookup_error(x, addr, vstr_str(&why));
    vstr_release(&why);
    return known;
}

/* A relocated address: the reject, a lookup error, or DUNNO. */
static check_result relocated(check_ctx *x, const char *addr, const resolve_result *res,
                              const char *reply_class)
{
    vstr moved = VSTR_INIT;
    check_result st = CHECK_DUNNO;

    switch (route_tables_relocated(smtpd_cf.routes, addr, res->rclass == RESOLVE_LOCAL, &moved)) {
    case DICT_FOUND:
        st = check_reject(x, "550 5.1.6 <%s>: %s rejected: User has moved to %s", addr,
                          reply_class, vstr_str(&moved));
        break;
    case DICT_ERROR:
        st = check_lookup_error(x, addr, route_tables_error(smtpd_cf.routes));
        break;
    default:
        break;
    }
    vstr_release(&moved);
    return st;
}

/* Judge addr, resolved as res: DUNNO when known or not checked; a reject
 * with code, DSN and class; or a lookup error. */
static check_result unlisted(check_ctx *x, const char *addr, const resolve_result *res, int sender,
                             const char *dsn, const char *reply_class)
{
    addr_rewrite *rw = addr_rewrite_tables(smtpd_cf.cfg);
    const char *table;
    const maps *m;
    check_result st;
    int known, code;

    if ((known = rewrite_known(x, rw, addr, sender)) != 0)
        return known > 0 ? CHECK_DUNNO : CHECK_ERROR;
    if ((st = relocated(x, addr, res, reply_class)) != CHECK_DUNNO)
        return st;
    if (res->rclass == RESOLVE_ALIAS) {
        table = "virtual alias table";
        m = rw->virtual_alias;
        code = smtpd_cf.unknown_alias_code;
        known = 0;
    } else if (res->rclass == RESOLVE_LOCAL && smtpd_cf.local_rcpt_check) {
        table = "local recipient table";
        m = smtpd_cf.local_rcpt_maps;
        code = smtpd_cf.unknown_local_code;
        known = local_recipient_known(addr);
    } else if (res->rclass == RESOLVE_VIRTUAL && smtpd_cf.virtual_mailbox_maps->count > 0) {
        table = "virtual mailbox table";
        m = smtpd_cf.virtual_mailbox_maps;
        code = smtpd_cf.unknown_virtual_code;
        known = virtual_recipient_known(addr, vstr_str(&res->domain));
    } else {
        return CHECK_DUNNO;
    }
    if (known > 0)
        return CHECK_DUNNO;
    if (known < 0)
        return check_lookup_error(x, addr, maps_error(m));
    return check_reject(x, "%d %s <%s>: %s rejected: User unknown in %s", code, dsn, addr,
                        reply_class, table);
}

check_result check_reject_unlisted_recipient(check_ctx *x, const check_item *it)
{
    (void)it;
    if (x->rcpt == NULL)
        return CHECK_DUNNO;
    return unlisted(x, x->rcpt, &x->res, 0, "5.1.1", "Recipient address");
}

check_result check_reject_unlisted_sender(check_ctx *x, const check_item *it)
{
    resolve_result res;
    check_result st;

    (void)it;
    if (x->sender == NULL || *x->sender == 0)
        return CHECK_DUNNO;
    resolve_result_init(&res);
    resolve_addr(&smtpd_cf.resolve.rules, x->sender, &res);
    st = unlisted(x, x->sender, &res, 1, "5.1.0", "Sender address");
    resolve_result_release(&res);
    return st;
}
