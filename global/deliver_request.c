/*
 * deliver_request - read qmgr's delivery request, answer it
 *
 * See deliver_request.h. The checks here are the ones every agent needs
 * before it opens a queue file on qmgr's word: the queue name is a plain
 * directory name, the id is a queue id, each index is in range and
 * appears once.
 */
#include <string.h>

#include "global/deliver_request.h"
#include "global/queue_id.h"
#include "util/mem.h"
#include "util/msg.h"

int deliver_queue_name_ok(const char *name)
{
    return *name && strchr(name, '/') == NULL && strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

static char *get_dup(const attr_list *list, const char *name)
{
    const char *v = attr_get(list, name);

    return mem_strdup(v ? v : "");
}

static long long get_num(const attr_list *list, const char *name, long long max)
{
    long long v;

    return attr_get_int(list, name, 0, max, &v) == ATTR_OK ? v : 0;
}

/* One recipient list into rcpt; 0, or -1 with a reason in err. seen[i]
 * is set once index i has come. */
static int read_rcpt(vstream *client, attr_list *list, deliver_request *req, long long count,
                     unsigned char *seen, vstr *err)
{
    deliver_rcpt *r = &req->rcpts[req->rcpt_count];
    long long index;

    if (attr_read(client, list, NULL, err) != ATTR_OK)
        return -1;
    if (attr_get(list, "address") == NULL ||
        attr_get_int(list, "index", 0, count - 1, &index) != ATTR_OK) {
        vstr_set_str(err, "recipient without address or index in range");
        return -1;
    }
    if (seen[index]++) {
        vstr_set_fmt(err, "recipient index %lld twice", index);
        return -1;
    }
    r->index = (long)index;
    r->address = get_dup(list, "address");
    r->orig_rcpt = get_dup(list, "original_recipient");
    r->dsn_orcpt = get_dup(list, "dsn_orcpt");
    r->dsn_notify = (int)get_num(list, "dsn_notify", 15);
    r->offset = get_num(list, "offset", (long long)1 << 62);
    req->rcpt_count++;
    return 0;
}

int deliver_request_read(vstream *client, deliver_request *req, int idle_ms, int request_ms)
{
    attr_list *list;
    vstr err = VSTR_INIT;
    long long count;
    attr_status st;
    int status = -1;

    memset(req, 0, sizeof(*req));
    req->attrs = list = attr_list_new();
    vstream_set_timeout(client, idle_ms);
    st = attr_read(client, list, NULL, &err);
    if (st == ATTR_EOF) {
        vstr_release(&err);
        return 0;
    }
    vstream_set_timeout(client, request_ms);
    if (st != ATTR_OK)
        goto done;
    if (attr_get(list, "queue_name") == NULL || attr_get(list, "queue_id") == NULL ||
        attr_get(list, "sender") == NULL ||
        attr_get_int(list, "rcpt_count", 1, DELIVER_RCPT_MAX, &count) != ATTR_OK) {
        vstr_set_str(&err, "missing queue_name, queue_id, sender or rcpt_count");
        goto done;
    }
    req->queue_name = get_dup(list, "queue_name");
    req->queue_id = get_dup(list, "queue_id");
    req->sender = get_dup(list, "sender");
    req->nexthop = get_dup(list, "nexthop");
    req->dsn_envid = get_dup(list, "dsn_envid");
    req->dsn_ret = get_dup(list, "dsn_ret");
    req->arrival = (double)get_num(list, "arrival_time", (long long)1 << 40);
    if (!deliver_queue_name_ok(req->queue_name) || !queue_id_valid(req->queue_id)) {
        vstr_set_str(&err, "bad queue name or id");
        goto done;
    }
    req->rcpts = mem_calloc((size_t)count, sizeof(deliver_rcpt));
    {
        attr_list *rlist = attr_list_new();
        unsigned char *seen = mem_calloc((size_t)count, 1);
        int ok = 1;

        while (ok && req->rcpt_count < (size_t)count)
            ok = read_rcpt(client, rlist, req, count, seen, &err) == 0;
        mem_free(seen);
        attr_list_free(rlist);
        if (!ok)
            goto done;
    }
    status = 1;
done:
    if (status < 0)
        msg_warn("malformed request from qmgr: %s", vstr_str(&err));
    vstr_release(&err);
    return status;
}

void deliver_request_free(deliver_request *req)
{
    for (size_t i = 0; i < req->rcpt_count; i++) {
        mem_free(req->rcpts[i].address);
        mem_free(req->rcpts[i].orig_rcpt);
        mem_free(req->rcpts[i].dsn_orcpt);
    }
    mem_free(req->rcpts);
    mem_free(req->queue_name);
    mem_free(req->queue_id);
    mem_free(req->sender);
    mem_free(req->nexthop);
    mem_free(req->dsn_envid);
    mem_free(req->dsn_ret);
    if (req->attrs)
        attr_list_free(req->attrs);
    memset(req, 0, sizeof(*req));
}

static int send_list(vstream *client, attr_list *list)
{
    int status = attr_write(client, list) < 0 || vstream_flush(client) < 0 ? -1 : 0;

    attr_list_free(list);
    return status;
}

int deliver_reply(vstream *client, const deliver_result *res)
{
    attr_list *list = attr_list_new();

    attr_set_int(list, "index", res->index);
    attr_set_str(list, "status", res->status);
    attr_set_str(list, "action", res->action);
    attr_set_str(list, "reason", res->reason);
    if (res->diag_type)
        attr_set_str(list, "diag_type", res->diag_type);
    if (res->diag_text)
        attr_set_str(list, "diag_text", res->diag_text);
    if (res->mta)
        attr_set_str(list, "mta", res->mta);
    return send_list(client, list);
}

int deliver_done(vstream *client, const char *site_status, const char *site_reason)
{
    attr_list *list = attr_list_new();

    attr_set_int(list, "done", 1);
    if (site_status) {
        attr_set_str(list, "site_status", site_status);
        attr_set_str(list, "site_reason", site_reason ? site_reason : "");
    }
    return send_list(client, list);
}

const queue_envelope *deliver_open_message(const char *queue_dir, const char *queue_name,
                                           const char *queue_id, queue_reader **reader, vstr *why)
{
    const queue_envelope *env;
    vstr err = VSTR_INIT;

    *reader = queue_file_open(queue_dir, queue_name, queue_id, QUEUE_FILE_QUEUE, &err);
    if (*reader == NULL) {
        vstr_set_fmt(why, "cannot open queue file: %s", vstr_str(&err));
        vstr_release(&err);
        return NULL;
    }
    vstr_release(&err);
    env = queue_file_read_envelope(*reader);
    if (env == NULL)
        vstr_set_fmt(why, "cannot read queue file %s/%s: %s", queue_name, queue_id,
                     queue_file_error(*reader));
    return env;
}
