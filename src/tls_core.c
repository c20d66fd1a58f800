/* tls_core.c: see tls_core.h. */
#include <apr_strings.h>

#include <httpd.h>
#include <http_config.h>
#include <http_connection.h>
#include <http_log.h>

#include "tls_cert.h"
#include "tls_conf.h"
#include "tls_core.h"
#include "tls_proto.h"
#include "tls_util.h"

APLOG_USE_MODULE(tls);

tls_conn_t *tls_conn_get(conn_rec *c)
{
    if (c->master) c = c->master;
    return ap_get_module_config(c->conn_config, &tls_module);
}

static apr_status_t conn_cleanup(void *data)
{
    tls_conn_t *cc = data;

    rtls_conn_free(cc->rtls);
    cc->rtls = NULL;
    return APR_SUCCESS;
}

tls_conn_t *tls_conn_create(conn_rec *c, tls_side_t side, rtls_conn **prtls)
{
    tls_conn_t *cc = apr_pcalloc(c->pool, sizeof(*cc));

    cc->c = c;
    cc->side = side;
    cc->state = TLS_CONN_ST_INIT;
    cc->rtls = *prtls;
    *prtls = NULL;
    apr_pool_cleanup_register(c->pool, cc, conn_cleanup, apr_pool_cleanup_null);
    cc->server = c->base_server;
    cc->sc = tls_conf_server_get(c->base_server);
    ap_set_module_config(c->conn_config, &tls_module, cc);
    return cc;
}

void tls_conn_free(tls_conn_t *cc)
{
    apr_pool_cleanup_run(cc->c->pool, cc, conn_cleanup);
    cc->state = TLS_CONN_ST_DONE;
}

typedef rtls_result rtls_text_fn(const rtls_conn *conn, const uint8_t **out, size_t *out_len);

/* A NUL-terminated copy of what an rtls text getter hands out, or NULL. */
static const char *rtls_text(apr_pool_t *p, const rtls_conn *conn, rtls_text_fn *get)
{
    const uint8_t *s = NULL;
    size_t len = 0;

    return get(conn, &s, &len) == RTLS_OK ? apr_pstrndup(p, (const char *)s, len) : NULL;
}

/* Copy the peer's chain out of rtls: variables are read from any thread
 * (HTTP/2 streams) while the connection's own thread drives rtls. */
static void record_peer_certs(tls_conn_t *cc)
{
    size_t i;

    for (i = 0;; ++i) {
        const uint8_t *der;
        size_t len;
        tls_der_t *d;
        if (rtls_conn_peer_cert_der(cc->rtls, i, &der, &len) != RTLS_OK) break;
        if (!cc->peer_certs) cc->peer_certs = apr_array_make(cc->c->pool, 3, sizeof(tls_der_t));
        d = apr_array_push(cc->peer_certs);
        d->der = apr_pmemdup(cc->c->pool, der, len);
        d->len = len;
    }
}

static void record_negotiated(tls_conn_t *cc)
{
    apr_pool_t *p = cc->c->pool;
    int32_t idx;

    cc->sni = rtls_text(p, cc->rtls, rtls_conn_server_name);
    cc->alpn = rtls_text(p, cc->rtls, rtls_conn_alpn_protocol);
    cc->version = rtls_conn_protocol_version(cc->rtls);
    cc->suite = rtls_conn_cipher_suite(cc->rtls);
    cc->version_name = tls_proto_version_name(p, cc->version);
    cc->suite_name = tls_proto_suite_name(p, cc->suite);
    cc->resumed = rtls_conn_session_resumed(cc->rtls);
    idx = rtls_conn_certified_key_index(cc->rtls);
    if (cc->keys && idx >= 0 && idx < cc->keys->nelts) cc->cert = APR_ARRAY_IDX(cc->keys, idx, tls_cert_t *);
    record_peer_certs(cc);
    ap_log_cerror(APLOG_MARK, APLOG_DEBUG, 0, cc->c,
                  TLS_LOGNO(0206) "handshake done: %s %s, SNI %s, ALPN %s, host %s", cc->version_name,
                  cc->suite_name, cc->sni ? cc->sni : "(none)", cc->alpn ? cc->alpn : "(none)",
                  cc->server->server_hostname);
}

/* A hello nobody can answer (no callback): refuse it rather than leave the
 * peer waiting. Cannot happen with the callers of today. */
static apr_status_t refuse_hello(tls_conn_t *cc)
{
    ap_log_cerror(APLOG_MARK, APLOG_ERR, 0, cc->c,
                  TLS_LOGNO(0210) "a TLS hello arrived on a connection that cannot answer one");
    if (rtls_conn_reject(cc->rtls, RTLS_ALERT_INTERNAL_ERROR) != RTLS_OK) {
        /* no alert then; the connection is aborted all the same */
    }
    return APR_EGENERAL;
}

apr_status_t tls_conn_on_events(tls_conn_t *cc, uint32_t events)
{
    apr_status_t rv;

    if ((events & RTLS_EVENT_HELLO) && cc->state == TLS_CONN_ST_INIT) {
        rv = cc->on_hello ? cc->on_hello(cc) : refuse_hello(cc);
        if (rv != APR_SUCCESS) return rv;
        cc->state = TLS_CONN_ST_HANDSHAKE;
    }
    if ((events & RTLS_EVENT_HANDSHAKE_DONE) && cc->state < TLS_CONN_ST_TRAFFIC) {
        cc->state = TLS_CONN_ST_TRAFFIC;
        record_negotiated(cc);
    }
    if (events & RTLS_EVENT_PEER_CLOSED) cc->peer_closed = 1;
    return APR_SUCCESS;
}

void tls_conn_on_sent(tls_conn_t *cc)
{
    if (cc->side == TLS_SIDE_CLIENT && cc->state == TLS_CONN_ST_INIT) cc->state = TLS_CONN_ST_HANDSHAKE;
}

void tls_conn_close_notify(tls_conn_t *cc)
{
    if (cc->state == TLS_CONN_ST_TRAFFIC && rtls_conn_send_close_notify(cc->rtls) == RTLS_OK) {
        cc->state = TLS_CONN_ST_NOTIFIED;
    }
}

void tls_conn_done(tls_conn_t *cc)
{
    cc->state = TLS_CONN_ST_DONE;
}

int tls_core_conn_is_ssl(conn_rec *c)
{
    tls_conn_t *cc = tls_conn_get(c);

    return (cc && cc->state != TLS_CONN_ST_DONE) ? OK : DECLINED;
}
