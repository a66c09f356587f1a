/*
 * local_user - users, address parts, local domains and $name expansion
 *
 * In an unprivileged instance (not started as root) the only local user
 * is the account that runs it: local cannot write as anyone else, and
 * pretending to (delivering another user's mail into a file that user
 * does not own) would surprise more than a bounce that says why. Mail
 * for other names that are not aliases bounces as an unknown user, and
 * the reason names the instance's user when the name is a real account.
 */
#include <errno.h>
#include <pwd.h>
#include <string.h>
#include <unistd.h>

#include "global/addr_find.h"
#include "global/resolve.h"
#include "global/var_expand.h"
#include "local/local.h"
#include "util/mem.h"

/* getpwnam_r's "no such user" (POSIX leaves it open; glibc says 0 or one
 * of these). */
static int no_such_user(int err)
{
    return err == 0 || err == ENOENT || err == ESRCH || err == EBADF || err == EPERM;
}

static int lookup_pw(const char *name, uid_t uid, int by_uid, local_user *user, vstr *reason)
{
    struct passwd pw, *result = NULL;
    long size = sysconf(_SC_GETPW_R_SIZE_MAX);
    char *buf;
    int err;

    if (size < 16384)
        size = 16384;
    buf = mem_alloc((size_t)size);
    err = by_uid ? getpwuid_r(uid, &pw, buf, (size_t)size, &result)
                 : getpwnam_r(name, &pw, buf, (size_t)size, &result);
    if (result == NULL) {
        mem_free(buf);
        if (no_such_user(err))
            return 0;
        vstr_set_fmt(reason, "cannot look up user \"%s\": %s", name ? name : "?", strerror(err));
        return -1;
    }
    user->name = mem_strdup(pw.pw_name);
    user->home = mem_strdup(pw.pw_dir ? pw.pw_dir : "/");
    user->shell = mem_strdup(pw.pw_shell && *pw.pw_shell ? pw.pw_shell : "/bin/sh");
    user->uid = pw.pw_uid;
    user->gid = pw.pw_gid;
    mem_free(buf);
    return 1;
}

int local_user_find(const char *name, local_user *user, vstr *reason)
{
    local_user other;
    int found;

    memset(user, 0, sizeof(*user));
    if (local_cf.privileged)
        return lookup_pw(name, 0, 0, user, reason);
    if (strcmp(name, local_cf.self_name) == 0)
        return lookup_pw(NULL, local_cf.self_uid, 1, user, reason);
    found = lookup_pw(name, 0, 0, &other, reason);
    if (found > 0) {
        vstr_set_fmt(reason,
                     "unknown user: \"%s\" (this unprivileged instance delivers only to "
                     "\"%s\")",
                     name, local_cf.self_name);
        local_user_free(&other);
        return 0;
    }
    return found;
}

int local_user_by_uid(uid_t uid, local_user *user)
{
    vstr reason = VSTR_INIT;
    int found;

    memset(user, 0, sizeof(*user));
    found = lookup_pw(NULL, uid, 1, user, &reason);
    vstr_release(&reason);
    return found;
}

void local_user_free(local_user *user)
{
    mem_free(user->name);
    mem_free(user->home);
    mem_free(user->shell);
    memset(user, 0, sizeof(*user));
}

void local_split_address(const char *addr, vstr *local_part, vstr *user, vstr *extension,
                         vstr *domain)
{
    /* global/addr_find splits as Postfix does, owner_request_special too:
     * "owner-list" and "list-request" are names of their own. */
    const addr_find_opts o = {.delimiters = local_cf.recipient_delimiter,
                              .owner_request_special = local_cf.owner_request_special};
    const char *at = strrchr(addr, '@');

    vstr_set(local_part, addr, at ? (size_t)(at - addr) : strlen(addr));
    (void)addr_find_split(addr, &o, user, extension, domain);
}

int local_domain_is_local(const char *domain)
{
    return *domain == 0 || resolve_domain_match(local_cf.mydestination, domain, 0);
}

typedef struct expand_ctx {
    const local_state *state;
    const local_user *user;
    vstr delim;
} expand_ctx;

static const char *expand_lookup(void *context, const char *name)
{
    expand_ctx *x = context;
    const local_state *s = x->state;

    if (strcmp(name, "user") == 0)
        return x->user ? x->user->name : s->user;
    if (strcmp(name, "home") == 0)
        return x->user ? x->user->home : "";
    if (strcmp(name, "shell") == 0)
        return x->user ? x->user->shell : "";
    if (strcmp(name, "local") == 0)
        return s->local_part;
    if (strcmp(name, "extension") == 0)
        return s->extension;
    if (strcmp(name, "domain") == 0)
        return s->domain;
    if (strcmp(name, "recipient") == 0)
        return s->address;
    if (strcmp(name, "sender") == 0)
        return s->sender;
    if (strcmp(name, "recipient_delimiter") == 0) {
        /* As in Postfix: the delimiter this address used, else the first
         * configured one. */
        size_t ulen = strlen(s->user);

        if (s->local_part[ulen] != 0)
            vstr_set(&x->delim, s->local_part + ulen, 1);
        else
            vstr_set(&x->delim, local_cf.recipient_delimiter,
                     *local_cf.recipient_delimiter ? 1 : 0);
        return vstr_str(&x->delim);
    }
    return NULL;
}

int local_expand(const local_state *state, const local_user *user, const char *text,
                 const char *filter, vstr *out, vstr *err)
{
    expand_ctx x = {state, user, VSTR_INIT};
    int status;

    /* With a filter the text is a command: names we do not know (upper
     * case ones such as $EXTENSION) are the shell's. */
    status = var_expand(text, expand_lookup, &x, filter, filter ? VAR_EXPAND_KEEP_UNKNOWN : 0, out,
                        err);
    vstr_release(&x.delim);
    return status;
}

void local_priv_for_user(const local_user *user, local_priv *priv)
{
    if (local_cf.privileged && user->uid == 0) {
        *priv = *local_default_priv();
        return;
    }
    priv->uid = user->uid;
    priv->gid = user->gid;
    priv->name = user->name;
    priv->home = user->home;
    priv->shell = user->shell;
}

const local_priv *local_default_priv(void)
{
    return &local_cf.default_priv;
}
