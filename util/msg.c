/*
 * msg - logging: info, warn, error, fatal, panic
 *
 * Formatting uses a stack buffer so that msg_fatal works when the heap is
 * exhausted. Each line goes out in one write() so that concurrent
 * processes appending to one maillog_file never interleave within a line.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "util/msg.h"

enum msg_level { LEVEL_DEBUG, LEVEL_INFO, LEVEL_WARN, LEVEL_ERROR, LEVEL_FATAL, LEVEL_PANIC };

static const struct {
    const char *prefix;
    int syslog_priority;
} msg_levels[] = {
    [LEVEL_DEBUG] = {"", LOG_DEBUG},       [LEVEL_INFO] = {"", LOG_INFO},
    [LEVEL_WARN] = {"warning: ", LOG_WARNING}, [LEVEL_ERROR] = {"error: ", LOG_ERR},
    [LEVEL_FATAL] = {"fatal: ", LOG_CRIT}, [LEVEL_PANIC] = {"panic: ", LOG_CRIT},
};

/* Logger state: private to this file, set once at start-up. */
static char msg_progname[64] = "postern";
static char msg_syslog_name[64] = "postern";
static char msg_syslog_tag[130] = "postern/postern";
static int msg_dest = MSG_DEST_STDERR;
static int msg_file_fd = -1;
static int msg_verbose = 0;
static void (*msg_fatal_hook)(void);

static void copy_name(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src);
}

static void update_tag(void)
{
    snprintf(msg_syslog_tag, sizeof(msg_syslog_tag), "%s/%s", msg_syslog_name, msg_progname);
}

void msg_init(const char *progname)
{
    const char *slash = strrchr(progname, '/');

    copy_name(msg_progname, sizeof(msg_progname), slash ? slash + 1 : progname);
    update_tag();
    msg_dest = MSG_DEST_STDERR;
}

void msg_set_syslog_name(const char *name)
{
    copy_name(msg_syslog_name, sizeof(msg_syslog_name), name);
    update_tag();
    if (msg_dest & MSG_DEST_SYSLOG) {
        closelog();
        openlog(msg_syslog_tag, LOG_PID | LOG_NDELAY, LOG_MAIL);
    }
}

int msg_use_syslog(void)
{
    struct stat st;

    if (stat("/dev/log", &st) < 0 || !S_ISSOCK(st.st_mode))
        return -1;
    openlog(msg_syslog_tag, LOG_PID | LOG_NDELAY, LOG_MAIL);
    msg_dest |= MSG_DEST_SYSLOG;
    return 0;
}

int msg_use_file(const char *path)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);

    if (fd < 0)
        return -1;
    if (msg_file_fd >= 0)
        close(msg_file_fd);
    msg_file_fd = fd;
    msg_dest |= MSG_DEST_FILE;
    return 0;
}

void msg_use_stderr(int on)
{
    if (on)
        msg_dest |= MSG_DEST_STDERR;
    else
        msg_dest &= ~MSG_DEST_STDERR;
}

int msg_destinations(void)
{
    return msg_dest;
}

void msg_set_verbose(int level)
{
    msg_verbose = level;
}

int msg_verbose_level(void)
{
    return msg_verbose;
}

void msg_set_fatal_hook(void (*hook)(void))
{
    msg_fatal_hook = hook;
}

static void write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        buf += n;
        len -= (size_t)n;
    }
}

/* Replace control characters so that one event is one log line. */
static void sanitize(char *text)
{
    for (unsigned char *p = (unsigned char *)text; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            *p = '?';
}

static int fd_is_open(int fd)
{
    return fcntl(fd, F_GETFD) >= 0;
}

__attribute__((format(printf, 2, 0)))
static void emit(enum msg_level level, const char *fmt, va_list ap)
{
    int saved_errno = errno;
    char text[MSG_LINE_MAX];
    char line[MSG_LINE_MAX + 256];
    const char *prefix = msg_levels[level].prefix;
    int dest = msg_dest;
    int n;

    vsnprintf(text, sizeof(text), fmt, ap);
    sanitize(text);

    if (level >= LEVEL_FATAL && fd_is_open(2))
        dest |= MSG_DEST_STDERR;
    if (dest & MSG_DEST_STDERR) {
        n = snprintf(line, sizeof(line), "%s: %s%s\n", msg_progname, prefix, text);
        write_all(2, line, n < (int)sizeof(line) ? (size_t)n : sizeof(line) - 1);
    }
    if (dest & MSG_DEST_SYSLOG)
        syslog(msg_levels[level].syslog_priority, "%s%s", prefix, text);
    if ((dest & MSG_DEST_FILE) && msg_file_fd >= 0) {
        char stamp[32], host[256];
        time_t now = time(NULL);
        struct tm tm;

        localtime_r(&now, &tm);
        strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &tm);
        if (gethostname(host, sizeof(host)) < 0)
            snprintf(host, sizeof(host), "localhost");
        host[sizeof(host) - 1] = 0;
        n = snprintf(line, sizeof(line), "%s %s %s[%ld]: %s%s\n", stamp, host, msg_syslog_tag,
                     (long)getpid(), prefix, text);
        write_all(msg_file_fd, line, n < (int)sizeof(line) ? (size_t)n : sizeof(line) - 1);
    }
    errno = saved_errno;
}

#define MSG_EMIT(level)                                                                       \
    do {                                                                                      \
        va_list ap;                                                                           \
        va_start(ap, fmt);                                                                    \
        emit(level, fmt, ap);                                                                 \
        va_end(ap);                                                                           \
    } while (0)

void msg_info(const char *fmt, ...)
{
    MSG_EMIT(LEVEL_INFO);
}

void msg_warn(const char *fmt, ...)
{
    MSG_EMIT(LEVEL_WARN);
}

void msg_error(const char *fmt, ...)
{
    MSG_EMIT(LEVEL_ERROR);
}

void msg_debug(const char *fmt, ...)
{
    if (msg_verbose > 0)
        MSG_EMIT(LEVEL_DEBUG);
}

static void run_fatal_hook(void)
{
    void (*hook)(void) = msg_fatal_hook;

    msg_fatal_hook = NULL; /* a fatal error inside the hook must not recurse */
    if (hook)
        hook();
}

void msg_fatal(const char *fmt, ...)
{
    MSG_EMIT(LEVEL_FATAL);
    run_fatal_hook();
    exit(1);
}

void msg_fatal_status(int status, const char *fmt, ...)
{
    MSG_EMIT(LEVEL_FATAL);
    run_fatal_hook();
    exit(status);
}

void msg_panic(const char *fmt, ...)
{
    MSG_EMIT(LEVEL_PANIC);
    abort();
}
