/*
 * queue_id - queue ids from (seconds, microseconds, inode), in base 62
 */
#include <string.h>

#include "util/msg.h"
#include "global/queue_id.h"

#define SEC_DIGITS 6
#define USEC_DIGITS 4
#define INODE_DIGITS_MAX 11 /* 62^11 > 2^64 */

static const char queue_id_digits[] =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/* The value of a base-62 digit, or -1. */
static int digit_value(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'Z')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 36;
    return -1;
}

/* Write v as exactly width digits. */
static void put_fixed(char *out, int width, uint64_t v)
{
    for (int i = width - 1; i >= 0; i--) {
        out[i] = queue_id_digits[v % 62];
        v /= 62;
    }
}

size_t queue_id_make(char buf[QUEUE_ID_SIZE], long long seconds, long microseconds, uint64_t inode)
{
    char tmp[INODE_DIGITS_MAX];
    size_t n = 0, len;

    /* 62^6 = 56800235584 */
    if (seconds < 0 || seconds >= 56800235584LL)
        msg_panic("queue_id_make: seconds %lld out of range", seconds);
    if (microseconds < 0 || microseconds >= 1000000)
        msg_panic("queue_id_make: microseconds %ld out of range", microseconds);
    put_fixed(buf, SEC_DIGITS, (uint64_t)seconds);
    put_fixed(buf + SEC_DIGITS, USEC_DIGITS, (uint64_t)microseconds);
    do {
        tmp[n++] = queue_id_digits[inode % 62];
        inode /= 62;
    } while (inode);
    len = SEC_DIGITS + USEC_DIGITS;
    while (n)
        buf[len++] = tmp[--n];
    buf[len] = 0;
    return len;
}

int queue_id_valid(const char *s)
{
    size_t n = 0;

    if (s == NULL)
        return 0;
    for (; s[n]; n++)
        if (n >= QUEUE_ID_MAX || digit_value((unsigned char)s[n]) < 0)
            return 0;
    return n > 0;
}

/* Decode len digits; -1 on a non-digit or overflow of 64 bits. */
static int get_number(const char *s, size_t len, uint64_t *out)
{
    uint64_t v = 0;

    for (size_t i = 0; i < len; i++) {
        int d = digit_value((unsigned char)s[i]);

        if (d < 0 || v > (UINT64_MAX - (uint64_t)d) / 62)
            return -1;
        v = v * 62 + (uint64_t)d;
    }
    *out = v;
    return 0;
}

int queue_id_parse(const char *s, long long *seconds, long *microseconds, uint64_t *inode)
{
    uint64_t sec, usec, ino;
    size_t len;

    if (!queue_id_valid(s))
        return -1;
    len = strlen(s);
    if (len < SEC_DIGITS + USEC_DIGITS + 1 || len > SEC_DIGITS + USEC_DIGITS + INODE_DIGITS_MAX)
        return -1;
    if (get_number(s, SEC_DIGITS, &sec) < 0 ||
        get_number(s + SEC_DIGITS, USEC_DIGITS, &usec) < 0 ||
        get_number(s + SEC_DIGITS + USEC_DIGITS, len - SEC_DIGITS - USEC_DIGITS, &ino) < 0)
        return -1;
    if (usec >= 1000000)
        return -1;
    /* A leading zero in the inode part is not something queue_id_make writes. */
    if (len - SEC_DIGITS - USEC_DIGITS > 1 && s[SEC_DIGITS + USEC_DIGITS] == '0')
        return -1;
    if (seconds)
        *seconds = (long long)sec;
    if (microseconds)
        *microseconds = (long)usec;
    if (inode)
        *inode = ino;
    return 0;
}
