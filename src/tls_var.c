/* tls_var.c: see tls_var.h. */
#include <string.h>

#include <apr_optional.h>
#include <apr_strings.h>

#include <ap_expr.h>
#include <httpd.h>
#include <http_config.h>
#include <http_ssl.h>
#include <mod_log_config.h>

#include "tls_cert.h"
#include "tls_clientcert.h"
#include "tls_conf.h"
#include "tls_core.h"
#include "tls_var.h"
#include "tls_version.h"

/* When a variable goes into the request environment; lookups through
 * ap_ssl_var_lookup always answer. */
typedef enum {
    TLS_VAR_ALWAYS,   /* every request on a TLS connection */
    TLS_VAR_STD,      /* with TLSOptions StdEnvVars */
} tls_var_when_t;

typedef const char *tls_var_fn(apr_pool_t *p, const tls_conn_t *cc);

typedef struct {
    const char *name;
    tls_var_when_t when;
    tls_var_fn *fn;     /* computes the value, or NULL: ... */
    const char *value;  /* ... the value is this constant */
} tls_var_t;

#define SERVER_CERT_PREFIX "SSL_SERVER_"
#define SERVER_CERT_PEM "SSL_SERVER_CERT"

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

static const char *var_library(apr_pool_t *p, const tls_conn_t *cc)
{
    (void)p;
    (void)cc;
    return rtls_version();
}

/* Key bits of the suite's cipher, read from its IANA name (every suite
 * rustls can negotiate is an AEAD named by its key size or ChaCha20). */
static const char *var_keysize(apr_pool_t *p, const tls_conn_t *cc)
{
    (void)p;
    if (!cc->suite_name) return NULL;
    if (strstr(cc->suite_name, "_AES_128_") || strstr(cc->suite_name, "_ARIA_128_") ||
        strstr(cc->suite_name, "_CAMELLIA_128_"))
        return "128";
    if (strstr(cc->suite_name, "_AES_256_") || strstr(cc->suite_name, "_ARIA_256_") ||
        strstr(cc->suite_name, "_CAMELLIA_256_") || strstr(cc->suite_name, "CHACHA20"))
        return "256";
    return NULL;
}

static const char *var_client_verify(apr_pool_t *p, const tls_conn_t *cc)
{
    (void)p;
    return tls_clientcert_verify(cc);
}

static const char *var_resumed(apr_pool_t *p, const tls_conn_t *cc)
{
    (void)p;
    return cc->resumed ? "Resumed" : "Initial";
}

/* Every variable of a connection except the certificate fields (those are
 * in the certificate's own table, see tls_cert.h), looked up by name. */
static const tls_var_t tls_vars[] = {
    {"HTTPS", TLS_VAR_ALWAYS, NULL, "on"},
    {"SSL_TLS_SNI", TLS_VAR_ALWAYS, var_sni, NULL},
    {"SSL_PROTOCOL", TLS_VAR_ALWAYS, var_protocol, NULL},
    {"SSL_CIPHER", TLS_VAR_ALWAYS, var_cipher, NULL},
    {"SSL_VERSION_INTERFACE", TLS_VAR_STD, NULL, "mod_tls/" MOD_TLS_VERSION},
    {"SSL_VERSION_LIBRARY", TLS_VAR_STD, var_library, NULL},
    {"SSL_SECURE_RENEG", TLS_VAR_STD, NULL, "false"},
    {"SSL_COMPRESS_METHOD", TLS_VAR_STD, NULL, "NULL"},
    {"SSL_CIPHER_EXPORT", TLS_VAR_STD, NULL, "false"},
    {"SSL_CIPHER_USEKEYSIZE", TLS_VAR_STD, var_keysize, NULL},
    {"SSL_CIPHER_ALGKEYSIZE", TLS_VAR_STD, var_keysize, NULL},
    {"SSL_CLIENT_VERIFY", TLS_VAR_STD, var_client_verify, NULL},
    {"SSL_SESSION_RESUMED", TLS_VAR_STD, var_resumed, NULL},
};

#define TLS_VAR_COUNT (sizeof(tls_vars) / sizeof(tls_vars[0]))

/* The connection whose variables `c` has: a TLS connection of ours past
 * its handshake, incoming or (mod_proxy's backend connections) outgoing.
 * An outgoing one has no certificate of ours (cc->cert is NULL), so its
 * SSL_SERVER_* variables are unset. */
static const tls_conn_t *var_conn(conn_rec *c)
{
    const tls_conn_t *cc = tls_conn_get(c);

    if (!cc || cc->state < TLS_CONN_ST_TRAFFIC) return NULL;
    return cc;
}

static const char *var_value(apr_pool_t *p, const tls_var_t *var, const tls_conn_t *cc)
{
    return var->fn ? var->fn(p, cc) : var->value;
}

/* A certificate variable; mod_ssl also answers <attr>_0 for the first
 * attribute of a kind and SP for ST. */
static const char *cert_var(apr_pool_t *p, const tls_conn_t *cc, const char *name)
{
    const char *val;
    apr_size_t len = strlen(name);

    if (!cc->cert || !cc->cert->vars) return NULL;
    val = apr_table_get(cc->cert->vars, name);
    if (val) return val;
    if (len > 2 && !strcmp(name + len - 2, "_0")) {
        return cert_var(p, cc, apr_pstrmemdup(p, name, len - 2));
    }
    if (len >= 3 && !strcmp(name + len - 2, "SP") && name[len - 3] == '_') {
        return cert_var(p, cc, apr_pstrcat(p, apr_pstrmemdup(p, name, len - 2), "ST", NULL));
    }
    return NULL;
}

const char *tls_var_lookup(apr_pool_t *p, server_rec *s, conn_rec *c, request_rec *r, const char *name)
{
    const tls_conn_t *cc;
    const char *val = NULL;
    apr_size_t i;

    (void)s;
    if (!c && r) c = r->connection;
    if (!c || !name) return NULL;
    cc = var_conn(c);
    if (!cc) return NULL;
    if (!strncmp(name, SERVER_CERT_PREFIX, sizeof(SERVER_CERT_PREFIX) - 1)) {
        val = cert_var(p, cc, name);
    }
    else {
        for (i = 0; i < TLS_VAR_COUNT; ++i) {
            if (!strcmp(tls_vars[i].name, name)) {
                val = var_value(p, &tls_vars[i], cc);
                break;
            }
        }
        if (i == TLS_VAR_COUNT) val = tls_clientcert_var(p, cc, name);
    }
    return val ? apr_pstrdup(p, val) : NULL;
}

typedef struct {
    apr_table_t *env;
    int export_cert;
} cert_export_t;

static int export_cert_var(void *baton, const char *key, const char *val)
{
    cert_export_t *x = baton;

    if (!strcmp(key, SERVER_CERT_PEM)) {
        if (x->export_cert) apr_table_setn(x->env, key, val);
    }
    else {
        apr_table_setn(x->env, key, val);
    }
    return 1;
}

int tls_var_request_fixup(request_rec *r)
{
    const tls_conn_t *cc = var_conn(r->connection);
    const tls_conf_dir_t *dc;
    int std;
    apr_size_t i;

    if (!cc) return DECLINED;
    dc = tls_conf_dir_get(r);
    std = (dc && dc->std_env_vars == TLS_FLAG_ON);
    for (i = 0; i < TLS_VAR_COUNT; ++i) {
        const char *val;
        if (tls_vars[i].when == TLS_VAR_STD && !std) continue;
        val = var_value(r->pool, &tls_vars[i], cc);
        if (val) apr_table_setn(r->subprocess_env, tls_vars[i].name, val);
    }
    if (cc->cert && cc->cert->vars) {
        cert_export_t x;
        x.env = r->subprocess_env;
        x.export_cert = (dc && dc->export_cert_data == TLS_FLAG_ON);
        if (std) {
            /* the values live in pconf, as long as any request */
            apr_table_do(export_cert_var, &x, cc->cert->vars, NULL);
        }
        else if (x.export_cert) {
            const char *pem = apr_table_get(cc->cert->vars, SERVER_CERT_PEM);
            if (pem) apr_table_setn(r->subprocess_env, SERVER_CERT_PEM, pem);
        }
    }
    tls_clientcert_request_fixup(r, cc, std, dc && dc->export_cert_data == TLS_FLAG_ON);
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

/* ---- ap_expr: %{SSL:NAME} and %{SSL_NAME} ------------------------------ */

/* The expression's connection: for HTTP/2 streams, the stream's own
 * connection answers through its master (tls_conn_get handles that). */
static const char *expr_lookup_name(ap_expr_eval_ctx_t *ctx, const char *name)
{
    const char *val;

    if (!name || !ctx->c) return "";
    val = ap_ssl_var_lookup(ctx->p, ctx->s, ctx->c, ctx->r, name);
    return val ? val : "";
}

static const char *expr_func_ssl(ap_expr_eval_ctx_t *ctx, const void *data, const char *arg)
{
    (void)data;
    return expr_lookup_name(ctx, arg);
}

static const char *expr_var(ap_expr_eval_ctx_t *ctx, const void *data)
{
    return expr_lookup_name(ctx, data);
}

int tls_var_expr_lookup(ap_expr_lookup_parms *parms)
{
    switch (parms->type) {
    case AP_EXPR_FUNC_VAR:
        /* HTTPS is httpd's own (it asks ap_ssl_conn_is_ssl) */
        if (!strncasecmp(parms->name, "SSL_", 4)) {
            *parms->func = expr_var;
            *parms->data = apr_pstrdup(parms->pool, parms->name);
            return OK;
        }
        break;
    case AP_EXPR_FUNC_STRING:
        if (!strcasecmp(parms->name, "SSL")) {
            *parms->func = expr_func_ssl;
            *parms->data = NULL;
            return OK;
        }
        break;
    default:
        break;
    }
    return DECLINED;
}
