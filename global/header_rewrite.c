/*
 * header_rewrite - rewrite the addresses in a message header; see header_rewrite.h
 *
 * The header is never rebuilt from a parse: global/addr_list says where
 * each addr-spec lies in the text, and only those bytes are replaced, so
 * whatever the parser merely tolerates (comments, odd spacing, obsolete
 * forms) reaches the reader unchanged.
 */
#include <string.h>
#include <strings.h>

#include "global/addr_list.h"
#include "global/header_rewrite.h"
#include "global/mime.h"
#include "util/mem.h"

static const struct {
    const char *name;
    int cls;
} address_headers[] = {
    {"Apparently-To", ADDR_REWRITE_HDR_RECIPIENT},
    {"Bcc", ADDR_REWRITE_HDR_RECIPIENT},
    {"Cc", ADDR_REWRITE_HDR_RECIPIENT},
    {"Disposition-Notification-To", ADDR_REWRITE_HDR_SENDER},
    {"Errors-To", ADDR_REWRITE_HDR_SENDER},
    {"From", ADDR_REWRITE_HDR_SENDER},
    {"Mail-Followup-To", ADDR_REWRITE_HDR_SENDER},
    {"Reply-To", ADDR_REWRITE_HDR_SENDER},
    {"Resent-Bcc", ADDR_REWRITE_HDR_RECIPIENT},
    {"Resent-Cc", ADDR_REWRITE_HDR_RECIPIENT},
    {"Resent-From", ADDR_REWRITE_HDR_SENDER},
    {"Resent-Reply-To", ADDR_REWRITE_HDR_RECIPIENT}, /* Postfix's class for it */
    {"Resent-Sender", ADDR_REWRITE_HDR_SENDER},
    {"Resent-To", ADDR_REWRITE_HDR_RECIPIENT},
    {"Return-Path", ADDR_REWRITE_HDR_SENDER},
    {"Return-Receipt-To", ADDR_REWRITE_HDR_SENDER},
    {"Sender", ADDR_REWRITE_HDR_SENDER},
    {"To", ADDR_REWRITE_HDR_RECIPIENT},
};

int header_rewrite_class(const char *name, size_t len)
{
    while (len > 0 && (name[len - 1] == ' ' || name[len - 1] == '\t'))
        len--;
    for (size_t i = 0; i < sizeof(address_headers) / sizeof(address_headers[0]); i++)
        if (strlen(address_headers[i].name) == len &&
            strncasecmp(address_headers[i].name, name, len) == 0)
            return address_headers[i].cls;
    return 0;
}

static int is_wsp(char c)
{
    return c == ' ' || c == '\t';
}

/* Where to fold line (len bytes): the white space that begins the next
 * piece. Breaks come at from or later, and never leave a piece of white
 * space alone. Preferred: after a comma within the width; then any
 * space within it; then the first one past it. 0: none. */
static size_t fold_point(const char *line, size_t len, size_t from)
{
    size_t last_text = len, within = 0, comma = 0;

    while (last_text > 0 && is_wsp(line[last_text - 1]))
        last_text--;
    for (size_t i = from; i < last_text; i++) {
        if (!is_wsp(line[i]) || (i > 0 && is_wsp(line[i - 1])))
            continue;
        if (i > HEADER_REWRITE_COLUMNS)
            return within ? (comma ? comma : within) : i;
        within = i;
        if (i > 0 && line[i - 1] == ',')
            comma = i;
    }
    return comma ? comma : within;
}

/* Append line to out, folded until its pieces fit or no break is left. */
static void append_folded(vstr *out, const char *line, size_t len, size_t from)
{
    size_t brk;

    while (len > HEADER_REWRITE_COLUMNS && (brk = fold_point(line, len, from)) > 0) {
        vstr_append(out, line, brk);
        vstr_append_char(out, '\n');
        line += brk;
        len -= brk;
        from = 1;
    }
    vstr_append(out, line, len);
}

/* A replaced addr-spec in the new text: [start, end). */
typedef struct span {
    size_t start, end;
} span;

/* Copy text to out line by line, folding the lines that hold a replaced
 * address and are too long now; from: where the value starts. */
static void refold(vstr *out, const char *text, size_t len, size_t from, const span *spans,
                   size_t count)
{
    size_t start = 0, k = 0;

    while (start <= len) {
        const char *nl = memchr(text + start, '\n', len - start);
        size_t end = nl ? (size_t)(nl - text) : len;
        int touched = 0;

        while (k < count && spans[k].end <= start)
            k++;
        touched = k < count && spans[k].start < end;
        if (touched)
            append_folded(out, text + start, end - start, start == 0 ? from : 1);
        else
            vstr_append(out, text + start, end - start);
        if (nl == NULL)
            break;
        vstr_append_char(out, '\n');
        start = end + 1;
    }
}

int header_rewrite_text(const char *text, size_t len, header_rewrite_fn fn, void *ctx, vstr *out,
                        vstr *why)
{
    size_t name_len = mime_header_name_len(text, len);
    const char *colon = name_len ? memchr(text + name_len, ':', len - name_len) : NULL;
    addr_list *list = addr_list_new(HEADER_REWRITE_ADDRS);
    vstr next = VSTR_INIT, mapped = VSTR_INIT;
    span *spans = NULL;
    size_t value_off = 0, copied = 0, nspans = 0;
    int status = HEADER_REWRITE_SAME;

    if (colon == NULL)
        goto done;
    value_off = (size_t)(colon - text) + 1;
    if (addr_list_parse(list, text + value_off, len - value_off, NULL) != ADDR_LIST_OK)
        goto done;
    spans = mem_reallocarray(NULL, list->count + 1, sizeof(*spans));
    vstr_set(&next, text, value_off);
    copied = value_off;
    for (size_t i = 0; i < list->count; i++) {
        const addr_list_entry *e = &list->entries[i];
        size_t off = value_off + e->spec_off;

        if (off < copied || off + e->spec_len > len)
            goto done; /* the parser's spans are in order; anything else is a bug */
        if (fn(ctx, e->addr, &mapped, why) < 0) {
            status = HEADER_REWRITE_ERROR;
            goto done;
        }
        if (vstr_len(&mapped) == 0 || strcmp(vstr_str(&mapped), e->addr) == 0)
            continue;
        vstr_append(&next, text + copied, off - copied);
        spans[nspans].start = vstr_len(&next);
        addr_list_quote(&next, vstr_str(&mapped));
        spans[nspans++].end = vstr_len(&next);
        copied = off + e->spec_len;
    }
    if (nspans == 0)
        goto done;
    vstr_append(&next, text + copied, len - copied);
    vstr_reset(out);
    refold(out, vstr_str(&next), vstr_len(&next), value_off + 1, spans, nspans);
    status = HEADER_REWRITE_CHANGED;
done:
    mem_free(spans);
    vstr_release(&next);
    vstr_release(&mapped);
    addr_list_free(list);
    return status;
}

typedef struct rewrite_ctx {
    addr_rewrite *rw;
    const char *domain;
    int cls;
} rewrite_ctx;

/* Qualify with the context's domain, then canonical and masquerade. */
static int map_address(void *ptr, const char *addr, vstr *out, vstr *why)
{
    rewrite_ctx *ctx = ptr;
    vstr full = VSTR_INIT;
    int st;

    vstr_set_str(&full, addr);
    if (strchr(addr, '@') == NULL && *ctx->domain)
        vstr_append_fmt(&full, "@%s", ctx->domain);
    st = addr_rewrite_header(ctx->rw, ctx->cls, vstr_str(&full), out, why);
    vstr_release(&full);
    return st;
}

int header_rewrite(addr_rewrite *rw, const char *domain, const char *text, size_t len, vstr *out,
                   vstr *why)
{
    size_t name_len = mime_header_name_len(text, len);
    rewrite_ctx ctx = {rw, domain, 0};

    if (name_len == 0 || (ctx.cls = header_rewrite_class(text, name_len)) == 0)
        return HEADER_REWRITE_SAME;
    return header_rewrite_text(text, len, map_address, &ctx, out, why);
}
