/*
 * sasl_cyrus - the Cyrus SASL library's callbacks, security options and
 * base64, for sasl_server and sasl_client
 *
 * Base64 is our own, strict, decoder rather than Cyrus's: it is the part
 * of AUTH that parses what a client sends, so it is small, refuses
 * anything that is not canonical base64, and has a unit test and a fuzz
 * target.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "global/sasl_cyrus.h"
#include "util/argv.h"
#include "util/msg.h"

static const char *config_path;

void sasl_cyrus_set_config_path(const char *path)
{
    config_path = path && *path ? path : NULL;
}

/* Cyrus frees the path it gets with free(). */
static int get_config_path(void *context, char **path)
{
    (void)context;
    if (config_path == NULL || (*path = strdup(config_path)) == NULL)
        return SASL_FAIL;
    return SASL_OK;
}

/* Cyrus's log lines. Failed logins are reported by the caller with the
 * client's name, so only what the administrator must fix is logged. */
static int log_line(void *context, int level, const char *message)
{
    (void)context;
    if (level <= SASL_LOG_ERR)
        msg_warn("SASL: %s", message);
    else if (level <= SASL_LOG_WARN && level != SASL_LOG_FAIL)
        msg_info("SASL: %s", message);
    return SASL_OK;
}

const sasl_callback_t *sasl_cyrus_callbacks(void)
{
    /* Cyrus's table holds every callback as int (*)(void); going through
     * void (*)(void) says the cast is meant. */
    static sasl_callback_t with_path[] = {
        {SASL_CB_LOG, (int (*)(void))(void (*)(void))log_line, NULL},
        {SASL_CB_GETCONFPATH, (int (*)(void))(void (*)(void))get_config_path, NULL},
        {SASL_CB_LIST_END, NULL, NULL},
    };

    /* Without a path of our own the entry is left out: Cyrus then uses
     * its built-in search (SASL_CONF_PATH, /etc/sasl2, ...). */
    if (config_path == NULL)
        with_path[1].id = SASL_CB_LIST_END;
    else
        with_path[1].id = SASL_CB_GETCONFPATH;
    return with_path;
}

int sasl_security_flags(const char *options, unsigned *flags, vstr *err)
{
    static const struct {
        const char *name;
        unsigned flag;
    } words[] = {
        {"noanonymous", SASL_SEC_NOANONYMOUS}, {"noplaintext", SASL_SEC_NOPLAINTEXT},
        {"noactive", SASL_SEC_NOACTIVE},       {"nodictionary", SASL_SEC_NODICTIONARY},
        {"mutual_auth", SASL_SEC_MUTUAL_AUTH}, {"forward_secrecy", SASL_SEC_FORWARD_SECRECY},
    };
    argv_t *list = argv_split(options, ", \t\r\n");
    int status = 0;

    *flags = 0;
    for (size_t i = 0; i < list->argc && status == 0; i++) {
        size_t w;

        for (w = 0; w < sizeof(words) / sizeof(words[0]); w++)
            if (strcasecmp(list->argv[i], words[w].name) == 0)
                break;
        if (w == sizeof(words) / sizeof(words[0])) {
            vstr_set_fmt(err, "unknown SASL security option \"%s\"", list->argv[i]);
            status = -1;
        } else {
            *flags |= words[w].flag;
        }
    }
    argv_free(list);
    return status;
}

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64_value(unsigned char c)
{
    const char *p = c ? strchr(b64_alphabet, c) : NULL;

    return p ? (int)(p - b64_alphabet) : -1;
}

int sasl_base64_decode(const char *text, size_t len, vstr *out)
{
    vstr_reset(out);
    if (len % 4 != 0)
        return -1;
    for (size_t i = 0; i < len; i += 4) {
        int v[4];
        int pad = 0;

        for (int k = 0; k < 4; k++) {
            unsigned char c = (unsigned char)text[i + k];

            /* '=' only at the end of the last group: "xx==" or "xxx=". */
            if (c == '=' && i + 4 == len && k >= 2 && (k == 3 || text[i + 3] == '=')) {
                v[k] = 0;
                pad++;
            } else if ((v[k] = b64_value(c)) < 0 || pad) {
                return -1;
            }
        }
        /* The bits a padded group does not use must be zero (canonical). */
        if ((pad == 2 && (v[1] & 0x0f)) || (pad == 1 && (v[2] & 0x03)))
            return -1;
        vstr_append_char(out, (v[0] << 2) | (v[1] >> 4));
        if (pad < 2)
            vstr_append_char(out, ((v[1] & 0x0f) << 4) | (v[2] >> 2));
        if (pad < 1)
            vstr_append_char(out, ((v[2] & 0x03) << 6) | v[3]);
    }
    return 0;
}

void sasl_base64_encode(const char *data, size_t len, vstr *out)
{
    const unsigned char *p = (const unsigned char *)data;

    vstr_reset(out);
    for (size_t i = 0; i < len; i += 3) {
        unsigned n = (unsigned)p[i] << 16;

        if (i + 1 < len)
            n |= (unsigned)p[i + 1] << 8;
        if (i + 2 < len)
            n |= p[i + 2];
        vstr_append_char(out, b64_alphabet[(n >> 18) & 63]);
        vstr_append_char(out, b64_alphabet[(n >> 12) & 63]);
        vstr_append_char(out, i + 1 < len ? b64_alphabet[(n >> 6) & 63] : '=');
        vstr_append_char(out, i + 2 < len ? b64_alphabet[n & 63] : '=');
    }
}
