/*
 * local_dotforward - a user's .forward file
 *
 * The files of forward_path are tried in order (default
 * "$home/.forward${recipient_delimiter}${extension}, $home/.forward");
 * the first that exists is used. It is read with the user's rights, and
 * refused (with a warning; the mail then goes to the mailbox) unless it
 * is a regular file owned by the user and not writable by group or
 * others: anyone who could write it could run commands as the user.
 * An empty file also means "the mailbox".
 *
 * A file that exists but cannot be read for a reason that may pass (an
 * I/O error) defers the mail rather than deliver it somewhere the user
 * did not ask for.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "global/alias_parse.h"
#include "global/maps.h"
#include "local/local.h"
#include "util/msg.h"

int local_dotforward(const local_state *state, local_outcome *out, const local_user *user)
{
    argv_t *paths = maps_split(local_cf.forward_path);
    vstr path = VSTR_INIT, err = VSTR_INIT, text = VSTR_INIT;
    local_priv priv;
    int used = 0;

    local_priv_for_user(user, &priv);
    for (size_t i = 0; i < paths->argc && !used; i++) {
        argv_t *targets;
        uid_t owner;
        mode_t mode;
        int err_no;

        if (local_expand(state, user, paths->argv[i], NULL, &path, &err) < 0) {
            msg_warn("forward_path element \"%s\": %s", paths->argv[i], vstr_str(&err));
            continue;
        }
        if (vstr_len(&path) == 0 || vstr_str(&path)[0] != '/')
            continue;
        if (local_read_file_as(&priv, vstr_str(&path), LOCAL_LIST_FILE_MAX, &text, &owner, &mode,
                               &err_no, &err) < 0) {
            if (err_no == ENOENT || err_no == ENOTDIR)
                continue;
            if (err_no == EACCES || err_no == EINVAL || err_no == EFBIG || err_no == ELOOP) {
                msg_warn("%s: %s: ignored", state->address, vstr_str(&err));
                continue;
            }
            local_result(state, out, "4.3.0", "%s", vstr_str(&err));
            used = 1;
            break;
        }
        if (owner != user->uid || (mode & (S_IWGRP | S_IWOTH))) {
            msg_warn("%s: refused: %s must be owned by %s and not writable by group or others",
                     state->address, vstr_str(&path), user->name);
            continue;
        }
        targets = argv_new();
        if (alias_list_parse(vstr_str(&text), vstr_len(&text), targets, &err) < 0)
            msg_warn("%s: %s: %s; the first %zu destinations are used", state->address,
                     vstr_str(&path), vstr_str(&err), targets->argc);
        if (targets->argc > 0) {
            used = 1;
            out->expanded = 1;
            for (size_t t = 0; t < targets->argc; t++)
                local_deliver_target(state, out, targets->argv[t], &priv, LOCAL_CLASS_FORWARD);
        }
        argv_free(targets);
    }
    argv_free(paths);
    vstr_release(&path);
    vstr_release(&err);
    vstr_release(&text);
    return used;
}
