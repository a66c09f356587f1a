/*
 * postern_common - helpers more than one postern verb needs
 *
 * DESCRIPTION
 *   Where the programs are (from /proc/self/exe, so an instance made from
 *   a build tree runs that tree's daemons), and who must own an instance's
 *   files. The owner rules, in one place:
 *
 *   - master runs as whoever starts the instance. Run by root, the
 *     instance separates privileges; run by anyone else, it is an
 *     unprivileged instance that runs wholly as that user (DESIGN.md).
 *     So the queue directory and pid/ belong to the user running postern.
 *   - everything else in the queue, and data_directory, to mail_owner;
 *     maildrop and public also to the group setgid_group.
 */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admin/postern.h"
#include "util/mem.h"
#include "util/msg.h"

/* dirname(path) into out, for an absolute path without trailing slash. */
static void parent_dir(const char *path, vstr *out)
{
    const char *slash = strrchr(path, '/');

    if (slash == NULL || slash == path)
        vstr_set_str(out, "/");
    else
        vstr_set(out, path, (size_t)(slash - path));
}

static int is_directory(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

void postern_program_dirs(vstr *command_dir, vstr *daemon_dir)
{
    static const char *const daemon_candidates[] = {"libexec", "lib/postern", NULL};
    char *exe = realpath("/proc/self/exe", NULL);
    vstr prefix = VSTR_INIT;
    vstr candidate = VSTR_INIT;

    if (exe == NULL)
        msg_fatal("cannot find the running program: /proc/self/exe: %s", strerror(errno));
    parent_dir(exe, command_dir);
    free(exe);
    parent_dir(vstr_str(command_dir), &prefix);
    for (const char *const *c = daemon_candidates; *c; c++) {
        vstr_set_fmt(&candidate, "%s%s%s", vstr_str(&prefix),
                     strcmp(vstr_str(&prefix), "/") == 0 ? "" : "/", *c);
        if (is_directory(vstr_str(&candidate))) {
            char *real = realpath(vstr_str(&candidate), NULL);

            vstr_set_str(daemon_dir, real ? real : vstr_str(&candidate));
            free(real);
            vstr_release(&candidate);
            vstr_release(&prefix);
            return;
        }
    }
    /* No daemons built yet: name where a build puts them. */
    vstr_set_fmt(daemon_dir, "%s%slibexec", vstr_str(&prefix),
                 strcmp(vstr_str(&prefix), "/") == 0 ? "" : "/");
    vstr_release(&candidate);
    vstr_release(&prefix);
}

int postern_owners_lookup(config *cfg, postern_owners *owners, vstr *err)
{
    struct passwd *pw;
    struct group *gr;

    memset(owners, 0, sizeof(*owners));
    owners->master_uid = geteuid();
    if ((owners->mail_owner = config_expand(cfg, "mail_owner", err)) == NULL)
        return -1;
    if ((owners->setgid_group = config_expand(cfg, "setgid_group", err)) == NULL)
        return -1;
    if ((pw = getpwnam(owners->mail_owner)) != NULL) {
        owners->mail_owner_known = 1;
        owners->mail_uid = pw->pw_uid;
        owners->mail_gid = pw->pw_gid;
    }
    if ((gr = getgrnam(owners->setgid_group)) != NULL) {
        owners->setgid_group_known = 1;
        owners->setgid_gid = gr->gr_gid;
    }
    return 0;
}

const char *postern_user_name(uid_t uid, vstr *buf)
{
    struct passwd *pw = getpwuid(uid);

    if (pw)
        vstr_set_str(buf, pw->pw_name);
    else
        vstr_set_fmt(buf, "%lu", (unsigned long)uid);
    return vstr_str(buf);
}

const char *postern_group_name(gid_t gid, vstr *buf)
{
    struct group *gr = getgrgid(gid);

    if (gr)
        vstr_set_str(buf, gr->gr_name);
    else
        vstr_set_fmt(buf, "%lu", (unsigned long)gid);
    return vstr_str(buf);
}
