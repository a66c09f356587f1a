/* Unit tests for global/mime: the streaming MIME structure parser. Each
 * test feeds lines and compares a transcript of the callbacks:
 * "P|" "M|" "N|" + header for primary, multipart and nested headers,
 * "end P" for a block's end, "b|" + line for body, "B|" for boundaries,
 * "~" after a record whose line goes on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "global/mime.h"
#include "util/argv.h"
#include "util/mem.h"
#include "util/vstr.h"

static const char cls_letter[] = {'?', 'P', 'M', 'N'};

static void on_header(void *ctx, mime_class cls, const char *text, size_t len)
{
    vstr s = VSTR_INIT;

    vstr_set_fmt(&s, "%c|", cls_letter[cls]);
    vstr_append(&s, text, len);
    argv_add(ctx, vstr_str(&s));
    vstr_release(&s);
}

static void on_header_end(void *ctx, mime_class cls)
{
    char s[8];

    snprintf(s, sizeof(s), "end %c", cls_letter[cls]);
    argv_add(ctx, s);
}

static void on_body(void *ctx, int flags, const char *data, size_t len, int line_ends)
{
    vstr s = VSTR_INIT;

    vstr_set_str(&s, flags & MIME_BODY_BOUNDARY ? "B|" : "b|");
    vstr_append(&s, data, len);
    if (!line_ends)
        vstr_append_char(&s, '~');
    argv_add(ctx, vstr_str(&s));
    vstr_release(&s);
}

static const mime_callbacks callbacks = {on_header, on_header_end, on_body};
static const mime_limits limits = {5, 70, 1000};

static void feed(mime_state *m, const char *const *lines)
{
    for (; *lines; lines++)
        mime_put(m, *lines, strlen(*lines), 1);
}

static void expect(argv_t *got, const char *const *want)
{
    size_t n = 0;

    for (; want[n]; n++) {
        if (n >= got->argc)
            fail_msg("line %zu: got nothing, want \"%s\"", n, want[n]);
        if (strcmp(got->argv[n], want[n]) != 0)
            fail_msg("line %zu: got \"%s\", want \"%s\"", n, got->argv[n], want[n]);
    }
    if (got->argc != n)
        fail_msg("%zu more records than expected, first \"%s\"", got->argc - n, got->argv[n]);
}

#define L(...) ((const char *const[]){__VA_ARGS__, NULL})

static argv_t *run(const mime_limits *lim, const char *const *lines, int *errors)
{
    argv_t *out = argv_new();
    mime_state *m = mime_open(lim, &callbacks, out);

    feed(m, lines);
    mime_finish(m);
    if (errors)
        *errors = mime_errors(m);
    mime_close(m);
    return out;
}

static void plain_message_has_folded_headers_then_body(void **state)
{
    argv_t *out = run(&limits, L("Subject: one", " two", "To: x", "", "body", "-- sig"), NULL);

    (void)state;
    expect(out, L("P|Subject: one\n two", "P|To: x", "end P", "b|", "b|body", "b|-- sig"));
    argv_free(out);
}

static void multipart_parts_have_their_own_headers(void **state)
{
    int errors;
    argv_t *out = run(&limits,
                      L("Content-Type: multipart/mixed;", "\tboundary=\"=_b1\"", "", "preamble",
                        "--=_b1", "Content-Type: text/plain", "X-Part: 1", "", "text", "--=_b1  ",
                        "", "second", "--=_b1--", "epilogue"),
                      &errors);

    (void)state;
    expect(out,
           L("P|Content-Type: multipart/mixed;\n\tboundary=\"=_b1\"", "end P", "b|", "b|preamble",
             "B|--=_b1", "M|Content-Type: text/plain", "M|X-Part: 1", "end M", "b|", "b|text",
             "B|--=_b1  ", "end M", "b|", "b|second", "B|--=_b1--", "b|epilogue"));
    assert_int_equal(errors, 0);
    argv_free(out);
}

static void attached_message_headers_are_nested(void **state)
{
    argv_t *out = run(&limits,
                      L("Content-Type: multipart/mixed; boundary=b", "", "--b",
                        "Content-Type: message/rfc822", "", "Subject: inner",
                        "Content-Type: multipart/alternative; boundary=c", "", "--c",
                        "Content-Type: text/html", "", "<p>", "--c--", "--b--", "after"),
                      NULL);

    (void)state;
    expect(out, L("P|Content-Type: multipart/mixed; boundary=b", "end P", "b|", "B|--b",
                  "M|Content-Type: message/rfc822", "end M", "b|", "N|Subject: inner",
                  "N|Content-Type: multipart/alternative; boundary=c", "end N", "b|", "B|--c",
                  "M|Content-Type: text/html", "end M", "b|", "b|<p>", "B|--c--", "B|--b--",
                  "b|after"));
    argv_free(out);
}

/* An outer boundary ends an inner entity whose close delimiter is missing;
 * the inner boundary means nothing afterwards. */
static void outer_boundary_closes_unclosed_inner_parts(void **state)
{
    argv_t *out = run(&limits,
                      L("Content-Type: multipart/mixed; boundary=outer", "", "--outer",
                        "Content-Type: multipart/related; boundary=inner", "", "--inner", "", "x",
                        "--outer", "", "y", "--inner", "--outer--"),
                      NULL);

    (void)state;
    expect(out,
           L("P|Content-Type: multipart/mixed; boundary=outer", "end P", "b|", "B|--outer",
             "M|Content-Type: multipart/related; boundary=inner", "end M", "b|", "B|--inner",
             "end M", "b|", "b|x", "B|--outer", "end M", "b|", "b|y", "b|--inner", "B|--outer--"));
    argv_free(out);
}

static void digest_parts_default_to_messages(void **state)
{
    argv_t *out = run(&limits,
                      L("Content-Type: multipart/digest; boundary=d", "", "--d", "",
                        "Subject: digested", "", "text", "--d--"),
                      NULL);

    (void)state;
    expect(out, L("P|Content-Type: multipart/digest; boundary=d", "end P", "b|", "B|--d", "end M",
                  "b|", "N|Subject: digested", "end N", "b|", "b|text", "B|--d--"));
    argv_free(out);
}

static void encoded_message_is_not_looked_into(void **state)
{
    int errors;
    argv_t *out = run(&limits,
                      L("Content-Type: message/rfc822", "Content-Transfer-Encoding: base64", "",
                        "U3ViamVjdDogeA=="),
                      &errors);

    (void)state;
    expect(out, L("P|Content-Type: message/rfc822", "P|Content-Transfer-Encoding: base64", "end P",
                  "b|", "b|U3ViamVjdDogeA=="));
    assert_int_equal(errors, MIME_ERR_ENCODING);
    argv_free(out);
}

static void nesting_beyond_the_limit_is_body(void **state)
{
    mime_limits lim = {2, 70, 1000};
    int errors;
    argv_t *out = run(&lim,
                      L("Content-Type: multipart/mixed; boundary=a", "", "--a",
                        "Content-Type: multipart/mixed; boundary=b", "", "--b",
                        "Content-Type: multipart/mixed; boundary=c", "", "--c", "X-Not: header",
                        "--b--", "--a--"),
                      &errors);

    (void)state;
    expect(out, L("P|Content-Type: multipart/mixed; boundary=a", "end P", "b|", "B|--a",
                  "M|Content-Type: multipart/mixed; boundary=b", "end M", "b|", "B|--b",
                  "M|Content-Type: multipart/mixed; boundary=c", "end M", "b|", "b|--c",
                  "b|X-Not: header", "B|--b--", "B|--a--"));
    assert_int_equal(errors, MIME_ERR_NESTING);
    argv_free(out);
}

static void long_or_missing_boundaries_are_errors(void **state)
{
    int errors;
    argv_t *out = run(&limits,
                      L("Content-Type: multipart/mixed; boundary=\"01234567890123456789012345"
                        "678901234567890123456789012345678901234567890123456789\"",
                        "", "--0123"),
                      &errors);

    (void)state;
    assert_string_equal(out->argv[out->argc - 1], "b|--0123");
    assert_int_equal(errors, MIME_ERR_BOUNDARY);
    argv_free(out);
    out = run(&limits, L("Content-Type: multipart/mixed", "", "--"), &errors);
    assert_int_equal(errors, MIME_ERR_BOUNDARY);
    argv_free(out);
}

static void header_block_over_the_size_limit_becomes_body(void **state)
{
    mime_limits lim = {5, 70, 20};
    argv_t *out = run(&lim, L("A: 0123456789", "B: 0123456789", "C: x", "", "body"), NULL);

    (void)state;
    expect(out, L("P|A: 0123456789", "end P", "b|B: 0123456789", "b|C: x", "b|", "b|body"));
    argv_free(out);
}

static void pieces_are_joined_in_headers_and_passed_on_in_bodies(void **state)
{
    mime_limits lim = {5, 70, 30};
    argv_t *out = argv_new();
    mime_state *m = mime_open(&lim, &callbacks, out);

    (void)state;
    mime_put(m, "Subject: a", 10, 0);
    mime_put(m, "bc", 2, 1);
    mime_put(m, "X: 01234567890123456789", 23, 0); /* over 30 in the block */
    mime_put(m, "tail", 4, 1);
    mime_put(m, "body ", 5, 0);
    mime_put(m, "line", 4, 1);
    mime_finish(m);
    mime_close(m);
    expect(out, L("P|Subject: abc", "end P", "b|X: 01234567890123456789~", "b|tail", "b|body ~",
                  "b|line"));
    argv_free(out);
}

/* A caller that parses the primary block itself passes it in and ends it;
 * the empty separator line is body, and a message/rfc822 top level still
 * nests. */
static void primary_block_ended_from_outside(void **state)
{
    argv_t *out = argv_new();
    mime_state *m = mime_open(&limits, &callbacks, out);

    (void)state;
    feed(m, L("Content-Type: message/rfc822"));
    mime_end_headers(m);
    feed(m, L("", "Subject: inner", "", "text"));
    mime_finish(m);
    mime_close(m);
    expect(out, L("P|Content-Type: message/rfc822", "end P", "b|", "N|Subject: inner", "end N",
                  "b|", "b|text"));
    argv_free(out);
}

static void input_ending_in_headers_delivers_them(void **state)
{
    int errors;
    argv_t *out =
        run(&limits, L("Content-Type: multipart/mixed; boundary=z", "", "--z", "X: 1"), &errors);

    (void)state;
    expect(out, L("P|Content-Type: multipart/mixed; boundary=z", "end P", "b|", "B|--z", "M|X: 1",
                  "end M"));
    assert_int_equal(errors, MIME_ERR_TRUNCATED);
    argv_free(out);
}

static void mime_headers_are_content_and_mime_version(void **state)
{
    (void)state;
    assert_true(mime_header_is_mime("Content-Type: x", 15));
    assert_true(mime_header_is_mime("content-disposition", 19));
    assert_true(mime_header_is_mime("MIME-Version: 1.0", 17));
    assert_false(mime_header_is_mime("Content-: x", 11));
    assert_false(mime_header_is_mime("Subject: Content-Type", 21));
    assert_int_equal(mime_header_name_len("Subject : x", 11), 7);
    assert_int_equal(mime_header_name_len(" x: y", 5), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(plain_message_has_folded_headers_then_body),
        cmocka_unit_test(multipart_parts_have_their_own_headers),
        cmocka_unit_test(attached_message_headers_are_nested),
        cmocka_unit_test(outer_boundary_closes_unclosed_inner_parts),
        cmocka_unit_test(digest_parts_default_to_messages),
        cmocka_unit_test(encoded_message_is_not_looked_into),
        cmocka_unit_test(nesting_beyond_the_limit_is_body),
        cmocka_unit_test(long_or_missing_boundaries_are_errors),
        cmocka_unit_test(header_block_over_the_size_limit_becomes_body),
        cmocka_unit_test(pieces_are_joined_in_headers_and_passed_on_in_bodies),
        cmocka_unit_test(primary_block_ended_from_outside),
        cmocka_unit_test(input_ending_in_headers_delivers_them),
        cmocka_unit_test(mime_headers_are_content_and_mime_version),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
