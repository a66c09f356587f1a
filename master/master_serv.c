/*
 * master_serv - running services: built from master.cf, listening, retired
 *
 * DESCRIPTION
 *   A service owns its listening socket, its status pipe (master reads,
 *   children write) and its lifeline (master holds the only write end).
 *   Retiring a service closes master's end of the lifeline, so its idle
 *   children exit at once and busy ones after their client; the service
 *   stays in the list, still read for status, until its last child is
 *   reaped.
 *
 *   A reload keeps the socket of every endpoint that stays, so that no
 *   client is refused while services change (master_diff says which).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "global/master_proto.h"
#include "master/master.h"
#include "util/clock.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/sock.h"

/* Connections that may wait for a child; the kernel caps it at somaxconn. */
#define MASTER_LISTEN_BACKLOG 4096

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

void master_serv_free(master_serv *s)
{
    close_fd(&s->listen_fd);
    close_fd(&s->status_rd);
    close_fd(&s->status_wr);
    close_fd(&s->lifeline_rd);
    close_fd(&s->lifeline_wr);
    mem_free(s->name);
    mem_free(s->type_name);
    mem_free(s->key);
    mem_free(s->sig);
    mem_free(s->program);
    mem_free(s->unix_path);
    argv_free(s->exec_argv);
    mem_free(s);
}

static master_serv *serv_new(master_state *ms, const mastercf_service *ent, const char *key,
                             const char *program, const char *sig, long default_maxproc)
{
    master_serv *s = mem_calloc(1, sizeof(*s));

    s->name = mem_strdup(ent->name);
    s->type_name = mem_strdup(ent->type_name);
    s->key = mem_strdup(key);
    s->sig = mem_strdup(sig);
    s->program = mem_strdup(program);
    if (strncmp(key, "unix:", 5) == 0)
        s->unix_path = mem_strdup(key + 5);
    s->is_private = ent->is_private;
    s->wakeup = ent->wakeup;
    s->wakeup_if_used = ent->wakeup_if_used;
    s->maxproc = ent->maxproc < 0 ? (int)default_maxproc : ent->maxproc;
    /* Only root may lower a nice value; an unprivileged master leaves it. */
    if (ms->privileged && master_command_is_qmgr(ent->argv->argv[0]))
        s->nice_adjust = ms->qmgr_nice_adjust;
    s->listen_fd = s->status_rd = s->status_wr = s->lifeline_rd = s->lifeline_wr = -1;

    /* COMMAND -c DIR -n SERVICE -t TYPE [-u] [-r] [master.cf arguments] */
    s->exec_argv = argv_new();
    argv_add(s->exec_argv, program);
    argv_add(s->exec_argv, "-c");
    argv_add(s->exec_argv, ms->config_dir);
    argv_add(s->exec_argv, "-n");
    argv_add(s->exec_argv, ent->name);
    argv_add(s->exec_argv, "-t");
    argv_add(s->exec_argv, ent->type_name);
    if (ent->is_unpriv)
        argv_add(s->exec_argv, "-u");
    if (ent->is_chroot && ms->privileged)
        argv_add(s->exec_argv, "-r");
    for (size_t i = 1; i < ent->argv->argc; i++)
        argv_add(s->exec_argv, ent->argv->argv[i]);
    return s;
}

int master_servs_build(master_state *ms, const mastercf *mcf, master_serv **out, vstr *err)
{
    const char *daemon_dir = config_str(ms->cfg, "daemon_directory");
    const char *interfaces = config_str(ms->cfg, "inet_interfaces");
    const char *disabled = config_str(ms->cfg, "master_service_disable");
    long default_maxproc = (long)config_int(ms->cfg, "default_process_limit");
    master_serv *head = NULL, **tail = &head;
    vstr program = VSTR_INIT, sig = VSTR_INIT, why = VSTR_INIT;
    int problems = 0;

    vstr_reset(err);
    for (size_t i = 0; i < mcf->count; i++) {
        const mastercf_service *ent = mcf->services[i];
        argv_t *endpoints;

        if (master_service_disabled(disabled, ent->name, ent->type_name)) {
            msg_debug("service %s/%s: disabled by master_service_disable", ent->name,
                      ent->type_name);
            continue;
        }
        endpoints = argv_new();
        if (master_endpoints(ent, ms->queue_dir, interfaces, endpoints, &why) < 0) {
            vstr_append_fmt(err, "%s%s, line %d: %s", problems ? "\n" : "", mcf->path, ent->lineno,
                            vstr_str(&why));
            problems++;
            argv_free(endpoints);
            continue;
        }
        if (ent->is_chroot && !ms->privileged)
            msg_info("%s, line %d: service %s/%s: an unprivileged instance cannot chroot; "
                     "the service runs without it",
                     mcf->path, ent->lineno, ent->name, ent->type_name);
        if (ent->wakeup && ent->type != MASTERCF_UNIX)
            msg_warn("%s, line %d: service %s/%s: wakeup works for unix services only; ignored",
                     mcf->path, ent->lineno, ent->name, ent->type_name);
        master_program_path(ent->argv->argv[0], daemon_dir, &program);
        master_signature(ent, vstr_str(&program), ms->main_cf_print, &sig);
        for (size_t e = 0; e < endpoints->argc; e++) {
            master_serv *s = serv_new(ms, ent, endpoints->argv[e], vstr_str(&program),
                                      vstr_str(&sig), default_maxproc);

            if (ent->type != MASTERCF_UNIX)
                s->wakeup = 0;
            *tail = s;
            tail = &s->next;
        }
        argv_free(endpoints);
    }
    vstr_release(&program);
    vstr_release(&sig);
    vstr_release(&why);
    if (problems) {
        while (head) {
            master_serv *next = head->next;

            master_serv_free(head);
            head = next;
        }
        return -1;
    }
    *out = head;
    return 0;
}

int master_serv_listen(master_state *ms, master_serv *s, vstr *err)
{
    int fd;

    if (s->unix_path) {
        /* Private sockets: mail_owner only. Public ones are open to all,
         * but sit in public/, which only mail_owner and setgid_group may
         * enter (Postfix's arrangement): postdrop reaches pickup, nobody
         * else does. */
        mode_t mode = s->is_private ? 0600 : 0666;

        fd = sock_listen_unix(s->unix_path, MASTER_LISTEN_BACKLOG, mode, err);
        if (fd >= 0 && ms->privileged && chown(s->unix_path, ms->mail_uid, ms->mail_gid) < 0) {
            vstr_set_fmt(err, "cannot chown %s: %s", s->unix_path, strerror(errno));
            close(fd);
            (void)unlink(s->unix_path);
            return -1;
        }
    } else {
        fd = sock_listen_inet(s->key + 5, MASTER_LISTEN_BACKLOG, err);
    }
    if (fd < 0)
        return -1;
    /* The flag is shared with the children's copies: they race on accept
     * and the losers must see EAGAIN, not block. */
    if (sock_set_nonblock(fd, 1) < 0) {
        vstr_set_fmt(err, "%s: cannot make the socket non-blocking: %s", s->key, strerror(errno));
        close(fd);
        return -1;
    }
    s->listen_fd = fd;
    return 0;
}

void master_serv_pipes(master_serv *s)
{
    int st[2], life[2];

    if (pipe2(st, O_CLOEXEC) < 0 || pipe2(life, O_CLOEXEC) < 0)
        msg_fatal("pipe: %s", strerror(errno));
    if (fcntl(st[0], F_SETFL, O_NONBLOCK) < 0)
        msg_fatal("fcntl: %s", strerror(errno));
    s->status_rd = st[0];
    s->status_wr = st[1];
    s->lifeline_rd = life[0];
    s->lifeline_wr = life[1];
}

void master_serv_retire(master_serv *s, int close_listener, int unlink_path)
{
    s->retired = 1;
    s->next_wakeup = 0;
    if (close_listener) {
        close_fd(&s->listen_fd);
        if (unlink_path && s->unix_path)
            (void)unlink(s->unix_path);
    } else {
        s->listen_fd = -1; /* handed to the service that replaces this one */
    }
    /* EOF on the lifeline: idle children exit now, busy ones when done. */
    close_fd(&s->lifeline_wr);
    close_fd(&s->lifeline_rd);
    close_fd(&s->status_wr);
}

void master_servs_collect(master_state *ms)
{
    master_serv **pp = &ms->servs;

    while (*pp) {
        master_serv *s = *pp;

        if (s->retired && s->total == 0) {
            *pp = s->next;
            master_serv_free(s);
        } else {
            pp = &s->next;
        }
    }
}

void master_servs_reload(master_state *ms, const mastercf *mcf)
{
    master_serv *fresh = NULL, *s, *keep_head = NULL, **keep_tail = &keep_head;
    master_serv **all = NULL, **old = NULL, **wanted = NULL;
    master_spec *old_specs = NULL, *new_specs = NULL;
    master_diff_action *action = NULL;
    long *match = NULL;
    int *removed = NULL;
    size_t n_all = 0, n_old = 0, n_new = 0;
    vstr err = VSTR_INIT;
    int64_t now = clock_mono_ms();

    if (master_servs_build(ms, mcf, &fresh, &err) < 0) {
        argv_t *lines = argv_split(vstr_str(&err), "\n");

        for (size_t i = 0; i < lines->argc; i++)
            msg_error("reload: %s", lines->argv[i]);
        argv_free(lines);
        msg_warn("reload: master.cf has errors; the running services stay as they are");
        vstr_release(&err);
        return;
    }
    for (s = ms->servs; s; s = s->next)
        n_all++;
    for (s = fresh; s; s = s->next)
        n_new++;
    /* The lists are relinked below: take them apart into arrays first. */
    all = mem_calloc(n_all + 1, sizeof(*all));
    n_all = 0;
    for (s = ms->servs; s; s = s->next)
        all[n_all++] = s;
    old = mem_calloc(n_all + 1, sizeof(*old));
    wanted = mem_calloc(n_new + 1, sizeof(*wanted));
    old_specs = mem_calloc(n_all + 1, sizeof(*old_specs));
    new_specs = mem_calloc(n_new + 1, sizeof(*new_specs));
    removed = mem_calloc(n_all + 1, sizeof(*removed));
    action = mem_calloc(n_new + 1, sizeof(*action));
    match = mem_calloc(n_new + 1, sizeof(*match));
    for (size_t i = 0; i < n_all; i++)
        if (!all[i]->retired) {
            old[n_old] = all[i];
            old_specs[n_old++] = (master_spec){all[i]->key, all[i]->sig};
        }
    n_new = 0;
    for (s = fresh; s; s = s->next) {
        wanted[n_new] = s;
        new_specs[n_new++] = (master_spec){s->key, s->sig};
    }
    master_diff(old_specs, n_old, new_specs, n_new, action, match, removed);

    /* The new list: in master.cf order, kept services in their place. */
    for (size_t j = 0; j < n_new; j++) {
        master_serv *w = wanted[j];

        switch (action[j]) {
        case MASTER_DIFF_KEEP:
            master_serv_free(w);
            w = old[match[j]];
            break;
        case MASTER_DIFF_CHANGE:
            msg_info("reload: service %s/%s (%s) changed: restarting its processes", w->name,
                     w->type_name, w->key + 5);
            w->listen_fd = old[match[j]]->listen_fd;
            master_serv_retire(old[match[j]], 0, 0);
            master_serv_pipes(w);
            if (w->wakeup)
                w->next_wakeup = now;
            break;
        case MASTER_DIFF_ADD:
            if (master_serv_listen(ms, w, &err) < 0) {
                msg_error("reload: service %s/%s: %s; not started", w->name, w->type_name,
                          vstr_str(&err));
                master_serv_free(w);
                continue;
            }
            msg_info("reload: service %s/%s (%s) added", w->name, w->type_name, w->key + 5);
            master_serv_pipes(w);
            if (w->wakeup)
                w->next_wakeup = now;
            break;
        }
        w->next = NULL;
        *keep_tail = w;
        keep_tail = &w->next;
    }
    for (size_t i = 0; i < n_old; i++) {
        if (removed[i]) {
            msg_info("reload: service %s/%s (%s) removed", old[i]->name, old[i]->type_name,
                     old[i]->key + 5);
            master_serv_retire(old[i], 1, 1);
        }
    }
    /* Retired services (old and new) follow until their children are gone. */
    for (size_t i = 0; i < n_all; i++) {
        if (all[i]->retired) {
            all[i]->next = NULL;
            *keep_tail = all[i];
            keep_tail = &all[i]->next;
        }
    }
    ms->servs = keep_head;
    master_servs_collect(ms);

    mem_free(all);
    mem_free(old);
    mem_free(wanted);
    mem_free(old_specs);
    mem_free(new_specs);
    mem_free(removed);
    mem_free(action);
    mem_free(match);
    vstr_release(&err);
}
