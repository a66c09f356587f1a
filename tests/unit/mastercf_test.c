/* Unit tests for global/mastercf: columns and their defaults, -o
 * overrides (plain and { } forms), continuation lines, errors with file
 * and line, duplicates, the postconf -M format. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "global/config.h"
#include "global/mastercf.h"

#define PATH "/x/master.cf"

static mastercf *parse(const char *text)
{
    vstr err = VSTR_INIT;
    mastercf *mcf = mastercf_parse(PATH, text, strlen(text), &err);

    if (mcf == NULL)
        fail_msg("unexpected error: %s", vstr_str(&err));
    vstr_release(&err);
    return mcf;
}

static void refused(const char *text, const char *want)
{
    vstr err = VSTR_INIT;
    mastercf *mcf = mastercf_parse(PATH, text, strlen(text), &err);

    assert_null(mcf);
    assert_string_equal(vstr_str(&err), want);
    vstr_release(&err);
}

static const char stock[] = "# service type private unpriv chroot wakeup maxproc command\n"
                            "smtp      inet  n       -       n       -       -       smtpd\n"
                            "pickup    unix  n       -       n       60      1       pickup\n"
                            "qmgr      unix  n       -       n       300?    1       qmgr\n"
                            "smtp      unix  -       -       n       -       -       smtp\n"
                            "relay     unix  -       -       n       -       -       smtp\n"
                            "  -o syslog_name=postern/relay\n"
                            "# a comment between continuation lines\n"
                            "  -o smtp_helo_timeout=5s\n"
                            "local     unix  -       n       y       -       0       local\n";

static void columns_and_defaults(void **state)
{
    mastercf *mcf = parse(stock);
    const mastercf_service *s;

    (void)state;
    assert_int_equal(mcf->count, 6);
    s = mcf->services[0];
    assert_string_equal(s->name, "smtp");
    assert_int_equal(s->type, MASTERCF_INET);
    assert_int_equal(s->is_private, 0);
    assert_int_equal(s->is_unpriv, 1);
    assert_int_equal(s->is_chroot, 0);
    assert_int_equal(s->wakeup, 0);
    assert_int_equal(s->maxproc, -1);
    assert_int_equal(s->lineno, 2);
    assert_string_equal(s->argv->argv[0], "smtpd");
    s = mcf->services[1];
    assert_int_equal(s->wakeup, 60);
    assert_int_equal(s->wakeup_if_used, 0);
    assert_int_equal(s->maxproc, 1);
    s = mcf->services[2];
    assert_int_equal(s->wakeup, 300);
    assert_int_equal(s->wakeup_if_used, 1);
    assert_string_equal(s->columns[3], "300?");
    s = mcf->services[3];
    assert_int_equal(s->is_private, 1);
    s = mcf->services[5];
    assert_int_equal(s->is_unpriv, 0);
    assert_int_equal(s->is_chroot, 1);
    assert_int_equal(s->maxproc, 0);
    mastercf_free(mcf);
}

static void overrides_on_continuation_lines(void **state)
{
    mastercf *mcf = parse(stock);
    const mastercf_service *s = mastercf_find(mcf, "relay", "unix");

    (void)state;
    assert_non_null(s);
    assert_int_equal(s->lineno, 6);
    assert_int_equal(s->override_names->argc, 2);
    assert_string_equal(s->override_names->argv[0], "syslog_name");
    assert_string_equal(s->override_values->argv[0], "postern/relay");
    assert_string_equal(s->override_names->argv[1], "smtp_helo_timeout");
    assert_string_equal(s->override_values->argv[1], "5s");
    /* argv keeps the -o pairs in order, for the child to see. */
    assert_int_equal(s->argv->argc, 5);
    assert_string_equal(s->argv->argv[1], "-o");
    assert_string_equal(s->argv->argv[2], "syslog_name=postern/relay");
    assert_null(mastercf_find(mcf, "relay", "inet"));
    assert_non_null(mastercf_find(mcf, "smtp", "inet"));
    assert_non_null(mastercf_find(mcf, "smtp", "unix"));
    mastercf_free(mcf);
}

static void braced_override_keeps_spaces(void **state)
{
    mastercf *mcf =
        parse("submission inet n - n - - smtpd\n"
              "  -o { smtpd_client_restrictions = permit_sasl_authenticated, reject }\n"
              "  -o {smtpd_banner=$myhostname  ESMTP}\n"
              "  -o empty=\n"
              "  { an argument }\n");
    const mastercf_service *s = mcf->services[0];
    vstr out = VSTR_INIT;

    (void)state;
    assert_int_equal(s->override_names->argc, 3);
    assert_string_equal(s->override_names->argv[0], "smtpd_client_restrictions");
    assert_string_equal(s->override_values->argv[0], "permit_sasl_authenticated, reject");
    assert_string_equal(s->override_values->argv[1], "$myhostname  ESMTP");
    assert_string_equal(s->override_values->argv[2], "");
    assert_string_equal(s->argv->argv[s->argv->argc - 1], "an argument");
    mastercf_format(s, &out);
    assert_string_equal(vstr_str(&out),
                        "submission inet  n       -       n       -       -       smtpd -o { "
                        "smtpd_client_restrictions = permit_sasl_authenticated, reject } -o { "
                        "smtpd_banner = $myhostname  ESMTP } -o empty= { an argument }");
    vstr_release(&out);
    mastercf_free(mcf);
}

static void format_normalizes_columns(void **state)
{
    mastercf *mcf = parse("relay unix - - n - - smtp\n  -o syslog_name=postern/relay\n"
                          "127.0.0.1:2525 inet n - n - 10 smtpd -v\n");
    vstr out = VSTR_INIT;

    (void)state;
    mastercf_format(mcf->services[0], &out);
    assert_string_equal(vstr_str(&out), "relay      unix  -       -       n       -       -       "
                                        "smtp -o syslog_name=postern/relay");
    vstr_reset(&out);
    mastercf_format(mcf->services[1], &out);
    assert_string_equal(vstr_str(&out), "127.0.0.1:2525 inet  n       -       n       -       10  "
                                        "    smtpd -v");
    vstr_release(&out);
    mastercf_free(mcf);
}

static void inet_service_names(void **state)
{
    mastercf *mcf = parse("smtp inet n - n - - smtpd\n"
                          "2525 inet n - n - - smtpd\n"
                          "127.0.0.1:submission inet n - n - - smtpd\n"
                          "[::1]:25 inet n - n - - smtpd\n");

    (void)state;
    assert_int_equal(mcf->count, 4);
    mastercf_free(mcf);
    refused("host: inet n - n - - smtpd\n",
            PATH ", line 1: bad inet service \"host:\": expected port, host:port or "
                 "[address]:port");
    refused("[::1 inet n - n - - smtpd\n",
            PATH ", line 1: bad inet service \"[::1\": expected [address]:port");
}

static void unix_service_name_may_not_be_a_path(void **state)
{
    (void)state;
    refused("../etc/x unix - - n - - local\n",
            PATH ", line 1: bad service name \"../etc/x\": a unix service names a socket, "
                 "without '/'");
    refused(".. fifo - - n - - local\n",
            PATH ", line 1: bad service name \"..\": a fifo service names a socket, without '/'");
}

static void all_types_are_known(void **state)
{
    mastercf *mcf = parse("a inet n - n - - x\nb unix - - n - - x\nc unix-dgram - - n - - x\n"
                          "d fifo - - n - - x\ne pass - - n - - x\n");

    (void)state;
    assert_int_equal(mcf->services[2]->type, MASTERCF_UNIX_DGRAM);
    assert_int_equal(mcf->services[3]->type, MASTERCF_FIFO);
    assert_int_equal(mcf->services[4]->type, MASTERCF_PASS);
    mastercf_free(mcf);
}

static void errors_name_file_and_line(void **state)
{
    (void)state;
    refused("# c\nbroken unix -\n",
            PATH ", line 2: expected at least 8 fields (service type private unpriv chroot "
                 "wakeup maxproc command), found 3");
    refused("x tcp - - n - - x\n",
            PATH ", line 1: unknown service type \"tcp\": expected inet, unix, unix-dgram, fifo "
                 "or pass");
    refused("x unix maybe - n - - x\n",
            PATH ", line 1: bad private field \"maybe\": expected y, n or -");
    refused("x unix - - yes - - x\n",
            PATH ", line 1: bad chroot field \"yes\": expected y, n or -");
    refused("x unix - - n 5m - x\n",
            PATH ", line 1: bad wakeup field \"5m\": expected seconds, seconds? or -");
    refused("x unix - - n ? - x\n",
            PATH ", line 1: bad wakeup field \"?\": expected seconds, seconds? or -");
    refused("x unix - - n - 99999999999 x\n",
            PATH ", line 1: bad maxproc field \"99999999999\": expected a number or -");
    refused("x unix - - n - - x -o\n",
            PATH ", line 1: -o at the end of the line: expected -o name=value");
    refused("x unix - - n - - x -o novalue\n",
            PATH ", line 1: bad -o setting \"novalue\": expected -o name=value or -o { name = "
                 "value }");
    refused("x unix - - n - - x -o bad-name=1\n",
            PATH ", line 1: bad -o setting \"bad-name=1\": expected -o name=value or -o { name "
                 "= value }");
    refused("x unix - - n - - x -o { a = b\n", PATH ", line 1: missing '}'");
    refused("x unix - - n - - x {a}b\n", PATH ", line 1: text after '}' without white space");
    refused("  x unix - - n - - x\n",
            PATH ", line 1: line starts with white space but there is no line to continue");
}

static void every_bad_line_is_reported(void **state)
{
    (void)state;
    refused("a unix - - n - - x\nbad\nb unix - - n - - x\nworse unix\n",
            PATH ", line 2: expected at least 8 fields (service type private unpriv chroot "
                 "wakeup maxproc command), found 1\n" PATH
                 ", line 4: expected at least 8 fields (service type private unpriv chroot "
                 "wakeup maxproc command), found 2");
}

static void duplicate_service_is_an_error(void **state)
{
    (void)state;
    refused("smtp inet n - n - - smtpd\nsmtp unix - - n - - smtp\n# x\nsmtp inet n - n - - x\n",
            PATH ", line 4: duplicate service smtp/inet (first on line 1)");
}

static void nul_bytes_and_long_lines_are_refused(void **state)
{
    const char text[] = "a unix - - n - - x\nb unix - - n - - x\0\n";
    vstr err = VSTR_INIT, big = VSTR_INIT;

    (void)state;
    assert_null(mastercf_parse(PATH, text, sizeof(text) - 1, &err));
    assert_string_equal(vstr_str(&err), PATH ", line 2: NUL byte in line");
    vstr_append_str(&big, "a unix - - n - - x ");
    for (int i = 0; i < CONFIG_LINE_MAX; i++)
        vstr_append_char(&big, 'y');
    assert_null(mastercf_parse(PATH, vstr_str(&big), vstr_len(&big), &err));
    assert_non_null(strstr(vstr_str(&err), PATH ", line 1: logical line longer than"));
    vstr_release(&err);
    vstr_release(&big);
}

static void empty_file_has_no_services(void **state)
{
    mastercf *mcf = parse("# nothing\n\n");

    (void)state;
    assert_int_equal(mcf->count, 0);
    mastercf_free(mcf);
}

static void apply_sets_the_overrides(void **state)
{
    mastercf *mcf = parse(stock);
    config *cfg = config_new_defaults("/x");
    vstr err = VSTR_INIT;

    (void)state;
    mastercf_apply(mastercf_find(mcf, "relay", "unix"), cfg);
    assert_string_equal(config_expand(cfg, "syslog_name", &err), "postern/relay");
    assert_int_equal(config_time(cfg, "smtp_helo_timeout"), 5);
    config_free(cfg);
    mastercf_free(mcf);
    vstr_release(&err);
}

static void load_reads_dir_master_cf(void **state)
{
    char dir[64], path[128], expect[256];
    vstr err = VSTR_INIT;
    mastercf *mcf;
    FILE *fp;

    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/mastercf-test-XXXXXX");
    assert_non_null(mkdtemp(dir));
    assert_null(mastercf_load(dir, &err));
    snprintf(expect, sizeof(expect), "%s/master.cf: No such file or directory", dir);
    assert_string_equal(vstr_str(&err), expect);
    snprintf(path, sizeof(path), "%s/master.cf", dir);
    assert_non_null(fp = fopen(path, "w"));
    fputs(stock, fp);
    fclose(fp);
    mcf = mastercf_load(dir, &err);
    assert_non_null(mcf);
    assert_string_equal(mcf->path, path);
    assert_int_equal(mcf->count, 6);
    mastercf_free(mcf);
    unlink(path);
    rmdir(dir);
    vstr_release(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(columns_and_defaults),
        cmocka_unit_test(overrides_on_continuation_lines),
        cmocka_unit_test(braced_override_keeps_spaces),
        cmocka_unit_test(format_normalizes_columns),
        cmocka_unit_test(inet_service_names),
        cmocka_unit_test(unix_service_name_may_not_be_a_path),
        cmocka_unit_test(all_types_are_known),
        cmocka_unit_test(errors_name_file_and_line),
        cmocka_unit_test(every_bad_line_is_reported),
        cmocka_unit_test(duplicate_service_is_an_error),
        cmocka_unit_test(nul_bytes_and_long_lines_are_refused),
        cmocka_unit_test(empty_file_has_no_services),
        cmocka_unit_test(apply_sets_the_overrides),
        cmocka_unit_test(load_reads_dir_master_cf),
    };

    return cmocka_run_group_tests_name("mastercf", tests, NULL, NULL);
}
