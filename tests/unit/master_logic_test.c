/* Unit tests for master/master_logic: back-off, reload diffs, endpoints,
 * service signatures. The file under test is included: master's objects
 * are not part of the libraries unit tests link with. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "master/master_logic.c"

/* ---- Back-off ---- */

/* ---- A child's priority ---- */

static void child_nice_only_goes_down_and_stops_at_minus_twenty(void **state)
{
    (void)state;
    assert_int_equal(master_child_nice(0, -10), -10);
    assert_int_equal(master_child_nice(5, -10), -5);
    assert_int_equal(master_child_nice(-15, -10), -20);
    assert_int_equal(master_child_nice(-20, -1), -20);
    assert_int_equal(master_child_nice(3, 0), 3);
    /* Never raised, whatever the adjustment says. */
    assert_int_equal(master_child_nice(3, 7), 3);
    assert_int_equal(master_child_nice(-20, 5), -20);
}

static void only_the_qmgr_command_is_the_queue_manager(void **state)
{
    (void)state;
    assert_true(master_command_is_qmgr("qmgr"));
    assert_true(master_command_is_qmgr("/usr/libexec/postern/qmgr"));
    assert_false(master_command_is_qmgr("oqmgr"));
    assert_false(master_command_is_qmgr("qmgr2"));
    assert_false(master_command_is_qmgr("/opt/qmgr/smtpd"));
    assert_false(master_command_is_qmgr(""));
}

static void backoff_is_zero_after_a_clean_exit(void **state)
{
    (void)state;
    assert_int_equal(master_backoff_next(0, MASTER_EXIT_OK, 1, 60000), 0);
    assert_int_equal(master_backoff_next(8000, MASTER_EXIT_OK, 1, 60000), 0);
}

static void backoff_doubles_from_one_second_to_sixty_on_bad_starts(void **state)
{
    static const long expected[] = {1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000};
    long b = 0;

    (void)state;
    for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++) {
        b = master_backoff_next(b, MASTER_EXIT_STATUS, 1, 60000);
        assert_int_equal(b, expected[i]);
    }
    b = 0;
    for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++) {
        b = master_backoff_next(b, MASTER_EXIT_SIGNAL, 1, 60000);
        assert_int_equal(b, expected[i]);
    }
}

static void a_crash_after_a_good_start_restarts_after_one_second(void **state)
{
    (void)state;
    assert_int_equal(master_backoff_next(0, MASTER_EXIT_SIGNAL, 0, 60000), MASTER_BACKOFF_MIN_MS);
    assert_int_equal(master_backoff_next(60000, MASTER_EXIT_SIGNAL, 0, 60000),
                     MASTER_BACKOFF_MIN_MS);
}

static void backoff_ceiling_is_the_configured_one(void **state)
{
    long b = 0;

    (void)state;
    for (int i = 0; i < 10; i++)
        b = master_backoff_next(b, MASTER_EXIT_SIGNAL, 1, 5000);
    assert_int_equal(b, 5000);
    /* A ceiling below the first step still waits the first step. */
    assert_int_equal(master_backoff_next(0, MASTER_EXIT_SIGNAL, 1, 10), MASTER_BACKOFF_MIN_MS);
}

static void a_late_nonzero_exit_does_not_throttle(void **state)
{
    (void)state;
    assert_int_equal(master_backoff_next(0, MASTER_EXIT_STATUS, 0, 60000), 0);
    assert_int_equal(master_backoff_next(4000, MASTER_EXIT_STATUS, 0, 60000), 0);
}

static void import_environment_keeps_named_and_sets_assigned(void **state)
{
    (void)state;
    setenv("KEEP_ME", "1", 1);
    setenv("DROP_ME", "2", 1);
    master_import_environment("KEEP_ME LANG=C NOT_SET, EMPTY=");
    assert_string_equal(getenv("KEEP_ME"), "1");
    assert_string_equal(getenv("LANG"), "C");
    assert_string_equal(getenv("EMPTY"), "");
    assert_null(getenv("DROP_ME"));
    assert_null(getenv("NOT_SET"));
    assert_null(getenv("PATH"));
}

/* ---- Reload diff ---- */

static void diff_keeps_changes_adds_and_removes(void **state)
{
    const master_spec old[] = {
        {"inet::25", "smtpd A"},
        {"unix:/q/public/pickup", "pickup A"},
        {"unix:/q/private/local", "local A"},
    };
    const master_spec wanted[] = {
        {"unix:/q/private/local", "local B"}, /* changed */
        {"inet::25", "smtpd A"},              /* kept */
        {"unix:/q/private/relay", "smtp A"},  /* added */
    };
    master_diff_action action[3];
    long match[3];
    int removed[3];

    (void)state;
    master_diff(old, 3, wanted, 3, action, match, removed);
    assert_int_equal(action[0], MASTER_DIFF_CHANGE);
    assert_int_equal(match[0], 2);
    assert_int_equal(action[1], MASTER_DIFF_KEEP);
    assert_int_equal(match[1], 0);
    assert_int_equal(action[2], MASTER_DIFF_ADD);
    assert_int_equal(match[2], -1);
    assert_int_equal(removed[0], 0);
    assert_int_equal(removed[1], 1); /* pickup is gone */
    assert_int_equal(removed[2], 0);
}

static void diff_hands_one_endpoint_to_one_service_only(void **state)
{
    const master_spec old[] = {{"inet::25", "a"}};
    const master_spec wanted[] = {{"inet::25", "a"}, {"inet::25", "b"}};
    master_diff_action action[2];
    long match[2];
    int removed[1];

    (void)state;
    master_diff(old, 1, wanted, 2, action, match, removed);
    assert_int_equal(action[0], MASTER_DIFF_KEEP);
    assert_int_equal(action[1], MASTER_DIFF_ADD);
    assert_int_equal(removed[0], 0);
}

static void diff_of_nothing_against_something(void **state)
{
    const master_spec old[] = {{"inet::25", "a"}, {"unix:/q/private/x", "b"}};
    master_diff_action action[2];
    long match[2];
    int removed[2];

    (void)state;
    master_diff(old, 2, NULL, 0, action, match, removed);
    assert_int_equal(removed[0], 1);
    assert_int_equal(removed[1], 1);
    master_diff(NULL, 0, old, 2, action, match, removed);
    assert_int_equal(action[0], MASTER_DIFF_ADD);
    assert_int_equal(action[1], MASTER_DIFF_ADD);
    assert_int_equal(match[1], -1);
}

/* ---- Endpoints, program paths, signatures ---- */

static mastercf *parse(const char *text)
{
    vstr err = VSTR_INIT;
    mastercf *mcf = mastercf_parse("master.cf", text, strlen(text), &err);

    if (mcf == NULL)
        fail_msg("%s", vstr_str(&err));
    vstr_release(&err);
    return mcf;
}

static void endpoints_of_unix_services_are_in_private_or_public(void **state)
{
    mastercf *mcf = parse("pickup unix n - n 60 1 pickup\n"
                          "local unix - n n - - local\n");
    argv_t *out = argv_new();
    vstr err = VSTR_INIT;

    (void)state;
    assert_int_equal(master_endpoints(mcf->services[0], "/q", "all", out, &err), 0);
    assert_int_equal(master_endpoints(mcf->services[1], "/q", "all", out, &err), 0);
    assert_int_equal(out->argc, 2);
    assert_string_equal(out->argv[0], "unix:/q/public/pickup");
    assert_string_equal(out->argv[1], "unix:/q/private/local");
    argv_free(out);
    mastercf_free(mcf);
    vstr_release(&err);
}

static void endpoints_of_inet_services_follow_inet_interfaces(void **state)
{
    mastercf *mcf = parse("smtp inet n - n - - smtpd\n"
                          "127.0.0.2:2525 inet n - n - - smtpd\n"
                          "[::1]:2526 inet n - n - - smtpd\n");
    argv_t *out = argv_new();
    vstr err = VSTR_INIT;

    (void)state;
    assert_int_equal(master_endpoints(mcf->services[0], "/q", "all", out, &err), 0);
    assert_string_equal(out->argv[0], "inet::smtp");
    argv_truncate(out, 0);
    assert_int_equal(
        master_endpoints(mcf->services[0], "/q", "127.0.0.1, ::1 loopback-only", out, &err), 0);
    /* loopback-only adds nothing new: each address is listened on once. */
    assert_int_equal(out->argc, 2);
    assert_string_equal(out->argv[0], "inet:127.0.0.1:smtp");
    assert_string_equal(out->argv[1], "inet:[::1]:smtp");
    argv_truncate(out, 0);
    /* A host in the service name wins over inet_interfaces. */
    assert_int_equal(master_endpoints(mcf->services[1], "/q", "all", out, &err), 0);
    assert_int_equal(master_endpoints(mcf->services[2], "/q", "all", out, &err), 0);
    assert_int_equal(out->argc, 2);
    assert_string_equal(out->argv[0], "inet:127.0.0.2:2525");
    assert_string_equal(out->argv[1], "inet:[::1]:2526");
    argv_truncate(out, 0);
    assert_int_equal(master_endpoints(mcf->services[0], "/q", "", out, &err), -1);
    assert_non_null(strstr(vstr_str(&err), "inet_interfaces is empty"));
    argv_free(out);
    mastercf_free(mcf);
    vstr_release(&err);
}

static void endpoints_refuse_types_master_does_not_run(void **state)
{
    mastercf *mcf = parse("pickup fifo n - n 60 1 pickup\n");
    argv_t *out = argv_new();
    vstr err = VSTR_INIT;

    (void)state;
    assert_int_equal(master_endpoints(mcf->services[0], "/q", "all", out, &err), -1);
    assert_non_null(strstr(vstr_str(&err), "fifo"));
    assert_int_equal(out->argc, 0);
    argv_free(out);
    mastercf_free(mcf);
    vstr_release(&err);
}

static void program_path_is_under_daemon_directory_unless_absolute(void **state)
{
    vstr out = VSTR_INIT;

    (void)state;
    master_program_path("smtpd", "/usr/lib/postern", &out);
    assert_string_equal(vstr_str(&out), "/usr/lib/postern/smtpd");
    master_program_path("/opt/x/daemon", "/usr/lib/postern", &out);
    assert_string_equal(vstr_str(&out), "/opt/x/daemon");
    vstr_release(&out);
}

static void signature_ignores_layout_but_not_settings(void **state)
{
    mastercf *a = parse("smtp inet n - n - - smtpd -o smtpd_banner=x\n");
    mastercf *same = parse("smtp   inet  n  -  n  -  -  smtpd\n  -o smtpd_banner=x\n");
    mastercf *other_o = parse("smtp inet n - n - - smtpd -o smtpd_banner=y\n");
    mastercf *other_max = parse("smtp inet n - n - 5 smtpd -o smtpd_banner=x\n");
    mastercf *other_priv = parse("smtp inet n n n - - smtpd -o smtpd_banner=x\n");
    vstr s1 = VSTR_INIT, s2 = VSTR_INIT;

    (void)state;
    master_signature(a->services[0], "/d/smtpd", "print1", &s1);
    master_signature(same->services[0], "/d/smtpd", "print1", &s2);
    assert_string_equal(vstr_str(&s1), vstr_str(&s2));
    master_signature(other_o->services[0], "/d/smtpd", "print1", &s2);
    assert_string_not_equal(vstr_str(&s1), vstr_str(&s2));
    master_signature(other_max->services[0], "/d/smtpd", "print1", &s2);
    assert_string_not_equal(vstr_str(&s1), vstr_str(&s2));
    master_signature(other_priv->services[0], "/d/smtpd", "print1", &s2);
    assert_string_not_equal(vstr_str(&s1), vstr_str(&s2));
    /* A new main.cf or another program changes every service. */
    master_signature(a->services[0], "/d/smtpd", "print2", &s2);
    assert_string_not_equal(vstr_str(&s1), vstr_str(&s2));
    master_signature(a->services[0], "/e/smtpd", "print1", &s2);
    assert_string_not_equal(vstr_str(&s1), vstr_str(&s2));
    mastercf_free(a);
    mastercf_free(same);
    mastercf_free(other_o);
    mastercf_free(other_max);
    mastercf_free(other_priv);
    vstr_release(&s1);
    vstr_release(&s2);
}

static void fingerprint_tells_contents_apart(void **state)
{
    vstr a = VSTR_INIT, b = VSTR_INIT;

    (void)state;
    master_fingerprint("x = 1\n", 6, &a);
    master_fingerprint("x = 1\n", 6, &b);
    assert_string_equal(vstr_str(&a), vstr_str(&b));
    master_fingerprint("x = 2\n", 6, &b);
    assert_string_not_equal(vstr_str(&a), vstr_str(&b));
    master_fingerprint("", 0, &b);
    assert_string_not_equal(vstr_str(&a), vstr_str(&b));
    vstr_release(&a);
    vstr_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(backoff_is_zero_after_a_clean_exit),
        cmocka_unit_test(backoff_doubles_from_one_second_to_sixty_on_bad_starts),
        cmocka_unit_test(a_crash_after_a_good_start_restarts_after_one_second),
        cmocka_unit_test(backoff_ceiling_is_the_configured_one),
        cmocka_unit_test(a_late_nonzero_exit_does_not_throttle),
        cmocka_unit_test(import_environment_keeps_named_and_sets_assigned),
        cmocka_unit_test(diff_keeps_changes_adds_and_removes),
        cmocka_unit_test(diff_hands_one_endpoint_to_one_service_only),
        cmocka_unit_test(diff_of_nothing_against_something),
        cmocka_unit_test(endpoints_of_unix_services_are_in_private_or_public),
        cmocka_unit_test(endpoints_of_inet_services_follow_inet_interfaces),
        cmocka_unit_test(endpoints_refuse_types_master_does_not_run),
        cmocka_unit_test(program_path_is_under_daemon_directory_unless_absolute),
        cmocka_unit_test(signature_ignores_layout_but_not_settings),
        cmocka_unit_test(fingerprint_tells_contents_apart),
        cmocka_unit_test(child_nice_only_goes_down_and_stops_at_minus_twenty),
        cmocka_unit_test(only_the_qmgr_command_is_the_queue_manager),
    };
    return cmocka_run_group_tests_name("master_logic", tests, NULL, NULL);
}
