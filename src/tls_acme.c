/* tls_acme.c: see tls_acme.h. */
#include <string.h>

#include <apr_strings.h>

#include <httpd.h>
#include <http_config.h>
#include <http_core.h>
#include <http_log.h>
#include <http_request.h>
#include <http_ssl.h>

#include "tls_acme.h"
#include "tls_conf.h"
#include "tls_util.h"

APLOG_USE_MODULE(tls);

static apr_status_t config_cleanup(void *data)
{
    rtls_server_config_free(data);
    return APR_SUCCESS;
}

/* A configuration presenting only the challenge certificate. The
 * connection keeps its own reference; ours goes with c->pool. */
static rtls_result challenge_config(conn_rec *c, const char *cert_pem, const char *key_pem,
                                    const rtls_server_config **pcfg)
{
    const rtls_certified_key *key = NULL;
    rtls_server_config_builder *b = NULL;
    rtls_result rr;

    *pcfg = NULL;
    rr = rtls_certified_key_new_acme_challenge((const uint8_t *)cert_pem, strlen(cert_pem),
                                               (const uint8_t *)key_pem, strlen(key_pem), &key);
    if (rr != RTLS_OK) goto cleanup;
    rr = rtls_server_config_builder_new(&b);
    if (rr != RTLS_OK) goto cleanup;
    rr = rtls_server_config_builder_add_certified_key(b, key);
    if (rr != RTLS_OK) goto cleanup;
    /* Nothing is ever resumed on a challenge connection. */
    rr = rtls_server_config_builder_set_session_store(b, NULL, NULL, NULL);
    if (rr != RTLS_OK) goto cleanup;
    rr = rtls_server_config_build(b, pcfg);
    if (rr != RTLS_OK) goto cleanup;
    apr_pool_cleanup_register(c->pool, (void *)*pcfg, config_cleanup, apr_pool_cleanup_null);
cleanup:
    rtls_server_config_builder_free(b);
    rtls_certified_key_free(key);
    return rr;
}

apr_status_t tls_acme_hello(tls_conn_t *cc, const char *alpn)
{
    conn_rec *c = cc->c;
    const char *cert_pem = NULL, *key_pem = NULL, *name;
    const rtls_server_config *cfg = NULL;
    const uint8_t *sni;
    size_t sni_len;
    rtls_result rr;

    if (!alpn || !strcmp(alpn, "http/1.1") || !strcmp(alpn, "h2")) return APR_ENOENT;
    if (rtls_conn_server_name(cc->rtls, &sni, &sni_len) != RTLS_OK) return APR_ENOENT;
    name = apr_pstrndup(c->pool, (const char *)sni, sni_len);
    if (!ap_ssl_answer_challenge(c, name, &cert_pem, &key_pem) || !cert_pem) return APR_ENOENT;

    rr = challenge_config(c, cert_pem, key_pem ? key_pem : cert_pem, &cfg);
    if (rr != RTLS_OK) {
        ap_log_cerror(APLOG_MARK, APLOG_WARNING, 0, c,
                      TLS_LOGNO(1421) "cannot answer the %s challenge for '%s': the certificate another module "
                                      "(mod_md) gave is unusable: %s",
                      alpn, name, rtls_result_text((unsigned)rr));
        rr = rtls_conn_reject(cc->rtls, RTLS_ALERT_INTERNAL_ERROR);
        return APR_EGENERAL;
    }
    rr = rtls_conn_accept(cc->rtls, cfg, (const uint8_t *)alpn, strlen(alpn));
    if (rr != RTLS_OK) {
        ap_log_cerror(APLOG_MARK, APLOG_INFO, 0, c, TLS_LOGNO(1422) "%s challenge handshake for '%s' failed: %s",
                      alpn, name, rtls_result_text((unsigned)rr));
        return APR_ECONNABORTED;
    }
    cc->keys = NULL;
    cc->service_unavailable = 1;
    ap_log_cerror(APLOG_MARK, APLOG_DEBUG, 0, c, TLS_LOGNO(1423) "answering the %s challenge for '%s'", alpn, name);
    return APR_SUCCESS;
}

int tls_acme_request_check(request_rec *r, const tls_conn_t *cc)
{
    if (cc->service_unavailable) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, TLS_LOGNO(1424) "request on a challenge connection: 503");
        return HTTP_SERVICE_UNAVAILABLE;
    }
    if (cc->sc && cc->sc->service_unavailable) {
        ap_custom_response(r, HTTP_SERVICE_UNAVAILABLE,
                           "The certificate of this site is being obtained (ACME, mod_md) and is not there yet. "
                           "Please try again later.\n");
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                      TLS_LOGNO(1425) "request refused (503): %s has only a fallback certificate",
                      r->server->server_hostname);
        return HTTP_SERVICE_UNAVAILABLE;
    }
    return DECLINED;
}
