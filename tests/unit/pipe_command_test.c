/* Unit tests for global/pipe_command and global/sys_exits: exit codes, time limit, environment. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sys/mman.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "global/pipe_command.h"
#include "global/sys_exits.h"

static char *const env[] = {"PATH=/usr/bin:/bin", "HOME=/", "RECIPIENT=u@example.com", NULL};

static void run(const char *command, int stdin_fd, long limit, pipe_command_result *res, vstr *dsn,
                vstr *reason)
{
    pipe_command_req req = {command, "/bin/sh", env, "/", stdin_fd, PIPE_COMMAND_SAME_USER,
                            0,       limit};

    pipe_command_run(&req, res);
    pipe_command_verdict(&req, res, dsn, reason);
}

static void success_delivers(void **state)
{
    pipe_command_result res;
    vstr dsn = VSTR_INIT, reason = VSTR_INIT;

    (void)state;
    run("exit 0", -1, 10, &res, &dsn, &reason);
    assert_int_equal(res.status, PIPE_COMMAND_EXITED);
    assert_string_equal(vstr_str(&dsn), "2.0.0");
    pipe_command_result_free(&res);
    vstr_release(&dsn);
    vstr_release(&reason);
}

static void tempfail_defers_and_other_codes_bounce(void **state)
{
    pipe_command_result res;
    vstr dsn = VSTR_INIT, reason = VSTR_INIT;

    (void)state;
    run("echo try later; exit 75", -1, 10, &res, &dsn, &reason);
    assert_string_equal(vstr_str(&dsn), "4.3.0");
    assert_string_equal(vstr_str(&reason), "Command died with status 75: \"echo try later; "
                                           "exit 75\". Command output: try later");
    pipe_command_result_free(&res);
    run("exit 67", -1, 10, &res, &dsn, &reason);
    assert_string_equal(vstr_str(&dsn), "5.1.1");
    pipe_command_result_free(&res);
    run("exit 1", -1, 10, &res, &dsn, &reason);
    assert_string_equal(vstr_str(&dsn), "5.3.0");
    pipe_command_result_free(&res);
    run("exit 71", -1, 10, &res, &dsn, &reason);
    assert_string_equal(vstr_str(&dsn), "4.3.0");
    pipe_command_result_free(&res);
    assert_true(sys_exit_is_soft(EX_TEMPFAIL));
    assert_false(sys_exit_is_soft(EX_NOUSER));
    assert_false(sys_exit_is_soft(1));
    vstr_release(&dsn);
    vstr_release(&reason);
}

static void signal_defers(void **state)
{
    pipe_command_result res;
    vstr dsn = VSTR_INIT, reason = VSTR_INIT;

    (void)state;
    run("kill -9 $$", -1, 10, &res, &dsn, &reason);
    assert_int_equal(res.status, PIPE_COMMAND_SIGNALED);
    assert_int_equal(res.code, 9);
    assert_string_equal(vstr_str(&dsn), "4.3.0");
    pipe_command_result_free(&res);
    vstr_release(&dsn);
    vstr_release(&reason);
}

static void time_limit_kills_the_process_group_and_bounces(void **state)
{
    pipe_command_result res;
    vstr dsn = VSTR_INIT, reason = VSTR_INIT;
    time_t start = time(NULL);

    (void)state;
    run("sleep 30 & sleep 30", -1, 1, &res, &dsn, &reason);
    assert_true(time(NULL) - start < 5);
    assert_int_equal(res.status, PIPE_COMMAND_TIMEOUT);
    assert_string_equal(vstr_str(&dsn), "5.3.0");
    assert_string_equal(vstr_str(&reason), "Command time limit exceeded: \"sleep 30 & sleep 30\"");
    pipe_command_result_free(&res);
    vstr_release(&dsn);
    vstr_release(&reason);
}

static void background_child_holding_output_does_not_delay(void **state)
{
    pipe_command_result res;
    vstr dsn = VSTR_INIT, reason = VSTR_INIT;
    time_t start = time(NULL);

    (void)state;
    run("sleep 3 & exit 0", -1, 20, &res, &dsn, &reason);
    assert_true(time(NULL) - start < 2);
    assert_string_equal(vstr_str(&dsn), "2.0.0");
    pipe_command_result_free(&res);
    vstr_release(&dsn);
    vstr_release(&reason);
}

static void environment_is_exactly_what_was_given(void **state)
{
    pipe_command_result res;
    vstr dsn = VSTR_INIT, reason = VSTR_INIT;

    (void)state;
    setenv("POSTERN_SECRET", "leak", 1);
    run("env | grep -v '^PWD=' | grep -v '^SHLVL=' | grep -v '^_=' | sort", -1, 10, &res, &dsn,
        &reason);
    assert_string_equal(vstr_str(&res.output),
                        "HOME=/\nPATH=/usr/bin:/bin\nRECIPIENT=u@example.com\n");
    pipe_command_result_free(&res);
    vstr_release(&dsn);
    vstr_release(&reason);
}

static void stdin_is_read_from_the_start_and_output_bounded(void **state)
{
    int fd = memfd_create("msg", 0);
    pipe_command_result res;
    vstr dsn = VSTR_INIT, reason = VSTR_INIT;

    (void)state;
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "Subject: x\n\nbody\n", 17), 17);
    run("cat", fd, 10, &res, &dsn, &reason);
    assert_string_equal(vstr_str(&res.output), "Subject: x\n\nbody\n");
    pipe_command_result_free(&res);
    run("head -c 100000 /dev/zero | tr '\\0' x", -1, 10, &res, &dsn, &reason);
    assert_int_equal(vstr_len(&res.output), PIPE_COMMAND_OUTPUT_MAX);
    assert_string_equal(vstr_str(&dsn), "2.0.0");
    pipe_command_result_free(&res);
    close(fd);
    vstr_release(&dsn);
    vstr_release(&reason);
}

static void control_characters_in_output_do_not_reach_the_reason(void **state)
{
    pipe_command_result res;
    vstr dsn = VSTR_INIT, reason = VSTR_INIT;

    (void)state;
    run("printf 'a\\nb\\033c\\n'; exit 1", -1, 10, &res, &dsn, &reason);
    assert_non_null(strstr(vstr_str(&reason), "Command output: a b?c"));
    pipe_command_result_free(&res);
    vstr_release(&dsn);
    vstr_release(&reason);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(success_delivers),
        cmocka_unit_test(tempfail_defers_and_other_codes_bounce),
        cmocka_unit_test(signal_defers),
        cmocka_unit_test(time_limit_kills_the_process_group_and_bounces),
        cmocka_unit_test(background_child_holding_output_does_not_delay),
        cmocka_unit_test(environment_is_exactly_what_was_given),
        cmocka_unit_test(stdin_is_read_from_the_start_and_output_bounded),
        cmocka_unit_test(control_characters_in_output_do_not_reach_the_reason),
    };
    return cmocka_run_group_tests_name("pipe_command", tests, NULL, NULL);
}
