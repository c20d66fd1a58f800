/* tls_var.c: see tls_var.h. */
#include <string.h>

#include <apr_optional.h>
#include <apr_strings.h>

#include <httpd.h>
#include <http_config.h>
#include <http_ssl.h>
#include <mod_log_config.h>

#include "tls_core.h"
#include "tls_var.h"

typedef const char *tls_var_fn(apr_pool_t *p, const tls_conn_t *cc);

typedef struct {
    const char *name;
    tls_var_fn *fn;
} tls_var_t;

static const char *var_https(apr_pool_t *p, const tls_conn_t *cc)
{
    (void)p;
    (void)cc;
    return "on";
}

static const char *var_sni(apr_pool_t *p, const tls_conn_t *cc)
{
    (void)p;
    return cc->sni;
}

static const char *var_protocol(apr_pool_t *p, const tls_conn_t *cc)
{
    (void)p;
    return cc->version_name;
}

static const char *var_cipher(apr_pool_t *p, const tls_conn_t *cc)
{
    (void)p;
    return cc->suite_name;
}

/* Every variable this module provides, looked up by name. */
static const tls_var_t tls_vars[] = {
    { "HTTPS", var_https },
    { "SSL_TLS_SNI", var_sni },
    { "SSL_PROTOCOL", var_protocol },
    { "SSL_CIPHER", var_cipher },
};

#define TLS_VAR_COUNT (sizeof(tls_vars) / sizeof(tls_vars[0]))

const char *tls_var_lookup(apr_pool_t *p, server_rec *s, conn_rec *c, request_rec *r, const char *name)
{
    const tls_conn_t *cc;
    apr_size_t i;

    (void)s;
    if (!c && r) c = r->connection;
    if (!c || !name) return NULL;
    cc = tls_conn_get(c);
    if (!cc || cc->state < TLS_CONN_ST_TRAFFIC) return NULL;
    for (i = 0; i < TLS_VAR_COUNT; ++i) {
        if (!strcmp(tls_vars[i].name, name)) {
            const char *val = tls_vars[i].fn(p, cc);
            return val ? apr_pstrdup(p, val) : NULL;
        }
    }
    return NULL;
}

int tls_var_request_fixup(request_rec *r)
{
    const tls_conn_t *cc = tls_conn_get(r->connection);
    apr_size_t i;

    if (!cc || cc->state < TLS_CONN_ST_TRAFFIC) return DECLINED;
    for (i = 0; i < TLS_VAR_COUNT; ++i) {
        const char *val = tls_vars[i].fn(r->pool, cc);
        if (val) apr_table_setn(r->subprocess_env, tls_vars[i].name, val);
    }
    return DECLINED;
}

/* %{name}x: the value, or "-" as mod_ssl logs an unset variable. */
static const char *log_handler_x(request_rec *r, char *name)
{
    const char *val = ap_ssl_var_lookup(r->pool, r->server, r->connection, r, name);

    return (val && *val) ? val : "-";
}

void tls_var_register_log_handler(apr_pool_t *pconf)
{
    APR_OPTIONAL_FN_TYPE(ap_register_log_handler) *reg = APR_RETRIEVE_OPTIONAL_FN(ap_register_log_handler);

    static char tag[] = "x";

    if (reg) reg(pconf, tag, log_handler_x, 0);
}
