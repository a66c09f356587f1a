/*
 * smtpd_login - who may use which sender address: the
 * reject_*sender_login_mismatch restrictions over smtpd_sender_login_maps
 *
 * DESCRIPTION
 *   smtpd_sender_login_maps maps a sender address to the SASL login
 *   names that own it ("alice, bob"), searched in Postfix's address
 *   order (global/addr_find: user+ext@domain, user@domain, for a local
 *   domain user+ext and user, then @domain). Login names compare
 *   without regard to case. The null sender is never checked.
 *
 *   reject_authenticated_sender_login_mismatch: an authenticated client
 *   must use an address its login owns ("553 5.7.1 <addr>: Sender address
 *   rejected: not owned by user NAME"); an address with no owner is
 *   refused too.
 *   reject_unauthenticated_sender_login_mismatch: an address that has an
 *   owner needs a login ("... not logged in").
 *   reject_sender_login_mismatch: both.
 *   A table that fails answers 451 4.3.0 (check_lookup_error).
 */
#include <fcntl.h>
#include <string.h>
#include <strings.h>

#include "global/addr_find.h"
#include "smtpd/smtpd_check.h"
#include "util/argv.h"

static maps *login_maps;

void check_login_init(config *cfg)
{
    login_maps = maps_open("smtpd_sender_login_maps", config_str(cfg, "smtpd_sender_login_maps"),
                           O_RDONLY, 0);
}

void check_login_refresh(void)
{
    (void)maps_refresh(&login_maps, config_str(smtpd_cf.cfg, "smtpd_sender_login_maps"), O_RDONLY,
                       0);
}

void check_login_free(void)
{
    maps_free(login_maps);
    login_maps = NULL;
}

/* The owners of the sender into owners: 1 found, 0 none, -1 a table
 * failed (x->reply set). */
static int sender_owners(check_ctx *x, vstr *owners)
{
    resolve_result res;
    int flags, st;

    resolve_result_init(&res);
    resolve_addr(&smtpd_cf.resolve.rules, x->sender, &res);
    flags = res.rclass == RESOLVE_LOCAL ? ADDR_FIND_LOCAL : 0;
    resolve_result_release(&res);
    st = addr_find(login_maps, x->sender, &smtpd_cf.addr_opts, flags, owners, NULL);
    if (st == DICT_ERROR) {
        check_lookup_error(x, x->sender, maps_error(login_maps));
        return -1;
    }
    return st == DICT_FOUND;
}

/* Is login one of the comma- or space-separated names in owners? */
static int login_owns(const char *owners, const char *login)
{
    argv_t *names = argv_split(owners, ", \t");
    int found = 0;

    for (size_t i = 0; i < names->argc && !found; i++)
        found = strcasecmp(names->argv[i], login) == 0;
    argv_free(names);
    return found;
}

/* The check; authenticated, unauthenticated: which clients it applies to. */
static check_result login_mismatch(check_ctx *x, int authenticated, int unauthenticated)
{
    vstr owners = VSTR_INIT;
    const char *login = vstr_str(&x->s->sasl_username);
    int is_auth = smtpd_sasl_authenticated(x->s);
    check_result res = CHECK_DUNNO;
    int found;

    if (x->sender == NULL || *x->sender == 0 || (is_auth ? !authenticated : !unauthenticated))
        return CHECK_DUNNO;
    if ((found = sender_owners(x, &owners)) < 0)
        res = CHECK_ERROR;
    else if (is_auth && (!found || !login_owns(vstr_str(&owners), login)))
        res = check_reject(x, "553 5.7.1 <%s>: Sender address rejected: not owned by user %s",
                           x->sender, login);
    else if (!is_auth && found)
        res = check_reject(x, "553 5.7.1 <%s>: Sender address rejected: not logged in", x->sender);
    vstr_release(&owners);
    return res;
}

check_result check_reject_sender_login_mismatch(check_ctx *x, const check_item *it)
{
    (void)it;
    return login_mismatch(x, 1, 1);
}

check_result check_reject_authenticated_sender_login_mismatch(check_ctx *x, const check_item *it)
{
    (void)it;
    return login_mismatch(x, 1, 0);
}

check_result check_reject_unauthenticated_sender_login_mismatch(check_ctx *x, const check_item *it)
{
    (void)it;
    return login_mismatch(x, 0, 1);
}
