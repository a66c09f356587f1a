/*
 * mime - a streaming MIME structure parser over message lines
 *
 * SYNOPSIS
 *   mime_limits lim = {.nesting_limit = 100, .boundary_length_limit = 2048,
 *                      .header_size_limit = 102400};
 *   mime_state *m = mime_open(&lim, &callbacks, ctx);
 *   while (... a record of the message, headers first ...)
 *       mime_put(m, data, len, line_ends);
 *   mime_close(m);       flushes a header block the input ended in
 *
 * DESCRIPTION
 *   Tells, line by line, what each line of a message is, without ever
 *   holding more than one header (at most header_size_limit bytes) in
 *   memory:
 *
 *   - headers, each logical header once it is complete (its physical
 *     lines joined by '\n', without the final one), with its class:
 *     MIME_HDR_PRIMARY for the message's own header block,
 *     MIME_HDR_MULTIPART for the headers of a part of a multipart entity,
 *     MIME_HDR_NESTED for the headers of an attached message
 *     (message/rfc822, and the parts of multipart/digest, whose default
 *     type that is); then header_end once the block is over;
 *   - everything else as body records, passed on as they come (a long
 *     line in several pieces, line_ends 0 on all but the last): the empty
 *     line after a header block, preambles, boundary lines (flagged
 *     MIME_BODY_BOUNDARY), part bodies, epilogues.
 *
 *   Boundaries are kept on a stack. A line that starts with "--" and a
 *   boundary of any open multipart entity ends every entity opened inside
 *   that one (so a missing inner close delimiter does no harm), starts a
 *   part's header block, or with "--" after the boundary closes the
 *   entity. Only the first record of a line is compared, so a boundary
 *   line longer than that first record is body.
 *
 *   The header block ends at an empty line, at a line that is no header,
 *   or when the next line would take it over header_size_limit bytes
 *   (counting line bytes without terminators, as cleanup does): that line
 *   and the rest of the block are then body, as in Postfix.
 *   mime_end_headers() ends the primary block from outside, for a caller
 *   that parses the primary headers itself and passes them in first.
 *
 * DIAGNOSTICS
 *   Nothing in the input can crash the parser or make it hold more than
 *   header_size_limit bytes. Structure it will not follow is passed on as
 *   body and noted in mime_errors(): MIME_ERR_NESTING (more multipart or
 *   message levels than nesting_limit), MIME_ERR_BOUNDARY (a boundary
 *   longer than boundary_length_limit, or a multipart entity without
 *   one), MIME_ERR_ENCODING (a message/rfc822 entity with an encoding other
 *   than 7bit, 8bit or binary, which is not looked into), MIME_ERR_TRUNCATED
 *   (the input ended inside a multipart entity).
 */
#ifndef GLOBAL_MIME_H
#define GLOBAL_MIME_H

#include <stddef.h>

typedef enum mime_class {
    MIME_HDR_PRIMARY = 1,
    MIME_HDR_MULTIPART,
    MIME_HDR_NESTED,
} mime_class;

/* Body record flags. */
#define MIME_BODY_BOUNDARY 1 /* a delimiter or close-delimiter line */

/* mime_errors() bits. */
#define MIME_ERR_NESTING 1
#define MIME_ERR_BOUNDARY 2
#define MIME_ERR_ENCODING 4
#define MIME_ERR_TRUNCATED 8

typedef struct mime_limits {
    int nesting_limit;            /* mime_nesting_limit */
    size_t boundary_length_limit; /* mime_boundary_length_limit */
    size_t header_size_limit;     /* header_size_limit */
} mime_limits;

typedef struct mime_callbacks {
    /* One logical header: physical lines joined by '\n'. */
    void (*header)(void *ctx, mime_class cls, const char *text, size_t len);
    /* The header block of class cls is over (before its empty line). */
    void (*header_end)(void *ctx, mime_class cls);
    /* A body record; line_ends 0 when more of the line follows. */
    void (*body)(void *ctx, int flags, const char *data, size_t len, int line_ends);
} mime_callbacks;

typedef struct mime_state mime_state;

/* Start a message in its primary header block. */
mime_state *mime_open(const mime_limits *lim, const mime_callbacks *cb, void *ctx);
/* One record of the message: a line (line_ends 1) or a piece of one. */
void mime_put(mime_state *m, const char *data, size_t len, int line_ends);
/* The primary header block is complete: the next line is the first after
 * it (an empty separator line or the first body line). */
void mime_end_headers(mime_state *m);
/* The input is over: deliver a header still being assembled. */
void mime_finish(mime_state *m);
/* MIME_ERR_* bits for what was seen so far. */
int mime_errors(const mime_state *m);
/* Free m (without mime_finish, nothing more is delivered). */
void mime_close(mime_state *m);

/* True when the header line (or name) is a MIME header: Content-* or
 * MIME-Version, the ones mime_header_checks see. */
int mime_header_is_mime(const char *text, size_t len);
/* Length of the field name if text starts a header ("Name:" or the
 * obsolete "Name :"), else 0. */
size_t mime_header_name_len(const char *text, size_t len);

#endif
