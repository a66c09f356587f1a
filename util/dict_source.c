/*
 * dict_source - reading the text files that lookup tables are made from
 *
 * A thin layer over util/cfgfile: the same logical lines as main.cf, with
 * the file name and line number put in front of every complaint so that
 * each table type reports errors the same way.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "util/dict_source.h"
#include "util/fileio.h"
#include "util/mem.h"
#include "util/msg.h"

static void dict_source_start(dict_source *src, const char *name)
{
    src->path = mem_strdup(name);
    vstr_init(&src->line);
    cfgfile_reader_init(&src->reader, vstr_str(&src->text), vstr_len(&src->text),
                        DICT_SOURCE_LINE_MAX);
    /* Postfix joins continuation lines of table sources as they are. */
    src->reader.verbatim = 1;
    src->lineno = 0;
}

int dict_source_load(dict_source *src, const char *path, vstr *why)
{
    memset(src, 0, sizeof(*src));
    vstr_init(&src->text);
    if (cfgfile_read(path, DICT_SOURCE_FILE_MAX, &src->text, why) < 0) {
        vstr_release(&src->text);
        return -1;
    }
    if (stat(path, &src->st) < 0)
        memset(&src->st, 0, sizeof(src->st));
    dict_source_start(src, path);
    return 0;
}

int dict_source_load_fd(dict_source *src, const char *name, int fd, vstr *why)
{
    memset(src, 0, sizeof(*src));
    vstr_init(&src->text);
    if (fileio_read_fd(fd, DICT_SOURCE_FILE_MAX, &src->text) < 0) {
        vstr_set_fmt(why, "%s: %s", name, errno == EFBIG ? "input is too large" : strerror(errno));
        vstr_release(&src->text);
        return -1;
    }
    dict_source_start(src, name);
    return 0;
}

int dict_source_next(dict_source *src, vstr *why)
{
    cfgfile_line at;
    vstr reason = VSTR_INIT;
    int status = cfgfile_next(&src->reader, &src->line, &at, &reason);

    if (status != 0)
        src->lineno = at.lineno;
    if (status > 0) /* white space at the end of a logical line goes */
        vstr_trim(&src->line);
    if (status < 0)
        vstr_set_fmt(why, "%s, line %d: %s", src->path, at.lineno, vstr_str(&reason));
    vstr_release(&reason);
    return status;
}

int dict_source_split(const char *line, vstr *key, vstr *value)
{
    size_t klen = strcspn(line, " \t");

    vstr_set(key, line, klen);
    vstr_set_str(value, line + klen);
    vstr_trim(value);
    return vstr_len(value) > 0 ? 0 : -1;
}

int dict_source_fill(dict_source *src, dict *d, int flags, long *entries, vstr *why)
{
    vstr key = VSTR_INIT, value = VSTR_INIT;
    int status = 0;

    *entries = 0;
    while ((status = dict_source_next(src, why)) > 0) {
        if (dict_source_split(vstr_str(&src->line), &key, &value) < 0) {
            msg_warn("%s, line %d: expected format: key whitespace value", src->path, src->lineno);
            continue;
        }
        switch (dict_update(d, vstr_str(&key), vstr_str(&value))) {
        case DICT_FOUND:
            ++*entries;
            break;
        case DICT_DUPLICATE:
            if (flags & DICT_SOURCE_QUIET)
                break;
            msg_warn("%s, line %d: duplicate entry \"%s\" ignored", src->path, src->lineno,
                     vstr_str(&key));
            break;
        default:
            vstr_set_str(why, dict_error(d));
            status = -1;
            break;
        }
        if (status < 0)
            break;
    }
    vstr_release(&key);
    vstr_release(&value);
    return status;
}

void dict_source_identify(const dict_source *src, dict *d)
{
    dict_identify(d, src->path, &src->st);
}

void dict_source_free(dict_source *src)
{
    mem_free(src->path);
    src->path = NULL;
    vstr_release(&src->text);
    vstr_release(&src->line);
}
