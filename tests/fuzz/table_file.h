/*
 * table_file.h - for the table fuzz targets: the fuzz input written as
 * a table's file (one per process under /tmp, removed at exit), since
 * file-based table types open a path.
 */
#ifndef TESTS_FUZZ_TABLE_FILE_H
#define TESTS_FUZZ_TABLE_FILE_H

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <string.h>

#include "util/dict.h"
#include "util/fileio.h"
#include "util/msg.h"

static char fuzz_table_path[64];

static void fuzz_table_remove(void)
{
    (void)unlink(fuzz_table_path);
}

/* The input as a table file: its name, or NULL when it cannot be written. */
static const char *fuzz_table_file(const char *name, const uint8_t *data, size_t size)
{
    int fd;

    if (fuzz_table_path[0] == 0) {
        snprintf(fuzz_table_path, sizeof(fuzz_table_path), "/tmp/%s.%ld", name, (long)getpid());
        msg_init(name);
        msg_use_stderr(0);
        atexit(fuzz_table_remove);
    }
    fd = open(fuzz_table_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return NULL;
    if (fileio_write_all(fd, data, size) < 0) {
        close(fd);
        return NULL;
    }
    close(fd);
    return fuzz_table_path;
}

/* Open type:path; NULL when the open fails, which must name the file. */
static dict *fuzz_table_open(const char *type, const char *path)
{
    vstr spec = VSTR_INIT, err = VSTR_INIT;
    dict *d;

    vstr_set_fmt(&spec, "%s:%s", type, path);
    d = dict_open(vstr_str(&spec), O_RDONLY, DICT_FLAG_NONE, &err);
    if (d == NULL && strstr(vstr_str(&err), path) == NULL)
        msg_panic("open error without the file name: %s", vstr_str(&err));
    vstr_release(&spec);
    vstr_release(&err);
    return d;
}

#endif
