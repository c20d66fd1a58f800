/* tls_cert.c: see tls_cert.h. */
#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>

#include <httpd.h>
#include <http_config.h>
#include <http_core.h>
#include <http_ssl.h>

#include "tls_cert.h"
#include "tls_util.h"

static apr_status_t cert_cleanup(void *data)
{
    tls_cert_t *cert = data;

    rtls_certified_key_free(cert->key);
    cert->key = NULL;
    return APR_SUCCESS;
}

static const char *read_pem(apr_pool_t *p, const char *what, const char *path, const char **pdata,
                            apr_size_t *plen)
{
    char buf[256];
    apr_status_t rv = tls_util_read_file(p, path, TLS_MAX_PEM_SIZE, pdata, plen);

    if (rv == APR_SUCCESS) return NULL;
    if (rv == APR_EINVAL) return apr_psprintf(p, "cannot read %s file '%s': the file is empty", what, path);
    if (rv == APR_ENOSPC) {
        return apr_psprintf(p, "cannot read %s file '%s': larger than %d bytes", what, path, TLS_MAX_PEM_SIZE);
    }
    if (rv == APR_EBADF) return apr_psprintf(p, "cannot read %s file '%s': not a regular file", what, path);
    return apr_psprintf(p, "cannot read %s file '%s': %s", what, path, apr_strerror(rv, buf, sizeof(buf)));
}

/* Turn an rtls result about PEM input into words for the admin. */
static const char *describe(apr_pool_t *p, rtls_result rr, const char *cert_file, const char *key_file)
{
    switch (rr) {
    case RTLS_CONF_NO_CERTIFICATE:
        return apr_psprintf(p, "no certificate found in '%s' (expected PEM: -----BEGIN CERTIFICATE-----)",
                            cert_file);
    case RTLS_CONF_BAD_CERTIFICATE:
        return apr_psprintf(p, "the certificate in '%s' cannot be parsed (X.509 v3 in PEM expected)", cert_file);
    case RTLS_CONF_NO_KEY:
        return apr_psprintf(p, "no private key found in '%s' (expected PEM: PRIVATE KEY, RSA PRIVATE KEY or "
                               "EC PRIVATE KEY)", key_file);
    case RTLS_CONF_ENCRYPTED_KEY:
        return apr_psprintf(p, "the private key in '%s' is encrypted; encrypted keys are not supported, store "
                               "it unencrypted in a file only root can read", key_file);
    case RTLS_CONF_UNSUPPORTED_KEY:
        return apr_psprintf(p, "the private key in '%s' is of a type that is not supported (use RSA "
                               "2048-8192 bits, ECDSA P-256/P-384 or Ed25519)", key_file);
    case RTLS_CONF_KEY_MISMATCH:
        return apr_psprintf(p, "the private key in '%s' does not match the certificate in '%s'", key_file,
                            cert_file);
    case RTLS_CONF_BAD_PEM:
        return apr_psprintf(p, "malformed PEM data in '%s'%s%s", cert_file,
                            key_file != cert_file ? " or " : "", key_file != cert_file ? key_file : "");
    default:
        return apr_psprintf(p, "cannot load '%s' with key '%s': %s", cert_file, key_file,
                            rtls_result_text((unsigned)rr));
    }
}

typedef struct {
    apr_pool_t *pool;
    apr_table_t *vars;
} vars_ctx_t;

static int add_var(void *userdata, const char *name, size_t name_len, const char *value, size_t value_len)
{
    vars_ctx_t *ctx = userdata;

    apr_table_setn(ctx->vars, apr_pstrcat(ctx->pool, "SSL_SERVER_", apr_pstrmemdup(ctx->pool, name, name_len), NULL),
                   apr_pstrmemdup(ctx->pool, value, value_len));
    return 0;
}

/* The SSL_SERVER_* variables of the leaf certificate, once, at load. */
static const char *compute_vars(apr_pool_t *p, tls_cert_t *cert)
{
    const uint8_t *der;
    size_t der_len;
    vars_ctx_t ctx;
    rtls_result rr;

    ctx.pool = p;
    ctx.vars = apr_table_make(p, 32);
    rr = rtls_certified_key_cert_der(cert->key, 0, &der, &der_len);
    if (rr == RTLS_OK) rr = rtls_x509_fields(der, der_len, add_var, &ctx);
    if (rr != RTLS_OK) {
        return apr_psprintf(p, "cannot read the fields of the certificate in '%s': %s", cert->cert_file,
                            rtls_result_text((unsigned)rr));
    }
    cert->vars = ctx.vars;
    return NULL;
}

const char *tls_cert_load_files(tls_conf_global_t *g, apr_pool_t *p, const char *cert_file,
                                const char *key_file, tls_cert_t **pcert)
{
    const char *cert_path, *key_path, *regkey, *err;
    const char *cert_pem, *key_pem;
    apr_size_t cert_len, key_len;
    tls_cert_t *cert;
    rtls_result rr;

    cert_path = ap_server_root_relative(p, cert_file);
    key_path = key_file ? ap_server_root_relative(p, key_file) : cert_path;
    if (!cert_path || !key_path) {
        return apr_psprintf(p, "invalid file path '%s'", cert_path ? key_file : cert_file);
    }
    regkey = apr_pstrcat(p, cert_path, "\n", key_path, NULL);
    cert = apr_hash_get(g->certs, regkey, APR_HASH_KEY_STRING);
    if (cert) {
        *pcert = cert;
        return NULL;
    }
    cert = apr_pcalloc(g->pool, sizeof(*cert));
    cert->cert_file = apr_pstrdup(g->pool, cert_path);
    cert->key_file = key_file ? apr_pstrdup(g->pool, key_path) : cert->cert_file;

    /* `httpd -S` / -D DUMP_*: show the configuration without reading keys. */
    if (ap_state_query(AP_SQ_RUN_MODE) != AP_SQ_RM_CONFIG_DUMP) {
        err = read_pem(p, "certificate", cert_path, &cert_pem, &cert_len);
        if (err) return err;
        if (key_file) {
            err = read_pem(p, "key", key_path, &key_pem, &key_len);
            if (err) return err;
        }
        else {
            key_pem = cert_pem;
            key_len = cert_len;
        }
        rr = rtls_certified_key_new((const uint8_t *)cert_pem, cert_len, (const uint8_t *)key_pem, key_len,
                                    &cert->key);
        /* The key text is in p (a temporary pool during config reading);
         * scrub it rather than leave a copy of the secret behind. */
        memset((char *)key_pem, 0, key_len);
        if (rr != RTLS_OK) return describe(p, rr, cert->cert_file, cert->key_file);
        apr_pool_cleanup_register(g->pool, cert, cert_cleanup, apr_pool_cleanup_null);
        err = compute_vars(g->pool, cert);
        if (err) return err;
    }
    apr_hash_set(g->certs, apr_pstrcat(g->pool, regkey, NULL), APR_HASH_KEY_STRING, cert);
    *pcert = cert;
    return NULL;
}

/* Load the files a module listed (cert_files[i] with key_files[i], a
 * missing or NULL key meaning the key is in the certificate file). */
static const char *load_module_files(tls_conf_global_t *g, apr_pool_t *ptemp, const char *hook,
                                     const apr_array_header_t *cert_files, const apr_array_header_t *key_files,
                                     apr_array_header_t *certs)
{
    const char *err;
    int i;

    for (i = 0; i < cert_files->nelts; ++i) {
        const char *cert_file = APR_ARRAY_IDX(cert_files, i, const char *);
        const char *key_file = i < key_files->nelts ? APR_ARRAY_IDX(key_files, i, const char *) : NULL;
        tls_cert_t *cert;
        if (!cert_file) continue;
        err = tls_cert_load_files(g, ptemp, cert_file, key_file, &cert);
        if (err) return apr_psprintf(ptemp, "%s (a file that %s gave: from mod_md?)", err, hook);
        APR_ARRAY_PUSH(certs, tls_cert_t *) = cert;
    }
    return NULL;
}

const char *tls_cert_for_server(tls_conf_global_t *g, apr_pool_t *ptemp, server_rec *s,
                                const apr_array_header_t *own, const apr_array_header_t *inherited,
                                apr_array_header_t **pcerts, int *pfallback)
{
    apr_array_header_t *certs = apr_array_make(g->pool, 4, sizeof(tls_cert_t *));
    apr_array_header_t *cert_files = apr_array_make(ptemp, 2, sizeof(const char *));
    apr_array_header_t *key_files = apr_array_make(ptemp, 2, sizeof(const char *));
    const char *err;

    *pfallback = 0;
    *pcerts = NULL;
    if (own) apr_array_cat(certs, own);
    /* The hooks' result says nothing useful (RUN_ALL): the arrays do. */
    (void)ap_ssl_add_cert_files(s, ptemp, cert_files, key_files);
    err = load_module_files(g, ptemp, "ap_ssl_add_cert_files", cert_files, key_files, certs);
    if (err) return err;
    if (certs->nelts == 0) {
        apr_array_clear(cert_files);
        apr_array_clear(key_files);
        (void)ap_ssl_add_fallback_cert_files(s, ptemp, cert_files, key_files);
        err = load_module_files(g, ptemp, "ap_ssl_add_fallback_cert_files", cert_files, key_files, certs);
        if (err) return err;
        if (certs->nelts > 0) *pfallback = 1;
    }
    if (certs->nelts == 0 && inherited) apr_array_cat(certs, inherited);
    *pcerts = certs;
    return NULL;
}
