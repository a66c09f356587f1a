/*
 * hosts_file - a bounded reader of /etc/hosts (see hosts_file.h)
 *
 * Each name becomes an entry of its own with its line's address: the
 * file is small, lookups are a linear scan, and "the first line with
 * this address" and "every address of this name" are both one pass.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/fileio.h"
#include "util/hosts_file.h"
#include "util/mem.h"

/* Letters, digits, '-', '_' and '.', not empty, not over HOSTS_NAME_MAX. */
static int name_ok(const char *s, size_t len)
{
    if (len == 0 || len > HOSTS_NAME_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return 0;
    }
    return 1;
}

static void add_entry(hosts_file *h, int family, const unsigned char *addr, const char *name,
                      size_t len, int canonical)
{
    hosts_entry *e;

    if (h->count == h->cap) {
        h->cap = h->cap ? 2 * h->cap : 16;
        h->list = mem_realloc(h->list, h->cap * sizeof(*h->list));
    }
    e = &h->list[h->count++];
    e->family = family;
    memcpy(e->addr, addr, family == AF_INET ? 4 : 16);
    e->name = mem_alloc(len + 1);
    memcpy(e->name, name, len);
    e->name[len] = 0;
    e->canonical = canonical;
}

/* Is c white space between fields? */
static int field_sep(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* One line without its newline (len <= HOSTS_LINE_MAX). */
static void parse_line(hosts_file *h, const char *line, size_t len)
{
    char word[HOSTS_LINE_MAX + 1];
    unsigned char addr[16];
    const char *hash = memchr(line, '#', len);
    size_t i = 0, names = 0;
    int family = 0;

    if (hash)
        len = (size_t)(hash - line);
    while (i < len) {
        size_t start, wlen;

        while (i < len && field_sep(line[i]))
            i++;
        start = i;
        while (i < len && !field_sep(line[i]))
            i++;
        wlen = i - start;
        if (wlen == 0)
            break;
        if (family == 0) {
            /* The address; a NUL byte inside makes it fail to parse. */
            memcpy(word, line + start, wlen);
            word[wlen] = 0;
            if (memchr(word, 0, wlen) != NULL) {
                h->skipped++;
                return;
            }
            if (inet_pton(AF_INET, word, addr) == 1)
                family = AF_INET;
            else if (inet_pton(AF_INET6, word, addr) == 1)
                family = AF_INET6;
            else {
                h->skipped++;
                return;
            }
        } else if (names >= HOSTS_NAMES_MAX || !name_ok(line + start, wlen)) {
            h->skipped++;
        } else {
            add_entry(h, family, addr, line + start, wlen, names == 0);
            names++;
        }
    }
    if (family != 0 && names == 0)
        h->skipped++;
}

void hosts_file_parse(const char *text, size_t len, hosts_file *out)
{
    size_t pos = 0;

    memset(out, 0, sizeof(*out));
    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - text) : len;

        if (end - pos > HOSTS_LINE_MAX)
            out->skipped++;
        else
            parse_line(out, text + pos, end - pos);
        pos = end + 1;
    }
}

int hosts_file_load(const char *path, hosts_file *out, vstr *why)
{
    vstr text = VSTR_INIT;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    int status = 0;

    memset(out, 0, sizeof(*out));
    if (fd < 0) {
        if (errno == ENOENT)
            return 0;
        vstr_set_fmt(why, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    if (fileio_read_fd(fd, HOSTS_FILE_MAX, &text) < 0) {
        if (errno == EFBIG)
            vstr_set_fmt(why, "%s is larger than %d bytes", path, HOSTS_FILE_MAX);
        else
            vstr_set_fmt(why, "cannot read %s: %s", path, strerror(errno));
        status = -1;
    } else {
        hosts_file_parse(vstr_str(&text), vstr_len(&text), out);
    }
    close(fd);
    vstr_release(&text);
    return status;
}

void hosts_file_free(hosts_file *h)
{
    for (size_t i = 0; i < h->count; i++)
        mem_free(h->list[i].name);
    mem_free(h->list);
    memset(h, 0, sizeof(*h));
}

static int same_addr(const hosts_entry *e, int family, const unsigned char *addr)
{
    return e->family == family && memcmp(e->addr, addr, family == AF_INET ? 4 : 16) == 0;
}

const char *hosts_file_name_of(const hosts_file *h, int family, const unsigned char *addr)
{
    for (size_t i = 0; i < h->count; i++)
        if (h->list[i].canonical && same_addr(&h->list[i], family, addr))
            return h->list[i].name;
    return NULL;
}

int hosts_file_lookup(const hosts_file *h, const char *name, int family, const unsigned char *addr)
{
    int found = -1;

    for (size_t i = 0; i < h->count; i++) {
        const hosts_entry *e = &h->list[i];

        if (e->family != family || strcasecmp(e->name, name) != 0)
            continue;
        if (same_addr(e, family, addr))
            return 1;
        found = 0;
    }
    return found;
}
