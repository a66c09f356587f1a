/*
 * local_deliver - one recipient: loops, aliases, .forward, mailbox
 *
 * Expansion is a recursion over addresses. Each level is a local_state
 * that points at its parent, so the chain from the recipient to the
 * address being delivered is always at hand:
 *
 *   - an address whose parent is itself ("alice: alice, bob", or
 *     "\alice") goes straight to the mailbox, as in sendmail and Postfix;
 *   - an address already further up the chain ("a: b", "b: a", or two
 *     .forward files naming each other) is a loop: 5.4.6 with the chain
 *     in the reason, never an endless expansion;
 *   - deeper than LOCAL_EXPANSION_DEPTH levels or more than
 *     LOCAL_EXPANSION_LIMIT deliveries: 5.4.6;
 *   - an address delivered once for this recipient is not delivered
 *     again (two aliases that both list bob give bob one copy);
 *   - a message that already carries "Delivered-To: address" for the
 *     address at hand came back to us: 5.4.6 "mail forwarding loop".
 *
 * Addresses in this host's domains recurse; all others are collected and
 * sent on as one new message per envelope sender (local_forward.c).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "global/alias_parse.h"
#include "global/delivery_log.h"
#include "global/resolve.h"
#include "local/local.h"
#include "util/mem.h"
#include "util/msg.h"

static int dsn_rank(char c)
{
    return c == '4' ? 3 : c == '5' ? 2 : c == '2' ? 1 : 0;
}

void local_result(const local_state *state, local_outcome *out, const char *dsn, const char *fmt,
                  ...)
{
    local_request *req = state->req;
    const local_rcpt *rcpt = state->rcpt;
    const char *orig = rcpt->orig_rcpt && *rcpt->orig_rcpt ? rcpt->orig_rcpt : rcpt->address;
    delivery_log_times t = {.arrival = req->arrival,
                            .received = req->received_f,
                            .connected = req->received_f,
                            .done = delivery_log_now()};
    vstr text = VSTR_INIT;
    va_list ap;

    va_start(ap, fmt);
    vstr_append_vfmt(&text, fmt, ap);
    va_end(ap);
    delivery_log_status(req->queue_id, state->address, orig, "local", &t, dsn, vstr_str(&text));
    if (dsn[0] == '2')
        out->delivered++;
    else if (dsn[0] == '4')
        out->deferred++;
    else
        out->bounced++;
    out->leaves++;
    if (dsn_rank(dsn[0]) > dsn_rank(out->dsn[0])) {
        snprintf(out->dsn, sizeof(out->dsn), "%s", dsn);
        vstr_set(&out->reason, vstr_str(&text), vstr_len(&text));
    }
    vstr_release(&text);
}

/* "a@x -> b@x -> a@x" for a loop report. */
static void chain_text(const local_state *state, const char *addr, vstr *out)
{
    const local_state *chain[LOCAL_EXPANSION_DEPTH + 2];
    int n = 0;

    for (const local_state *s = state; s != NULL && n < LOCAL_EXPANSION_DEPTH + 1; s = s->parent)
        chain[n++] = s;
    vstr_reset(out);
    while (n-- > 0)
        vstr_append_fmt(out, "%s -> ", chain[n]->address);
    vstr_append_str(out, addr);
}

/* The address in internal form, lower case, qualified with myorigin. */
static void canonical_address(const char *addr, vstr *out)
{
    vstr_set_str(out, addr);
    vstr_lower(out);
    if (strchr(vstr_str(out), '@') == NULL)
        vstr_append_fmt(out, "@%s", local_cf.myorigin);
}

void local_deliver_address(const local_state *parent, local_outcome *out, const char *addr,
                           const local_priv *priv, int delivered_class, const char *sender)
{
    vstr address = VSTR_INIT, local_part = VSTR_INIT, user = VSTR_INIT, ext = VSTR_INIT,
         domain = VSTR_INIT, why = VSTR_INIT, key = VSTR_INIT;
    const local_state *real_parent;
    local_state state;
    local_user pw;
    int bypass = 0, found;

    if (*addr == '\\') {
        bypass = 1;
        addr++;
    }
    canonical_address(addr, &address);
    local_split_address(vstr_str(&address), &local_part, &user, &ext, &domain);
    memset(&state, 0, sizeof(state));
    state.req = out->req;
    state.rcpt = out->rcpt;
    state.level = parent ? parent->level + 1 : 0;
    state.address = vstr_str(&address);
    state.parent = parent;
    state.sender = sender;
    state.priv = priv;
    state.delivered_class = delivered_class;
    state.user = vstr_str(&user);
    state.extension = vstr_str(&ext);
    state.domain = vstr_str(&domain);
    state.local_part = vstr_str(&local_part);
    if (state.level == 0 && out->top_address == NULL)
        out->top_address = mem_strdup(state.address);

    if (out->leaves >= LOCAL_EXPANSION_LIMIT) {
        if (out->leaves == LOCAL_EXPANSION_LIMIT)
            local_result(&state, out, "5.4.6", "alias expansion limit of %d deliveries exceeded",
                         LOCAL_EXPANSION_LIMIT);
        goto done;
    }
    if (state.level > LOCAL_EXPANSION_DEPTH) {
        chain_text(parent, state.address, &why);
        local_result(&state, out, "5.4.6", "alias expansion deeper than %d levels: %s",
                     LOCAL_EXPANSION_DEPTH, vstr_str(&why));
        goto done;
    }
    if (htable_locate(state.req->delivered_to, state.address) != NULL) {
        local_result(&state, out, "5.4.6", "mail forwarding loop for %s", state.address);
        goto done;
    }
    /* Another domain: send it on as new mail, once. */
    if (state.level > 0 && !local_domain_is_local(state.domain)) {
        vstr_set_fmt(&key, "forward %s %s", sender, state.address);
        if (htable_locate(out->done, vstr_str(&key)) == NULL) {
            htable_enter(out->done, vstr_str(&key), NULL);
            argv_add(out->forward, state.address);
            argv_add(out->forward_sender, sender);
            out->leaves++; /* counts toward LOCAL_EXPANSION_LIMIT */
        }
        goto done;
    }
    /* The recipient itself is ours whatever its domain: qmgr sent it here
     * (mydestination, or transport_maps, or virtual_transport = local).
     * Virtual mailboxes are the virtual agent's, as in Postfix. */
    /* The address that listed this one: an :include: file is only the way
     * it was listed (its pseudo-address starts with ':'). */
    real_parent = parent;
    while (real_parent != NULL && real_parent->address[0] == ':')
        real_parent = real_parent->parent;
    for (const local_state *s = real_parent; s != NULL; s = s->parent) {
        if (strcmp(s->address, state.address) != 0)
            continue;
        if (s == real_parent) {
            bypass = 1; /* lists itself: its own mailbox */
            break;
        }
        chain_text(parent, state.address, &why);
        local_result(&state, out, "5.4.6", "mail forwarding loop: %s", vstr_str(&why));
        goto done;
    }
    vstr_set_fmt(&key, "%s%s", bypass ? "\\" : "", state.address);
    if (htable_locate(out->done, vstr_str(&key)) != NULL)
        goto done;
    htable_enter(out->done, vstr_str(&key), NULL);

    if (!bypass && local_alias(&state, out))
        goto done;
    found = local_user_find(state.user, &pw, &why);
    if (found < 0) {
        local_result(&state, out, "4.3.0", "%s", vstr_str(&why));
        goto done;
    }
    if (found == 0 && *local_cf.luser_relay) {
        /* luser_relay: unknown names go there, e.g. "admin+$local". */
        if (local_expand(&state, NULL, local_cf.luser_relay, NULL, &key, &why) < 0)
            local_result(&state, out, "4.3.5", "luser_relay: %s", vstr_str(&why));
        else
            local_deliver_address(&state, out, vstr_str(&key), priv, delivered_class, sender);
        goto done;
    }
    if (found == 0) {
        if (vstr_len(&why) == 0)
            vstr_set_fmt(&why, "unknown user: \"%s\"", state.user);
        local_result(&state, out, "5.1.1", "%s", vstr_str(&why));
        goto done;
    }
    if (bypass || !local_dotforward(&state, out, &pw))
        local_mailbox(&state, out, &pw);
    local_user_free(&pw);

done:
    vstr_release(&address);
    vstr_release(&local_part);
    vstr_release(&user);
    vstr_release(&ext);
    vstr_release(&domain);
    vstr_release(&why);
    vstr_release(&key);
}

void local_deliver_target(const local_state *state, local_outcome *out, const char *target,
                          const local_priv *priv, int from_class)
{
    switch (alias_target_type(target)) {
    case ALIAS_TARGET_ADDRESS:
        local_deliver_address(state, out, target, priv, from_class, state->sender);
        break;
    case ALIAS_TARGET_COMMAND:
        if (!(local_cf.allow_commands & from_class)) {
            local_result(state, out, "5.7.1", "mail to command is restricted");
            break;
        }
        local_command(state, out, target + 1, priv, NULL);
        break;
    case ALIAS_TARGET_FILE:
        if (!(local_cf.allow_files & from_class)) {
            local_result(state, out, "5.7.1", "mail to file is restricted");
            break;
        }
        local_file(state, out, target, priv);
        break;
    case ALIAS_TARGET_INCLUDE: {
        const char *path = target + 9;

        while (*path == ' ' || *path == '\t')
            path++;
        if (*path != '/') {
            local_result(state, out, "5.3.5", ":include: needs an absolute path: \"%s\"", path);
            break;
        }
        local_include(state, out, path, priv, from_class);
        break;
    }
    }
}

void local_deliver_rcpt(local_request *req, local_rcpt *rcpt)
{
    local_outcome out;

    memset(&out, 0, sizeof(out));
    out.req = req;
    out.rcpt = rcpt;
    vstr_init(&out.reason);
    out.done = htable_new(16);
    out.forward = argv_new();
    out.forward_sender = argv_new();
    local_deliver_address(NULL, &out, rcpt->address, NULL, 0, req->sender);
    if (out.forward->argc > 0)
        local_forward_flush(&out);

    if (out.deferred) {
        snprintf(rcpt->dsn, sizeof(rcpt->dsn), "%s", out.dsn);
        rcpt->action = "deferred";
    } else if (out.bounced) {
        snprintf(rcpt->dsn, sizeof(rcpt->dsn), "%s", out.dsn);
        rcpt->action = "failed";
    } else if (out.delivered) {
        snprintf(rcpt->dsn, sizeof(rcpt->dsn), "%s", out.dsn);
        rcpt->action = out.expanded ? "expanded" : "delivered";
    } else {
        /* Every target was a duplicate of one delivered before: nothing
         * left, and nothing lost. */
        snprintf(rcpt->dsn, sizeof(rcpt->dsn), "2.0.0");
        rcpt->action = "expanded";
        vstr_set_str(&out.reason, "alias expanded to addresses delivered already");
    }
    vstr_set(&rcpt->reason, vstr_str(&out.reason), vstr_len(&out.reason));
    rcpt->answered = 1;
    vstr_release(&out.reason);
    htable_free(out.done, NULL);
    mem_free(out.top_address);
    argv_free(out.forward);
    argv_free(out.forward_sender);
}
