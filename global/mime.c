/*
 * mime - a streaming MIME structure parser over message lines
 *
 * Two states: inside a header block (the class says whose) or in a body.
 * A header block assembles one logical header at a time; when the block
 * ends, the Content-Type and Content-Transfer-Encoding it carried decide
 * what follows: a multipart entity pushes its boundary, a message/rfc822
 * entity opens a nested header block, anything else is body until a
 * boundary of an open multipart entity. Each level remembers how many
 * message/rfc822 levels were open around it, so that a boundary that
 * closes parts also closes the messages attached inside them.
 */
#include <string.h>
#include <strings.h>

#include "global/mime.h"
#include "util/mem.h"
#include "util/vstr.h"

/* What the entity whose header block is being read contains. */
enum content { CT_OTHER, CT_MULTIPART, CT_MESSAGE };

typedef struct level {
    char *boundary;
    size_t len;
    int digest;   /* multipart/digest: parts default to message/rfc822 */
    int msg_nest; /* message levels open around this entity */
} level;

struct mime_state {
    mime_limits lim;
    mime_callbacks cb;
    void *ctx;

    int in_headers;
    mime_class cls;
    vstr line;          /* the physical header line being assembled */
    int line_open;      /* line holds pieces of an unfinished line */
    vstr hdr;           /* the logical header being assembled */
    int have_hdr;       /* hdr holds a header */
    size_t block_bytes; /* of the header block so far */
    int expect_separator;

    /* The entity of the current header block. */
    enum content content;
    int digest;
    char *boundary; /* NULL: none given */
    int encoded;    /* Content-Transfer-Encoding other than 7bit/8bit/binary */

    int rest_is_body; /* the pieces still to come of this line are body */
    int rest_flags;   /* ... with these flags */

    level *stack;
    size_t depth, cap;
    int msg_nest;
    int errors;
};

/* ---- Header syntax ---- */

size_t mime_header_name_len(const char *s, size_t len)
{
    size_t n = 0, i;

    while (n < len && (unsigned char)s[n] > ' ' && (unsigned char)s[n] < 0x7f && s[n] != ':')
        n++;
    if (n == 0)
        return 0;
    for (i = n; i < len && (s[i] == ' ' || s[i] == '\t'); i++)
        ;
    return i < len && s[i] == ':' ? n : 0;
}

int mime_header_is_mime(const char *text, size_t len)
{
    size_t n = mime_header_name_len(text, len);

    if (n == 0) /* a bare name */
        for (n = 0; n < len && text[n] != ':'; n++)
            ;
    return (n > 8 && strncasecmp(text, "Content-", 8) == 0) ||
           (n == 12 && strncasecmp(text, "MIME-Version", 12) == 0);
}

/* The value of a header: after the colon, line breaks as spaces. */
static void header_value(const char *text, size_t len, vstr *out)
{
    const char *colon = memchr(text, ':', len);
    size_t skip = colon ? (size_t)(colon - text) + 1 : len;

    vstr_reset(out);
    for (size_t i = skip; i < len; i++)
        vstr_append_char(out, text[i] == '\n' ? ' ' : text[i]);
}

static const char *skip_space(const char *p)
{
    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p != '(')
            return p;
        /* An RFC 5322 comment, nested, with quoted pairs. */
        for (int depth = 0; *p; p++) {
            if (*p == '\\' && p[1])
                p++;
            else if (*p == '(')
                depth++;
            else if (*p == ')' && --depth == 0) {
                p++;
                break;
            }
        }
    }
}

/* A token (RFC 2045: no tspecials, no space, no controls) into out. */
static const char *get_token(const char *p, vstr *out)
{
    vstr_reset(out);
    while (*p && (unsigned char)*p > ' ' && (unsigned char)*p < 0x7f &&
           strchr("()<>@,;:\\\"/[]?=", *p) == NULL)
        vstr_append_char(out, *p++);
    return p;
}

/* A token or a quoted string into out. */
static const char *get_value(const char *p, vstr *out)
{
    if (*p != '"')
        return get_token(p, out);
    vstr_reset(out);
    for (p++; *p && *p != '"'; p++) {
        if (*p == '\\' && p[1])
            p++;
        vstr_append_char(out, *p);
    }
    return *p == '"' ? p + 1 : p;
}

static void content_type(mime_state *m, const char *value)
{
    vstr type = VSTR_INIT, sub = VSTR_INIT, name = VSTR_INIT, val = VSTR_INIT;
    const char *p = skip_space(value);

    p = skip_space(get_token(p, &type));
    if (*p == '/')
        p = skip_space(get_token(skip_space(p + 1), &sub));
    m->content = CT_OTHER;
    m->digest = 0;
    mem_free(m->boundary);
    m->boundary = NULL;
    if (strcasecmp(vstr_str(&type), "multipart") == 0) {
        m->content = CT_MULTIPART;
        m->digest = strcasecmp(vstr_str(&sub), "digest") == 0;
    } else if (strcasecmp(vstr_str(&type), "message") == 0 &&
               strcasecmp(vstr_str(&sub), "rfc822") == 0) {
        m->content = CT_MESSAGE;
    }
    /* Parameters: ; name = value ... (a malformed one ends the list). */
    while (*p == ';') {
        p = skip_space(get_token(skip_space(p + 1), &name));
        if (*p != '=')
            break;
        p = skip_space(get_value(skip_space(p + 1), &val));
        if (strcasecmp(vstr_str(&name), "boundary") == 0 && m->boundary == NULL)
            m->boundary = mem_strndup(vstr_str(&val), vstr_len(&val));
        while (*p && *p != ';')
            p++;
    }
    vstr_release(&type);
    vstr_release(&sub);
    vstr_release(&name);
    vstr_release(&val);
}

static void transfer_encoding(mime_state *m, const char *value)
{
    vstr enc = VSTR_INIT;

    (void)get_token(skip_space(value), &enc);
    m->encoded =
        !(vstr_len(&enc) == 0 || strcasecmp(vstr_str(&enc), "7bit") == 0 ||
          strcasecmp(vstr_str(&enc), "8bit") == 0 || strcasecmp(vstr_str(&enc), "binary") == 0);
    vstr_release(&enc);
}

/* ---- Header blocks ---- */

/* Deliver the logical header assembled so far, learning what the MIME
 * headers say about the entity. */
static void flush_header(mime_state *m)
{
    const char *text = vstr_str(&m->hdr);
    size_t len = vstr_len(&m->hdr), n;

    if (!m->have_hdr)
        return;
    m->have_hdr = 0;
    n = mime_header_name_len(text, len);
    if (n == 12 && strncasecmp(text, "Content-Type", n) == 0) {
        vstr value = VSTR_INIT;

        header_value(text, len, &value);
        content_type(m, vstr_str(&value));
        vstr_release(&value);
    } else if (n == 25 && strncasecmp(text, "Content-Transfer-Encoding", n) == 0) {
        vstr value = VSTR_INIT;

        header_value(text, len, &value);
        transfer_encoding(m, vstr_str(&value));
        vstr_release(&value);
    }
    if (m->cb.header)
        m->cb.header(m->ctx, m->cls, text, len);
    vstr_reset(&m->hdr);
}

/* Start a header block of class cls for an entity whose type defaults to
 * message/rfc822 (parts of a digest) or text/plain. */
static void start_block(mime_state *m, mime_class cls, int default_message)
{
    m->in_headers = 1;
    m->cls = cls;
    m->block_bytes = 0;
    m->have_hdr = 0;
    vstr_reset(&m->hdr);
    m->content = default_message ? CT_MESSAGE : CT_OTHER;
    m->digest = 0;
    mem_free(m->boundary);
    m->boundary = NULL;
    m->encoded = 0;
}

static int nesting_full(mime_state *m)
{
    if ((long long)m->depth + m->msg_nest < m->lim.nesting_limit)
        return 0;
    m->errors |= MIME_ERR_NESTING;
    return 1;
}

/* The header block is over: deliver what is pending and decide what
 * follows. The empty line that ended it, if any, is the caller's. */
static void end_block(mime_state *m)
{
    flush_header(m);
    m->in_headers = 0;
    if (m->cb.header_end)
        m->cb.header_end(m->ctx, m->cls);
    if (m->content == CT_MULTIPART) {
        if (m->boundary == NULL || *m->boundary == 0 ||
            strlen(m->boundary) > m->lim.boundary_length_limit) {
            m->errors |= MIME_ERR_BOUNDARY;
        } else if (!nesting_full(m)) {
            if (m->depth == m->cap) {
                m->cap = m->cap ? m->cap * 2 : 4;
                m->stack = mem_reallocarray(m->stack, m->cap, sizeof(level));
            }
            m->stack[m->depth++] =
                (level){m->boundary, strlen(m->boundary), m->digest, m->msg_nest};
            m->boundary = NULL;
        }
    } else if (m->content == CT_MESSAGE) {
        if (m->encoded) {
            m->errors |= MIME_ERR_ENCODING;
        } else if (!nesting_full(m)) {
            m->msg_nest++;
            start_block(m, MIME_HDR_NESTED, 0);
            /* A nested block starts right away: no separator expected. */
        }
    }
}

static void body(mime_state *m, int flags, const char *data, size_t len, int line_ends)
{
    if (m->cb.body)
        m->cb.body(m->ctx, flags, data, len, line_ends);
}

static void pop_to(mime_state *m, size_t depth)
{
    while (m->depth > depth)
        mem_free(m->stack[--m->depth].boundary);
}

/* The first record of a body line: a boundary of an open entity, or body. */
static void body_line(mime_state *m, const char *data, size_t len, int line_ends)
{
    if (len >= 2 && data[0] == '-' && data[1] == '-') {
        for (size_t k = m->depth; k-- > 0;) {
            const level *l = &m->stack[k];
            int close, digest;

            if (len - 2 < l->len || memcmp(data + 2, l->boundary, l->len) != 0)
                continue;
            close = len - 2 - l->len >= 2 && data[2 + l->len] == '-' && data[3 + l->len] == '-';
            digest = l->digest;
            m->msg_nest = l->msg_nest;
            pop_to(m, close ? k : k + 1);
            body(m, MIME_BODY_BOUNDARY, data, len, line_ends);
            if (!line_ends) {
                m->rest_is_body = 1;
                m->rest_flags = MIME_BODY_BOUNDARY;
            }
            if (!close)
                start_block(m, MIME_HDR_MULTIPART, digest);
            return;
        }
    }
    body(m, 0, data, len, line_ends);
    if (!line_ends) {
        m->rest_is_body = 1;
        m->rest_flags = 0;
    }
}

/* A complete physical line inside a header block. */
static void header_line(mime_state *m, const char *data, size_t len)
{
    int continuation = len > 0 && (data[0] == ' ' || data[0] == '\t');

    if (len == 0) {
        end_block(m);
        body(m, 0, "", 0, 1);
        return;
    }
    if (((continuation && m->have_hdr) || (!continuation && mime_header_name_len(data, len))) &&
        m->block_bytes + len <= m->lim.header_size_limit) {
        if (continuation) {
            vstr_append_char(&m->hdr, '\n');
        } else {
            flush_header(m);
            m->have_hdr = 1;
        }
        vstr_append(&m->hdr, data, len);
        m->block_bytes += len;
        return;
    }
    /* No header, or over the limit: the block is over, this is body (or
     * the start of a nested block's first header). */
    end_block(m);
    if (m->in_headers)
        header_line(m, data, len);
    else
        body_line(m, data, len, 1);
}

/* The header line assembled from pieces is complete (or must be taken
 * as complete: the input ended). */
static void flush_open_line(mime_state *m)
{
    vstr whole = m->line;

    vstr_init(&m->line);
    m->line_open = 0;
    header_line(m, vstr_str(&whole), vstr_len(&whole));
    vstr_release(&whole);
}

/* ---- Public ---- */

mime_state *mime_open(const mime_limits *lim, const mime_callbacks *cb, void *ctx)
{
    mime_state *m = mem_calloc(1, sizeof(*m));

    m->lim = *lim;
    if (m->lim.nesting_limit < 1)
        m->lim.nesting_limit = 1;
    m->cb = *cb;
    m->ctx = ctx;
    start_block(m, MIME_HDR_PRIMARY, 0);
    return m;
}

void mime_put(mime_state *m, const char *data, size_t len, int line_ends)
{
    if (m->rest_is_body) {
        body(m, m->rest_flags, data, len, line_ends);
        m->rest_is_body = !line_ends;
        return;
    }
    if (m->expect_separator) {
        m->expect_separator = 0;
        if (len == 0 && line_ends) {
            body(m, 0, "", 0, 1);
            return;
        }
    }
    if (!m->in_headers) {
        body_line(m, data, len, line_ends);
        return;
    }
    if (!line_ends || m->line_open) {
        vstr_append(&m->line, data, len);
        m->line_open = !line_ends;
        if (!line_ends && m->block_bytes + vstr_len(&m->line) > m->lim.header_size_limit) {
            /* Too long for any header we keep: body from here. */
            vstr piece = m->line;

            vstr_init(&m->line);
            m->line_open = 0;
            end_block(m);
            if (m->in_headers) {
                /* A nested block cannot start with this either. */
                m->in_headers = 0;
                m->msg_nest--;
            }
            body_line(m, vstr_str(&piece), vstr_len(&piece), 0);
            vstr_release(&piece);
            return;
        }
        if (line_ends)
            flush_open_line(m);
        return;
    }
    header_line(m, data, len);
}

void mime_end_headers(mime_state *m)
{
    if (!m->in_headers || m->cls != MIME_HDR_PRIMARY)
        return;
    if (m->line_open) {
        flush_open_line(m);
        if (!m->in_headers || m->cls != MIME_HDR_PRIMARY)
            return;
    }
    end_block(m);
    m->expect_separator = 1;
}

void mime_finish(mime_state *m)
{
    if (m->in_headers) {
        if (m->line_open)
            flush_open_line(m);
        if (m->in_headers) {
            flush_header(m);
            m->in_headers = 0;
            if (m->cb.header_end)
                m->cb.header_end(m->ctx, m->cls);
        }
    }
    if (m->depth > 0)
        m->errors |= MIME_ERR_TRUNCATED;
}

int mime_errors(const mime_state *m)
{
    return m->errors;
}

void mime_close(mime_state *m)
{
    pop_to(m, 0);
    mem_free(m->stack);
    mem_free(m->boundary);
    vstr_release(&m->line);
    vstr_release(&m->hdr);
    mem_free(m);
}
