/*
 * local_include - :include:/path, a file of further destinations
 *
 * The file is read with the rights of whoever named it (the alias
 * table's owner or default_privs, or the user of a .forward), so an
 * :include: cannot read what its author could not. Its own commands and
 * files then run as the file's owner (default_privs when that is root).
 *
 * A file that does not exist (or is not a regular file, or is too big)
 * bounces with the reason: waiting will not make it appear. Other errors
 * (permissions, I/O) defer. An :include: that reaches itself again is a
 * loop (5.4.6).
 */
#include <errno.h>
#include <string.h>

#include "global/alias_parse.h"
#include "local/local.h"
#include "util/mem.h"
#include "util/msg.h"

void local_include(const local_state *state, local_outcome *out, const char *path,
                   const local_priv *priv, int from_class)
{
    vstr text = VSTR_INIT, err = VSTR_INIT, name = VSTR_INIT;
    local_state inc;
    local_priv owner_priv;
    local_user owner_user;
    argv_t *targets;
    uid_t owner;
    mode_t mode;
    int err_no;

    (void)from_class;
    vstr_set_fmt(&name, ":include:%s", path);
    for (const local_state *s = state; s != NULL; s = s->parent) {
        if (strcmp(s->address, vstr_str(&name)) == 0) {
            local_result(state, out, "5.4.6", "mail forwarding loop: %s includes itself", path);
            goto done;
        }
    }
    if (state->level + 1 > LOCAL_EXPANSION_DEPTH) {
        local_result(state, out, "5.4.6", "alias expansion deeper than %d levels at %s",
                     LOCAL_EXPANSION_DEPTH, vstr_str(&name));
        goto done;
    }
    if (local_read_file_as(priv, path, LOCAL_LIST_FILE_MAX, &text, &owner, &mode, &err_no, &err) <
        0) {
        if (err_no == ENOENT || err_no == ENOTDIR || err_no == EINVAL || err_no == EFBIG ||
            err_no == ELOOP)
            local_result(state, out, "5.3.5", "cannot use include file: %s", vstr_str(&err));
        else
            local_result(state, out, "4.3.5", "cannot use include file: %s", vstr_str(&err));
        goto done;
    }
    inc = *state;
    inc.level = state->level + 1;
    inc.parent = state;
    inc.address = vstr_str(&name);
    memset(&owner_user, 0, sizeof(owner_user));
    if (owner == 0 || local_user_by_uid(owner, &owner_user) <= 0)
        owner_priv = *local_default_priv();
    else
        local_priv_for_user(&owner_user, &owner_priv);
    targets = argv_new();
    if (alias_list_parse(vstr_str(&text), vstr_len(&text), targets, &err) < 0)
        msg_warn("%s: %s: %s; the first %zu destinations are used", state->address, path,
                 vstr_str(&err), targets->argc);
    out->expanded = 1;
    for (size_t i = 0; i < targets->argc; i++)
        local_deliver_target(&inc, out, targets->argv[i], &owner_priv, LOCAL_CLASS_INCLUDE);
    if (targets->argc == 0)
        local_result(state, out, "5.3.5", "include file %s has no destinations", path);
    argv_free(targets);
    local_user_free(&owner_user);

done:
    vstr_release(&text);
    vstr_release(&err);
    vstr_release(&name);
}
