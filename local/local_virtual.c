/*
 * local_virtual - virtual mailbox domains: mailboxes without accounts
 *
 * A recipient in virtual_mailbox_domains is looked up in
 * virtual_mailbox_maps as user+ext@domain, user@domain, then @domain
 * (a catch-all). The result is a path under virtual_mailbox_base:
 * a Maildir when it ends in '/', else an mbox file. The mailbox is
 * written (missing directories made, mode 0700) as the uid and gid from virtual_uid_maps and
 * virtual_gid_maps (same keys; "static:5000" for all), which must be at least virtual_minimum_uid.
 * In an unprivileged instance those maps are not consulted: everything belongs to the instance's
 * user. No aliases and no .forward: those belong to virtual_alias_maps, before the queue.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "local/local.h"
#include "util/mem.h"
#include "util/safe_open.h"

/* Look the address up in m by Postfix's virtual keys; DICT_* status. */
static int virtual_find(maps *m, const local_state *state, vstr *value, vstr *why)
{
    vstr key = VSTR_INIT;
    int status = DICT_NOTFOUND;

    for (int i = 0; i < 3 && status == DICT_NOTFOUND; i++) {
        if (i == 0)
            vstr_set_fmt(&key, "%s@%s", state->local_part, state->domain);
        else if (i == 1 && *state->extension)
            vstr_set_fmt(&key, "%s@%s", state->user, state->domain);
        else if (i == 1)
            continue;
        else
            vstr_set_fmt(&key, "@%s", state->domain);
        status = maps_find(m, vstr_str(&key), value, NULL);
    }
    if (status == DICT_ERROR)
        vstr_set_str(why, maps_error(m));
    vstr_release(&key);
    return status;
}

static int virtual_id(maps *m, const local_state *state, const char *what, long *id, vstr *why)
{
    vstr value = VSTR_INIT;
    int status = virtual_find(m, state, &value, why);
    char *end;

    if (status == DICT_NOTFOUND) {
        vstr_set_fmt(why, "no %s for %s in %s", what, state->address, m->title);
    } else if (status == DICT_FOUND) {
        *id = strtol(vstr_str(&value), &end, 10);
        if (vstr_len(&value) == 0 || *end != 0 || *id < 0) {
            vstr_set_fmt(why, "bad %s \"%s\" for %s in %s", what, vstr_str(&value), state->address,
                         m->title);
            status = DICT_ERROR;
        } else if (*id < local_cf.virtual_minimum_uid) {
            vstr_set_fmt(why, "%s %ld for %s is below virtual_minimum_uid", what, *id,
                         state->address);
            status = DICT_ERROR;
        }
    }
    vstr_release(&value);
    return status == DICT_FOUND ? 0 : -1;
}

void local_virtual(const local_state *state, local_outcome *out)
{
    vstr value = VSTR_INIT, why = VSTR_INIT, path = VSTR_INIT;
    local_priv priv;
    local_user owner;
    long uid = 0, gid = 0;
    int status;

    memset(&owner, 0, sizeof(owner));
    status = virtual_find(local_cf.virtual_mailbox_maps, state, &value, &why);
    if (status == DICT_ERROR) {
        local_result(state, out, "4.3.0", "virtual mailbox lookup failed: %s", vstr_str(&why));
        goto done;
    }
    if (status == DICT_NOTFOUND || vstr_len(&value) == 0) {
        local_result(state, out, "5.1.1", "unknown user: \"%s\"", state->address);
        goto done;
    }
    if (vstr_str(&value)[0] == '/' || strstr(vstr_str(&value), "..") != NULL) {
        local_result(state, out, "4.3.5", "virtual mailbox \"%s\" must be a relative path",
                     vstr_str(&value));
        goto done;
    }
    vstr_set_fmt(&path, "%s/%s", local_cf.virtual_mailbox_base, vstr_str(&value));
    if (local_cf.privileged) {
        if (virtual_id(local_cf.virtual_uid_maps, state, "uid", &uid, &why) < 0 ||
            virtual_id(local_cf.virtual_gid_maps, state, "gid", &gid, &why) < 0) {
            local_result(state, out, "4.3.5", "%s", vstr_str(&why));
            goto done;
        }
        priv.uid = (uid_t)uid;
        priv.gid = (gid_t)gid;
        priv.name = local_user_by_uid(priv.uid, &owner) > 0 ? owner.name : "virtual";
        priv.home = "/";
        priv.shell = "/bin/sh";
    } else {
        priv.uid = local_cf.self_uid;
        priv.gid = getgid();
        priv.name = local_cf.self_name;
        priv.home = "/";
        priv.shell = "/bin/sh";
    }
    if (vstr_str(&path)[vstr_len(&path) - 1] == '/')
        local_maildir(state, out, vstr_str(&path), &priv, 0, local_cf.virtual_mailbox_limit);
    else
        local_mbox_path(state, out, vstr_str(&path), &priv,
                        local_cf.privileged ? priv.uid : SAFE_OPEN_ANY_OWNER,
                        local_cf.virtual_mailbox_limit, 1);

done:
    local_user_free(&owner);
    vstr_release(&value);
    vstr_release(&why);
    vstr_release(&path);
}
