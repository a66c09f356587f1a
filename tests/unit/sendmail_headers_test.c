/* Unit tests for postdrop/sendmail_headers: whether the headers of a
 * sendmail -t message name a recipient, by cleanup's rules. The file
 * under test is included (sendmail's objects are not in the libraries). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "postdrop/sendmail_headers.c"

/* Feed text line by line (LF-separated, as L records) and ask. */
static int found(const char *text, long long limit)
{
    sendmail_header_scan s;
    int result;

    sendmail_header_scan_init(&s, limit);
    while (*text) {
        const char *nl = strchr(text, '\n');
        size_t len = nl ? (size_t)(nl - text) : strlen(text);

        sendmail_header_scan_feed(&s, 1, text, len);
        text += len + (nl != NULL);
    }
    result = sendmail_header_scan_found(&s);
    sendmail_header_scan_release(&s);
    return result;
}

static void plain_fields(void **state)
{
    (void)state;
    assert_true(found("To: a@b\nSubject: s\n\nbody\n", 1000));
    assert_true(found("Subject: s\nbcc: Hidden <h@b>\n\n", 1000));
    assert_true(found("Cc:\n  folded@b\n\n", 1000));
    assert_true(found("To : obsolete@b\n", 1000));
    assert_false(found("Subject: s\n\nTo: in-the-body@b\n", 1000));
    assert_false(found("To:\nCc: <>\n\n", 1000));
    assert_false(found("", 1000));
}

static void resent_fields_replace_the_others(void **state)
{
    (void)state;
    assert_false(found("To: a@b\nResent-To:\n\n", 1000));
    assert_true(found("To:\nResent-Cc: r@b\n\n", 1000));
    assert_true(found("Resent-Bcc: r@b\nTo: a@b\n\n", 1000));
}

static void the_header_block_ends_like_cleanups(void **state)
{
    (void)state;
    /* A line that is no header ends the block. */
    assert_false(found("Subject: s\nnot a header\nTo: a@b\n\n", 1000));
    /* So does a continuation before any field. */
    assert_false(found(" To: a@b\n", 1000));
    /* Beyond header_size_limit the rest is body. */
    assert_false(found("Subject: 0123456789\nTo: a@b\n", 25));
    assert_true(found("To: a@b\nSubject: 0123456789\n", 25));
}

static void pieces_make_one_line(void **state)
{
    sendmail_header_scan s;

    (void)state;
    sendmail_header_scan_init(&s, 1000);
    sendmail_header_scan_feed(&s, 0, "T", 1);
    sendmail_header_scan_feed(&s, 0, "o: a", 4);
    sendmail_header_scan_feed(&s, 1, "@b", 2);
    sendmail_header_scan_feed(&s, 1, "", 0);
    assert_true(sendmail_header_scan_found(&s));
    sendmail_header_scan_release(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(plain_fields),
        cmocka_unit_test(resent_fields_replace_the_others),
        cmocka_unit_test(the_header_block_ends_like_cleanups),
        cmocka_unit_test(pieces_make_one_line),
    };
    return cmocka_run_group_tests_name("sendmail_headers", tests, NULL, NULL);
}
