/* Unit tests for global/param_table: the table is sorted and well formed,
 * holds the parameters other parts rely on, its defaults are valid, and
 * man/man5/postconf.5 lists exactly what it holds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "global/config.h"
#include "global/param_table.h"
#include "util/cfgfile.h"

#define POSTCONF5 "man/man5/postconf.5"
#define BEGIN_MARK ".\\\" BEGIN PARAMETERS\n"
#define END_MARK ".\\\" END PARAMETERS\n"

static void rows_are_sorted_unique_and_found(void **state)
{
    (void)state;
    assert_true(param_count() >= 150);
    for (size_t i = 0; i < param_count(); i++) {
        const param_def *p = param_at(i);

        if (i > 0 && strcmp(param_at(i - 1)->name, p->name) >= 0)
            fail_msg("%s is out of order or twice (after %s)", p->name, param_at(i - 1)->name);
        assert_ptr_equal(param_lookup(p->name), p);
    }
    assert_null(param_lookup("no_such_parameter"));
    assert_null(param_lookup(""));
    assert_null(param_at(param_count()));
}

static void rows_are_well_formed(void **state)
{
    (void)state;
    for (size_t i = 0; i < param_count(); i++) {
        const param_def *p = param_at(i);

        for (const char *c = p->name; *c; c++)
            if (!cfgfile_name_char((unsigned char)*c))
                fail_msg("%s: bad character in name", p->name);
        if (p->desc == NULL || p->desc[0] == 0 || strchr(p->desc, '\n') != NULL)
            fail_msg("%s: description missing or not one line", p->name);
        if ((p->def == NULL) != ((p->flags & PARAM_F_DERIVED) != 0))
            fail_msg("%s: a default text exactly when not derived", p->name);
        if (p->type == PARAM_TIME && param_unit_seconds(p->unit) == 0)
            fail_msg("%s: time parameter without a default unit", p->name);
        if (p->min > p->max)
            fail_msg("%s: bounds the wrong way round", p->name);
        if (p->choices != NULL && p->type != PARAM_STR)
            fail_msg("%s: choices only for text parameters", p->name);
    }
}

static void table_has_what_other_parts_need(void **state)
{
    static const char *const needed[] = {"myhostname",
                                         "mydomain",
                                         "myorigin",
                                         "mydestination",
                                         "mynetworks",
                                         "mynetworks_style",
                                         "inet_interfaces",
                                         "inet_protocols",
                                         "queue_directory",
                                         "daemon_directory",
                                         "command_directory",
                                         "data_directory",
                                         "config_directory",
                                         "mail_owner",
                                         "setgid_group",
                                         "default_privs",
                                         "relayhost",
                                         "relay_domains",
                                         "message_size_limit",
                                         "header_size_limit",
                                         "line_length_limit",
                                         "mailbox_size_limit",
                                         "alias_maps",
                                         "alias_database",
                                         "home_mailbox",
                                         "mail_spool_directory",
                                         "mailbox_command",
                                         "recipient_delimiter",
                                         "virtual_mailbox_domains",
                                         "virtual_mailbox_base",
                                         "virtual_mailbox_maps",
                                         "virtual_uid_maps",
                                         "virtual_gid_maps",
                                         "virtual_alias_maps",
                                         "virtual_alias_domains",
                                         "transport_maps",
                                         "default_transport",
                                         "relay_transport",
                                         "local_transport",
                                         "minimal_backoff_time",
                                         "maximal_backoff_time",
                                         "maximal_queue_lifetime",
                                         "bounce_queue_lifetime",
                                         "queue_run_delay",
                                         "delay_warning_time",
                                         "default_process_limit",
                                         "max_idle",
                                         "max_use",
                                         "smtpd_banner",
                                         "smtpd_recipient_limit",
                                         "smtpd_timeout",
                                         "smtpd_hard_error_limit",
                                         "smtpd_soft_error_limit",
                                         "smtpd_error_sleep_time",
                                         "smtpd_relay_restrictions",
                                         "smtpd_recipient_restrictions",
                                         "smtpd_tls_security_level",
                                         "smtpd_sasl_auth_enable",
                                         "smtp_connect_timeout",
                                         "smtp_tls_security_level",
                                         "smtp_sasl_password_maps",
                                         "smtp_mx_address_limit",
                                         "smtp_mx_session_limit",
                                         "maillog_file",
                                         "syslog_name",
                                         "2bounce_notice_recipient",
                                         "bounce_notice_recipient",
                                         "notify_classes",
                                         "dns_servers",
                                         "smtpd_forbid_bare_newline",
                                         "disable_vrfy_command",
                                         "local_recipient_maps",
                                         "smtp_dns_support_level",
                                         NULL};

    (void)state;
    for (const char *const *n = needed; *n; n++)
        if (param_lookup(*n) == NULL)
            fail_msg("%s is not in the table", *n);
}

static void postern_defaults(void **state)
{
    (void)state;
    assert_string_equal(param_lookup("mail_owner")->def, "postern");
    assert_string_equal(param_lookup("setgid_group")->def, "posterndrop");
    assert_string_equal(param_lookup("default_privs")->def, "nobody");
    assert_string_equal(param_lookup("config_directory")->def, "/etc/postern");
    assert_string_equal(param_lookup("queue_directory")->def, "/var/spool/postern");
    assert_string_equal(param_lookup("daemon_directory")->def, "/usr/lib/postern");
    assert_string_equal(param_lookup("command_directory")->def, "/usr/sbin");
    assert_string_equal(param_lookup("data_directory")->def, "/var/lib/postern");
    assert_string_equal(param_lookup("syslog_name")->def, "postern");
    assert_string_equal(param_lookup("dns_servers")->def, "");
    assert_string_equal(param_lookup("mynetworks_style")->def, "host");
    assert_string_equal(param_lookup("smtpd_relay_restrictions")->def,
                        "permit_mynetworks, permit_sasl_authenticated, defer_unauth_destination");
}

static void every_default_expands_and_validates(void **state)
{
    config *cfg = config_new_defaults("/defaults");
    vstr err = VSTR_INIT;

    (void)state;
    for (size_t i = 0; i < param_count(); i++)
        if (config_expand(cfg, param_at(i)->name, &err) == NULL)
            fail_msg("%s", vstr_str(&err));
    assert_int_equal(config_validate(cfg, &err), 0);
    config_free(cfg);
    vstr_release(&err);
}

static void choice_matching(void **state)
{
    (void)state;
    assert_true(param_choice_ok("a|bb|c", "bb", 2));
    assert_true(param_choice_ok("a|bb|c", "BB", 2));
    assert_true(param_choice_ok("a|bb|c", "c", 1));
    assert_false(param_choice_ok("a|bb|c", "b", 1));
    assert_false(param_choice_ok("a|bb|c", "", 0));
    assert_true(param_choice_ok("|a", "", 0));
}

static void roff_escapes_what_roff_would_eat(void **state)
{
    vstr roff = VSTR_INIT;

    (void)state;
    param_table_roff(&roff);
    /* Every row has an entry; names with - or \ never reach roff raw. */
    for (size_t i = 0; i < param_count(); i++) {
        char want[200];

        snprintf(want, sizeof(want), ".TP\n.B %s\n", param_at(i)->name);
        if (strstr(vstr_str(&roff), want) == NULL)
            fail_msg("no entry for %s", param_at(i)->name);
    }
    assert_non_null(strstr(vstr_str(&roff), "(default: \\fI$myhostname ESMTP $mail_name\\fR)"));
    assert_non_null(strstr(vstr_str(&roff), "\\fI>=TLSv1.2\\fR"));
    assert_non_null(strstr(vstr_str(&roff), ".B mydomain\n(default: computed)\n"));
    assert_non_null(strstr(vstr_str(&roff), ".B relayhost\n(default: empty)\n"));
    /* No description line can become a request or a comment. */
    assert_null(strstr(vstr_str(&roff), "\n.\\\""));
    vstr_release(&roff);
}

/* The page between its markers must be what the table generates. */
static void postconf_5_is_up_to_date_with_the_table(void **state)
{
    vstr page = VSTR_INIT, err = VSTR_INIT, roff = VSTR_INIT;
    const char *begin, *end;

    (void)state;
    if (cfgfile_read(POSTCONF5, 4 * 1024 * 1024, &page, &err) < 0)
        fail_msg("%s (run the unit tests from the top of the source tree)", vstr_str(&err));
    begin = strstr(vstr_str(&page), BEGIN_MARK);
    end = strstr(vstr_str(&page), END_MARK);
    if (begin == NULL || end == NULL || end < begin)
        fail_msg("%s: BEGIN/END PARAMETERS markers missing", POSTCONF5);
    begin += strlen(BEGIN_MARK);
    param_table_roff(&roff);
    if ((size_t)(end - begin) != vstr_len(&roff) ||
        memcmp(begin, vstr_str(&roff), vstr_len(&roff)) != 0)
        fail_msg("%s is out of date with global/param_table.c: build postconf and run "
                 "man/update-postconf5 [BUILD]",
                 POSTCONF5);
    vstr_release(&page);
    vstr_release(&err);
    vstr_release(&roff);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rows_are_sorted_unique_and_found),
        cmocka_unit_test(rows_are_well_formed),
        cmocka_unit_test(table_has_what_other_parts_need),
        cmocka_unit_test(postern_defaults),
        cmocka_unit_test(every_default_expands_and_validates),
        cmocka_unit_test(choice_matching),
        cmocka_unit_test(roff_escapes_what_roff_would_eat),
        cmocka_unit_test(postconf_5_is_up_to_date_with_the_table),
    };

    return cmocka_run_group_tests_name("param_table", tests, NULL, NULL);
}
