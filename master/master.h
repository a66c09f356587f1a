/*
 * master - what master's files share
 *
 * DESCRIPTION
 *   master.c starts up, takes the pid lock and runs the event loop;
 *   master_serv.c turns master.cf entries into running services (sockets,
 *   pipes) and applies a reload; master_spawn.c forks, reaps and listens
 *   to children; master_logic.c holds the pure decisions (back-off, what a
 *   reload changes, where a service listens), unit-tested on their own.
 *
 *   A master.cf entry becomes one running service per endpoint: a unix
 *   service has one socket, an inet service without a host one per
 *   address in inet_interfaces. Each running service has its own
 *   children, maxproc, status pipe and lifeline.
 */
#ifndef MASTER_MASTER_H
#define MASTER_MASTER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "global/config.h"
#include "global/mastercf.h"
#include "util/argv.h"
#include "util/vstr.h"

/* ---- Pure logic (master_logic.c) ---- */

/* Back-off after a failure: the first delay. The ceiling is
 * service_throttle_time (60 s by default). */
#define MASTER_BACKOFF_MIN_MS 1000
/* A child that fails sooner than this after its start, before it has
 * taken a client, had a bad start: the back-off grows. */
#define MASTER_BAD_START_MS 10000

typedef enum master_exit_kind {
    MASTER_EXIT_OK,     /* exit status 0 */
    MASTER_EXIT_STATUS, /* exit status other than 0 */
    MASTER_EXIT_SIGNAL, /* killed by a signal */
} master_exit_kind;

/* The delay before the service may start another child, given the delay
 * in force before (0: none), how the child ended, whether it had a bad
 * start (MASTER_BAD_START_MS) and the ceiling. 0: no delay. */
long master_backoff_next(long prev_ms, master_exit_kind how, int bad_start, long max_ms);

/* Apply import_environment (names to keep, name=value to set) to the
 * environment: everything else is removed. */
void master_import_environment(const char *list);

/* A running service as a reload compares it: where it listens (key) and
 * everything else that makes its children what they are (sig). */
typedef struct master_spec {
    const char *key;
    const char *sig;
} master_spec;

typedef enum master_diff_action {
    MASTER_DIFF_ADD,    /* a new endpoint: open it, start the service */
    MASTER_DIFF_KEEP,   /* unchanged: the running service stays as it is */
    MASTER_DIFF_CHANGE, /* same endpoint, different service: keep the socket,
                           retire the old children, start over */
} master_diff_action;

/* Compare the running services old[] with the wanted ones new[]: for each
 * new one, action[j] and the matching old index match[j] (-1 for ADD); for
 * each old one, removed[i] = 1 when no new one has its endpoint. */
void master_diff(const master_spec *old, size_t n_old, const master_spec *new_specs, size_t n_new,
                 master_diff_action *action, long *match, int *removed);

/* The endpoints of a master.cf entry, as keys "unix:PATH" or
 * "inet:HOST:PORT" ("inet:[ADDR]:PORT" for IPv6, "inet::PORT" for every
 * address): a unix socket in queue_dir's private/ or public/; an inet
 * service name as written when it has a host, else one per
 * inet_interfaces address ("all": every address; "loopback-only" and
 * "localhost": 127.0.0.1). -1 with a reason in err for a type master does
 * not run. */
int master_endpoints(const mastercf_service *ent, const char *queue_dir,
                     const char *inet_interfaces, argv_t *out, vstr *err);

/* The program a master.cf command names: itself when absolute, else under
 * daemon_dir. */
void master_program_path(const char *command, const char *daemon_dir, vstr *out);

/* What identifies a service's children besides its endpoint: every column,
 * the program, its arguments, and a fingerprint of main.cf (children read
 * it at start, so a changed main.cf changes every service). */
void master_signature(const mastercf_service *ent, const char *program,
                      const char *main_cf_fingerprint, vstr *out);

/* The nice value a child of a master at master_nice starts with, given the
 * service's adjustment: only ever lower (a better priority) or equal,
 * never below -20; an adjustment above 0 counts as 0. */
int master_child_nice(int master_nice, int adjust);

/* True when a master.cf command names the queue manager (qmgr, by name or
 * as a path ending in /qmgr): the service qmgr_nice_adjustment applies to. */
int master_command_is_qmgr(const char *command);

/* A short fingerprint (hex) of data. */
void master_fingerprint(const void *data, size_t len, vstr *out);

/* ---- Running services (master_serv.c, master_spawn.c) ---- */

typedef struct master_child master_child;

typedef struct master_serv {
    char *name;        /* master.cf service name */
    char *type_name;   /* "inet" or "unix" */
    char *key;         /* endpoint key (master_endpoints) */
    char *sig;         /* master_signature */
    char *program;     /* absolute path of the command */
    argv_t *exec_argv; /* what the children run, argv[0] = program */
    char *unix_path;   /* the socket file of a unix service, else NULL */
    int is_private;    /* a unix socket in private/ (else public/) */
    int wakeup;        /* seconds; 0: none */
    int wakeup_if_used;
    int maxproc; /* 0: no limit */
    int nice_adjust; /* <= 0: added to master's nice value in the child */
    int listen_fd;
    int status_rd, status_wr;     /* status pipe: children write, master reads */
    int lifeline_rd, lifeline_wr; /* master holds the write end only */
    int total;                    /* children running */
    int avail;                    /* of those, idle (or not yet reported) */
    int used;                     /* a child has taken a client */
    int retired;                  /* removed or replaced on reload */
    long backoff_ms;
    int64_t throttle_until; /* monotonic ms; no new child before */
    int64_t next_wakeup;    /* monotonic ms; 0: none */
    struct master_serv *next;
} master_serv;

struct master_child {
    pid_t pid;
    master_serv *serv;
    int busy;
    int served; /* has taken a client */
    int64_t started_ms;
    master_child *next;
};

/* The whole state of the running master. */
typedef struct master_state {
    config *cfg;
    char *config_dir;    /* absolute */
    char *queue_dir;     /* absolute */
    char *main_cf_print; /* fingerprint of main.cf at the last (re)load */
    master_serv *servs;  /* live and retired services */
    master_child *children;
    int privileged; /* running as root */
    uid_t mail_uid;
    gid_t mail_gid;
    gid_t setgid_gid;
    int stopping;
    long throttle_max_ms; /* service_throttle_time */
    int qmgr_nice_adjust; /* qmgr_nice_adjustment; applied when privileged */
} master_state;

/* Build the services of mcf (not yet listening) into *out; -1 with the
 * reasons in err. */
int master_servs_build(master_state *ms, const mastercf *mcf, master_serv **out, vstr *err);
/* Open a service's socket; -1 with a reason in err. */
int master_serv_listen(master_state *ms, master_serv *s, vstr *err);
/* Create the status pipe and lifeline of a service. */
void master_serv_pipes(master_serv *s);
/* Stop taking clients for s: close its socket (removing a unix socket
 * file when unlink_path), close its lifeline so that idle children exit;
 * it is freed once its last child is gone. */
void master_serv_retire(master_serv *s, int close_listener, int unlink_path);
void master_serv_free(master_serv *s);
/* Replace ms->servs by the services in mcf, per master_diff; new sockets
 * that cannot be opened are logged and skipped. */
void master_servs_reload(master_state *ms, const mastercf *mcf);
/* Free retired services without children. */
void master_servs_collect(master_state *ms);

/* Fork and exec a child of s. */
void master_spawn(master_state *ms, master_serv *s);
/* Reap every child that has exited; log, back off. */
void master_reap(master_state *ms);
/* Read status messages from s's status pipe. */
void master_read_status(master_state *ms, master_serv *s);
/* Connect to a trigger service's own socket and write a wakeup. */
void master_wakeup(master_state *ms, master_serv *s);
/* Send sig to every child. */
void master_signal_children(master_state *ms, int sig);
/* Does s want a new child now? (a client waits is for poll to tell) */
int master_serv_may_spawn(const master_serv *s, int64_t now);

#endif
