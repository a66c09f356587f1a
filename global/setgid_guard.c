/*
 * setgid_guard - start-up hardening of a set-gid command; see setgid_guard.h
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "global/config.h"
#include "global/setgid_guard.h"

/* Descriptors 0-2 open, every other one closed. */
static void sanitize_descriptors(void)
{
    for (int fd = 0; fd < 3; fd++) {
        if (fcntl(fd, F_GETFD) < 0) {
            int nfd = open("/dev/null", O_RDWR);

            if (nfd < 0)
                _exit(EX_OSERR);
            if (nfd != fd) {
                /* A lower descriptor was free: this one stays closed. */
                (void)close(nfd);
                _exit(EX_OSERR);
            }
        }
    }
    if (close_range(3, ~0U, 0) < 0) {
        long max = sysconf(_SC_OPEN_MAX);

        for (long fd = 3; fd < (max > 0 ? max : 1024); fd++)
            (void)close((int)fd);
    }
}

int setgid_guard_start(vstr *dir)
{
    sanitize_descriptors();
    umask(077);
    vstr_set_str(dir, config_directory(NULL));
    clearenv();
    return getauxval(AT_SECURE) != 0 || getegid() != getgid() || geteuid() != getuid();
}

int setgid_guard_config_dir_trusted(const char *dir, vstr *why)
{
    vstr err = VSTR_INIT;
    config *dflt;
    argv_t *list;
    int ok = 0;

    if (strcmp(dir, CONFIG_DIR_DEFAULT) == 0 || getuid() == 0)
        return 1;
    if ((dflt = config_load(CONFIG_DIR_DEFAULT, &err)) == NULL) {
        vstr_set_fmt(why, "%s is not listed in alternate_config_directories of %s/main.cf (%s)",
                     dir, CONFIG_DIR_DEFAULT, vstr_str(&err));
        vstr_release(&err);
        return 0;
    }
    list = config_list(dflt, "alternate_config_directories");
    for (size_t i = 0; i < list->argc && !ok; i++)
        ok = strcmp(list->argv[i], dir) == 0;
    if (!ok)
        vstr_set_fmt(why, "%s is not listed in alternate_config_directories of %s/main.cf", dir,
                     CONFIG_DIR_DEFAULT);
    argv_free(list);
    config_free(dflt);
    vstr_release(&err);
    return ok;
}

/*
 * Sanitizer builds only. A set-gid process is not dumpable: LeakSanitizer
 * cannot inspect it at exit (a fatal error, exit 1) and cannot even read
 * ASAN_OPTIONS from /proc/self/environ to be told so. This definition
 * comes with the module into every program that uses it; leak checking
 * stays on when such a program runs without set-gid (the unprivileged
 * tests).
 */
#if defined(__SANITIZE_ADDRESS__)
#define SETGID_GUARD_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SETGID_GUARD_ASAN 1
#endif
#endif
#ifdef SETGID_GUARD_ASAN
const char *__lsan_default_options(void);
const char *__lsan_default_options(void)
{
    return getauxval(AT_SECURE) ? "detect_leaks=0" : "";
}
#endif
