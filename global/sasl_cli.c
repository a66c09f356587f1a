/*
 * sasl_cli - SMTP AUTH, client side, over Cyrus SASL (see the header)
 *
 * The user name and password reach Cyrus through the per-connection
 * callbacks SASL_CB_USER / SASL_CB_AUTHNAME / SASL_CB_PASS, which answer
 * from the context; nothing prompts.
 */
#include <limits.h>
#include <string.h>

#include <sasl/sasl.h>

#include "global/sasl_cli.h"
#include "global/sasl_cyrus.h"
#include "util/mem.h"

struct sasl_cli {
    sasl_conn_t *conn;
    char *user;
    sasl_secret_t *secret; /* the password, as Cyrus wants it */
    size_t secret_size;
    sasl_callback_t callbacks[4];
};

int sasl_cli_init_lib(vstr *err)
{
    int rc;

    if ((rc = sasl_client_init(sasl_cyrus_callbacks())) != SASL_OK) {
        vstr_set_fmt(err, "cannot initialise the Cyrus SASL client library: %s",
                     sasl_errstring(rc, NULL, NULL));
        return -1;
    }
    return 0;
}

void sasl_cli_done_lib(void)
{
    sasl_client_done();
}

static int get_user(void *context, int id, const char **result, unsigned *len)
{
    sasl_cli *a = context;

    if (id != SASL_CB_USER && id != SASL_CB_AUTHNAME)
        return SASL_BADPARAM;
    *result = a->user;
    if (len)
        *len = (unsigned)strlen(a->user);
    return SASL_OK;
}

static int get_password(sasl_conn_t *conn, void *context, int id, sasl_secret_t **secret)
{
    sasl_cli *a = context;

    (void)conn;
    if (id != SASL_CB_PASS)
        return SASL_BADPARAM;
    *secret = a->secret;
    return SASL_OK;
}

sasl_cli *sasl_cli_create(const char *service, const char *server, const char *user,
                          const char *password, unsigned sec_flags, vstr *err)
{
    sasl_cli *a = mem_calloc(1, sizeof(*a));
    size_t plen = strlen(password);
    sasl_security_properties_t props;
    int rc;

    a->user = mem_strdup(user);
    a->secret_size = sizeof(sasl_secret_t) + plen;
    a->secret = mem_calloc(1, a->secret_size);
    a->secret->len = (unsigned long)plen;
    memcpy(a->secret->data, password, plen);
    a->callbacks[0] = (sasl_callback_t){SASL_CB_USER, (int (*)(void))(void (*)(void))get_user, a};
    a->callbacks[1] =
        (sasl_callback_t){SASL_CB_AUTHNAME, (int (*)(void))(void (*)(void))get_user, a};
    a->callbacks[2] =
        (sasl_callback_t){SASL_CB_PASS, (int (*)(void))(void (*)(void))get_password, a};
    a->callbacks[3] = (sasl_callback_t){SASL_CB_LIST_END, NULL, NULL};
    rc = sasl_client_new(service, server, NULL, NULL, a->callbacks, 0, &a->conn);
    if (rc != SASL_OK) {
        vstr_set_fmt(err, "cannot create a SASL client context: %s",
                     sasl_errstring(rc, NULL, NULL));
        a->conn = NULL;
        sasl_cli_free(a);
        return NULL;
    }
    memset(&props, 0, sizeof(props));
    props.max_ssf = 0; /* no security layer */
    props.security_flags = sec_flags;
    if (sasl_setprop(a->conn, SASL_SEC_PROPS, &props) != SASL_OK) {
        vstr_set_fmt(err, "cannot set SASL security properties: %s", sasl_errdetail(a->conn));
        sasl_cli_free(a);
        return NULL;
    }
    return a;
}

sasl_cli_status sasl_cli_start(sasl_cli *a, const char *mechs, vstr *mech, vstr *resp,
                               int *has_resp, vstr *reason)
{
    const char *out = NULL, *chosen = NULL;
    unsigned outlen = 0;
    int rc = sasl_client_start(a->conn, mechs, NULL, &out, &outlen, &chosen);

    vstr_reset(resp);
    *has_resp = 0;
    if (rc == SASL_NOMECH || rc == SASL_TOOWEAK) {
        vstr_set_fmt(reason, "no mechanism of \"%s\" is allowed", mechs);
        return SASL_CLI_NOMECH;
    }
    if (rc != SASL_OK && rc != SASL_CONTINUE) {
        vstr_set_str(reason, sasl_errdetail(a->conn));
        return SASL_CLI_FAIL;
    }
    vstr_set_str(mech, chosen ? chosen : "");
    if (out != NULL) {
        vstr_set(resp, out, outlen);
        *has_resp = 1;
    }
    return SASL_CLI_OK;
}

sasl_cli_status sasl_cli_step(sasl_cli *a, const char *challenge, size_t len, vstr *resp,
                              vstr *reason)
{
    const char *out = NULL;
    unsigned outlen = 0;
    int rc;

    if (len > UINT_MAX)
        len = UINT_MAX;
    rc = sasl_client_step(a->conn, challenge, (unsigned)len, NULL, &out, &outlen);
    if (rc != SASL_OK && rc != SASL_CONTINUE) {
        vstr_set_str(reason, sasl_errdetail(a->conn));
        return SASL_CLI_FAIL;
    }
    vstr_set(resp, out ? out : "", out ? outlen : 0);
    return SASL_CLI_OK;
}

void sasl_cli_free(sasl_cli *a)
{
    if (a == NULL)
        return;
    if (a->conn)
        sasl_dispose(&a->conn);
    if (a->secret) {
        /* Leave no password in freed memory. */
        explicit_bzero(a->secret, a->secret_size);
        mem_free(a->secret);
    }
    mem_free(a->user);
    mem_free(a);
}
