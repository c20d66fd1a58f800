/* tls_server.c: see tls_server.h. */
#include <string.h>

#include <apr_strings.h>

#include <httpd.h>
#include <http_config.h>
#include <http_connection.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_vhost.h>

#include "tls_acme.h"
#include "tls_conf.h"
#include "tls_core.h"
#include "tls_filter.h"
#include "tls_ocsp.h"
#include "tls_server.h"
#include "tls_setup.h"
#include "tls_util.h"

APLOG_USE_MODULE(tls);

/* ---- the hello: virtual host, ALPN, bind -------------------------------- */

typedef struct {
    const char *name;
    server_rec *found;
    int count;
} vhost_search_t;

static int find_vhost_cb(void *baton, conn_rec *c, server_rec *s)
{
    vhost_search_t *search = baton;

    (void)c;
    if (tls_util_name_matches_server(search->name, s)) {
        search->found = s;
        return 1;
    }
    return 0;
}

static int count_vhost_cb(void *baton, conn_rec *c, server_rec *s)
{
    vhost_search_t *search = baton;

    (void)c;
    (void)s;
    return ++search->count > 1;
}

/* Pick the protocol to answer through httpd's protocol negotiation, and
 * switch the connection to it. *palpn stays NULL when nothing is answered. */
static apr_status_t select_alpn(tls_conn_t *cc, const char **palpn)
{
    conn_rec *c = cc->c;
    apr_array_header_t *offered = apr_array_make(c->pool, 4, sizeof(const char *));
    const char *proposed;
    size_t i;
    int j, is_offered = 0;

    *palpn = NULL;
    for (i = 0;; ++i) {
        const uint8_t *p;
        size_t len;
        if (rtls_conn_hello_alpn(cc->rtls, i, &p, &len) != RTLS_OK) break;
        APR_ARRAY_PUSH(offered, const char *) = apr_pstrndup(c->pool, (const char *)p, len);
    }
    if (offered->nelts == 0) return APR_SUCCESS;

    proposed = ap_select_protocol(c, NULL, cc->server, offered);
    if (!proposed) return APR_SUCCESS;
    for (j = 0; j < offered->nelts; ++j) {
        if (!strcmp(proposed, APR_ARRAY_IDX(offered, j, const char *))) is_offered = 1;
    }
    if (!is_offered) return APR_SUCCESS;
    if (strcmp(proposed, ap_get_protocol(c))) {
        apr_status_t rv = ap_switch_protocol(c, NULL, cc->server, proposed);
        if (rv != APR_SUCCESS) {
            ap_log_cerror(APLOG_MARK, APLOG_INFO, rv, c,
                          TLS_LOGNO(0202) "ALPN: switching to protocol '%s' failed", proposed);
            return rv;
        }
    }
    *palpn = proposed;
    return APR_SUCCESS;
}

/* Choose cc->server by the SNI name of the hello. APR_NOTFOUND after
 * refusing the hello (unknown name, TLSStrictSNI on). */
static apr_status_t select_server(tls_conn_t *cc)
{
    conn_rec *c = cc->c;
    const uint8_t *name;
    size_t name_len;
    vhost_search_t search;

    if (rtls_conn_server_name(cc->rtls, &name, &name_len) != RTLS_OK) return APR_SUCCESS;
    memset(&search, 0, sizeof(search));
    search.name = apr_pstrndup(c->pool, (const char *)name, name_len);
    ap_vhost_iterate_given_conn(c, find_vhost_cb, &search);
    if (search.found) {
        cc->server = search.found;
        ap_log_cerror(APLOG_MARK, APLOG_TRACE1, 0, c, TLS_LOGNO(0209) "SNI '%s' selects %s", search.name,
                      cc->server->server_hostname);
        return APR_SUCCESS;
    }
    if (tls_conf_server_get(c->base_server)->strict_sni != TLS_FLAG_ON) return APR_SUCCESS;
    ap_log_cerror(APLOG_MARK, APLOG_INFO, 0, c,
                  TLS_LOGNO(0203) "handshake refused: no virtual host for SNI name '%s' on this "
                                  "address (TLSStrictSNI on)",
                  search.name);
    return rtls_conn_reject(cc->rtls, RTLS_ALERT_UNRECOGNIZED_NAME) == RTLS_OK ? APR_NOTFOUND : APR_EGENERAL;
}

/* cc->on_hello of incoming connections (see tls_conn_hello_fn): the
 * virtual host by SNI, its setup, ALPN through httpd, and the bind. */
static apr_status_t server_hello(tls_conn_t *cc)
{
    conn_rec *c = cc->c;
    const tls_setup_t *setup;
    const char *alpn = NULL;
    apr_status_t rv;
    rtls_result rr;

    rv = select_server(cc);
    if (rv != APR_SUCCESS) return rv;
    cc->sc = tls_conf_server_get(cc->server);
    setup = cc->sc->setup;
    if (!setup) {
        /* Only possible when a host was left out of post_config's view. */
        ap_log_cerror(APLOG_MARK, APLOG_ERR, 0, c,
                      TLS_LOGNO(0204) "%s has no TLS setup although a TLS connection reached it",
                      tls_util_server_desc(c->pool, cc->server));
        rr = rtls_conn_reject(cc->rtls, RTLS_ALERT_INTERNAL_ERROR);
        return APR_EGENERAL;
    }
    rv = select_alpn(cc, &alpn);
    if (rv != APR_SUCCESS) {
        rr = rtls_conn_reject(cc->rtls, RTLS_ALERT_HANDSHAKE_FAILURE);
        return rv;
    }
    /* mod_md's tls-alpn-01 (acme-tls/1): a connection of its own. */
    rv = tls_acme_hello(cc, alpn);
    if (rv != APR_ENOENT) return rv;
    tls_ocsp_hello(cc, setup);
    rr = rtls_conn_accept(cc->rtls, setup->config, (const uint8_t *)alpn, alpn ? strlen(alpn) : 0);
    if (rr != RTLS_OK) {
        char detail[256];
        size_t n;
        if (rtls_conn_error_text(cc->rtls, detail, sizeof(detail), &n) != RTLS_OK) detail[0] = '\0';
        ap_log_cerror(APLOG_MARK, APLOG_INFO, 0, c,
                      TLS_LOGNO(0205) "handshake with %s failed: %s (%s)", cc->server->server_hostname,
                      rtls_result_text((unsigned)rr), detail);
        return APR_ECONNABORTED;
    }
    cc->keys = setup->certs;
    return APR_SUCCESS;
}

/* ---- hooks -------------------------------------------------------------- */

/* Ours, and incoming? (Requests only ever run on incoming connections.) */
static tls_conn_t *server_conn_get(conn_rec *c)
{
    tls_conn_t *cc = tls_conn_get(c);

    return (cc && cc->side == TLS_SIDE_SERVER) ? cc : NULL;
}

int tls_server_pre_connection(conn_rec *c)
{
    tls_conf_server_t *sc = tls_conf_server_get(c->base_server);
    rtls_conn *rtls = NULL;
    tls_conn_t *cc;
    rtls_result rr;

    if (c->master || c->outgoing || !c->local_addr) return OK;
    if (!tls_setup_on_engine(sc->global, c->local_addr)) return OK;

    rr = rtls_conn_server_new(&rtls);
    if (rr != RTLS_OK) {
        ap_log_cerror(APLOG_MARK, APLOG_ERR, 0, c, TLS_LOGNO(0201) "cannot create a TLS connection: %s",
                      rtls_result_text((unsigned)rr));
        return DONE;
    }
    cc = tls_conn_create(c, TLS_SIDE_SERVER, &rtls);
    cc->on_hello = server_hello;
    if (tls_filter_conn_init(cc) != APR_SUCCESS) return DONE;
    return OK;
}

int tls_server_process_connection(conn_rec *c)
{
    tls_conn_t *cc;

    if (c->master) return DECLINED;
    cc = server_conn_get(c);
    if (!cc || cc->state != TLS_CONN_ST_INIT) return DECLINED;
    if (tls_filter_handshake(cc) == APR_SUCCESS) return DECLINED;
    /* The alert (if any) was sent; end the connection without more ado. */
    c->aborted = 1;
    if (c->cs) c->cs->state = CONN_STATE_LINGER;
    return DONE;
}

int tls_server_request_check(request_rec *r)
{
    tls_conn_t *cc = server_conn_get(r->connection);
    int rv;

    if (!cc || cc->state < TLS_CONN_ST_TRAFFIC) return DECLINED;
    rv = tls_acme_request_check(r, cc);
    if (rv != DECLINED) return rv;
    if (!cc->sni) {
        vhost_search_t search;
        if (cc->sc->strict_sni != TLS_FLAG_ON) return DECLINED;
        memset(&search, 0, sizeof(search));
        ap_vhost_iterate_given_conn(cc->c, count_vhost_cb, &search);
        if (search.count > 1) {
            ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                          TLS_LOGNO(0207) "request refused (403): the client sent no SNI and this address "
                                          "has name-based virtual hosts (TLSStrictSNI on)");
            return HTTP_FORBIDDEN;
        }
        return DECLINED;
    }
    if (r->server != cc->server && tls_conf_server_get(r->server)->setup != cc->sc->setup) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      TLS_LOGNO(0208) "request refused (421): Host '%s' names a virtual host whose TLS setup "
                                      "differs from that of SNI '%s'",
                      r->hostname ? r->hostname : "", cc->sni);
        return HTTP_MISDIRECTED_REQUEST;
    }
    return DECLINED;
}

const char *tls_server_http_scheme(const request_rec *r)
{
    return server_conn_get(r->connection) ? "https" : NULL;
}

apr_port_t tls_server_default_port(const request_rec *r)
{
    return server_conn_get(r->connection) ? 443 : 0;
}
