/*
 * virtual_recipient - one recipient: its mailbox, its owner, then delivery
 *
 * The address is folded to lower case and looked up in
 * virtual_mailbox_maps as user+ext@domain, user@domain (when it has an
 * extension after recipient_delimiter), then @domain (a catch-all), as in
 * Postfix (global/addr_find: owner_request_special applies, and pattern
 * tables see the whole address only). The value is a path under virtual_mailbox_base: a Maildir when
 * it ends in '/', else an mbox file. virtual_uid_maps and
 * virtual_gid_maps are asked with the same keys ("static:5000" answers
 * all); a uid below virtual_minimum_uid is refused.
 *
 * Started by an ordinary user (an unprivileged instance), virtual can
 * only write as that user: the uid and gid tables are not consulted.
 *
 * Results, as Postfix's virtual:
 *   - not in virtual_mailbox_maps: 5.1.1 unknown user (bounce);
 *   - a table that cannot answer: 4.3.0 (defer);
 *   - no uid or gid, a bad one, one below virtual_minimum_uid, or a path
 *     that is absolute or climbs with "..": 4.3.5, a configuration error
 *     the administrator can fix (defer, with a warning);
 *   - a message that already carries Delivered-To: for the recipient
 *     came back to us: 5.4.6 mail forwarding loop.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/msg.h"
#include "virtual/virtual.h"

/* Look addr up in m in global/addr_find's order; DICT_* status, why on error. */
static int find(maps *m, const char *addr, vstr *value, vstr *why)
{
    int status = addr_find(m, addr, &virtual_cf.addr_opts, 0, value, NULL);

    if (status == DICT_ERROR)
        vstr_set_str(why, maps_error(m));
    return status;
}

/* A uid or gid from m; 0, or -1 with res set (4.3.0 or 4.3.5). */
static int find_id(maps *m, const char *addr, const char *what, long minimum, long *id,
                   virtual_result *res)
{
    vstr value = VSTR_INIT, why = VSTR_INIT;
    int status = find(m, addr, &value, &why);
    char *end = NULL;

    if (status == DICT_ERROR) {
        virtual_set_result(res, "4.3.0", "%s lookup failed: %s", what, vstr_str(&why));
    } else if (status == DICT_NOTFOUND) {
        msg_warn("recipient %s: %s not found in %s", addr, what, m->title);
        virtual_set_result(res, "4.3.5", "mail system configuration error");
    } else {
        errno = 0;
        *id = strtol(vstr_str(&value), &end, 10);
        /* Past uid_t/gid_t the cast would wrap (2^32 is uid 0), and -1
         * tells seteuid/setegid to change nothing: both would leave root. */
        if (vstr_len(&value) == 0 || *end != 0 || *id < 0 || errno == ERANGE ||
            (long)(uid_t)*id != *id || (uid_t)*id == (uid_t)-1) {
            msg_warn("recipient %s: bad %s \"%s\" in %s", addr, what, vstr_str(&value), m->title);
            virtual_set_result(res, "4.3.5", "mail system configuration error");
            status = DICT_ERROR;
        } else if (*id < minimum) {
            msg_warn("recipient %s: %s %ld in %s is below virtual_minimum_uid %ld", addr, what,
                     *id, m->title, minimum);
            virtual_set_result(res, "4.3.5", "mail system configuration error");
            status = DICT_ERROR;
        }
    }
    vstr_release(&value);
    vstr_release(&why);
    return status == DICT_FOUND ? 0 : -1;
}

/* A path that stays under virtual_mailbox_base. */
static int path_ok(const char *path)
{
    return *path != '/' && strcmp(path, "..") != 0 && strncmp(path, "../", 3) != 0 &&
           strstr(path, "/../") == NULL &&
           !(strlen(path) >= 3 && strcmp(path + strlen(path) - 3, "/..") == 0);
}

void virtual_deliver_rcpt(const virtual_message *msg, const deliver_rcpt *rcpt,
                          virtual_result *res)
{
    vstr addr = VSTR_INIT, value = VSTR_INIT, why = VSTR_INIT, path = VSTR_INIT;
    virtual_mailbox box;
    long uid = (long)geteuid(), gid = (long)getegid();
    int status;

    vstr_set_str(&addr, rcpt->address);
    vstr_lower(&addr);
    if (htable_locate(msg->delivered_to, vstr_str(&addr)) != NULL) {
        virtual_set_result(res, "5.4.6", "mail forwarding loop for %s", rcpt->address);
        goto done;
    }
    status = find(virtual_cf.mailbox_maps, vstr_str(&addr), &value, &why);
    if (status == DICT_ERROR) {
        virtual_set_result(res, "4.3.0", "virtual mailbox lookup failed: %s", vstr_str(&why));
        goto done;
    }
    if (status == DICT_NOTFOUND || vstr_len(&value) == 0) {
        virtual_set_result(res, "5.1.1", "unknown user: \"%s\"", vstr_str(&addr));
        goto done;
    }
    if (!path_ok(vstr_str(&value))) {
        msg_warn("recipient %s: mailbox \"%s\" in %s is not below virtual_mailbox_base",
                 vstr_str(&addr), vstr_str(&value), virtual_cf.mailbox_maps->title);
        virtual_set_result(res, "4.3.5", "mail system configuration error");
        goto done;
    }
    if (virtual_cf.privileged) {
        const char *a = vstr_str(&addr);

        if (find_id(virtual_cf.uid_maps, a, "uid", virtual_cf.minimum_uid, &uid, res) < 0 ||
            find_id(virtual_cf.gid_maps, a, "gid", 1, &gid, res) < 0)
            goto done;
    }
    vstr_set_fmt(&path, "%s/%s", virtual_cf.mailbox_base, vstr_str(&value));
    box.address = vstr_str(&addr);
    box.orig_to = NULL;
    if (virtual_cf.enable_original_recipient)
        box.orig_to = *rcpt->orig_rcpt ? rcpt->orig_rcpt : rcpt->address;
    box.path = vstr_str(&path);
    box.uid = (uid_t)uid;
    box.gid = (gid_t)gid;
    virtual_mailbox_deliver(msg, &box, res);

done:
    vstr_release(&addr);
    vstr_release(&value);
    vstr_release(&why);
    vstr_release(&path);
}
