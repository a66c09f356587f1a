/* Unit tests for global/config: loading main.cf, expansion and its loops,
 * derived defaults, unknown names, overrides, typed getters and their
 * bounds, validation. Files live in a directory made by mkdtemp. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "global/config.h"
#include "global/param_table.h"
#include "util/msg.h"

#define TEXT_DIR "/cfgtest"
#define TEXT_FILE TEXT_DIR "/main.cf"

static char tmpdir[64];

static int make_tmpdir(void **state)
{
    (void)state;
    msg_init("config_test");
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/config-test-XXXXXX");
    return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static void remove_file(const char *name)
{
    char path[128];

    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    unlink(path);
}

static int remove_tmpdir(void **state)
{
    (void)state;
    remove_file("main.cf");
    remove_file("master.cf");
    return rmdir(tmpdir);
}

static void write_file(const char *name, const char *text, size_t len)
{
    char path[128];
    FILE *fp;

    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    fp = fopen(path, "w");
    assert_non_null(fp);
    assert_int_equal(fwrite(text, 1, len, fp), len);
    assert_int_equal(fclose(fp), 0);
}

/* A configuration from main.cf text (no files). */
static config *load(const char *text)
{
    vstr err = VSTR_INIT;
    config *cfg = config_load_text(TEXT_DIR, text, strlen(text), &err);

    if (cfg == NULL)
        fail_msg("unexpected load error: %s", vstr_str(&err));
    vstr_release(&err);
    return cfg;
}

/* The expanded value of name, or the error text. */
static void want_value(config *cfg, const char *name, const char *want)
{
    vstr err = VSTR_INIT;
    const char *value = config_expand(cfg, name, &err);

    if (value == NULL)
        fail_msg("%s: unexpected error: %s", name, vstr_str(&err));
    assert_string_equal(value, want);
    vstr_release(&err);
}

static void want_error(config *cfg, const char *name, const char *want)
{
    vstr err = VSTR_INIT;
    const char *value = config_expand(cfg, name, &err);

    if (value != NULL)
        fail_msg("%s: expected an error, got \"%s\"", name, value);
    assert_string_equal(vstr_str(&err), want);
    vstr_release(&err);
}

/* Run fn in a child with stderr captured into out; returns the exit
 * status. The child's configuration is kept in a static so that it is
 * still reachable when msg_fatal exits (no leak reports). */
static config *child_cfg;

static int run_child(void (*fn)(void), char *out, size_t size)
{
    int fds[2], status;
    size_t got = 0;
    ssize_t n;
    pid_t pid;

    assert_int_equal(pipe(fds), 0);
    fflush(NULL);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], 2);
        close(fds[0]);
        fn();
        _exit(0);
    }
    close(fds[1]);
    while (got + 1 < size && (n = read(fds[0], out + got, size - got - 1)) > 0)
        got += (size_t)n;
    out[got] = 0;
    close(fds[0]);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Loading */

static void load_reads_settings_in_file_order(void **state)
{
    config *cfg = load("b = 2\n# c\na = 1\n  continued\nb = 3\n");
    argv_t *names = config_names_set(cfg);

    (void)state;
    assert_int_equal(names->argc, 2);
    assert_string_equal(names->argv[0], "b");
    assert_string_equal(names->argv[1], "a");
    /* A later setting replaces an earlier one, with its line. */
    assert_string_equal(config_raw(cfg, "b"), "3");
    assert_int_equal(config_line(cfg, "b"), 5);
    assert_string_equal(config_raw(cfg, "a"), "1 continued");
    assert_int_equal(config_line(cfg, "a"), 3);
    assert_null(config_raw(cfg, "myhostname"));
    assert_string_equal(config_file(cfg), TEXT_FILE);
    assert_string_equal(config_dir(cfg), TEXT_DIR);
    argv_free(names);
    config_free(cfg);
}

static void hash_in_a_value_is_kept(void **state)
{
    config *cfg = load("smtpd_banner = $myhostname ESMTP # no comment\n");

    (void)state;
    assert_string_equal(config_raw(cfg, "smtpd_banner"), "$myhostname ESMTP # no comment");
    config_free(cfg);
}

static void empty_value_is_set_and_empty(void **state)
{
    config *cfg = load("mydestination =\nrelay_domains = $mydestination\n");

    (void)state;
    assert_string_equal(config_raw(cfg, "mydestination"), "");
    want_value(cfg, "mydestination", "");
    want_value(cfg, "relay_domains", "");
    config_free(cfg);
}

static void load_refuses_a_malformed_line_naming_file_and_line(void **state)
{
    vstr err = VSTR_INIT;
    const char *text = "a = 1\nthis is not a setting\n";

    (void)state;
    assert_null(config_load_text(TEXT_DIR, text, strlen(text), &err));
    assert_string_equal(vstr_str(&err),
                        TEXT_FILE ", line 2: missing '=' after parameter name \"this\"");
    vstr_release(&err);
}

static void one_mib_line_is_one_short_error_naming_file_and_line(void **state)
{
    vstr err = VSTR_INIT, text = VSTR_INIT;
    char path[128], expect[256];

    (void)state;
    vstr_append_str(&text, "# head\nmyhostname = ");
    for (int i = 0; i < 1024 * 1024; i++)
        vstr_append_char(&text, 'x');
    vstr_append_str(&text, "\nmydomain = x\n");
    write_file("main.cf", vstr_str(&text), vstr_len(&text));
    assert_null(config_load(tmpdir, &err));
    snprintf(path, sizeof(path), "%s/main.cf", tmpdir);
    snprintf(expect, sizeof(expect), "%s, line 2: logical line longer than %d bytes", path,
             CONFIG_LINE_MAX);
    assert_string_equal(vstr_str(&err), expect);
    remove_file("main.cf");
    vstr_release(&err);
    vstr_release(&text);
}

static void nul_byte_is_an_error_naming_the_line(void **state)
{
    vstr err = VSTR_INIT;
    const char text[] = "a = 1\nb = 2\0\n";

    (void)state;
    assert_null(config_load_text(TEXT_DIR, text, sizeof(text) - 1, &err));
    assert_string_equal(vstr_str(&err), TEXT_FILE ", line 2: NUL byte in line");
    vstr_release(&err);
}

static void missing_main_cf_is_an_error_naming_it(void **state)
{
    vstr err = VSTR_INIT;
    char expect[256];

    (void)state;
    assert_null(config_load(tmpdir, &err));
    snprintf(expect, sizeof(expect), "%s/main.cf: No such file or directory", tmpdir);
    assert_string_equal(vstr_str(&err), expect);
    vstr_release(&err);
}

static void config_directory_prefers_c_then_mail_config(void **state)
{
    (void)state;
    assert_string_equal(config_directory("/x"), "/x");
    setenv("MAIL_CONFIG", "/from/env", 1);
    assert_string_equal(config_directory(NULL), "/from/env");
    assert_string_equal(config_directory("/x"), "/x");
    setenv("MAIL_CONFIG", "", 1);
    assert_string_equal(config_directory(NULL), CONFIG_DIR_DEFAULT);
    unsetenv("MAIL_CONFIG");
    assert_string_equal(config_directory(NULL), CONFIG_DIR_DEFAULT);
    assert_string_equal(config_directory(""), CONFIG_DIR_DEFAULT);
}

static void config_directory_parameter_is_where_the_config_is(void **state)
{
    config *cfg = config_new_defaults("/some/where");

    (void)state;
    want_value(cfg, "config_directory", "/some/where");
    assert_string_equal(config_default_text("config_directory"), "/etc/postern");
    config_free(cfg);
}

/* Defaults */

static void defaults_come_from_the_table(void **state)
{
    config *cfg = config_new_defaults(TEXT_DIR);

    (void)state;
    assert_string_equal(config_default_text("queue_directory"), "/var/spool/postern");
    assert_string_equal(config_default_text("mail_owner"), "postern");
    assert_string_equal(config_default_text("setgid_group"), "posterndrop");
    assert_string_equal(config_default_text("myorigin"), "$myhostname");
    assert_null(config_default_text("no_such_parameter"));
    want_value(cfg, "message_size_limit", "10240000");
    want_value(cfg, "dns_servers", "");
    config_free(cfg);
}

static void derived_defaults_follow_myhostname(void **state)
{
    config *cfg = load("myhostname = mx.example.test\n");

    (void)state;
    want_value(cfg, "mydomain", "example.test");
    want_value(cfg, "myorigin", "mx.example.test");
    want_value(cfg, "mydestination", "mx.example.test, localhost.example.test, localhost");
    want_value(cfg, "smtpd_banner", "mx.example.test ESMTP Postern");
    config_free(cfg);
    cfg = load("myhostname = single\n");
    want_value(cfg, "mydomain", "localdomain");
    config_free(cfg);
}

static void system_hostname_is_qualified(void **state)
{
    const char *host = config_default_text("myhostname");
    const char *domain = config_default_text("mydomain");

    (void)state;
    assert_non_null(strchr(host, '.'));
    assert_string_equal(domain, strchr(host, '.') + 1);
}

static void mynetworks_default_is_loopback_and_own_addresses(void **state)
{
    config *cfg = config_new_defaults(TEXT_DIR);
    vstr err = VSTR_INIT;
    const char *nets = config_expand(cfg, "mynetworks", &err);

    (void)state;
    assert_non_null(nets);
    assert_memory_equal(nets, "127.0.0.0/8 [::1]/128", strlen("127.0.0.0/8 [::1]/128"));
    assert_string_equal(config_default_text("mynetworks"), nets);
    /* Own addresses in host style are single hosts. */
    for (const char *p = strchr(nets, '/'); p; p = strchr(p + 1, '/'))
        assert_true(strncmp(p, "/8", 2) == 0 || strncmp(p, "/32", 3) == 0 ||
                    strncmp(p, "/128", 4) == 0);
    config_free(cfg);
    vstr_release(&err);
}

static void bad_mynetworks_style_is_reported(void **state)
{
    config *cfg = load("mynetworks_style = everything\n");
    vstr errs = VSTR_INIT;

    (void)state;
    want_error(cfg, "mynetworks",
               TEXT_FILE ", line 1: parameter mynetworks_style: expected host, subnet or class");
    assert_int_equal(config_validate(cfg, &errs), 1);
    assert_string_equal(vstr_str(&errs), TEXT_FILE
                        ", line 1: parameter mynetworks_style: bad value \"everything\": "
                        "expected host, subnet, class\n");
    config_free(cfg);
    vstr_release(&errs);
}

/* Expansion */

static void expansion_forms(void **state)
{
    config *cfg = load("a = A\n"
                       "empty =\n"
                       "plain = x$a ${a} $(a)y\n"
                       "dollar = $$a $$ $\n"
                       "undefined = [$nothing_here]\n"
                       "if_set = ${a?yes} ${empty?no}\n"
                       "if_empty = ${a:no} ${empty:yes}\n"
                       "brace = ${a?{with, comma}} ${empty:{x}} ${a?{one}:{two}} "
                       "${empty?{one}:{two}}\n"
                       "nested = ${a?${empty:${a?deep}}} ${a?{$a-$a}}\n"
                       "paren = $(a?yes)\n");

    (void)state;
    want_value(cfg, "plain", "xA A Ay");
    want_value(cfg, "dollar", "$a $ $");
    want_value(cfg, "undefined", "[]");
    want_value(cfg, "if_set", "yes ");
    want_value(cfg, "if_empty", " yes");
    want_value(cfg, "brace", "with, comma x one two");
    want_value(cfg, "nested", "deep A-A");
    want_value(cfg, "paren", "yes");
    config_free(cfg);
}

static void expansion_is_cached_and_stable(void **state)
{
    config *cfg = load("a = $b\nb = x\n");
    vstr err = VSTR_INIT;
    const char *first = config_expand(cfg, "a", &err);

    (void)state;
    assert_ptr_equal(config_expand(cfg, "a", &err), first);
    /* An override clears the cache, but the old value stays readable. */
    config_override(cfg, "b", "y");
    want_value(cfg, "a", "y");
    assert_string_equal(first, "x");
    config_free(cfg);
    vstr_release(&err);
}

static void raw_parameters_are_not_expanded(void **state)
{
    config *cfg = load("mailbox_command = /usr/bin/procmail -a \"$EXTENSION\"\n");

    (void)state;
    want_value(cfg, "mailbox_command", "/usr/bin/procmail -a \"$EXTENSION\"");
    want_value(cfg, "default_rbl_reply", config_default_text("default_rbl_reply"));
    config_free(cfg);
}

static void unused_branch_is_not_expanded(void **state)
{
    config *cfg = load("empty =\na = ${empty?$a}\n");

    (void)state;
    want_value(cfg, "a", "");
    config_free(cfg);
}

static void malformed_references_are_errors(void **state)
{
    config *cfg = load("a = x ${b\n"
                       "b = ${}\n"
                       "c = ${b x}\n"
                       "d = ${b?{x} junk}\n"
                       "e = ${b:{x}:{y}}\n"
                       "f = $a\n");

    (void)state;
    want_error(cfg, "a", TEXT_FILE ", line 1: parameter a: missing '}' in \"${b\"");
    want_error(cfg, "b", TEXT_FILE ", line 2: parameter b: missing parameter name in \"${}\"");
    want_error(cfg, "c",
               TEXT_FILE ", line 3: parameter c: bad \"${b x}\": expected ${name}, "
                         "${name?text} or ${name:text}");
    want_error(cfg, "d",
               TEXT_FILE ", line 4: parameter d: bad \"${b?{x} junk}\": expected "
                         "${name?{text}}, ${name?{text}:{text}} or ${name:{text}}");
    want_error(cfg, "e",
               TEXT_FILE ", line 5: parameter e: bad \"${b:{x}:{y}}\": expected "
                         "${name?{text}}, ${name?{text}:{text}} or ${name:{text}}");
    /* The error is about where it is written, not where it was asked for. */
    want_error(cfg, "f", TEXT_FILE ", line 1: parameter a: missing '}' in \"${b\"");
    config_free(cfg);
}

static void unknown_name_is_an_expansion_error(void **state)
{
    config *cfg = load("a = 1\n");

    (void)state;
    want_error(cfg, "no_such_parameter", "unknown parameter no_such_parameter");
    config_free(cfg);
}

static void expand_text_expands_against_the_config(void **state)
{
    config *cfg = load("myhostname = h.example\n");
    vstr out = VSTR_INIT, err = VSTR_INIT;

    (void)state;
    assert_int_equal(config_expand_text(cfg, "<$mydomain ${myhostname?ok}>", &out, &err), 0);
    assert_string_equal(vstr_str(&out), "<example ok>");
    assert_int_equal(config_expand_text(cfg, "${oops", &out, &err), -1);
    assert_string_equal(vstr_str(&err), "missing '}' in \"${oops\"");
    config_free(cfg);
    vstr_release(&out);
    vstr_release(&err);
}

/* Loops */

static void direct_loop_names_the_chain(void **state)
{
    config *cfg = load("x = 1\nmyhostname = h.example\na = $b\nb = $a\n");

    (void)state;
    want_error(cfg, "a", TEXT_FILE ", line 3: parameter a: expansion loop: a -> b -> a");
    want_error(cfg, "b", TEXT_FILE ", line 4: parameter b: expansion loop: b -> a -> b");
    config_free(cfg);
}

static void self_loop_is_reported(void **state)
{
    config *cfg = load("a = x${a}\n");

    (void)state;
    want_error(cfg, "a", TEXT_FILE ", line 1: parameter a: expansion loop: a -> a");
    config_free(cfg);
}

static void indirect_loop_through_conditionals_is_reported(void **state)
{
    config *cfg = load("a = ${b?{$b}}\nb = ${c:x} $c\nc = ${a}\n");

    (void)state;
    want_error(cfg, "a", TEXT_FILE ", line 1: parameter a: expansion loop: a -> b -> c -> a");
    config_free(cfg);
}

static void loop_entered_from_outside_names_where_it_starts(void **state)
{
    config *cfg = load("c = $a\na = $b\nb = $a\n");

    (void)state;
    want_error(cfg, "c", TEXT_FILE ", line 2: parameter a: expansion loop: c -> a -> b -> a");
    config_free(cfg);
}

static void loop_through_a_derived_default_is_reported(void **state)
{
    config *cfg = load("myhostname = mail.$mydomain\n");

    (void)state;
    want_error(cfg, "myhostname",
               TEXT_FILE ", line 1: parameter myhostname: expansion loop: myhostname -> "
                         "mydomain -> myhostname");
    config_free(cfg);
}

static void deep_chain_is_an_error_not_a_crash(void **state)
{
    vstr text = VSTR_INIT;
    config *cfg;
    vstr err = VSTR_INIT;

    (void)state;
    for (int i = 0; i < 1000; i++)
        vstr_append_fmt(&text, "p%d = $p%d\n", i, i + 1);
    cfg = load(vstr_str(&text));
    assert_null(config_expand(cfg, "p0", &err));
    assert_non_null(strstr(vstr_str(&err), "nested more than 100 deep"));
    /* From a little further down the chain it works. */
    want_value(cfg, "p950", "");
    config_free(cfg);
    vstr_release(&text);
    vstr_release(&err);
}

static void doubling_values_stop_at_the_size_bound(void **state)
{
    vstr text = VSTR_INIT, err = VSTR_INIT;
    config *cfg;

    (void)state;
    for (int i = 0; i < 40; i++)
        vstr_append_fmt(&text, "d%d = $d%d$d%d\n", i, i + 1, i + 1);
    vstr_append_str(&text, "d40 = xxxxxxxx\n");
    cfg = load(vstr_str(&text));
    assert_null(config_expand(cfg, "d0", &err));
    assert_non_null(strstr(vstr_str(&err), "expanded value longer than"));
    config_free(cfg);
    vstr_release(&text);
    vstr_release(&err);
}

/* Unknown names */

static void unknown_names_are_listed_unless_used(void **state)
{
    config *cfg = load("myhostname = h\n"
                       "my_own = x\n"
                       "user_list = a, b\n"
                       "smtpd_client_restrictions = $user_list\n"
                       "typo_parameter = 1\n"
                       "smtpd_restriction_classes = my_class\n"
                       "my_class = permit\n");
    vstr lines = VSTR_INIT;

    (void)state;
    assert_int_equal(config_unknown(cfg, &lines), 2);
    assert_string_equal(vstr_str(&lines),
                        TEXT_FILE ", line 2: unknown parameter my_own\n" TEXT_FILE
                                  ", line 5: unknown parameter typo_parameter\n");
    assert_true(config_name_known(cfg, "user_list"));
    assert_true(config_name_known(cfg, "myhostname"));
    assert_false(config_name_known(cfg, "typo_parameter"));
    config_free(cfg);
    vstr_release(&lines);
}

static void load_in_child(void)
{
    vstr err = VSTR_INIT;

    child_cfg = config_load(tmpdir, &err);
    if (child_cfg == NULL)
        msg_fatal("%s", vstr_str(&err));
    config_free(child_cfg);
    vstr_release(&err);
}

static void load_warns_only_about_names_nothing_uses(void **state)
{
    static const char main_cf[] = "mynetworks = 127.0.0.0/8\n"
                                  "mua_restrictions = permit_sasl_authenticated, reject\n"
                                  "relay_destination_concurrency_limit = 2\n"
                                  "nosuch_destination_concurrency_limit = 2\n"
                                  "tpyo = 1\n";
    static const char master_cf[] = "smtp inet n - n - - smtpd\n"
                                    "  -o smtpd_client_restrictions=$mua_restrictions\n"
                                    "relay unix - - n - - smtp\n";
    char out[2048], expect[1024];

    (void)state;
    write_file("main.cf", main_cf, strlen(main_cf));
    write_file("master.cf", master_cf, strlen(master_cf));
    assert_int_equal(run_child(load_in_child, out, sizeof(out)), 0);
    snprintf(expect, sizeof(expect),
             "config_test: warning: %s/main.cf, line 4: unknown parameter "
             "nosuch_destination_concurrency_limit\n"
             "config_test: warning: %s/main.cf, line 5: unknown parameter tpyo\n",
             tmpdir, tmpdir);
    assert_string_equal(out, expect);
    remove_file("main.cf");
    remove_file("master.cf");
}

/* Overrides */

static void override_replaces_main_cf_and_has_no_line(void **state)
{
    config *cfg = load("myhostname = a.example\nmyorigin = $myhostname\n");
    argv_t *names;

    (void)state;
    want_value(cfg, "myorigin", "a.example");
    config_override(cfg, "myhostname", "b.example");
    want_value(cfg, "myorigin", "b.example");
    assert_string_equal(config_raw(cfg, "myhostname"), "b.example");
    assert_int_equal(config_line(cfg, "myhostname"), 0);
    config_override(cfg, "user_defined", "$myhostname!");
    want_value(cfg, "user_defined", "b.example!");
    config_override(cfg, "message_size_limit", "junk");
    names = config_names_set(cfg);
    assert_int_equal(names->argc, 2);
    argv_free(names);
    config_free(cfg);
}

static void override_errors_name_the_parameter_only(void **state)
{
    config *cfg = config_new_defaults(TEXT_DIR);
    vstr errs = VSTR_INIT;

    (void)state;
    config_override(cfg, "message_size_limit", "junk");
    assert_int_equal(config_validate(cfg, &errs), 1);
    assert_string_equal(vstr_str(&errs), "parameter message_size_limit: bad size \"junk\": "
                                         "expected a number of bytes\n");
    config_free(cfg);
    vstr_release(&errs);
}

/* Types */

static void expect_convert(const char *name, const char *value, long long want)
{
    vstr why = VSTR_INIT;
    long long n = -12345;

    if (config_convert(name, value, &n, &why) < 0)
        fail_msg("%s = %s: %s", name, value, vstr_str(&why));
    assert_int_equal(n, want);
    vstr_release(&why);
}

static void expect_refused(const char *name, const char *value, const char *want)
{
    vstr why = VSTR_INIT;
    long long n;

    assert_int_equal(config_convert(name, value, &n, &why), -1);
    assert_string_equal(vstr_str(&why), want);
    vstr_release(&why);
}

static void booleans(void **state)
{
    (void)state;
    expect_convert("smtpd_helo_required", "yes", 1);
    expect_convert("smtpd_helo_required", "YES", 1);
    expect_convert("smtpd_helo_required", "true", 1);
    expect_convert("smtpd_helo_required", "1", 1);
    expect_convert("smtpd_helo_required", "no", 0);
    expect_convert("smtpd_helo_required", "False", 0);
    expect_convert("smtpd_helo_required", "0", 0);
    expect_refused("smtpd_helo_required", "maybe",
                   "bad boolean value \"maybe\": expected yes or no");
    expect_refused("smtpd_helo_required", "", "bad boolean value \"\": expected yes or no");
}

static void integers_and_their_bounds(void **state)
{
    (void)state;
    expect_convert("smtpd_recipient_limit", "1", 1);
    expect_convert("smtpd_recipient_limit", "1000000", 1000000);
    expect_refused("smtpd_recipient_limit", "0", "value \"0\" is less than the minimum 1");
    expect_refused("smtpd_recipient_limit", "-5", "value \"-5\" is less than the minimum 1");
    expect_refused("smtpd_recipient_limit", "12x", "bad number \"12x\": expected a whole number");
    expect_refused("smtpd_recipient_limit", "99999999999999999999",
                   "value \"99999999999999999999\" is too large");
    expect_refused("smtpd_tls_loglevel", "5", "value \"5\" exceeds the maximum 4");
    expect_convert("reject_code", "550", 550);
    expect_refused("reject_code", "250", "value \"250\" is less than the minimum 400");
}

static void times_with_units_and_default_units(void **state)
{
    (void)state;
    expect_convert("smtpd_timeout", "300", 300);
    expect_convert("smtpd_timeout", "300s", 300);
    expect_convert("smtpd_timeout", "5m", 300);
    expect_convert("smtpd_timeout", "2h", 7200);
    expect_convert("smtpd_timeout", "1d", 86400);
    expect_convert("smtpd_timeout", "1w", 604800);
    /* A bare number is in the parameter's default unit. */
    expect_convert("maximal_queue_lifetime", "2", 2 * 86400);
    expect_convert("delay_warning_time", "4", 4 * 3600);
    expect_convert("maximal_queue_lifetime", "0", 0);
    expect_refused("smtpd_timeout", "0s", "value \"0s\" is less than the minimum 1s");
    expect_refused("smtpd_timeout", "5x",
                   "bad time value \"5x\": expected a number with an optional unit s, m, h, d "
                   "or w (default s)");
    expect_refused("smtpd_timeout", "1.5h",
                   "bad time value \"1.5h\": expected a number with an optional unit s, m, h, d "
                   "or w (default s)");
    expect_refused("smtpd_timeout", "5ss",
                   "bad time value \"5ss\": expected a number with an optional unit s, m, h, d "
                   "or w (default s)");
    expect_refused("smtpd_timeout", "9223372036854775807w",
                   "value \"9223372036854775807w\" is too large");
}

static void sizes_are_plain_bytes(void **state)
{
    (void)state;
    expect_convert("message_size_limit", "0", 0);
    expect_convert("message_size_limit", "52428800", 52428800);
    expect_refused("message_size_limit", "10M", "bad size \"10M\": expected a number of bytes");
    expect_refused("header_size_limit", "0", "value \"0\" is less than the minimum 1");
}

static void choices_are_checked(void **state)
{
    (void)state;
    expect_convert("smtp_tls_security_level", "dane-only", 0);
    expect_convert("smtp_dns_support_level", "", 0);
    expect_refused("smtpd_tls_security_level", "secure",
                   "bad value \"secure\": expected none, may, encrypt");
    expect_convert("inet_protocols", "ipv4, ipv6", 0);
    expect_refused("inet_protocols", "ipv4, ipx",
                   "bad list element \"ipx\": expected a list of all, ipv4, ipv6");
    expect_refused("smtp_dns_support_level", "on",
                   "bad value \"on\": expected (empty), disabled, enabled, dnssec");
}

static void typed_getters_read_expanded_values(void **state)
{
    config *cfg = load("limit = 20\nsmtpd_recipient_limit = $limit\nsmtpd_timeout = 2m\n"
                       "smtpd_helo_required = yes\nmessage_size_limit = 1${limit}0\n");
    argv_t *list;

    (void)state;
    assert_int_equal(config_int(cfg, "smtpd_recipient_limit"), 20);
    assert_int_equal(config_time(cfg, "smtpd_timeout"), 120);
    assert_int_equal(config_time(cfg, "maximal_queue_lifetime"), 5 * 86400);
    assert_int_equal(config_bool(cfg, "smtpd_helo_required"), 1);
    assert_int_equal(config_bool(cfg, "disable_vrfy_command"), 0);
    assert_int_equal(config_size(cfg, "message_size_limit"), 1200);
    assert_string_equal(config_str(cfg, "mail_owner"), "postern");
    list = config_list(cfg, "smtpd_relay_restrictions");
    assert_int_equal(list->argc, 3);
    assert_string_equal(list->argv[2], "defer_unauth_destination");
    argv_free(list);
    config_free(cfg);
}

static void lists_split_on_space_and_comma_keeping_braces(void **state)
{
    config *cfg = load("alias_maps = hash:/a,  inline:{ a = b, c = d },,regexp:/x\n"
                       "  , {unclosed\n");
    argv_t *list;

    (void)state;
    list = config_list(cfg, "alias_maps");
    assert_int_equal(list->argc, 4);
    assert_string_equal(list->argv[0], "hash:/a");
    assert_string_equal(list->argv[1], "inline:{ a = b, c = d }");
    assert_string_equal(list->argv[2], "regexp:/x");
    assert_string_equal(list->argv[3], "{unclosed");
    argv_free(list);
    config_free(cfg);
}

static void getter_in_child(void)
{
    config_int(child_cfg, "smtpd_recipient_limit");
}

static void bad_typed_value_is_fatal_with_file_and_line(void **state)
{
    char out[1024];

    (void)state;
    child_cfg = load("\nsmtpd_recipient_limit = lots\n");
    assert_int_equal(run_child(getter_in_child, out, sizeof(out)), 1);
    assert_string_equal(out, "config_test: fatal: " TEXT_FILE ", line 2: parameter "
                             "smtpd_recipient_limit: bad number \"lots\": expected a whole "
                             "number\n");
    config_free(child_cfg);
    child_cfg = NULL;
}

static void loop_in_child(void)
{
    config_str(child_cfg, "b");
}

static void loop_is_fatal_in_a_getter(void **state)
{
    char out[1024];

    (void)state;
    child_cfg = load("a = $b\nb = $a\n");
    assert_int_equal(run_child(loop_in_child, out, sizeof(out)), 1);
    assert_string_equal(out, "config_test: fatal: " TEXT_FILE
                             ", line 2: parameter b: expansion loop: b -> a -> b\n");
    config_free(child_cfg);
    child_cfg = NULL;
}

/* Validation */

static void validate_reports_each_loop_once(void **state)
{
    config *cfg = load("ok = 1\nloop_a = $loop_b\nloop_b = $loop_a\nuser = $loop_b\n"
                       "myorigin = $user\n");
    vstr errs = VSTR_INIT;

    (void)state;
    assert_int_equal(config_validate(cfg, &errs), 1);
    assert_string_equal(vstr_str(&errs), TEXT_FILE ", line 2: parameter loop_a: expansion loop: "
                                                   "loop_a -> loop_b -> loop_a\n");
    config_free(cfg);
    vstr_release(&errs);
}

static void validate_reports_every_bad_value(void **state)
{
    config *cfg = load("smtpd_timeout = soon\nmessage_size_limit = -1\nbad = ${x\n"
                       "smtpd_helo_required = perhaps\n");
    vstr errs = VSTR_INIT;

    (void)state;
    assert_int_equal(config_validate(cfg, &errs), 4);
    assert_string_equal(vstr_str(&errs),
                        TEXT_FILE ", line 1: parameter smtpd_timeout: bad time value \"soon\": "
                                  "expected a number with an optional unit s, m, h, d or w "
                                  "(default s)\n" TEXT_FILE
                                  ", line 2: parameter message_size_limit: value \"-1\" is less "
                                  "than the minimum 0\n" TEXT_FILE
                                  ", line 3: parameter bad: missing '}' in \"${x\"\n" TEXT_FILE
                                  ", line 4: parameter smtpd_helo_required: bad boolean value "
                                  "\"perhaps\": expected yes or no\n");
    config_free(cfg);
    vstr_release(&errs);
}

static void validate_checks_mailbox_against_message_size(void **state)
{
    config *cfg = load("message_size_limit = 100000000\n");
    vstr errs = VSTR_INIT;

    (void)state;
    assert_int_equal(config_validate(cfg, &errs), 2);
    assert_non_null(strstr(vstr_str(&errs), "parameter mailbox_size_limit: 51200000 is smaller "
                                            "than message_size_limit (100000000)"));
    config_free(cfg);
    vstr_release(&errs);
}

static void defaults_alone_validate(void **state)
{
    config *cfg = config_new_defaults(TEXT_DIR);
    vstr errs = VSTR_INIT;

    (void)state;
    assert_int_equal(config_validate(cfg, &errs), 0);
    assert_string_equal(vstr_str(&errs), "");
    config_free(cfg);
    vstr_release(&errs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(load_reads_settings_in_file_order),
        cmocka_unit_test(hash_in_a_value_is_kept),
        cmocka_unit_test(empty_value_is_set_and_empty),
        cmocka_unit_test(load_refuses_a_malformed_line_naming_file_and_line),
        cmocka_unit_test(one_mib_line_is_one_short_error_naming_file_and_line),
        cmocka_unit_test(nul_byte_is_an_error_naming_the_line),
        cmocka_unit_test(missing_main_cf_is_an_error_naming_it),
        cmocka_unit_test(config_directory_prefers_c_then_mail_config),
        cmocka_unit_test(config_directory_parameter_is_where_the_config_is),
        cmocka_unit_test(defaults_come_from_the_table),
        cmocka_unit_test(derived_defaults_follow_myhostname),
        cmocka_unit_test(system_hostname_is_qualified),
        cmocka_unit_test(mynetworks_default_is_loopback_and_own_addresses),
        cmocka_unit_test(bad_mynetworks_style_is_reported),
        cmocka_unit_test(expansion_forms),
        cmocka_unit_test(expansion_is_cached_and_stable),
        cmocka_unit_test(raw_parameters_are_not_expanded),
        cmocka_unit_test(unused_branch_is_not_expanded),
        cmocka_unit_test(malformed_references_are_errors),
        cmocka_unit_test(unknown_name_is_an_expansion_error),
        cmocka_unit_test(expand_text_expands_against_the_config),
        cmocka_unit_test(direct_loop_names_the_chain),
        cmocka_unit_test(self_loop_is_reported),
        cmocka_unit_test(indirect_loop_through_conditionals_is_reported),
        cmocka_unit_test(loop_entered_from_outside_names_where_it_starts),
        cmocka_unit_test(loop_through_a_derived_default_is_reported),
        cmocka_unit_test(deep_chain_is_an_error_not_a_crash),
        cmocka_unit_test(doubling_values_stop_at_the_size_bound),
        cmocka_unit_test(unknown_names_are_listed_unless_used),
        cmocka_unit_test(load_warns_only_about_names_nothing_uses),
        cmocka_unit_test(override_replaces_main_cf_and_has_no_line),
        cmocka_unit_test(override_errors_name_the_parameter_only),
        cmocka_unit_test(booleans),
        cmocka_unit_test(integers_and_their_bounds),
        cmocka_unit_test(times_with_units_and_default_units),
        cmocka_unit_test(sizes_are_plain_bytes),
        cmocka_unit_test(choices_are_checked),
        cmocka_unit_test(typed_getters_read_expanded_values),
        cmocka_unit_test(lists_split_on_space_and_comma_keeping_braces),
        cmocka_unit_test(bad_typed_value_is_fatal_with_file_and_line),
        cmocka_unit_test(loop_is_fatal_in_a_getter),
        cmocka_unit_test(validate_reports_each_loop_once),
        cmocka_unit_test(validate_reports_every_bad_value),
        cmocka_unit_test(validate_checks_mailbox_against_message_size),
        cmocka_unit_test(defaults_alone_validate),
    };

    return cmocka_run_group_tests_name("config", tests, make_tmpdir, remove_tmpdir);
}
