/* Unit tests for postdrop/sendmail_opts: sendmail's command line, -N
 * lists, addresses. The file under test is included: sendmail's objects
 * are not part of the libraries unit tests link with. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "postdrop/sendmail_opts.c"

/* Parse a NULL-terminated word list; returns the status. */
static int parse(sendmail_opts *o, vstr *err, char **words)
{
    int argc = 0;

    while (words[argc])
        argc++;
    return sendmail_parse_args(argc, words, o, err);
}

static void plain_recipients_and_flags(void **state)
{
    char *w[] = {"sendmail", "-ti", "-f", "a@x", "b@y", "-Fname", "c@z", NULL};
    sendmail_opts o;
    vstr err = VSTR_INIT;

    (void)state;
    assert_int_equal(parse(&o, &err, w), 0);
    assert_int_equal(o.mode, SENDMAIL_MODE_ENQUEUE);
    assert_true(o.extract);
    assert_true(o.ignore_dots);
    assert_string_equal(o.sender, "a@x");
    assert_string_equal(o.full_name, "name");
    assert_int_equal(o.rcpt_count, 2);
    assert_string_equal(o.rcpts[0], "b@y");
    assert_string_equal(o.rcpts[1], "c@z");
    sendmail_opts_release(&o);
    vstr_release(&err);
}

static void double_dash_ends_options(void **state)
{
    char *w[] = {"sendmail", "--", "-t", "x@y", NULL};
    sendmail_opts o;
    vstr err = VSTR_INIT;

    (void)state;
    assert_int_equal(parse(&o, &err, w), 0);
    assert_false(o.extract);
    assert_int_equal(o.rcpt_count, 2);
    assert_string_equal(o.rcpts[0], "-t");
    sendmail_opts_release(&o);
    vstr_release(&err);
}

static void program_name_selects_the_mode(void **state)
{
    char *mailq[] = {"/usr/bin/mailq", NULL};
    char *newaliases[] = {"newaliases", NULL};
    char *bs[] = {"sendmail", "-bs", NULL};
    char *q[] = {"sendmail", "-q", NULL};
    char *qi[] = {"sendmail", "-q30m", NULL};
    char *big_i[] = {"sendmail", "-I", NULL};
    sendmail_opts o;
    vstr err = VSTR_INIT;

    (void)state;
    assert_int_equal(parse(&o, &err, mailq), 0);
    assert_int_equal(o.mode, SENDMAIL_MODE_LIST);
    sendmail_opts_release(&o);
    assert_int_equal(parse(&o, &err, newaliases), 0);
    assert_int_equal(o.mode, SENDMAIL_MODE_ALIASES);
    sendmail_opts_release(&o);
    assert_int_equal(parse(&o, &err, bs), 0);
    assert_int_equal(o.mode, SENDMAIL_MODE_SMTP);
    sendmail_opts_release(&o);
    assert_int_equal(parse(&o, &err, q), 0);
    assert_int_equal(o.mode, SENDMAIL_MODE_FLUSH);
    sendmail_opts_release(&o);
    assert_int_equal(parse(&o, &err, qi), 0);
    assert_int_equal(o.mode, SENDMAIL_MODE_NOTHING);
    sendmail_opts_release(&o);
    assert_int_equal(parse(&o, &err, big_i), 0);
    assert_int_equal(o.mode, SENDMAIL_MODE_ALIASES);
    sendmail_opts_release(&o);
    vstr_release(&err);
}

static void flush_one_site_or_message(void **state)
{
    char *site[] = {"sendmail", "-qRexample.com", NULL};
    char *id[] = {"sendmail", "-qI1xXk8V1X18k1rR", NULL};
    sendmail_opts o;
    vstr err = VSTR_INIT;

    (void)state;
    assert_int_equal(parse(&o, &err, site), 0);
    assert_int_equal(o.mode, SENDMAIL_MODE_FLUSH);
    assert_string_equal(o.flush_site, "example.com");
    assert_null(o.flush_id);
    sendmail_opts_release(&o);
    assert_int_equal(parse(&o, &err, id), 0);
    assert_string_equal(o.flush_id, "1xXk8V1X18k1rR");
    sendmail_opts_release(&o);
    vstr_release(&err);
}

static void dsn_and_body_options_are_normalized(void **state)
{
    char *w[] = {
        "sendmail", "-N", "Success, DELAY", "-Rfull",          "-V",           "id-1", "-B",
        "8bitmime", "-C", "/etc/x",         "-oA/tmp/aliases", "-oFFull Name", "r@x",  NULL};
    sendmail_opts o;
    vstr err = VSTR_INIT;

    (void)state;
    assert_int_equal(parse(&o, &err, w), 0);
    assert_int_equal(o.dsn_notify, REC_DSN_NOTIFY_SUCCESS | REC_DSN_NOTIFY_DELAY);
    assert_string_equal(o.dsn_ret, "FULL");
    assert_string_equal(o.dsn_envid, "id-1");
    assert_string_equal(o.body_type, "8BITMIME");
    assert_string_equal(o.config_dir, "/etc/x");
    assert_string_equal(o.alias_database, "/tmp/aliases");
    assert_string_equal(o.full_name, "Full Name");
    sendmail_opts_release(&o);
    vstr_release(&err);
}

static void ignored_options_are_accepted(void **state)
{
    char *w[] = {"sendmail", "-odb", "-oem",  "-o7", "-om", "-U",  "-G",  "-x",
                 "-46",      "-L",   "label", "-h",  "5",   "-O",  "a=b", "-X",
                 "/log",     "-e",   "x",     "-p",  "p",   "r@x", NULL};
    sendmail_opts o;
    vstr err = VSTR_INIT;

    (void)state;
    assert_int_equal(parse(&o, &err, w), 0);
    assert_int_equal(o.rcpt_count, 1);
    assert_false(o.ignore_dots);
    sendmail_opts_release(&o);
    vstr_release(&err);
}

static void usage_errors_say_what_is_wrong(void **state)
{
    static const struct {
        char *words[4];
        const char *text;
    } cases[] = {
        {{"sendmail", "-Z", NULL}, "invalid option -Z"},
        {{"sendmail", "-f", NULL}, "option -f requires an argument"},
        {{"sendmail", "-bd", NULL}, "daemon mode is not supported"},
        {{"sendmail", "-bv", NULL}, "unsupported mode"},
        {{"sendmail", "-N", "never,success", NULL}, "-N never,success"},
        {{"sendmail", "-R", "some", NULL}, "expected full or hdrs"},
        {{"sendmail", "-V", "has space", NULL}, "envelope id"},
        {{"sendmail", "-B", "binary", NULL}, "body type"},
        {{"sendmail", "-qSsite", NULL}, "unsupported queue run option"},
        {{"sendmail", "-qR", NULL}, "-qR needs a site"},
        {{"sendmail", "-oA", NULL}, "-oA needs"},
        {{"sendmail", "-n", NULL}, "-n option not supported"},
    };
    vstr err = VSTR_INIT;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        sendmail_opts o;

        assert_int_equal(parse(&o, &err, (char **)cases[i].words), EX_USAGE);
        assert_non_null(strstr(vstr_str(&err), cases[i].text));
        sendmail_opts_release(&o);
    }
    vstr_release(&err);
}

static void notify_lists(void **state)
{
    (void)state;
    assert_int_equal(sendmail_parse_notify("never"), REC_DSN_NOTIFY_NEVER);
    assert_int_equal(sendmail_parse_notify("failure"), REC_DSN_NOTIFY_FAILURE);
    assert_int_equal(sendmail_parse_notify("delay,success,failure"), 14);
    assert_int_equal(sendmail_parse_notify(""), -1);
    assert_int_equal(sendmail_parse_notify("sometimes"), -1);
    assert_int_equal(sendmail_parse_notify("never,delay"), -1);
}

static void addresses_become_internal_form(void **state)
{
    vstr out = VSTR_INIT, err = VSTR_INIT;
    argv_t *rcpts = argv_new();

    (void)state;
    assert_int_equal(sendmail_parse_address("<>", &out, &err), 0);
    assert_int_equal(vstr_len(&out), 0);
    assert_int_equal(sendmail_parse_address("  ", &out, &err), 0);
    assert_int_equal(vstr_len(&out), 0);
    assert_int_equal(sendmail_parse_address("Joe <\"joe q\"@x.example>", &out, &err), 0);
    assert_string_equal(vstr_str(&out), "joe q@x.example");
    assert_int_equal(sendmail_parse_address("a@x, b@y", &out, &err), -1);
    assert_string_equal(vstr_str(&err), "more than one address");
    assert_int_equal(sendmail_add_recipients(rcpts, "a@x, B <b@y>, local", &err), 0);
    assert_int_equal(rcpts->argc, 3);
    assert_string_equal(rcpts->argv[1], "b@y");
    assert_string_equal(rcpts->argv[2], "local");
    assert_int_equal(sendmail_add_recipients(rcpts, "\"unterminated@x", &err), -1);
    argv_free(rcpts);
    vstr_release(&out);
    vstr_release(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(plain_recipients_and_flags),
        cmocka_unit_test(double_dash_ends_options),
        cmocka_unit_test(program_name_selects_the_mode),
        cmocka_unit_test(flush_one_site_or_message),
        cmocka_unit_test(dsn_and_body_options_are_normalized),
        cmocka_unit_test(ignored_options_are_accepted),
        cmocka_unit_test(usage_errors_say_what_is_wrong),
        cmocka_unit_test(notify_lists),
        cmocka_unit_test(addresses_become_internal_form),
    };
    return cmocka_run_group_tests_name("sendmail_opts", tests, NULL, NULL);
}
