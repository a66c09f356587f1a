/*
 * cidr_match - client address against the mynetworks list (see cidr_match.h)
 *
 * Parsing flattens the list: the patterns of a /file/name take its place,
 * with its negation folded into each, so matching is one pass over an
 * array of networks and tables. Networks are parsed by util/cidr, the
 * parser cidr: tables use, so a pattern means the same in both.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "global/cidr_match.h"
#include "global/maps.h"
#include "util/cidr.h"
#include "util/dict.h"
#include "util/fileio.h"
#include "util/mem.h"
#include "util/msg.h"

typedef struct cidr_entry {
    int negate;
    dict *table; /* NULL: net */
    cidr_net net;
} cidr_entry;

struct cidr_list {
    const char *title; /* the parameter, for warnings */
    cidr_entry *entries;
    size_t count;
    size_t cap;
};

static cidr_entry *cidr_list_add(cidr_list *nets, int negate)
{
    cidr_entry *e;

    if (nets->count == nets->cap) {
        nets->cap = nets->cap ? 2 * nets->cap : 8;
        nets->entries = mem_reallocarray(nets->entries, nets->cap, sizeof(*nets->entries));
    }
    e = &nets->entries[nets->count++];
    memset(e, 0, sizeof(*e));
    e->negate = negate;
    return e;
}

/* "type:..." with a table type we know (IPv6 "2001:db8::1" is not one). */
static int is_table(const char *elem)
{
    const char *colon = strchr(elem, ':');
    char type[32];
    size_t n;

    if (colon == NULL || elem[0] == '[' || (n = (size_t)(colon - elem)) == 0 || n >= sizeof(type))
        return 0;
    memcpy(type, elem, n);
    type[n] = 0;
    return dict_type_known(type);
}

static int cidr_list_add_all(cidr_list *nets, const argv_t *list, int negate, int depth,
                             vstr *err);

/* The patterns of file, in its place. 0, or -1 with a reason in err. */
static int cidr_list_add_file(cidr_list *nets, const char *path, int negate, int depth, vstr *err)
{
    vstr text = VSTR_INIT, patterns = VSTR_INIT;
    argv_t *list;
    int fd, status;

    if (depth >= CIDR_LIST_DEPTH_MAX) {
        vstr_set_fmt(err, "%s: files nested deeper than %d", path, CIDR_LIST_DEPTH_MAX);
        return -1;
    }
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        vstr_set_fmt(err, "open %s: %s", path, strerror(errno));
        return -1;
    }
    if (fileio_read_fd(fd, CIDR_LIST_FILE_MAX, &text) < 0) {
        vstr_set_fmt(err, "read %s: %s", path,
                     errno == EFBIG ? "larger than 1 MiB" : strerror(errno));
        close(fd);
        vstr_release(&text);
        return -1;
    }
    close(fd);
    /* Comment lines out, every other line's patterns in. */
    for (const char *p = vstr_str(&text); *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        size_t skip = strspn(p, " \t\r");

        if (skip < len && p[skip] != '#') {
            vstr_append(&patterns, p, len);
            vstr_append_char(&patterns, ' ');
        }
        p += len + (nl != NULL);
    }
    list = maps_split(vstr_str(&patterns));
    status = cidr_list_add_all(nets, list, negate, depth + 1, err);
    if (status < 0 && strncmp(vstr_str(err), path, strlen(path)) != 0) {
        vstr prefixed = VSTR_INIT;

        vstr_set_fmt(&prefixed, "%s: %s", path, vstr_str(err));
        vstr_set_str(err, vstr_str(&prefixed));
        vstr_release(&prefixed);
    }
    argv_free(list);
    vstr_release(&text);
    vstr_release(&patterns);
    return status;
}

static int cidr_list_add_one(cidr_list *nets, const char *elem, int negate, int depth, vstr *err)
{
    const char *p = elem;
    vstr why = VSTR_INIT;
    cidr_entry *e;

    while (*p == '!') {
        negate = !negate;
        p++;
    }
    if (*p == '/')
        return cidr_list_add_file(nets, p, negate, depth, err);
    if (is_table(p)) {
        e = cidr_list_add(nets, negate);
        if ((e->table = dict_open(p, O_RDONLY, DICT_FLAG_NONE, &why)) == NULL) {
            msg_warn("%s: %s", nets->title, vstr_str(&why));
            e->table = dict_surrogate(p, vstr_str(&why));
        }
        vstr_release(&why);
        return 0;
    }
    e = cidr_list_add(nets, negate);
    if (cidr_net_parse(p, strlen(p), &e->net, &why) < 0) {
        nets->count--;
        vstr_set_fmt(err, "bad network: %s (%s)", elem, vstr_str(&why));
        vstr_release(&why);
        return -1;
    }
    vstr_release(&why);
    return 0;
}

static int cidr_list_add_all(cidr_list *nets, const argv_t *list, int negate, int depth, vstr *err)
{
    for (size_t i = 0; i < list->argc; i++)
        if (cidr_list_add_one(nets, list->argv[i], negate, depth, err) < 0)
            return -1;
    return 0;
}

cidr_list *cidr_list_parse(const char *title, const argv_t *list, vstr *err)
{
    cidr_list *nets = mem_calloc(1, sizeof(*nets));

    nets->title = title;
    if (cidr_list_add_all(nets, list, 0, 0, err) < 0) {
        cidr_list_free(nets);
        return NULL;
    }
    return nets;
}

int cidr_list_match(const cidr_list *nets, const char *addr, vstr *why)
{
    unsigned char a[16];
    int family = cidr_addr_parse(addr, a);
    vstr value = VSTR_INIT;
    int status = 0;

    for (size_t i = 0; i < nets->count && status == 0; i++) {
        const cidr_entry *e = &nets->entries[i];
        int m;

        if (e->table == NULL) {
            m = family != 0 && cidr_net_match(&e->net, family, a);
        } else {
            switch (dict_lookup(e->table, addr, &value)) {
            case DICT_FOUND:
                m = 1;
                break;
            case DICT_NOTFOUND:
                m = 0;
                break;
            default:
                vstr_set_str(why, dict_error(e->table));
                status = -1;
                continue;
            }
        }
        if (m)
            status = e->negate ? 2 : 1;
    }
    vstr_release(&value);
    return status == 2 ? 0 : status;
}

size_t cidr_list_count(const cidr_list *nets)
{
    return nets->count;
}

void cidr_list_free(cidr_list *nets)
{
    if (nets == NULL)
        return;
    for (size_t i = 0; i < nets->count; i++)
        if (nets->entries[i].table != NULL)
            dict_close(nets->entries[i].table, NULL);
    mem_free(nets->entries);
    mem_free(nets);
}
