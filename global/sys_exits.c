/*
 * sys_exits - what a command's exit status means for the mail it was given
 *
 * Values and texts from Postfix's sys_exits.c, so bounces read alike.
 */
#include <stddef.h>
#include <sysexits.h>

#include "global/sys_exits.h"

const sys_exit_info sys_exit_table[] = {
    {EX_USAGE, "5.3.0", "command line usage error"},
    {EX_DATAERR, "5.6.0", "data format error"},
    {EX_NOINPUT, "5.3.0", "cannot open input"},
    {EX_NOUSER, "5.1.1", "user unknown"},
    {EX_NOHOST, "5.1.2", "host name unknown"},
    {EX_UNAVAILABLE, "5.3.0", "service unavailable"},
    {EX_SOFTWARE, "5.3.0", "internal software error"},
    {EX_OSERR, "4.3.0", "system resource problem"},
    {EX_OSFILE, "5.3.0", "critical OS file missing"},
    {EX_CANTCREAT, "5.2.0", "can't create user output file"},
    {EX_IOERR, "5.3.0", "input/output error"},
    {EX_TEMPFAIL, "4.3.0", "temporary failure"},
    {EX_PROTOCOL, "5.5.0", "remote error in protocol"},
    {EX_NOPERM, "5.7.0", "permission denied"},
    {EX_CONFIG, "5.3.5", "local configuration error"},
    {0, NULL, NULL},
};

const sys_exit_info *sys_exit_lookup(int status)
{
    for (const sys_exit_info *e = sys_exit_table; e->text; e++)
        if (e->status == status)
            return e;
    return NULL;
}

int sys_exit_is_soft(int status)
{
    const sys_exit_info *e = sys_exit_lookup(status);

    return e != NULL && e->dsn[0] == '4';
}
