/* tls_ocsp.c: see tls_ocsp.h. */
#include <apr_base64.h>
#include <apr_sha1.h>
#include <apr_strings.h>

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <http_ssl.h>

#include "tls_cert.h"
#include "tls_conf.h"
#include "tls_ocsp.h"
#include "tls_util.h"

APLOG_USE_MODULE(tls);

/* PEM of one DER certificate, base64 in lines of 64 (RFC 7468). */
static const char *der_to_pem(apr_pool_t *p, const uint8_t *der, size_t der_len)
{
    char *b64 = apr_palloc(p, (apr_size_t)apr_base64_encode_len((int)der_len));
    int n = apr_base64_encode(b64, (const char *)der, (int)der_len);
    const char *pem = "-----BEGIN CERTIFICATE-----\n";
    int i;

    /* apr_base64_encode_len counts the NUL, and so does its result. */
    if (n > 0) --n;
    for (i = 0; i < n; i += 64) {
        pem = apr_pstrcat(p, pem, apr_pstrndup(p, b64 + i, (apr_size_t)(n - i < 64 ? n - i : 64)), "\n", NULL);
    }
    return apr_pstrcat(p, pem, "-----END CERTIFICATE-----\n", NULL);
}

/* The chain of `cert` in PEM, leaf first: only certificates, never the key
 * that may share the file. NULL if its DER cannot be had. */
static const char *chain_pem(apr_pool_t *p, const tls_cert_t *cert)
{
    size_t i, n = rtls_certified_key_chain_len(cert->key);
    const char *pem = "";

    for (i = 0; i < n; ++i) {
        const uint8_t *der;
        size_t der_len;
        if (rtls_certified_key_cert_der(cert->key, i, &der, &der_len) != RTLS_OK) return NULL;
        pem = apr_pstrcat(p, pem, der_to_pem(p, der, der_len), NULL);
    }
    return pem;
}

static void prime_cert(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s, tls_cert_t *cert)
{
    const uint8_t *der;
    size_t der_len;
    const char *pem;
    apr_sha1_ctx_t sha;
    apr_status_t rv;

    cert->ocsp_tried = 1;
    if (!cert->key || rtls_certified_key_cert_der(cert->key, 0, &der, &der_len) != RTLS_OK) return;
    apr_sha1_init(&sha);
    apr_sha1_update_binary(&sha, der, (unsigned int)der_len);
    apr_sha1_final(cert->ocsp_id, &sha);
    pem = chain_pem(ptemp, cert);
    if (!pem) return;
    rv = ap_ssl_ocsp_prime(s, pconf, (const char *)cert->ocsp_id, sizeof(cert->ocsp_id), pem);
    cert->ocsp_primed = rv == APR_SUCCESS;
    ap_log_error(APLOG_MARK, APLOG_DEBUG, rv, s, TLS_LOGNO(1411) "OCSP stapling for '%s': %s", cert->cert_file,
                 cert->ocsp_primed ? "a module provides responses" : "no module provides responses");
}

void tls_ocsp_prime(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *base_server)
{
    server_rec *s;
    int i;

    for (s = base_server; s; s = s->next) {
        const tls_conf_server_t *sc = tls_conf_server_get(s);
        if (!sc->enabled || !sc->setup) continue;
        for (i = 0; i < sc->setup->certs->nelts; ++i) {
            tls_cert_t *cert = APR_ARRAY_IDX(sc->setup->certs, i, tls_cert_t *);
            if (!cert->ocsp_tried) prime_cert(pconf, ptemp, s, cert);
        }
    }
}

typedef struct {
    tls_conn_t *cc;
    int index;
    rtls_result rr;
    int stapled;
} staple_ctx_t;

/* Called (maybe) by ap_ssl_ocsp_get_resp with the response, valid during
 * the call only: rtls copies it. */
static void copy_resp(const unsigned char *der, apr_size_t der_len, void *userdata)
{
    staple_ctx_t *ctx = userdata;

    if (!der || der_len == 0) return;
    ctx->rr = rtls_conn_set_ocsp(ctx->cc->rtls, (size_t)ctx->index, der, der_len);
    ctx->stapled = ctx->rr == RTLS_OK;
}

void tls_ocsp_hello(tls_conn_t *cc, const tls_setup_t *setup)
{
    staple_ctx_t ctx;
    int i;

    for (i = 0; i < setup->certs->nelts; ++i) {
        const tls_cert_t *cert = APR_ARRAY_IDX(setup->certs, i, const tls_cert_t *);
        apr_status_t rv;
        if (!cert->ocsp_primed) continue;
        ctx.cc = cc;
        ctx.index = i;
        ctx.rr = RTLS_OK;
        ctx.stapled = 0;
        rv = ap_ssl_ocsp_get_resp(cc->server, cc->c, (const char *)cert->ocsp_id, sizeof(cert->ocsp_id), copy_resp,
                                  &ctx);
        if (rv != APR_SUCCESS || ctx.rr != RTLS_OK) {
            ap_log_cerror(APLOG_MARK, APLOG_DEBUG, rv, cc->c,
                          TLS_LOGNO(1412) "no OCSP response to staple for '%s'%s%s", cert->cert_file,
                          ctx.rr != RTLS_OK ? ": " : "", ctx.rr != RTLS_OK ? rtls_result_text((unsigned)ctx.rr) : "");
        }
    }
}
