/*
 * queue_list - the queue listing of mailq and sendmail -bp; see queue_list.h
 */
#include <dirent.h>
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "global/dsn_log.h"
#include "global/queue_file.h"
#include "global/queue_id.h"
#include "global/queue_list.h"
#include "util/argv.h"
#include "util/json_write.h"

/* Postfix's mark of a message whose expiry was forced (postsuper -e): the
 * owner-execute bit of the queue file. */
#define QUEUE_LIST_EXPIRE_BIT 0100

/* The queues listed, in Postfix's order, and their marks. */
static const struct {
    const char *name;
    int status;
} queue_list_queues[] = {
    {"maildrop", ' '}, {"incoming", ' '}, {"active", '*'}, {"deferred", ' '}, {"hold", '!'},
};

void queue_list_format_header(vstr *out)
{
    vstr_append_str(out, "----Queue ID----- --Size-- ---Arrival Time---- --Sender/Recipient------\n");
}

void queue_list_format_entry(vstr *out, const char *id, int status, long long size,
                             long long arrival, const char *sender)
{
    char when[32], mark[2] = {(char)status, 0};
    time_t t = (time_t)arrival;
    struct tm tm;
    vstr id_mark = VSTR_INIT;

    if (localtime_r(&t, &tm) == NULL ||
        strftime(when, sizeof(when), "%a %b %e %H:%M:%S", &tm) == 0)
        snprintf(when, sizeof(when), "%lld", arrival);
    /* The mark sticks to the id; the pair is padded, as Postfix does. */
    vstr_set_fmt(&id_mark, "%s%s", id, status == ' ' ? "" : mark);
    vstr_append_fmt(out, "%-*s %*lld %s %s\n", QUEUE_LIST_ID_WIDTH, vstr_str(&id_mark),
                    QUEUE_LIST_SIZE_WIDTH, size, when, *sender ? sender : "MAILER-DAEMON");
    vstr_release(&id_mark);
}

void queue_list_format_reason(vstr *out, const char *reason)
{
    size_t len = strlen(reason);
    int pad = len + 2 < QUEUE_LIST_REASON_WIDTH ? (int)(QUEUE_LIST_REASON_WIDTH - len - 2) : 0;

    vstr_append_fmt(out, "%*s(", pad, "");
    /* The text is a remote server's reply: no escape sequence of its
     * reaches the terminal of whoever lists the queue. */
    for (const unsigned char *p = (const unsigned char *)reason; *p; p++)
        vstr_append_char(out, *p < 0x20 || *p == 0x7f ? '?' : (char)*p);
    vstr_append_str(out, ")\n");
}

void queue_list_format_rcpt(vstr *out, const char *rcpt)
{
    vstr_append_fmt(out, "%*s%s\n", QUEUE_LIST_RCPT_INDENT, "", rcpt);
}

void queue_list_format_total(vstr *out, long long bytes, long long requests)
{
    if (requests == 0)
        vstr_append_str(out, "Mail queue is empty\n");
    else
        vstr_append_fmt(out, "-- %lld Kbytes in %lld Request%s.\n", bytes / 1024, requests,
                        requests == 1 ? "" : "s");
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The queue ids in queue_dir/name, sorted; NULL with a reason when the
 * directory exists and cannot be read. A missing directory is empty. */
static argv_t *queue_ids(const char *queue_dir, const char *name, vstr *err)
{
    vstr path = VSTR_INIT;
    argv_t *ids = argv_new();
    struct dirent *d;
    DIR *dir;

    vstr_set_fmt(&path, "%s/%s", queue_dir, name);
    if ((dir = opendir(vstr_str(&path))) == NULL) {
        if (errno != ENOENT) {
            int saved = errno;

            vstr_set_fmt(err, "cannot read %s: %s", vstr_str(&path), strerror(errno));
            argv_free(ids);
            ids = NULL;
            errno = saved;
        }
        vstr_release(&path);
        return ids;
    }
    while ((d = readdir(dir)) != NULL)
        if (queue_id_valid(d->d_name))
            argv_add(ids, d->d_name);
    closedir(dir);
    qsort(ids->argv, ids->argc, sizeof(char *), compare_names);
    vstr_release(&path);
    return ids;
}

/* The deferral reason of a recipient: the last log entry for its R record. */
static const char *rcpt_reason(const dsn_log *log, const queue_rcpt *rcpt)
{
    const char *reason = NULL;

    for (size_t i = 0; i < log->count; i++) {
        const dsn_log_entry *e = &log->entries[i];

        if (e->reason == NULL)
            continue;
        if (e->offset >= 0 ? e->offset == (long long)rcpt->offset
                           : strcmp(e->recipient ? e->recipient : "", rcpt->address) == 0)
            reason = e->reason;
    }
    return reason;
}

/* The JSON object of one message (postqueue -j), on one line. */
static void json_message(vstr *text, const char *queue, const char *id, long long size,
                         const queue_envelope *env, const dsn_log *log, int expired)
{
    int first = 1;

    vstr_append_str(text, "{\"queue_name\": ");
    json_write_string(text, queue, strlen(queue));
    vstr_append_str(text, ", \"queue_id\": ");
    json_write_string(text, id, strlen(id));
    vstr_append_fmt(text, ", \"arrival_time\": %lld, \"message_size\": %lld, "
                          "\"forced_expire\": %s, \"sender\": ",
                    env->arrival_sec, size, expired ? "true" : "false");
    json_write_string(text, env->sender, strlen(env->sender));
    vstr_append_str(text, ", \"recipients\": [");
    for (size_t i = 0; i < env->rcpt_count; i++) {
        const queue_rcpt *rcpt = &env->rcpts[i];
        const char *reason;

        if (rcpt->done)
            continue;
        vstr_append_str(text, first ? "{\"address\": " : ", {\"address\": ");
        first = 0;
        json_write_string(text, rcpt->address, strlen(rcpt->address));
        if ((reason = rcpt_reason(log, rcpt)) != NULL) {
            vstr_append_str(text, ", \"delay_reason\": ");
            json_write_string(text, reason, strlen(reason));
        }
        vstr_append_char(text, '}');
    }
    vstr_append_str(text, "]}\n");
}

/* The listing's lines of one message (postqueue -p). */
static void text_message(vstr *text, int status, const char *id, long long size,
                         const queue_envelope *env, const dsn_log *log)
{
    const char *last_reason = NULL;

    queue_list_format_entry(text, id, status, size, env->arrival_sec, env->sender);
    for (size_t i = 0; i < env->rcpt_count; i++) {
        const queue_rcpt *rcpt = &env->rcpts[i];
        const char *reason;

        if (rcpt->done)
            continue;
        reason = rcpt_reason(log, rcpt);
        if (reason && (last_reason == NULL || strcmp(reason, last_reason) != 0))
            queue_list_format_reason(text, reason);
        last_reason = reason;
        queue_list_format_rcpt(text, rcpt->address);
    }
    vstr_append_char(text, '\n');
}

/* One message; 1 when it was listed (its size added to *bytes). */
static int list_message(const char *queue_dir, const char *queue, int status, const char *id,
                        int json, vstr *text, long long *bytes)
{
    int maildrop = strcmp(queue, "maildrop") == 0;
    vstr err = VSTR_INIT;
    queue_reader *r = queue_file_open(queue_dir, queue, id,
                                      maildrop ? QUEUE_FILE_MAILDROP : QUEUE_FILE_QUEUE, &err);
    const queue_envelope *env;
    dsn_log log;
    struct stat st;
    long long size;

    vstr_release(&err);
    if (r == NULL)
        return 0;
    if ((env = queue_file_read_envelope(r)) == NULL || fstat(queue_file_fd(r), &st) < 0) {
        queue_file_close(r);
        return 0;
    }
    size = maildrop ? (long long)st.st_size : env->size_content_bytes;
    dsn_log_init(&log);
    if (!maildrop)
        (void)dsn_log_read(queue_dir, DSN_LOG_DEFER, id, &log, &err);
    if (json)
        json_message(text, queue, id, size, env, &log,
                     !maildrop && (st.st_mode & QUEUE_LIST_EXPIRE_BIT) != 0);
    else
        text_message(text, status, id, size, env, &log);
    *bytes += size;
    dsn_log_release(&log);
    vstr_release(&err);
    queue_file_close(r);
    return 1;
}

/* The listing, as text or JSON. */
static int list_queues(const char *queue_dir, int json, vstream *out, vstr *err)
{
    long long bytes = 0, requests = 0;
    vstr text = VSTR_INIT;

    for (size_t q = 0; q < sizeof(queue_list_queues) / sizeof(queue_list_queues[0]); q++) {
        argv_t *ids = queue_ids(queue_dir, queue_list_queues[q].name, err);

        if (ids == NULL) {
            vstr_release(&text);
            return -1;
        }
        for (size_t i = 0; i < ids->argc; i++) {
            vstr entry = VSTR_INIT;

            if (list_message(queue_dir, queue_list_queues[q].name, queue_list_queues[q].status,
                             ids->argv[i], json, &entry, &bytes)) {
                if (requests++ == 0 && !json)
                    queue_list_format_header(&text);
                vstr_append(&text, vstr_str(&entry), vstr_len(&entry));
            }
            vstr_release(&entry);
            /* Write as we go: a large queue need not fit in memory. */
            if (vstr_len(&text) > 65536) {
                (void)vstream_write(out, vstr_str(&text), vstr_len(&text));
                vstr_reset(&text);
            }
        }
        argv_free(ids);
    }
    if (!json)
        queue_list_format_total(&text, bytes, requests);
    (void)vstream_write(out, vstr_str(&text), vstr_len(&text));
    vstr_release(&text);
    return 0;
}

int queue_list_print(const char *queue_dir, vstream *out, vstr *err)
{
    return list_queues(queue_dir, 0, out, err);
}

int queue_list_print_json(const char *queue_dir, vstream *out, vstr *err)
{
    return list_queues(queue_dir, 1, out, err);
}
