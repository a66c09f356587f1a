/* Unit tests for global/queue_file: the commit protocol, the grammar of
 * queue and maildrop files, and the reader on damaged files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "util/argv.h"
#include "util/mem.h"
#include "util/vstr.h"
#include "util/vstream.h"
#include "global/queue_file.h"
#include "global/queue_id.h"
#include "global/rec.h"

typedef struct fixture {
    char dir[64];
} fixture;

static int setup(void **state)
{
    fixture *f = mem_calloc(1, sizeof(*f));
    char path[128];

    snprintf(f->dir, sizeof(f->dir), "/tmp/queue_file_test.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(path, sizeof(path), "%s/incoming", f->dir);
    assert_int_equal(mkdir(path, 0700), 0);
    snprintf(path, sizeof(path), "%s/maildrop", f->dir);
    assert_int_equal(mkdir(path, 0700), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    char cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    mem_free(f);
    return 0;
}

static argv_t *list_dir(const fixture *f, const char *sub)
{
    char path[128];
    DIR *d;
    struct dirent *e;
    argv_t *names = argv_new();

    snprintf(path, sizeof(path), "%s/%s", f->dir, sub);
    assert_non_null(d = opendir(path));
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            argv_add(names, e->d_name);
    closedir(d);
    return names;
}

/* Write a well-formed queue file's records; returns the offset of the
 * second recipient's R record. */
static off_t write_queue_records(queue_file *qf, long long *content_offset, long long *bytes)
{
    vstream *s = queue_file_stream(qf);
    off_t r2;

    rec_put_str(s, REC_TYPE_VERSION, REC_VERSION);
    assert_int_equal(queue_file_put_sizes(qf), 0);
    rec_put_str(s, REC_TYPE_TIME, "1700000000.123456");
    rec_put_str(s, REC_TYPE_FROM, "sender@example.com");
    rec_put_str(s, REC_TYPE_ATTR, "protocol=ESMTP");
    rec_put_str(s, REC_TYPE_ATTR, "client_name=mx.example.net");
    rec_put_str(s, REC_TYPE_ORCP, "alias@example.com");
    rec_put_str(s, REC_TYPE_DSN_ORCPT, "rfc822;alias@example.com");
    rec_put_str(s, REC_TYPE_DSN_NOTIFY, "6");
    rec_put_str(s, REC_TYPE_RCPT, "one@example.com");
    r2 = vstream_tell(s);
    rec_put_str(s, REC_TYPE_RCPT, "two@example.com");
    rec_put_str(s, REC_TYPE_MESG, "");
    *content_offset = vstream_tell(s);
    rec_put_str(s, REC_TYPE_NORM, "Subject: test");
    rec_put_str(s, REC_TYPE_NORM, "");
    rec_put_str(s, REC_TYPE_CONT, "0123456789");
    rec_put_str(s, REC_TYPE_CONT, "0123456789");
    rec_put_str(s, REC_TYPE_NORM, "01234");
    rec_put_str(s, REC_TYPE_END, "");
    *bytes = 14 + 1 + 26;
    return r2;
}

/* Create and commit a good queue file; returns its id (caller frees). */
static char *commit_one(const fixture *f, off_t *r2_out)
{
    vstr err = VSTR_INIT;
    queue_file *qf = queue_file_create(f->dir, "incoming", 0600, &err);
    long long coff, bytes;
    off_t r2;
    char *id;

    if (qf == NULL)
        fail_msg("create: %s", vstr_str(&err));
    id = mem_strdup(queue_file_id(qf));
    r2 = write_queue_records(qf, &coff, &bytes);
    queue_file_set_sizes(qf, coff, bytes, 2);
    if (queue_file_commit(qf, &err) < 0)
        fail_msg("commit: %s", vstr_str(&err));
    if (r2_out)
        *r2_out = r2;
    vstr_release(&err);
    return id;
}

static void commit_leaves_exactly_one_file_named_by_its_id(void **state)
{
    fixture *f = *state;
    char *id = commit_one(f, NULL);
    argv_t *names = list_dir(f, "incoming");
    char path[128];
    struct stat st;

    assert_int_equal(names->argc, 1);
    assert_string_equal(names->argv[0], id);
    assert_true(queue_id_valid(id));
    assert_int_equal(queue_id_parse(id, NULL, NULL, NULL), 0);
    snprintf(path, sizeof(path), "%s/incoming/%s", f->dir, id);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    argv_free(names);
    mem_free(id);
}

static void envelope_reads_back_every_field(void **state)
{
    fixture *f = *state;
    off_t r2;
    char *id = commit_one(f, &r2);
    vstr err = VSTR_INIT;
    queue_reader *r = queue_file_open(f->dir, "incoming", id, QUEUE_FILE_QUEUE, &err);
    const queue_envelope *env;

    assert_non_null(r);
    env = queue_file_read_envelope(r);
    if (env == NULL)
        fail_msg("%s", queue_file_error(r));
    assert_int_equal(env->kind, QUEUE_FILE_QUEUE);
    assert_int_equal(env->arrival_sec, 1700000000);
    assert_int_equal(env->arrival_usec, 123456);
    assert_string_equal(env->sender, "sender@example.com");
    assert_int_equal(env->attr_count, 2);
    assert_string_equal(queue_envelope_attr(env, "protocol"), "ESMTP");
    assert_string_equal(queue_envelope_attr(env, "client_name"), "mx.example.net");
    assert_null(queue_envelope_attr(env, "helo_name"));
    assert_int_equal(env->rcpt_count, 2);
    assert_string_equal(env->rcpts[0].address, "one@example.com");
    assert_string_equal(env->rcpts[0].orig_rcpt, "alias@example.com");
    assert_string_equal(env->rcpts[0].dsn_orcpt, "rfc822;alias@example.com");
    assert_int_equal(env->rcpts[0].dsn_notify, 6);
    assert_false(env->rcpts[0].done);
    assert_null(env->rcpts[1].orig_rcpt);
    assert_int_equal(env->rcpts[1].offset, r2);
    assert_int_equal(env->size_rcpt_count, 2);
    assert_int_equal(env->size_content_offset, (long long)env->content_offset);
    assert_int_equal(env->size_content_bytes, 41);
    assert_string_equal(queue_file_error(r), "");
    queue_file_close(r);
    vstr_release(&err);
    mem_free(id);
}

static void done_recipient_reads_back_as_done(void **state)
{
    fixture *f = *state;
    off_t r2;
    char *id = commit_one(f, &r2);
    char path[128];
    int fd;
    vstr err = VSTR_INIT;
    queue_reader *r;
    const queue_envelope *env;

    snprintf(path, sizeof(path), "%s/incoming/%s", f->dir, id);
    fd = open(path, O_RDWR);
    assert_int_equal(rec_rewrite_type(fd, r2, REC_TYPE_RCPT, REC_TYPE_DONE), 0);
    assert_int_equal(fsync(fd), 0);
    close(fd);
    r = queue_file_open(f->dir, "incoming", id, QUEUE_FILE_QUEUE, &err);
    env = queue_file_read_envelope(r);
    assert_non_null(env);
    assert_false(env->rcpts[0].done);
    assert_true(env->rcpts[1].done);
    assert_string_equal(env->rcpts[1].address, "two@example.com");
    queue_file_close(r);
    /* A maildrop reader refuses D. */
    r = queue_file_open(f->dir, "incoming", id, QUEUE_FILE_MAILDROP, &err);
    assert_null(queue_file_read_envelope(r));
    queue_file_close(r);
    vstr_release(&err);
    mem_free(id);
}

static void content_lines_join_pieces_up_to_the_bound(void **state)
{
    fixture *f = *state;
    char *id = commit_one(f, NULL);
    vstr err = VSTR_INIT, line = VSTR_INIT;
    queue_reader *r = queue_file_open(f->dir, "incoming", id, QUEUE_FILE_QUEUE, &err);

    assert_non_null(queue_file_read_envelope(r));
    assert_int_equal(queue_file_read_line(r, &line, 1000), QUEUE_LINE);
    assert_string_equal(vstr_str(&line), "Subject: test");
    assert_int_equal(queue_file_read_line(r, &line, 1000), QUEUE_LINE);
    assert_string_equal(vstr_str(&line), "");
    assert_int_equal(queue_file_read_line(r, &line, 1000), QUEUE_LINE);
    assert_string_equal(vstr_str(&line), "0123456789012345678901234");
    assert_int_equal(queue_file_read_line(r, &line, 1000), QUEUE_END);
    assert_int_equal(queue_file_read_line(r, &line, 1000), QUEUE_END);

    /* Again with a bound of 7: pieces of 7 bytes, then the rest. */
    assert_int_equal(queue_file_rewind_content(r), 0);
    assert_int_equal(queue_file_read_line(r, &line, 7), QUEUE_PIECE);
    assert_string_equal(vstr_str(&line), "Subject");
    assert_int_equal(queue_file_read_line(r, &line, 7), QUEUE_LINE);
    assert_string_equal(vstr_str(&line), ": test");
    assert_int_equal(queue_file_read_line(r, &line, 7), QUEUE_LINE);
    assert_string_equal(vstr_str(&line), "");
    for (int i = 0; i < 3; i++) {
        assert_int_equal(queue_file_read_line(r, &line, 7), QUEUE_PIECE);
        assert_int_equal(vstr_len(&line), 7);
    }
    assert_int_equal(queue_file_read_line(r, &line, 7), QUEUE_LINE);
    assert_string_equal(vstr_str(&line), "1234");
    assert_int_equal(queue_file_read_line(r, &line, 7), QUEUE_END);
    queue_file_close(r);
    vstr_release(&err);
    vstr_release(&line);
    mem_free(id);
}

static void abort_leaves_no_file(void **state)
{
    fixture *f = *state;
    vstr err = VSTR_INIT;
    queue_file *qf = queue_file_create(f->dir, "incoming", 0600, &err);
    argv_t *names;

    assert_non_null(qf);
    rec_put_str(queue_file_stream(qf), REC_TYPE_VERSION, REC_VERSION);
    queue_file_abort(qf);
    names = list_dir(f, "incoming");
    assert_int_equal(names->argc, 0);
    argv_free(names);
    vstr_release(&err);
}

static void crash_before_commit_leaves_only_a_temporary_file(void **state)
{
    fixture *f = *state;
    pid_t pid = fork();
    int status;
    argv_t *names;

    assert_true(pid >= 0);
    if (pid == 0) {
        vstr err = VSTR_INIT;
        queue_file *qf = queue_file_create(f->dir, "incoming", 0600, &err);
        long long coff, bytes;

        if (qf == NULL)
            _exit(2);
        write_queue_records(qf, &coff, &bytes);
        vstream_flush(queue_file_stream(qf));
        _exit(0); /* "crash": no commit, no abort */
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_int_equal(WEXITSTATUS(status), 0);
    names = list_dir(f, "incoming");
    assert_int_equal(names->argc, 1);
    assert_true(strncmp(names->argv[0], ".t", 2) == 0);
    assert_false(queue_id_valid(names->argv[0]));
    argv_free(names);
}

static void files_alive_at_once_never_share_an_id(void **state)
{
    fixture *f = *state;
    vstr err = VSTR_INIT;
    queue_file *qf[200];
    argv_t *ids = argv_new();

    for (int i = 0; i < 200; i++) {
        assert_non_null(qf[i] = queue_file_create(f->dir, "incoming", 0600, &err));
        for (size_t k = 0; k < ids->argc; k++)
            assert_string_not_equal(ids->argv[k], queue_file_id(qf[i]));
        argv_add(ids, queue_file_id(qf[i]));
    }
    for (int i = 0; i < 200; i++)
        queue_file_abort(qf[i]);
    argv_free(ids);
    vstr_release(&err);
}

static void commit_never_replaces_an_existing_file(void **state)
{
    fixture *f = *state;
    vstr err = VSTR_INIT;
    queue_file *qf = queue_file_create(f->dir, "maildrop", 0444, &err);
    char path[128];
    int fd;
    argv_t *names;
    struct stat st;

    assert_non_null(qf);
    snprintf(path, sizeof(path), "%s/maildrop/%s", f->dir, queue_file_id(qf));
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "old", 3), 3);
    close(fd);
    rec_put_str(queue_file_stream(qf), REC_TYPE_VERSION, REC_VERSION);
    assert_int_equal(queue_file_commit(qf, &err), -1);
    assert_non_null(strstr(vstr_str(&err), "rename"));
    names = list_dir(f, "maildrop");
    assert_int_equal(names->argc, 1); /* the old file, and no temporary */
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, 3);
    argv_free(names);
    vstr_release(&err);
}

static void commit_applies_the_final_mode(void **state)
{
    fixture *f = *state;
    vstr err = VSTR_INIT;
    queue_file *qf = queue_file_create(f->dir, "maildrop", 0444, &err);
    char path[128];
    struct stat st;

    snprintf(path, sizeof(path), "%s/maildrop/%s", f->dir, queue_file_id(qf));
    rec_put_str(queue_file_stream(qf), REC_TYPE_VERSION, REC_VERSION);
    assert_int_equal(queue_file_commit(qf, &err), 0);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0444);
    vstr_release(&err);
}

static void create_fails_cleanly_without_the_directory(void **state)
{
    fixture *f = *state;
    vstr err = VSTR_INIT;

    assert_null(queue_file_create(f->dir, "deferred", 0600, &err));
    assert_non_null(strstr(vstr_str(&err), "deferred"));
    vstr_release(&err);
}

static void reader_refuses_symlinks_fifos_and_bad_names(void **state)
{
    fixture *f = *state;
    char *id = commit_one(f, NULL);
    char target[128], link[128];
    vstr err = VSTR_INIT;

    snprintf(target, sizeof(target), "%s/incoming/%s", f->dir, id);
    snprintf(link, sizeof(link), "%s/incoming/ABCDEF", f->dir);
    assert_int_equal(symlink(target, link), 0);
    assert_null(queue_file_open(f->dir, "incoming", "ABCDEF", QUEUE_FILE_QUEUE, &err));
    assert_non_null(strstr(vstr_str(&err), "symbolic link"));
    snprintf(link, sizeof(link), "%s/incoming/FIFO", f->dir);
    assert_int_equal(mkfifo(link, 0600), 0);
    assert_null(queue_file_open(f->dir, "incoming", "FIFO", QUEUE_FILE_QUEUE, &err));
    assert_non_null(strstr(vstr_str(&err), "not a regular file"));
    snprintf(link, sizeof(link), "%s/incoming/DIR", f->dir);
    assert_int_equal(mkdir(link, 0700), 0);
    assert_null(queue_file_open(f->dir, "incoming", "DIR", QUEUE_FILE_QUEUE, &err));
    assert_null(queue_file_open(f->dir, "..", id, QUEUE_FILE_QUEUE, &err));
    assert_null(queue_file_open(f->dir, "a/b", id, QUEUE_FILE_QUEUE, &err));
    assert_null(queue_file_open(f->dir, "incoming", "../incoming/x", QUEUE_FILE_QUEUE, &err));
    assert_null(queue_file_open(f->dir, "incoming", ".t1.2", QUEUE_FILE_QUEUE, &err));
    assert_null(queue_file_open(f->dir, "incoming", "NOSUCH", QUEUE_FILE_QUEUE, &err));
    vstr_release(&err);
    mem_free(id);
}

/* Read a whole file (envelope and content); 0 if it is well-formed, else
 * -1 with the error offset and text. */
static int read_whole(int fd, queue_file_kind kind, off_t *err_off, vstr *why)
{
    queue_reader *r = queue_file_open_fd(fd, "test", kind);
    vstr line = VSTR_INIT;
    queue_line_status st = QUEUE_ERROR;
    int ret;

    if (queue_file_read_envelope(r))
        while ((st = queue_file_read_line(r, &line, 100)) == QUEUE_LINE || st == QUEUE_PIECE)
            ;
    ret = st == QUEUE_END ? 0 : -1;
    *err_off = queue_file_error_offset(r);
    vstr_set_str(why, queue_file_error(r));
    queue_file_close(r);
    vstr_release(&line);
    return ret;
}

static int memfd_with(const char *data, size_t len)
{
    int fd = memfd_create("queue_file_test", 0);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    return fd;
}

static void every_truncation_of_a_good_file_is_an_error(void **state)
{
    fixture *f = *state;
    char *id = commit_one(f, NULL);
    char path[128], *data;
    struct stat st;
    int fd;
    vstr why = VSTR_INIT;
    off_t off;

    snprintf(path, sizeof(path), "%s/incoming/%s", f->dir, id);
    assert_int_equal(stat(path, &st), 0);
    data = mem_alloc((size_t)st.st_size);
    fd = open(path, O_RDONLY);
    assert_int_equal(read(fd, data, (size_t)st.st_size), st.st_size);
    close(fd);

    assert_int_equal(
        read_whole(memfd_with(data, (size_t)st.st_size), QUEUE_FILE_QUEUE, &off, &why), 0);
    for (off_t cut = 0; cut < st.st_size; cut++) {
        if (read_whole(memfd_with(data, (size_t)cut), QUEUE_FILE_QUEUE, &off, &why) == 0)
            fail_msg("truncated at %lld but read as complete", (long long)cut);
        assert_true(off >= 0 && off <= cut);
        assert_true(strncmp(vstr_str(&why), "offset ", 7) == 0);
    }
    /* Garbage after E. */
    {
        char *more = mem_alloc((size_t)st.st_size + 2);

        memcpy(more, data, (size_t)st.st_size);
        memcpy(more + st.st_size, "E", 2);
        assert_int_equal(
            read_whole(memfd_with(more, (size_t)st.st_size + 2), QUEUE_FILE_QUEUE, &off, &why),
            -1);
        assert_int_equal(off, st.st_size);
        assert_non_null(strstr(vstr_str(&why), "after the end record"));
        mem_free(more);
    }
    vstr_release(&why);
    mem_free(data);
    mem_free(id);
}

/* Build a file from "Xpayload" strings (X the type byte) into a memfd. */
static int build(const char *const *recs)
{
    int fd = memfd_create("queue_file_test", 0);
    vstream *s = vstream_fdopen(dup(fd), VSTREAM_WRITE);

    for (; *recs; recs++)
        rec_put(s, (unsigned char)(*recs)[0], *recs + 1, strlen(*recs + 1));
    vstream_close(s);
    lseek(fd, 0, SEEK_SET);
    return fd;
}

#define RECS(...) ((const char *const[]){__VA_ARGS__, NULL})

static void expect_bad(queue_file_kind kind, const char *const *recs, long long want_off,
                       const char *want_text)
{
    vstr why = VSTR_INIT;
    off_t off;

    if (read_whole(build(recs), kind, &off, &why) == 0)
        fail_msg("accepted a file that should fail with \"%s\"", want_text);
    if (strstr(vstr_str(&why), want_text) == NULL || off != want_off)
        fail_msg("got \"%s\" at %lld, want \"%s\" at %lld", vstr_str(&why), (long long)off,
                 want_text, want_off);
    vstr_release(&why);
}

static void expect_good(queue_file_kind kind, const char *const *recs)
{
    vstr why = VSTR_INIT;
    off_t off;

    if (read_whole(build(recs), kind, &off, &why) != 0)
        fail_msg("refused a good file: %s", vstr_str(&why));
    vstr_release(&why);
}

static void maildrop_grammar_is_checked_strictly(void **state)
{
    (void)state;
    expect_good(QUEUE_FILE_MAILDROP,
                RECS("V1", "T1700000000.000001", "Fuser", "Aflags=1", "Ouser2", "n4", "Ruser2",
                     "Ruser3", "M", "LSubject: x", "L", "Pab", "Lc", "E"));
    expect_good(QUEUE_FILE_MAILDROP, RECS("V1", "T1.000000", "F", "M", "E")); /* sendmail -t */
    /* Offsets: V1 = 3 bytes, T1.000000 = 10, F = 2. */
    expect_bad(QUEUE_FILE_MAILDROP, RECS("T1.000000"), 0, "expected version record first");
    expect_bad(QUEUE_FILE_MAILDROP, RECS("V2"), 0, "unsupported version");
    expect_bad(QUEUE_FILE_MAILDROP, RECS("V1", "S", "E"), 3, "expected arrival time");
    expect_bad(QUEUE_FILE_MAILDROP, RECS("V1", "T1.5", "F", "M", "E"), 3, "malformed arrival");
    expect_bad(QUEUE_FILE_MAILDROP, RECS("V1", "Tx.000000", "F", "M", "E"), 3, "malformed");
    expect_bad(QUEUE_FILE_MAILDROP, RECS("V1", "T1.000000", "Ra", "M", "E"), 13,
               "sender after arrival time");
    expect_bad(QUEUE_FILE_MAILDROP, RECS("V1", "T1.000000", "F", "orfc822;a", "Ra", "M", "E"), 15,
               "no DSN original recipient");
    expect_bad(QUEUE_FILE_MAILDROP, RECS("V1", "T1.000000", "F", "Da", "M", "E"), 15,
               "no done recipients");
    expect_bad(QUEUE_FILE_MAILDROP, RECS("V1", "T1.000000", "F", "Ra", "Ax=y", "M", "E"), 18,
               "attributes before recipients");
    expect_bad(QUEUE_FILE_MAILDROP, RECS("V1", "T1.000000", "F", "Oa", "Ob", "Ra", "M", "E"), 18,
               "in that order");
    expect_bad(QUEUE_FILE_MAILDROP, RECS("V1", "T1.000000", "F", "n2", "Oa", "Ra", "M", "E"), 18,
               "in that order");
    expect_bad(QUEUE_FILE_MAILDROP, RECS("V1", "T1.000000", "F", "Oa", "M", "E"), 18,
               "recipient after its original recipient");
    expect_bad(QUEUE_FILE_MAILDROP, RECS("V1", "T1.000000", "F", "R", "M", "E"), 15,
               "empty address");
    expect_bad(QUEUE_FILE_MAILDROP, RECS("V1", "T1.000000", "F", "Ra\nb", "M", "E"), 15,
               "control character in address");
    expect_bad(QUEUE_FILE_MAILDROP, RECS("V1", "T1.000000", "Fa\rb", "M", "E"), 13,
               "control character");
    expect_bad(QUEUE_FILE_MAILDROP, RECS("V1", "T1.000000", "F", "Anovalue", "M", "E"), 15,
               "name=value");
    expect_bad(QUEUE_FILE_MAILDROP, RECS("V1", "T1.000000", "F", "Aa b=c", "M", "E"), 15,
               "attribute name");
    expect_bad(QUEUE_FILE_MAILDROP, RECS("V1", "T1.000000", "F", "Aa=\x01", "M", "E"), 15,
               "attribute value");
    expect_bad(QUEUE_FILE_MAILDROP, RECS("V1", "T1.000000", "F", "n3", "Ra", "M", "E"), 15,
               "DSN notify");
    expect_bad(QUEUE_FILE_MAILDROP, RECS("V1", "T1.000000", "F", "n16", "Ra", "M", "E"), 15,
               "DSN notify");
    expect_bad(QUEUE_FILE_MAILDROP, RECS("V1", "T1.000000", "F", "Mx", "E"), 15, "payload");
    expect_bad(QUEUE_FILE_MAILDROP, RECS("V1", "T1.000000", "F", "M", "La", "Pb", "E"), 23,
               "line after a piece");
    expect_bad(QUEUE_FILE_MAILDROP, RECS("V1", "T1.000000", "F", "M", "Ra", "E"), 17,
               "content or end");
    expect_bad(QUEUE_FILE_MAILDROP, RECS("V1", "T1.000000", "F", "M", "La"), 20,
               "file ends before the end record");
    expect_bad(QUEUE_FILE_MAILDROP, RECS("V1", "T1.000000", "F"), 15,
               "file ends before the end record");
}

static void queue_grammar_needs_sizes_and_a_recipient(void **state)
{
    (void)state;
    expect_bad(QUEUE_FILE_QUEUE, RECS("V1", "T1.000000", "F", "Ra", "M", "E"), 3,
               "size record after version");
    expect_bad(QUEUE_FILE_QUEUE, RECS("V1", "S1 2 3", "T1.000000"), 3, "malformed size");
    expect_bad(
        QUEUE_FILE_QUEUE,
        RECS("V1", "S              0               0               0", "T1.000000", "F", "M", "E"),
        64, "at least one recipient");
    /* The size record must describe the file: here it does not. */
    expect_bad(QUEUE_FILE_QUEUE,
               RECS("V1", "S              0               0               0", "T1.000000", "F",
                    "Ra", "M", "E"),
               67, "size record disagrees");
    expect_good(QUEUE_FILE_QUEUE, RECS("V1", "S             69               0               1",
                                       "T1.000000", "F", "Ra", "M", "E"));
    expect_good(QUEUE_FILE_QUEUE, RECS("V1", "S             82               0               2",
                                       "T1.000000", "F", "Ra", "orfc822;a", "Rb", "M", "E"));
}

static void auto_mode_tells_maildrop_from_queue_files(void **state)
{
    int fd = build(RECS("V1", "T1.000000", "Fu", "Rr", "M", "Lx", "E"));
    queue_reader *r = queue_file_open_fd(fd, "md", QUEUE_FILE_AUTO);
    const queue_envelope *env = queue_file_read_envelope(r);

    (void)state;
    assert_non_null(env);
    assert_int_equal(env->kind, QUEUE_FILE_MAILDROP);
    assert_string_equal(env->sender, "u");
    queue_file_close(r);
    fd = build(RECS("V1", "S             70               0               1", "T1.000000", "Fu",
                    "Rr", "M", "E"));
    r = queue_file_open_fd(fd, "q", QUEUE_FILE_AUTO);
    env = queue_file_read_envelope(r);
    if (env == NULL)
        fail_msg("%s", queue_file_error(r));
    assert_int_equal(env->kind, QUEUE_FILE_QUEUE);
    queue_file_close(r);
}

static void grammar_step_function_matches_the_reader(void **state)
{
    queue_grammar g;
    vstr why = VSTR_INIT;

    (void)state;
    queue_grammar_init(&g, QUEUE_FILE_MAILDROP);
    assert_int_equal(queue_grammar_check(&g, 'V', "1", 1, &why), 0);
    assert_int_equal(queue_grammar_check(&g, 'Z', "", 0, &why), -1);
    assert_string_equal(vstr_str(&why), "unknown record type 0x5a");
    assert_int_equal(queue_grammar_check(&g, 'T', "5.000000", 8, &why), 0);
    assert_int_equal(queue_grammar_check(&g, 'F', "", 0, &why), 0);
    assert_int_equal(queue_grammar_check(&g, 'M', "", 0, &why), 0);
    assert_false(queue_grammar_complete(&g));
    assert_int_equal(queue_grammar_check(&g, 'E', "", 0, &why), 0);
    assert_true(queue_grammar_complete(&g));
    assert_int_equal(queue_grammar_check(&g, 'E', "", 0, &why), -1);
    assert_non_null(strstr(vstr_str(&why), "nothing after the end record"));
    vstr_release(&why);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(commit_leaves_exactly_one_file_named_by_its_id),
        T(envelope_reads_back_every_field),
        T(done_recipient_reads_back_as_done),
        T(content_lines_join_pieces_up_to_the_bound),
        T(abort_leaves_no_file),
        T(crash_before_commit_leaves_only_a_temporary_file),
        T(files_alive_at_once_never_share_an_id),
        T(commit_never_replaces_an_existing_file),
        T(commit_applies_the_final_mode),
        T(create_fails_cleanly_without_the_directory),
        T(reader_refuses_symlinks_fifos_and_bad_names),
        T(every_truncation_of_a_good_file_is_an_error),
        cmocka_unit_test(maildrop_grammar_is_checked_strictly),
        cmocka_unit_test(queue_grammar_needs_sizes_and_a_recipient),
        cmocka_unit_test(auto_mode_tells_maildrop_from_queue_files),
        cmocka_unit_test(grammar_step_function_matches_the_reader),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
