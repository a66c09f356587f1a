/*
 * postern - create, check and run a Postern instance
 *
 * SYNOPSIS
 *   postern [-v] [-f] [-c DIR] VERB [ARGS ...]
 *
 * DESCRIPTION
 *   The administrator's front door. Global options come before the verb:
 *   -c DIR names the configuration directory (default $MAIL_CONFIG, else
 *   /etc/postern), -v makes the run verbose (repeat for more), -f lets a
 *   verb replace what exists. The verb is looked up in a table of
 *   {name, handler, usage}: adding a verb is adding a row and its file.
 *
 * DIAGNOSTICS
 *   Problems go to stderr as "postern: error: ..." lines. Exit status is
 *   the verb's: 0 success, 1 failure, 2 a command-line mistake.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admin/postern.h"
#include "admin/postern_control.h"
#include "util/msg.h"

typedef struct postern_verb {
    const char *name;
    postern_handler handler;
    const char *usage; /* arguments after the verb */
    const char *help;  /* one line for the verb list */
} postern_verb;

static const postern_verb postern_verbs[] = {
    {"init", postern_init, "[-f] [name=value ...]",
     "create a self-contained instance in the configuration directory"},
    {"check", postern_check, "", "verify the configuration, directories, owners and modes"},
    {"start", postern_start, "", "check, then start master; return once it accepts mail"},
    {"stop", postern_stop, "", "stop master and every daemon; return once all are gone"},
    {"abort", postern_abort, "", "stop at once, killing the daemons"},
    {"reload", postern_reload, "", "make master re-read main.cf and master.cf"},
    {"status", postern_status, "", "say whether the instance runs (exit 0) or not (exit 1)"},
    {"flush", postern_flush, "", "ask qmgr to retry deferred mail now"},
    {NULL, NULL, NULL, NULL},
};

static const postern_verb *postern_verb_find(const char *name)
{
    for (const postern_verb *v = postern_verbs; v->name; v++)
        if (strcmp(v->name, name) == 0)
            return v;
    return NULL;
}

static void usage_line(const postern_verb *v)
{
    fprintf(stderr, "usage: postern [-v] [-c DIR] %s%s%s\n", v->name, v->usage[0] ? " " : "",
            v->usage);
}

void postern_usage_verb(const char *verb)
{
    const postern_verb *v = postern_verb_find(verb);

    if (v)
        usage_line(v);
}

static int usage(void)
{
    fprintf(stderr, "usage: postern [-v] [-f] [-c DIR] VERB [ARGS ...]\nverbs:\n");
    for (const postern_verb *v = postern_verbs; v->name; v++)
        fprintf(stderr, "  %-6s %s\n         %s\n", v->name, v->usage, v->help);
    return POSTERN_EXIT_USAGE;
}

int main(int argc, char **argv)
{
    postern_opts opts = {NULL, 0};
    const postern_verb *verb;
    const char *cmdline_dir = NULL;
    int verbose = 0;
    int c;

    msg_init("postern");
    /* What init prints and the warnings on stderr must come out in order. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    /* "+": stop at the verb, whose own options are its business. */
    while ((c = getopt(argc, argv, "+c:fv")) != -1) {
        switch (c) {
        case 'c':
            cmdline_dir = optarg;
            break;
        case 'f':
            opts.force = 1;
            break;
        case 'v':
            verbose++;
            break;
        default:
            return usage();
        }
    }
    msg_set_verbose(verbose);
    if (optind >= argc)
        return usage();
    verb = postern_verb_find(argv[optind]);
    if (verb == NULL) {
        msg_error("unknown verb \"%s\"", argv[optind]);
        return usage();
    }
    opts.config_dir = config_directory(cmdline_dir);
    if (opts.config_dir == NULL || opts.config_dir[0] == 0) {
        msg_error("empty configuration directory name");
        return POSTERN_EXIT_USAGE;
    }
    msg_debug("configuration directory %s", opts.config_dir);
    return verb->handler(&opts, argc - optind, argv + optind);
}
