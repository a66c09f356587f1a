/*
 * dict_unix - unix:passwd.byname and unix:group.byname, the system's users and groups
 *
 * A lookup asks getpwnam(3) or getgrnam(3) (so NSS: files, LDAP, ...) and
 * answers with the entry in the shape of its line in /etc/passwd
 * ("name:passwd:uid:gid:gecos:home:shell") or /etc/group
 * ("name:passwd:gid:member,member"), as Postfix does. Keys are folded
 * to lower case. A failure other than "no such entry" (errno set by the
 * NSS module) is a DICT_ERROR: a user directory that is briefly
 * unreachable must not turn into "user unknown".
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>

#include "util/dict_unix.h"

/* getpw*() and getgr*() report "not found" with errno 0 or one of these. */
static int not_found_errno(int e)
{
    return e == 0 || e == ENOENT || e == ESRCH || e == EBADF || e == EPERM;
}

/* After a lookup found nothing: DICT_NOTFOUND, or the error errno holds. */
static int dict_unix_missing(dict *d, const char *key)
{
    if (not_found_errno(errno))
        return DICT_NOTFOUND;
    return dict_set_error(d, "unix:%s: lookup of \"%s\": %s", d->name, key, strerror(errno));
}

static int dict_unix_passwd(dict *d, const char *key, vstr *value)
{
    struct passwd *pw;

    errno = 0;
    if ((pw = getpwnam(key)) == NULL)
        return dict_unix_missing(d, key);
    vstr_set_fmt(value, "%s:%s:%ld:%ld:%s:%s:%s", pw->pw_name, pw->pw_passwd, (long)pw->pw_uid,
                 (long)pw->pw_gid, pw->pw_gecos, pw->pw_dir, pw->pw_shell);
    return DICT_FOUND;
}

static int dict_unix_group(dict *d, const char *key, vstr *value)
{
    struct group *gr;

    errno = 0;
    if ((gr = getgrnam(key)) == NULL)
        return dict_unix_missing(d, key);
    vstr_set_fmt(value, "%s:%s:%ld:", gr->gr_name, gr->gr_passwd, (long)gr->gr_gid);
    for (char **m = gr->gr_mem; *m; m++)
        vstr_append_fmt(value, "%s%s", m == gr->gr_mem ? "" : ",", *m);
    return DICT_FOUND;
}

static int dict_unix_close(dict *d, int commit)
{
    (void)d;
    (void)commit;
    return 0;
}

static const struct {
    const char *name;
    int (*lookup)(dict *, const char *, vstr *);
} dict_unix_maps[] = {
    {"passwd.byname", dict_unix_passwd},
    {"group.byname", dict_unix_group},
};

dict *dict_unix_open(const char *name, int open_flags, int dict_flags, vstr *err)
{
    dict *d;

    if ((open_flags & O_ACCMODE) != O_RDONLY) {
        vstr_set_fmt(err, "unix:%s: the table is read-only", name);
        return NULL;
    }
    for (size_t i = 0; i < sizeof(dict_unix_maps) / sizeof(dict_unix_maps[0]); i++) {
        if (strcmp(name, dict_unix_maps[i].name) != 0)
            continue;
        d = dict_alloc(sizeof(*d), "unix", name, open_flags, dict_flags | DICT_FLAG_FOLD_KEY);
        d->lookup = dict_unix_maps[i].lookup;
        d->close = dict_unix_close;
        return d;
    }
    vstr_set_fmt(err, "unix:%s: unknown table: use unix:passwd.byname or unix:group.byname", name);
    return NULL;
}
