/*
 * sendmail_opts - sendmail's command line, as Postfix's sendmail(1) takes it
 *
 * Options cluster ("-ti"), an option's argument is attached or the next
 * word ("-fuser", "-f user"), and options may follow recipients, as with
 * GNU getopt; "--" ends the options. Sendmail options that mean nothing
 * here are accepted and ignored, so that programs written for Sendmail
 * keep working; modes that Postern does not have are usage errors.
 */
#include <ctype.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>

#include "global/addr_list.h"
#include "global/rec.h"
#include "postdrop/sendmail.h"
#include "util/mem.h"

/* Options that take an argument (attached or the next word). */
#define SENDMAIL_ARG_OPTIONS "BCFLNORVXbcefhopr"
/* Flags accepted and ignored: -4 -6 (address family), -G (gateway
 * submission), -U (initial user submission), -m (send to me too, always
 * done), -x (trace). -n (no aliasing) is refused, as in Postfix: the
 * caller asks for something that will not happen. */
#define SENDMAIL_IGNORED_FLAGS "46GUmx"
/* Most addresses one recipient argument may hold. */
#define SENDMAIL_ARG_ADDRS_MAX 1000

__attribute__((format(printf, 2, 3))) static int usage_error(vstr *err, const char *fmt, ...)
{
    va_list ap;

    vstr_reset(err);
    va_start(ap, fmt);
    vstr_append_vfmt(err, fmt, ap);
    va_end(ap);
    return EX_USAGE;
}

int sendmail_parse_notify(const char *text)
{
    static const struct {
        const char *word;
        int bit;
    } words[] = {
        {"never", REC_DSN_NOTIFY_NEVER},
        {"success", REC_DSN_NOTIFY_SUCCESS},
        {"failure", REC_DSN_NOTIFY_FAILURE},
        {"delay", REC_DSN_NOTIFY_DELAY},
    };
    argv_t *list = argv_split(text, ", \t");
    int bits = 0;

    for (size_t i = 0; i < list->argc && bits >= 0; i++) {
        int bit = 0;

        for (size_t w = 0; w < sizeof(words) / sizeof(words[0]); w++)
            if (strcasecmp(list->argv[i], words[w].word) == 0)
                bit = words[w].bit;
        bits = bit == 0 ? -1 : bits | bit;
    }
    argv_free(list);
    if (bits <= 0 || ((bits & REC_DSN_NOTIFY_NEVER) && bits != REC_DSN_NOTIFY_NEVER))
        return -1;
    return bits;
}

int sendmail_envid_ok(const char *s, size_t len)
{
    if (len == 0 || len > SENDMAIL_ENVID_MAX)
        return 0;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 33 || (unsigned char)s[i] > 126)
            return 0;
    return 1;
}

/* -o: Sendmail's old-style options; those without meaning here are ignored. */
static int parse_o(sendmail_opts *o, const char *arg, vstr *err)
{
    switch (arg[0]) {
    case 'i':
        if (arg[1] == 0)
            o->ignore_dots = 1;
        return 0;
    case 'A':
        if (arg[1] == 0)
            return usage_error(err, "-oA needs an alias table name");
        o->alias_database = arg + 1;
        return 0;
    case 'F':
        o->full_name = arg + 1;
        return 0;
    default:
        return 0; /* -o7 -o8 -odb -odi -om -oem -oee -oep ... */
    }
}

static int parse_b(sendmail_opts *o, const char *arg, vstr *err)
{
    static const struct {
        const char *name;
        sendmail_mode mode;
    } modes[] = {
        {"m", SENDMAIL_MODE_ENQUEUE},
        {"s", SENDMAIL_MODE_SMTP},
        {"p", SENDMAIL_MODE_LIST},
        {"i", SENDMAIL_MODE_ALIASES},
    };

    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        if (strcmp(arg, modes[i].name) == 0) {
            o->mode = modes[i].mode;
            return 0;
        }
    }
    /* Host status (-bh, -bH) does not exist here: nothing to show or flush. */
    if (strcmp(arg, "h") == 0 || strcmp(arg, "H") == 0) {
        o->mode = SENDMAIL_MODE_NOTHING;
        return 0;
    }
    if (strcmp(arg, "d") == 0 || strcmp(arg, "D") == 0 || strcmp(arg, "l") == 0)
        return usage_error(err, "-b%s: daemon mode is not supported; use postern start", arg);
    return usage_error(err, "-b%s: unsupported mode", arg);
}

/* -q alone flushes; -qRsite flushes one destination and -qIid one
 * message (postqueue -s, -i); -qINTERVAL (a periodic queue run in
 * Sendmail) is accepted and ignored, as Postfix does. */
static int parse_q(sendmail_opts *o, const char *arg, vstr *err)
{
    if (*arg == 'R' || *arg == 'I') {
        if (arg[1] == 0)
            return usage_error(err, "-q%c needs a %s", *arg, *arg == 'R' ? "site" : "queue id");
        o->mode = SENDMAIL_MODE_FLUSH;
        if (*arg == 'R')
            o->flush_site = arg + 1;
        else
            o->flush_id = arg + 1;
        return 0;
    }
    if (*arg == 0) {
        o->mode = SENDMAIL_MODE_FLUSH;
        return 0;
    }
    if (!isdigit((unsigned char)*arg))
        return usage_error(err, "-q%s: unsupported queue run option", arg);
    o->mode = SENDMAIL_MODE_NOTHING;
    return 0;
}

static int parse_with_arg(sendmail_opts *o, int c, const char *arg, vstr *err)
{
    switch (c) {
    case 'B':
        if (strcasecmp(arg, "7bit") == 0)
            o->body_type = "7BIT";
        else if (strcasecmp(arg, "8bitmime") == 0)
            o->body_type = "8BITMIME";
        else
            return usage_error(err, "-B %s: body type must be 7BIT or 8BITMIME", arg);
        return 0;
    case 'C':
    case 'c':
        if (*arg == 0)
            return usage_error(err, "-%c: empty configuration directory", c);
        o->config_dir = arg;
        return 0;
    case 'F':
        o->full_name = arg;
        return 0;
    case 'N':
        if ((o->dsn_notify = sendmail_parse_notify(arg)) < 0)
            return usage_error(err, "-N %s: expected never, or a list of success, delay, failure",
                               arg);
        return 0;
    case 'R':
        if (strcasecmp(arg, "full") == 0)
            o->dsn_ret = "FULL";
        else if (strcasecmp(arg, "hdrs") == 0)
            o->dsn_ret = "HDRS";
        else
            return usage_error(err, "-R %s: expected full or hdrs", arg);
        return 0;
    case 'V':
        if (!sendmail_envid_ok(arg, strlen(arg)))
            return usage_error(err, "-V %s: an envelope id is 1 to 100 printable characters", arg);
        o->dsn_envid = arg;
        return 0;
    case 'b':
        return parse_b(o, arg, err);
    case 'f':
    case 'r':
        o->sender = arg;
        return 0;
    case 'o':
        return parse_o(o, arg, err);
    default:
        return 0; /* -L label, -O option=value, -X logfile, -e mode, -h hops, -p protocol */
    }
}

void sendmail_opts_release(sendmail_opts *o)
{
    mem_free(o->rcpts);
    o->rcpts = NULL;
    o->rcpt_count = 0;
}

int sendmail_parse_args(int argc, char **argv, sendmail_opts *o, vstr *err)
{
    const char *prog = argc > 0 && argv[0] ? strrchr(argv[0], '/') : NULL;
    int options_done = 0, st;

    memset(o, 0, sizeof(*o));
    prog = prog ? prog + 1 : (argc > 0 && argv[0] ? argv[0] : "sendmail");
    if (strcmp(prog, "mailq") == 0)
        o->mode = SENDMAIL_MODE_LIST;
    else if (strcmp(prog, "newaliases") == 0)
        o->mode = SENDMAIL_MODE_ALIASES;
    o->rcpts = mem_calloc((size_t)(argc > 0 ? argc : 1), sizeof(char *));
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];

        if (options_done || a[0] != '-' || a[1] == 0) {
            o->rcpts[o->rcpt_count++] = argv[i];
            continue;
        }
        if (strcmp(a, "--") == 0) {
            options_done = 1;
            continue;
        }
        for (const char *p = a + 1; *p; p++) {
            int c = (unsigned char)*p;

            if (c == 'q') {
                if ((st = parse_q(o, p + 1, err)) != 0)
                    return st;
                break;
            }
            if (strchr(SENDMAIL_ARG_OPTIONS, c)) {
                const char *arg = p[1] ? p + 1 : NULL;

                if (arg == NULL && i + 1 >= argc) {
                    vstr_set_fmt(err, "option -%c requires an argument", c);
                    return EX_USAGE;
                }
                if (arg == NULL)
                    arg = argv[++i];
                if ((st = parse_with_arg(o, c, arg, err)) != 0)
                    return st;
                break;
            }
            switch (c) {
            case 'I':
                o->mode = SENDMAIL_MODE_ALIASES;
                break;
            case 'i':
                o->ignore_dots = 1;
                break;
            case 't':
                o->extract = 1;
                break;
            case 'v':
                o->verbose++;
                break;
            case 'n':
                vstr_set_str(err, "-n option not supported");
                return EX_USAGE;
            default:
                if (strchr(SENDMAIL_IGNORED_FLAGS, c) == NULL) {
                    vstr_set_fmt(err, "invalid option -%c", isprint(c) ? c : '?');
                    return EX_USAGE;
                }
            }
        }
    }
    return 0;
}

int sendmail_parse_address(const char *text, vstr *out, vstr *err)
{
    addr_list *list;
    vstr trimmed = VSTR_INIT, why = VSTR_INIT;
    int result = -1;

    vstr_set_str(&trimmed, text);
    vstr_trim(&trimmed);
    if (vstr_len(&trimmed) == 0 || vstr_equals(&trimmed, "<>")) {
        vstr_reset(out);
        vstr_release(&trimmed);
        return 0;
    }
    list = addr_list_new(2);
    if (addr_list_parse(list, vstr_str(&trimmed), vstr_len(&trimmed), &why) == ADDR_LIST_SYNTAX)
        vstr_set_fmt(err, "bad address syntax: %s", vstr_str(&why));
    else if (list->count != 1)
        vstr_set_str(err, list->count == 0 ? "no address" : "more than one address");
    else {
        vstr_set_str(out, list->entries[0].addr);
        result = 0;
    }
    addr_list_free(list);
    vstr_release(&trimmed);
    vstr_release(&why);
    return result;
}

int sendmail_add_recipients(argv_t *rcpts, const char *text, vstr *err)
{
    addr_list *list = addr_list_new(SENDMAIL_ARG_ADDRS_MAX);
    vstr why = VSTR_INIT;
    addr_list_status st = addr_list_parse(list, text, strlen(text), &why);
    int result = 0;

    if (st == ADDR_LIST_SYNTAX) {
        vstr_set_fmt(err, "bad address syntax: %s", vstr_str(&why));
        result = -1;
    } else if (st == ADDR_LIST_TOO_MANY) {
        vstr_set_fmt(err, "more than %d addresses in one argument", SENDMAIL_ARG_ADDRS_MAX);
        result = -1;
    } else {
        for (size_t i = 0; i < list->count; i++)
            argv_add(rcpts, list->entries[i].addr);
    }
    addr_list_free(list);
    vstr_release(&why);
    return result;
}
