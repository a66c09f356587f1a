/*
 * local_alias - expand a local name through alias_maps
 *
 * The name is looked up with its extension first ("user+ext"), then
 * without. A table that cannot be read defers the mail: an alias that
 * might exist is never taken for a mailbox that might not.
 *
 * Rights: commands and files that an alias names run as the owner of
 * the table it came from, or as default_privs when root owns it (or it
 * is no file, e.g. inline:), never as root. With owner_request_special,
 * an alias "owner-NAME" makes owner-NAME@myorigin the envelope sender of
 * what NAME's expansion sends on, so that bounces go to the list owner.
 */
#include <string.h>

#include "global/alias_parse.h"
#include "local/local.h"
#include "util/mem.h"
#include "util/msg.h"

/* The rights of a table's owner. */
static void table_priv(const dict *table, local_priv *priv, local_user *owner)
{
    memset(owner, 0, sizeof(*owner));
    if (table == NULL || table->file == NULL || table->owner_uid == 0 ||
        local_user_by_uid(table->owner_uid, owner) <= 0) {
        *priv = *local_default_priv();
        return;
    }
    owner->gid = table->owner_gid;
    local_priv_for_user(owner, priv);
}

int local_alias(const local_state *state, local_outcome *out)
{
    const char *keys[2] = {state->local_part, state->user};
    vstr value = VSTR_INIT, owner_key = VSTR_INIT, owner_value = VSTR_INIT, err = VSTR_INIT;
    dict *which = NULL;
    int status = DICT_NOTFOUND, nkeys = strcmp(keys[0], keys[1]) == 0 ? 1 : 2;
    const char *name = NULL;
    local_state alias_state;
    local_priv priv;
    local_user owner;
    argv_t *targets;

    for (int i = 0; i < nkeys && status == DICT_NOTFOUND; i++) {
        status = maps_find(local_cf.alias_maps, keys[i], &value, &which);
        name = keys[i];
    }
    if (status == DICT_NOTFOUND) {
        vstr_release(&value);
        return 0;
    }
    if (status == DICT_ERROR) {
        local_result(state, out, "4.3.0", "alias database unavailable: %s",
                     maps_error(local_cf.alias_maps));
        vstr_release(&value);
        return 1;
    }
    out->expanded = 1;
    alias_state = *state;
    if (local_cf.owner_request_special && strncmp(name, "owner-", 6) != 0) {
        vstr_set_fmt(&owner_key, "owner-%s", name);
        status = maps_find(local_cf.alias_maps, vstr_str(&owner_key), &owner_value, NULL);
        if (status == DICT_ERROR) {
            local_result(state, out, "4.3.0", "alias database unavailable: %s",
                         maps_error(local_cf.alias_maps));
            goto done;
        }
        if (status == DICT_FOUND) {
            vstr_append_fmt(&owner_key, "@%s", local_cf.myorigin);
            alias_state.sender = vstr_str(&owner_key);
        }
    }
    table_priv(which, &priv, &owner);
    targets = argv_new();
    if (alias_targets(vstr_str(&value), targets, &err) < 0)
        msg_warn("alias %s: %s; the first %zu are used", name, vstr_str(&err), targets->argc);
    for (size_t i = 0; i < targets->argc; i++)
        local_deliver_target(&alias_state, out, targets->argv[i], &priv, LOCAL_CLASS_ALIAS);
    if (targets->argc == 0)
        local_result(state, out, "5.3.5", "alias %s has no destinations", name);
    argv_free(targets);
    local_user_free(&owner);

done:
    vstr_release(&value);
    vstr_release(&owner_key);
    vstr_release(&owner_value);
    vstr_release(&err);
    return 1;
}
