/*
 * master_logic - master's decisions that need no processes or sockets
 *
 * DESCRIPTION
 *   Back-off after failed children, what a reload changes, where a
 *   service listens, and what identifies a service. Kept apart from the
 *   code that acts on them so that tests/unit/master_logic_test.c can
 *   check them without starting anything; it includes this file, so it
 *   depends on libglobal and libutil only.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "master/master.h"
#include "util/mem.h"

long master_backoff_next(long prev_ms, master_exit_kind how, int bad_start, long max_ms)
{
    long next;

    if (how == MASTER_EXIT_OK)
        return 0;
    /* A child that did its work and then exited non-zero is logged, but
     * says nothing bad about the next one. */
    if (how == MASTER_EXIT_STATUS && !bad_start)
        return 0;
    /* A crash after a good start begins a new series; a bad start
     * continues the series, doubling up to the ceiling. */
    if (prev_ms <= 0 || !bad_start)
        return MASTER_BACKOFF_MIN_MS;
    next = prev_ms >= max_ms / 2 ? max_ms : prev_ms * 2;
    return next < MASTER_BACKOFF_MIN_MS ? MASTER_BACKOFF_MIN_MS : next;
}

void master_import_environment(const char *list)
{
    argv_t *items = argv_split(list, " \t\r\n,");
    argv_t *keep = argv_new();

    /* Collect first: clearenv() would take the values with it. */
    for (size_t i = 0; i < items->argc; i++) {
        const char *item = items->argv[i];
        const char *value;

        if (strchr(item, '=')) {
            argv_add(keep, item);
        } else if ((value = getenv(item)) != NULL) {
            vstr pair = VSTR_INIT;

            vstr_set_fmt(&pair, "%s=%s", item, value);
            argv_add(keep, vstr_str(&pair));
            vstr_release(&pair);
        }
    }
    clearenv();
    for (size_t i = 0; i < keep->argc; i++) {
        char *eq = strchr(keep->argv[i], '=');

        *eq = 0;
        if (keep->argv[i][0])
            setenv(keep->argv[i], eq + 1, 1);
    }
    argv_free(keep);
    argv_free(items);
}

void master_diff(const master_spec *old, size_t n_old, const master_spec *new_specs, size_t n_new,
                 master_diff_action *action, long *match, int *removed)
{
    for (size_t i = 0; i < n_old; i++)
        removed[i] = 1;
    for (size_t j = 0; j < n_new; j++) {
        action[j] = MASTER_DIFF_ADD;
        match[j] = -1;
        for (size_t i = 0; i < n_old; i++) {
            /* An endpoint is matched once: master.cf cannot name one
             * endpoint twice, but a reload must not hand one socket to two
             * services if it somehow did. */
            if (!removed[i] || strcmp(old[i].key, new_specs[j].key) != 0)
                continue;
            removed[i] = 0;
            match[j] = (long)i;
            action[j] =
                strcmp(old[i].sig, new_specs[j].sig) == 0 ? MASTER_DIFF_KEEP : MASTER_DIFF_CHANGE;
            break;
        }
    }
}

/* "inet:" and host:port, bracketing an IPv6 address; once only (two
 * sockets on one address would not both bind). */
static void add_inet(argv_t *out, size_t first, const char *host, const char *port)
{
    vstr key = VSTR_INIT;

    if (strchr(host, ':') && host[0] != '[')
        vstr_set_fmt(&key, "inet:[%s]:%s", host, port);
    else
        vstr_set_fmt(&key, "inet:%s:%s", host, port);
    for (size_t i = first; i < out->argc; i++) {
        if (strcmp(out->argv[i], vstr_str(&key)) == 0) {
            vstr_release(&key);
            return;
        }
    }
    argv_add(out, vstr_str(&key));
    vstr_release(&key);
}

/* Does an inet service name carry a host ("host:port", "[addr]:port")? */
static int inet_has_host(const char *name)
{
    return name[0] == '[' || strchr(name, ':') != NULL;
}

int master_endpoints(const mastercf_service *ent, const char *queue_dir,
                     const char *inet_interfaces, argv_t *out, vstr *err)
{
    vstr key = VSTR_INIT;

    switch (ent->type) {
    case MASTERCF_UNIX:
        if (strchr(ent->name, '/') || strcmp(ent->name, ".") == 0 ||
            strcmp(ent->name, "..") == 0) {
            vstr_set_fmt(err, "service %s/%s: a unix service name may not contain '/'", ent->name,
                         ent->type_name);
            return -1;
        }
        vstr_set_fmt(&key, "unix:%s/%s/%s", queue_dir, ent->is_private ? "private" : "public",
                     ent->name);
        argv_add(out, vstr_str(&key));
        vstr_release(&key);
        return 0;
    case MASTERCF_INET:
        if (inet_has_host(ent->name)) {
            vstr_set_fmt(&key, "inet:%s", ent->name);
            argv_add(out, vstr_str(&key));
            vstr_release(&key);
            return 0;
        } else {
            argv_t *ifaces = argv_split(inet_interfaces, " \t\r\n,");
            size_t before = out->argc;

            for (size_t i = 0; i < ifaces->argc; i++) {
                const char *a = ifaces->argv[i];

                if (strcmp(a, "all") == 0)
                    add_inet(out, before, "", ent->name);
                else if (strcmp(a, "loopback-only") == 0 || strcmp(a, "localhost") == 0)
                    add_inet(out, before, "127.0.0.1", ent->name);
                else
                    add_inet(out, before, a, ent->name);
            }
            argv_free(ifaces);
            if (out->argc == before) {
                vstr_set_fmt(err, "service %s/%s: inet_interfaces is empty", ent->name,
                             ent->type_name);
                return -1;
            }
            return 0;
        }
    default:
        vstr_set_fmt(err, "service %s/%s: master does not run %s services (only inet and unix)",
                     ent->name, ent->type_name, ent->type_name);
        return -1;
    }
}

int master_child_nice(int master_nice, int adjust)
{
    int n;

    if (adjust >= 0)
        return master_nice;
    n = master_nice + adjust;
    /* A master already below -20 (it cannot be) keeps its own value. */
    if (n < -20)
        n = master_nice < -20 ? master_nice : -20;
    return n;
}

int master_command_is_qmgr(const char *command)
{
    const char *base = strrchr(command, '/');

    return strcmp(base ? base + 1 : command, "qmgr") == 0;
}

void master_program_path(const char *command, const char *daemon_dir, vstr *out)
{
    if (command[0] == '/')
        vstr_set_str(out, command);
    else
        vstr_set_fmt(out, "%s/%s", daemon_dir, command);
}

void master_signature(const mastercf_service *ent, const char *program,
                      const char *main_cf_fingerprint, vstr *out)
{
    /* Fields joined with a byte no master.cf field can hold. */
    vstr_set_fmt(out, "%s\x1f%s\x1f%d\x1f%d\x1f%d\x1f%d%s\x1f%d\x1f%s\x1f%s", ent->type_name,
                 ent->name, ent->is_private, ent->is_unpriv, ent->is_chroot, ent->wakeup,
                 ent->wakeup_if_used ? "?" : "", ent->maxproc, program, main_cf_fingerprint);
    for (size_t i = 0; i < ent->argv->argc; i++) {
        vstr_append_char(out, 0x1f);
        vstr_append_str(out, ent->argv->argv[i]);
    }
}

void master_fingerprint(const void *data, size_t len, vstr *out)
{
    /* FNV-1a, 64 bits: a change detector, not a defence against anyone. */
    const unsigned char *p = data;
    uint64_t h = 0xcbf29ce484222325ULL;

    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    vstr_set_fmt(out, "%016llx/%zu", (unsigned long long)h, len);
}
