/* Unit tests for postdrop/sendmail_input: message lines into L and P
 * records: LF and CR LF, long lines in pieces with a CR at a piece
 * boundary, the "." line, SMTP dot-unstuffing, a last line without LF.
 * The file under test is included (sendmail's objects are not in the
 * libraries). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "postdrop/sendmail_input.c"

/* Read all of text; the result as "L:line|P:piece|." (DOT) and "$" (EOF). */
static void read_all(const char *text, size_t len, int dot_ends, int unstuff, size_t piece_max,
                     vstr *result)
{
    vstream *in = vstream_open_memory(text, len);
    sendmail_reader r;
    vstr out = VSTR_INIT;
    sendmail_read_status st;

    vstr_reset(result);
    sendmail_reader_init(&r, in, dot_ends, unstuff, piece_max);
    for (;;) {
        st = sendmail_reader_get(&r, &out);
        if (st == SENDMAIL_READ_LINE || st == SENDMAIL_READ_PIECE) {
            vstr_append_str(result, st == SENDMAIL_READ_LINE ? "L:" : "P:");
            vstr_append(result, vstr_str(&out), vstr_len(&out));
            vstr_append_char(result, '|');
            continue;
        }
        vstr_append_str(result, st == SENDMAIL_READ_DOT   ? "."
                                : st == SENDMAIL_READ_EOF ? "$"
                                                          : "!");
        break;
    }
    sendmail_reader_release(&r);
    vstr_release(&out);
    vstream_close(in);
}

#define CHECK(text, dot, unstuff, max, expect)                                                    \
    do {                                                                                          \
        read_all(text, sizeof(text) - 1, dot, unstuff, max, &v);                                  \
        assert_string_equal(vstr_str(&v), expect);                                                \
    } while (0)

static void lf_and_crlf_lines_read_alike(void **state)
{
    vstr v = VSTR_INIT;

    (void)state;
    CHECK("a\nb\r\nc\r\r\n", 0, 0, 100, "L:a|L:b|L:c\r|$");
    CHECK("bare\rcr\n", 0, 0, 100, "L:bare\rcr|$");
    CHECK("", 0, 0, 100, "$");
    CHECK("\n\n", 0, 0, 100, "L:|L:|$");
    vstr_release(&v);
}

static void last_line_without_lf_is_kept(void **state)
{
    vstr v = VSTR_INIT;

    (void)state;
    CHECK("a\nlast", 0, 0, 100, "L:a|L:last|$");
    CHECK("a\nlast\r", 0, 0, 100, "L:a|L:last\r|$");
    vstr_release(&v);
}

static void long_lines_come_in_pieces(void **state)
{
    vstr v = VSTR_INIT;

    (void)state;
    CHECK("abcdefgh\nxy\n", 0, 0, 3, "P:abc|P:def|L:gh|L:xy|$");
    /* Exactly piece_max bytes without the LF: the LF comes as an empty L. */
    CHECK("abc\n", 0, 0, 3, "P:abc|L:|$");
    /* A long last line without LF ends with an empty L after its pieces. */
    CHECK("abcdef", 0, 0, 3, "P:abc|P:def|L:|$");
    vstr_release(&v);
}

static void cr_at_a_piece_boundary(void **state)
{
    vstr v = VSTR_INIT;

    (void)state;
    /* The CR of a CR LF split from its LF is dropped. */
    CHECK("ab\r\nz\n", 0, 0, 3, "P:ab|L:|L:z|$");
    /* A CR followed by more text is content. */
    CHECK("ab\rcd\n", 0, 0, 3, "P:ab|L:\rcd|$");
    /* A CR at the very end of input is content too. */
    CHECK("ab\r", 0, 0, 3, "P:ab|L:\r|$");
    vstr_release(&v);
}

static void dot_line_ends_the_message_unless_told_otherwise(void **state)
{
    vstr v = VSTR_INIT;

    (void)state;
    CHECK("a\n.\nb\n", 1, 0, 100, "L:a|.");
    CHECK("a\n.\r\nb\n", 1, 0, 100, "L:a|.");
    CHECK("a\n..\n.x\n", 1, 0, 100, "L:a|L:..|L:.x|$");
    CHECK("a\n.\nb\n", 0, 0, 100, "L:a|L:.|L:b|$");
    CHECK("a\n.", 1, 0, 100, "L:a|.");
    vstr_release(&v);
}

static void smtp_dot_unstuffing(void **state)
{
    vstr v = VSTR_INIT;

    (void)state;
    CHECK("..\r\n.x\r\n..y\r\n.\r\nQUIT\r\n", 1, 1, 100, "L:.|L:x|L:.y|.");
    /* Only a line's first piece loses its dot; the CR held back at the
     * end of the third piece turns out to be the line end. */
    CHECK(".abcd.ef\r\n.\r\n", 1, 1, 3, "P:ab|P:cd.|P:ef|L:|.");
    vstr_release(&v);
}

static void eight_bit_and_nul_bytes_pass(void **state)
{
    static const char text[] = "\xff\x00\x80\n";
    vstr v = VSTR_INIT;

    (void)state;
    read_all(text, sizeof(text) - 1, 0, 0, 100, &v);
    assert_int_equal(vstr_len(&v), 7);
    assert_memory_equal(vstr_str(&v), "L:\xff\x00\x80|$", 7);
    vstr_release(&v);
}

static void mbox_from_lines(void **state)
{
    (void)state;
    assert_true(sendmail_is_from_line("From alice@example.com Mon Nov 30 10:00:00 2026"));
    assert_true(sendmail_is_from_line(">>From x"));
    assert_false(sendmail_is_from_line("From: alice@example.com"));
    assert_false(sendmail_is_from_line(" From x"));
    assert_false(sendmail_is_from_line(""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lf_and_crlf_lines_read_alike),
        cmocka_unit_test(last_line_without_lf_is_kept),
        cmocka_unit_test(long_lines_come_in_pieces),
        cmocka_unit_test(cr_at_a_piece_boundary),
        cmocka_unit_test(dot_line_ends_the_message_unless_told_otherwise),
        cmocka_unit_test(smtp_dot_unstuffing),
        cmocka_unit_test(eight_bit_and_nul_bytes_pass),
        cmocka_unit_test(mbox_from_lines),
    };
    return cmocka_run_group_tests_name("sendmail_input", tests, NULL, NULL);
}
