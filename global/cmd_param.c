/*
 * cmd_param - main.cf values for sysexits.h commands; see cmd_param.h
 */
#include <sysexits.h>
#include <unistd.h>

#include "global/cmd_param.h"
#include "global/user_acl.h"
#include "util/msg.h"

const char *cmd_param_str(config *cfg, const char *name)
{
    vstr err = VSTR_INIT;
    const char *value = config_expand(cfg, name, &err);

    if (value == NULL)
        msg_fatal_status(EX_CONFIG, "%s: %s", config_file(cfg), vstr_str(&err));
    vstr_release(&err);
    return value;
}

long long cmd_param_number(config *cfg, const char *name)
{
    vstr why = VSTR_INIT;
    const char *value = cmd_param_str(cfg, name);
    long long n;

    if (config_convert(name, value, &n, &why) < 0)
        msg_fatal_status(EX_CONFIG, "%s: %s = %s: %s", config_file(cfg), name, value,
                         vstr_str(&why));
    vstr_release(&why);
    return n;
}

void cmd_param_permit(config *cfg, const char *param, const char *what)
{
    vstr login = VSTR_INIT, err = VSTR_INIT;

    if (getuid() == 0)
        return;
    switch (user_acl_check(cmd_param_str(cfg, param), user_acl_login(getuid(), &login), &err)) {
    case USER_ACL_ALLOW:
        break;
    case USER_ACL_DENY:
        msg_fatal_status(EX_NOPERM, "User %s(%ld) is not allowed to %s", vstr_str(&login),
                         (long)getuid(), what);
    default:
        msg_fatal_status(EX_TEMPFAIL, "%s: %s", param, vstr_str(&err));
    }
    vstr_release(&login);
    vstr_release(&err);
}
