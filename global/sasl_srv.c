/*
 * sasl_srv - SMTP AUTH, server side, over Cyrus SASL (see the header)
 */
#include <limits.h>
#include <string.h>

#include <sasl/sasl.h>

#include "global/sasl_cyrus.h"
#include "global/sasl_srv.h"
#include "util/mem.h"
#include "util/msg.h"

struct sasl_srv {
    sasl_conn_t *conn;
};

int sasl_srv_init_lib(const char *app_name, const char *config_path, vstr *err)
{
    int rc;

    sasl_cyrus_set_config_path(config_path);
    if ((rc = sasl_server_init(sasl_cyrus_callbacks(), app_name)) != SASL_OK) {
        vstr_set_fmt(err, "cannot initialise the Cyrus SASL server library: %s",
                     sasl_errstring(rc, NULL, NULL));
        return -1;
    }
    return 0;
}

void sasl_srv_done_lib(void)
{
    sasl_server_done();
}

int sasl_srv_set_flags(sasl_srv *a, unsigned sec_flags, vstr *err)
{
    sasl_security_properties_t props;
    int rc;

    memset(&props, 0, sizeof(props));
    props.min_ssf = 0;
    props.max_ssf = 0; /* no security layer: we do not wrap the stream */
    props.maxbufsize = 0;
    props.security_flags = sec_flags;
    if ((rc = sasl_setprop(a->conn, SASL_SEC_PROPS, &props)) != SASL_OK) {
        vstr_set_fmt(err, "cannot set SASL security properties: %s", sasl_errdetail(a->conn));
        return -1;
    }
    return 0;
}

sasl_srv *sasl_srv_create(const char *service, const char *hostname, const char *realm,
                          unsigned sec_flags, vstr *err)
{
    sasl_srv *a = mem_calloc(1, sizeof(*a));
    int rc;

    rc = sasl_server_new(service, hostname, realm && *realm ? realm : NULL, NULL, NULL,
                         sasl_cyrus_callbacks(), 0, &a->conn);
    if (rc != SASL_OK) {
        vstr_set_fmt(err, "cannot create a SASL server context: %s",
                     sasl_errstring(rc, NULL, NULL));
        mem_free(a);
        return NULL;
    }
    if (sasl_srv_set_flags(a, sec_flags, err) < 0) {
        sasl_srv_free(a);
        return NULL;
    }
    return a;
}

int sasl_srv_mechanisms(sasl_srv *a, vstr *out)
{
    const char *list;
    unsigned len;
    int count;

    vstr_reset(out);
    if (sasl_listmech(a->conn, NULL, "", " ", "", &list, &len, &count) != SASL_OK || count == 0)
        return -1;
    vstr_set(out, list, len);
    return 0;
}

/* Map a Cyrus result to ours, with the challenge or the reason. */
static sasl_srv_status result(int rc, const char *out, unsigned outlen, vstr *challenge,
                              vstr *reason)
{
    vstr_reset(challenge);
    vstr_reset(reason);
    switch (rc) {
    case SASL_OK:
        return SASL_SRV_OK;
    case SASL_CONTINUE:
        vstr_set(challenge, out ? out : "", out ? outlen : 0);
        return SASL_SRV_CONTINUE;
    case SASL_NOMECH:
    case SASL_TOOWEAK:
    case SASL_ENCRYPT:
        vstr_set_str(reason, sasl_errstring(rc, NULL, NULL));
        return SASL_SRV_NOMECH;
    case SASL_TRYAGAIN:
    case SASL_UNAVAIL:
    case SASL_NOMEM:
        vstr_set_str(reason, sasl_errstring(rc, NULL, NULL));
        return SASL_SRV_ERROR;
    default:
        vstr_set_str(reason, sasl_errstring(rc, NULL, NULL));
        return SASL_SRV_FAIL;
    }
}

sasl_srv_status sasl_srv_start(sasl_srv *a, const char *mech, const char *resp, size_t len,
                               vstr *challenge, vstr *reason)
{
    const char *out = NULL;
    unsigned outlen = 0;
    int rc;

    if (len > UINT_MAX)
        len = UINT_MAX; /* a response that long fails as malformed */
    rc = sasl_server_start(a->conn, mech, resp, (unsigned)len, &out, &outlen);
    return result(rc, out, outlen, challenge, reason);
}

sasl_srv_status sasl_srv_step(sasl_srv *a, const char *resp, size_t len, vstr *challenge,
                              vstr *reason)
{
    const char *out = NULL;
    unsigned outlen = 0;
    int rc;

    if (len > UINT_MAX)
        len = UINT_MAX;
    rc = sasl_server_step(a->conn, resp, (unsigned)len, &out, &outlen);
    return result(rc, out, outlen, challenge, reason);
}

const char *sasl_srv_detail(sasl_srv *a)
{
    return sasl_errdetail(a->conn);
}

const char *sasl_srv_username(sasl_srv *a)
{
    const void *name = NULL;

    if (sasl_getprop(a->conn, SASL_USERNAME, &name) != SASL_OK || name == NULL)
        return "";
    return name;
}

void sasl_srv_free(sasl_srv *a)
{
    if (a == NULL)
        return;
    sasl_dispose(&a->conn);
    mem_free(a);
}
