/*
 * msg - logging: info, warn, error, fatal, panic
 *
 * One line per event, in the shape mail-log tools expect:
 *   syslog (facility mail):  postern/NAME[pid]: warning: text
 *   maillog_file:            Nov 22 17:16:00 host postern/NAME[pid]: text
 *   stderr:                  NAME: warning: text
 * Control characters in the text are replaced by '?', so data from a
 * client cannot forge log lines. Lines longer than MSG_LINE_MAX are cut.
 *
 * msg_fatal exits 1 and msg_panic aborts; both also write to stderr (when
 * fd 2 is open and stderr is not already a destination), so an
 * administrator never gets a silent exit 1.
 */
#ifndef UTIL_MSG_H
#define UTIL_MSG_H

#include <stdarg.h>

#define MSG_LINE_MAX 4096

#define MSG_DEST_STDERR 1
#define MSG_DEST_SYSLOG 2
#define MSG_DEST_FILE 4

/* Name this program in log lines; sends to stderr until told otherwise. */
void msg_init(const char *progname);
/* The syslog tag prefix (Postfix's syslog_name); default "postern". */
void msg_set_syslog_name(const char *name);
/* Send lines to syslog facility mail; returns -1 when syslog is unavailable. */
int msg_use_syslog(void);
/* Append lines to path (maillog_file); returns -1 and sets errno on failure. */
int msg_use_file(const char *path);
/* Turn stderr output on or off. */
void msg_use_stderr(int on);
/* Current destination bit mask. */
int msg_destinations(void);
/* Verbosity for msg_debug: 0 is quiet. */
void msg_set_verbose(int level);
int msg_verbose_level(void);
/* Called once before msg_fatal exits (e.g. to remove a temporary file). */
void msg_set_fatal_hook(void (*hook)(void));

void msg_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void msg_panic(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* Exit with a given status (e.g. EX_TEMPFAIL) after logging like msg_fatal. */
void msg_fatal_status(int status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));

#endif
