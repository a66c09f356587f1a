/*
 * addr_list - RFC 5322 address lists (To:, Cc:, Bcc:, ...) to addresses
 *
 * SYNOPSIS
 *   addr_list *list = addr_list_new(1000);
 *   vstr err = VSTR_INIT;
 *   if (addr_list_parse(list, value, len, &err) != ADDR_LIST_OK)
 *       ... vstr_str(&err) says what and where ...
 *   for (size_t i = 0; i < list->count; i++)
 *       ... list->entries[i].addr ...
 *   addr_list_free(list);
 *
 * DESCRIPTION
 *   addr_list_parse() reads one header value (folded or unfolded) as an
 *   RFC 5322 address-list: mailboxes ("addr-spec" or "display name
 *   <addr-spec>"), groups ("name: a@b, c@d;"), comments (nested), quoted
 *   strings and quoted pairs, domain literals, and the obsolete forms
 *   mail still carries: empty list elements, source routes
 *   ("<@a,@b:user@c>", the route dropped), a phrase with dots in it
 *   ("John Q. Public <jqp@x>"), words joined by dots with white space
 *   around them. An address without "@domain" is kept unqualified: the
 *   caller decides what to append (cleanup appends myorigin). A ";"
 *   outside a group separates like ",", as some mail programs write it.
 *   "<>" is skipped.
 *
 *   Addresses come out in internal form, as Postfix keeps them in the
 *   queue: the local part with its quotes and quoted pairs removed
 *   ("\"john doe\"@x" becomes "john doe@x"); the domain as written,
 *   "[1.2.3.4]" literals included. addr_list_quote() turns an internal
 *   address back into the external form for headers and SMTP. Each
 *   entry also says where its addr-spec lies in the text parsed, so that
 *   a caller can replace the address and keep everything around it
 *   (global/header_rewrite).
 *
 *   Bounded: at most the max_entries given to addr_list_new() entries
 *   per list, ADDR_LIST_ADDR_MAX bytes per address, ADDR_LIST_DEPTH_MAX
 *   nested comments. Time and memory are linear in the input.
 *
 * DIAGNOSTICS
 *   A malformed element (a list item between commas) is skipped and the
 *   rest of the list is still parsed; the result is then ADDR_LIST_SYNTAX
 *   with the first problem in err ("column N: reason"). An unterminated
 *   quoted string, comment or domain literal swallows the rest of the
 *   value, as it would in any other reader. ADDR_LIST_TOO_MANY when the
 *   list is full; the entries that fit are kept.
 */
#ifndef GLOBAL_ADDR_LIST_H
#define GLOBAL_ADDR_LIST_H

#include <stddef.h>

#include "util/vstr.h"

/* Longest address (internal form) accepted. */
#define ADDR_LIST_ADDR_MAX 1024
/* Deepest comment nesting accepted. */
#define ADDR_LIST_DEPTH_MAX 32

typedef struct addr_list_entry {
    char *addr;    /* internal form, never empty */
    char *display; /* display name, quotes removed, words joined by one space; "" if none */
    char *group;   /* name of the enclosing group; NULL outside a group */
    size_t spec_off, spec_len; /* the addr-spec's bytes in the parsed text (a source
                                * route, the display name and the angle brackets are
                                * outside; a comment inside the addr-spec is inside) */
} addr_list_entry;

typedef struct addr_list {
    addr_list_entry *entries;
    size_t count;
    size_t cap;
    size_t max; /* bound on count */
} addr_list;

typedef enum addr_list_status {
    ADDR_LIST_OK = 0,
    ADDR_LIST_SYNTAX,   /* one or more elements were malformed and skipped */
    ADDR_LIST_TOO_MANY, /* max_entries reached; later addresses dropped */
} addr_list_status;

/* An empty list that holds at most max_entries addresses. */
addr_list *addr_list_new(size_t max_entries);
/* Free the list and its entries; NULL is fine. */
void addr_list_free(addr_list *list);
/* Drop every entry, keeping the bound. */
void addr_list_reset(addr_list *list);

/* Parse len bytes of text and append the addresses found; on a problem
 * the first reason goes to err (may be NULL). */
addr_list_status addr_list_parse(addr_list *list, const char *text, size_t len, vstr *err);

/* Append the external form of an internal address to out: the local part
 * (everything before the last '@') quoted when it is not a dot-atom. */
void addr_list_quote(vstr *out, const char *internal);

#endif
