/*
 * NAME
 *   sendmail - what the files of the sendmail command share
 *
 * SYNOPSIS
 *   sendmail_opts o;
 *   if ((st = sendmail_parse_args(argc, argv, &o, &err)) != 0) ... exit st ...
 *
 *   sendmail_reader r;
 *   sendmail_reader_init(&r, in, dot_ends, smtp_unstuff);
 *   while ((st = sendmail_reader_get(&r, &line)) == SENDMAIL_READ_LINE || ...)
 *
 *   sendmail_submit *s = sendmail_submit_open(&ctx, &env, &err);
 *   sendmail_submit_record(s, REC_TYPE_NORM, line, len);
 *   status = sendmail_submit_close(s, 1, &why);
 *
 * DESCRIPTION
 *   sendmail.c parses the command line (sendmail_opts.c) and runs one
 *   mode: a message from standard input (-bm), an SMTP session on
 *   standard input and output (-bs, sendmail_smtp.c), the queue listing
 *   and a queue flush (-bp, -q: by running postqueue, as Postfix does) or
 *   newaliases (-bi).
 *   Messages read by the first two go through sendmail_reader
 *   (sendmail_input.c), which turns input lines into L and P records,
 *   and are handed to postdrop by sendmail_submit (sendmail_submit.c).
 *
 *   The option parser, the reader and the SMTP session do no I/O of
 *   their own beyond the streams they are given, so that unit tests and
 *   the fuzzer drive them directly.
 */
#ifndef POSTDROP_SENDMAIL_H
#define POSTDROP_SENDMAIL_H

#include <stddef.h>

#include "util/argv.h"
#include "util/vstr.h"
#include "util/vstream.h"

/* ---- The command line (sendmail_opts.c) ---- */

typedef enum sendmail_mode {
    SENDMAIL_MODE_ENQUEUE = 0, /* -bm (default): one message from standard input */
    SENDMAIL_MODE_SMTP,        /* -bs: an SMTP session on standard input and output */
    SENDMAIL_MODE_LIST,        /* -bp, mailq: list the queue */
    SENDMAIL_MODE_ALIASES,     /* -bi, -I, newaliases: rebuild alias_database */
    SENDMAIL_MODE_FLUSH,       /* -q, -qRsite, -qIid: retry deferred mail now */
    SENDMAIL_MODE_NOTHING,     /* -qINTERVAL: accepted for compatibility, does nothing */
} sendmail_mode;

typedef struct sendmail_opts {
    sendmail_mode mode;
    const char *config_dir;     /* -C, -c; NULL: MAIL_CONFIG or the default */
    const char *sender;         /* -f, -r as given; NULL: the user's login name */
    const char *full_name;      /* -F, -oF; NULL when not given */
    const char *dsn_envid;      /* -V */
    const char *dsn_ret;        /* -R, as "FULL" or "HDRS" */
    int dsn_notify;             /* -N as REC_DSN_NOTIFY_* bits; 0 when not given */
    const char *body_type;      /* -B, as "7BIT" or "8BITMIME" */
    const char *alias_database; /* -oA: instead of alias_database for -bi */
    const char *flush_site;     /* -qRsite: flush only mail for site */
    const char *flush_id;       /* -qIid: flush only this message */
    int extract;                /* -t: recipients from To:, Cc:, Bcc: */
    int ignore_dots;            /* -i, -oi: a "." line does not end the message */
    int verbose;                /* -v, counted */
    char **rcpts;               /* the arguments after the options (into argv) */
    int rcpt_count;
} sendmail_opts;

/* Longest -V envelope id (RFC 3461). */
#define SENDMAIL_ENVID_MAX 100

/* Parse the command line; argv[0]'s base name "mailq" or "newaliases"
 * selects that mode. 0, or a sysexits.h code (EX_USAGE) with a one-line
 * reason in err. */
int sendmail_parse_args(int argc, char **argv, sendmail_opts *opts, vstr *err);
/* Free what sendmail_parse_args allocated (the recipient array). */
void sendmail_opts_release(sendmail_opts *opts);
/* A -N list ("never", or "success,delay,failure" in any case and order)
 * as REC_DSN_NOTIFY_* bits; -1 when malformed. */
int sendmail_parse_notify(const char *text);
/* One address from the command line or SMTP (quotes, <>, comments, a
 * display name allowed) into internal form; "" and "<>" give the null
 * address. 0, or -1 with a reason in err (no address, or several). */
int sendmail_parse_address(const char *text, vstr *out, vstr *err);
/* An RFC 3461 envelope id as a maildrop file takes it: 1 to
 * SENDMAIL_ENVID_MAX printable ASCII characters, no space. */
int sendmail_envid_ok(const char *s, size_t len);
/* Add every address of a recipient argument ("a@x, B <b@y>") to rcpts;
 * 0, or -1 with a reason in err. */
int sendmail_add_recipients(argv_t *rcpts, const char *text, vstr *err);

/* ---- Message input (sendmail_input.c) ---- */

/* The largest P record sendmail writes: far below REC_PAYLOAD_MAX, large
 * enough that a long line costs few records. */
#define SENDMAIL_PIECE_MAX (64 * 1024)

typedef enum sendmail_read_status {
    SENDMAIL_READ_LINE = 0, /* a whole line, or the rest of a long one, without its end */
    SENDMAIL_READ_PIECE,    /* part of a long line; the line continues */
    SENDMAIL_READ_DOT,      /* a line with only "." ended the message (not returned) */
    SENDMAIL_READ_EOF,      /* input ended; every line has been returned */
    SENDMAIL_READ_ERROR,    /* read error or timeout (vstream_errno says which) */
} sendmail_read_status;

typedef struct sendmail_reader {
    vstream *in;
    int dot_ends;      /* a line with only "." ends the message */
    int unstuff;       /* SMTP: a line's leading "." is dropped */
    size_t piece_max;  /* longest piece returned, at least 2 */
    int at_line_start; /* the next byte starts a line */
    int pending_cr;    /* a CR ended the last piece and was held back */
    int at_eof;        /* input has ended */
    vstr chunk;
} sendmail_reader;

/* Read from in; pieces are at most piece_max bytes (plus one held-back CR). */
void sendmail_reader_init(sendmail_reader *r, vstream *in, int dot_ends, int unstuff,
                          size_t piece_max);
/* The next line or piece into out (replacing it); LF and a CR before it
 * are removed, every other byte is kept. */
sendmail_read_status sendmail_reader_get(sendmail_reader *r, vstr *out);
void sendmail_reader_release(sendmail_reader *r);
/* Is text (the start of a line) an mbox "From " line, possibly quoted as
 * ">From " or ">>From "? sendmail drops such lines at the start of a
 * message, as Postfix does. */
int sendmail_is_from_line(const char *text);

/* ---- Recipients in the headers, for -t (sendmail_headers.c) ---- */

enum { SENDMAIL_FIELD_NONE, SENDMAIL_FIELD_PLAIN, SENDMAIL_FIELD_RESENT };

typedef struct sendmail_header_scan {
    long long limit; /* header_size_limit */
    long long used;  /* bytes of header lines taken so far */
    int done;        /* the header block has ended */
    size_t fields;   /* header fields seen */
    int kind;        /* SENDMAIL_FIELD_* of the field being collected */
    int resent_seen; /* a Resent-To/Cc/Bcc field exists */
    size_t rcpts[3]; /* addresses found, by SENDMAIL_FIELD_* */
    vstr line;       /* the physical line being assembled from pieces */
    vstr value;      /* the unfolded value of an address field */
} sendmail_header_scan;

/* Start scanning a message's headers, bounded by limit bytes. */
void sendmail_header_scan_init(sendmail_header_scan *s, long long limit);
/* Feed the message as it is read: each L (line_end 1) or P record. */
void sendmail_header_scan_feed(sendmail_header_scan *s, int line_end, const char *data,
                               size_t len);
/* At the end of the message: do the headers cleanup will extract from
 * (Resent- fields when there are any, else To, Cc, Bcc) hold an address? */
int sendmail_header_scan_found(sendmail_header_scan *s);
void sendmail_header_scan_release(sendmail_header_scan *s);

/* ---- Handing a message to postdrop (sendmail_submit.c) ---- */

typedef struct sendmail_envelope {
    const char *sender;     /* internal form; "" for the null sender */
    const char *full_name;  /* may be NULL */
    const char *dsn_envid;  /* may be NULL */
    const char *dsn_ret;    /* may be NULL */
    const char *body_type;  /* may be NULL */
    int extract;            /* flags=1: cleanup takes recipients from the headers */
    int dsn_notify;         /* n record for every recipient; 0: none */
    argv_t *rcpts;          /* internal form */
    const int *rcpt_notify; /* n bits of each recipient instead (0: none); may be NULL */
} sendmail_envelope;

/* Where postdrop is and what to tell it. */
typedef struct sendmail_ctx {
    const char *postdrop;   /* program path */
    const char *config_dir; /* passed as -c DIR when not NULL */
    long long size_limit;   /* message_size_limit; 0: none */
} sendmail_ctx;

typedef struct sendmail_submit sendmail_submit;

/* Start postdrop and write the envelope up to M; NULL with a reason in
 * err when postdrop cannot be started. */
sendmail_submit *sendmail_submit_open(const sendmail_ctx *ctx, const sendmail_envelope *env,
                                      vstr *err);
/* Write one content record (L or P); 0, or -1 once postdrop is gone
 * (the caller stops and closes to learn why). */
int sendmail_submit_record(sendmail_submit *s, int type, const char *data, size_t len);
/* complete: write E and wait for postdrop; otherwise stop postdrop (it
 * removes its file). Frees s. Returns postdrop's exit status (0: the
 * message is in maildrop), or a sysexits.h code with a reason in why
 * when postdrop died without one. */
int sendmail_submit_close(sendmail_submit *s, int complete, vstr *why);

/* ---- The -bs session (sendmail_smtp.c) ---- */

/* How the session hands over a message; sendmail.c binds these to
 * sendmail_submit, tests to a recorder. */
typedef struct sendmail_smtp_ops {
    void *context;
    /* Begin a message; a handle, or NULL with a reason in err. */
    void *(*begin)(void *context, const sendmail_envelope *env, vstr *err);
    /* One content record; -1 once the receiver has failed. */
    int (*record)(void *handle, int type, const char *data, size_t len);
    /* End the message (complete) or drop it; 0 when it is queued, else a
     * sysexits.h code with a reason in why. */
    int (*finish)(void *handle, int complete, vstr *why);
} sendmail_smtp_ops;

typedef struct sendmail_smtp_config {
    const char *hostname; /* myhostname, in replies */
    const char *banner;   /* smtpd_banner, after "220 " */
    long long size_limit; /* message_size_limit; 0: none */
    size_t rcpt_limit;    /* smtpd_recipient_limit */
    int timeout_ms;       /* per command and per DATA line; 0: none */
} sendmail_smtp_config;

/* Longest SMTP command line accepted, CR LF included. */
#define SENDMAIL_SMTP_LINE_MAX 2048
/* Error replies after which the session ends. */
#define SENDMAIL_SMTP_ERROR_LIMIT 20

/* Run one SMTP session: commands from in, replies to out, until QUIT,
 * end of input, a timeout or too many errors. Returns 0 after QUIT or a
 * clean end of input, EX_IOERR after a read error or timeout. */
int sendmail_smtp_session(vstream *in, vstream *out, const sendmail_smtp_config *cfg,
                          const sendmail_smtp_ops *ops);

#endif
