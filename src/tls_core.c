/* tls_core.c: see tls_core.h. */
#include <string.h>

#include <apr_sha1.h>
#include <apr_strings.h>

#include <httpd.h>
#include <http_config.h>
#include <http_connection.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>
#include <http_vhost.h>
#include <ap_listen.h>

#include "tls_cache.h"
#include "tls_cert.h"
#include "tls_conf.h"
#include "tls_core.h"
#include "tls_filter.h"
#include "tls_proto.h"
#include "tls_util.h"
#include "tls_version.h"

APLOG_USE_MODULE(tls);

/* ---- which servers are reachable over TLS (post_config) ---------------- */

static int engine_has_ip(const tls_engine_t *e, const apr_sockaddr_t *ip)
{
    const apr_sockaddr_t *sa;

    for (sa = e->addr; sa; sa = sa->next) {
        if (tls_util_addr_same_ip(sa, ip)) return 1;
    }
    return 0;
}

/* Can a connection arriving for `e` land on virtual host `s`? */
static int vhost_serves_engine(server_rec *s, const tls_engine_t *e)
{
    server_addr_rec *sar;

    for (sar = s->addrs; sar; sar = sar->next) {
        if (sar->host_port != 0 && sar->host_port != e->port) continue;
        if (!e->addr || tls_util_addr_is_wildcard(sar->host_addr) || engine_has_ip(e, sar->host_addr)) return 1;
    }
    return 0;
}

/* Is a connection to local address `ip` (NULL: any address) on `port`
 * taken by some virtual host, so that it never reaches the main server? */
static int vhosts_cover(server_rec *base, const apr_sockaddr_t *ip, apr_port_t port)
{
    server_rec *s;
    server_addr_rec *sar;

    for (s = base->next; s; s = s->next) {
        for (sar = s->addrs; sar; sar = sar->next) {
            if (sar->host_port != 0 && sar->host_port != port) continue;
            if (tls_util_addr_is_wildcard(sar->host_addr)) return 1;
            if (ip && tls_util_addr_same_ip(sar->host_addr, ip)) return 1;
        }
    }
    return 0;
}

/* The main server answers TLS connections when a listener takes
 * connections for a TLSEngine address that no virtual host covers. */
static int main_server_serves_tls(const tls_conf_global_t *g, server_rec *base)
{
    const ap_listen_rec *lr;
    int i;

    for (lr = ap_listeners; lr; lr = lr->next) {
        const apr_sockaddr_t *la = lr->bind_addr;
        for (i = 0; i < g->engines->nelts; ++i) {
            const tls_engine_t *e = &APR_ARRAY_IDX(g->engines, i, tls_engine_t);
            if (!la || la->port != e->port) continue;
            if (!tls_util_addr_is_wildcard(la)) {
                if (e->addr && !engine_has_ip(e, la)) continue;
                if (!vhosts_cover(base, la, e->port)) return 1;
            }
            else if (e->addr) {
                const apr_sockaddr_t *sa;
                for (sa = e->addr; sa; sa = sa->next) {
                    if (!vhosts_cover(base, sa, e->port)) return 1;
                }
            }
            else if (!vhosts_cover(base, NULL, e->port)) {
                return 1;
            }
        }
    }
    return 0;
}

/* ---- TLS setups -------------------------------------------------------- */

static apr_status_t setup_cleanup(void *data)
{
    tls_setup_t *setup = data;

    rtls_server_config_free(setup->config);
    setup->config = NULL;
    return APR_SUCCESS;
}

static int ids_contain(const apr_array_header_t *ids, apr_uint16_t id)
{
    int i;

    for (i = 0; ids && i < ids->nelts; ++i) {
        if (APR_ARRAY_IDX(ids, i, apr_uint16_t) == id) return 1;
    }
    return 0;
}

/* The cipher suites of a server in preference order: the preferred ones
 * rustls implements, then the rest of rustls' own order, all without the
 * suppressed ones. NULL (rustls' defaults) when neither list is set. A
 * preferred suite rustls lacks is warned about once per startup (`warned`
 * remembers); a suppressed one it lacks is fine: it is never used anyway. */
static apr_array_header_t *suites_for(apr_pool_t *p, apr_hash_t *warned, server_rec *s, const tls_conf_server_t *sc)
{
    const apr_array_header_t *prefer = sc->ciphers_prefer, *suppress = sc->ciphers_suppress;
    apr_array_header_t *list;
    size_t n, i;
    int j;

    if ((!prefer || prefer->nelts == 0) && (!suppress || suppress->nelts == 0)) return NULL;
    list = apr_array_make(p, 16, sizeof(apr_uint16_t));
    for (j = 0; prefer && j < prefer->nelts; ++j) {
        apr_uint16_t id = APR_ARRAY_IDX(prefer, j, apr_uint16_t);
        if (rtls_cipher_suite_version(id) == 0) {
            const char *name = tls_proto_suite_name(p, id);
            /* once per startup: not on httpd's preflight read of the config */
            if (!apr_hash_get(warned, name, APR_HASH_KEY_STRING) &&
                ap_state_query(AP_SQ_MAIN_STATE) != AP_SQ_MS_CREATE_PRE_CONFIG) {
                apr_hash_set(warned, name, APR_HASH_KEY_STRING, name);
                ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                             TLS_LOGNO(0103) "%s: TLSCiphersPrefer names %s, which rustls does not implement; it is "
                                             "ignored",
                             tls_util_server_desc(p, s), name);
            }
            continue;
        }
        if (!ids_contain(suppress, id) && !ids_contain(list, id)) APR_ARRAY_PUSH(list, apr_uint16_t) = id;
    }
    n = rtls_supported_cipher_suite_count();
    for (i = 0; i < n; ++i) {
        apr_uint16_t id = rtls_supported_cipher_suite_id(i);
        if (!ids_contain(suppress, id) && !ids_contain(list, id)) APR_ARRAY_PUSH(list, apr_uint16_t) = id;
    }
    return list;
}

/* Identity of a setup: everything that goes into its rustls config. */
static const char *setup_id(apr_pool_t *p, const tls_conf_server_t *sc, const apr_array_header_t *suites)
{
    const char *id = apr_psprintf(p, "v=%04x;o=%d;", sc->min_version, sc->honor_client_order);
    int i;

    for (i = 0; suites && i < suites->nelts; ++i) {
        id = apr_psprintf(p, "%s%04x,", id, APR_ARRAY_IDX(suites, i, apr_uint16_t));
    }
    /* Certificates by content, not by file name: servers sharing sessions
     * (TLSSessionTicketKeyFile, a shared cache) may keep copies anywhere. A
     * key always belongs to its certificate, so the chain names both. */
    for (i = 0; i < sc->certs->nelts; ++i) {
        const tls_cert_t *cert = APR_ARRAY_IDX(sc->certs, i, tls_cert_t *);
        size_t j, n = rtls_certified_key_chain_len(cert->key);
        id = apr_pstrcat(p, id, ";", NULL);
        for (j = 0; j < n; ++j) {
            const uint8_t *der;
            size_t der_len;
            unsigned char digest[APR_SHA1_DIGESTSIZE];
            char hex[2 * APR_SHA1_DIGESTSIZE + 1];
            apr_sha1_ctx_t sha;
            if (rtls_certified_key_cert_der(cert->key, j, &der, &der_len) != RTLS_OK) break;
            apr_sha1_init(&sha);
            apr_sha1_update_binary(&sha, der, (unsigned int)der_len);
            apr_sha1_final(digest, &sha);
            ap_bin2hex(digest, sizeof(digest), hex);
            id = apr_pstrcat(p, id, hex, ",", NULL);
        }
    }
    return id;
}

/* Find or build the setup for server s; logs and returns an error status
 * when rustls refuses the combination. */
static apr_status_t setup_for(apr_pool_t *pconf, apr_hash_t *warned, server_rec *s, tls_conf_server_t *sc)
{
    tls_conf_global_t *g = sc->global;
    rtls_server_config_builder *b = NULL;
    tls_setup_t *setup;
    apr_array_header_t *suites = suites_for(pconf, warned, s, sc);
    const char *id = setup_id(pconf, sc, suites);
    rtls_result rr;
    int i;

    setup = apr_hash_get(g->configs, id, APR_HASH_KEY_STRING);
    if (setup) {
        sc->setup = setup;
        return APR_SUCCESS;
    }
    if (suites && suites->nelts == 0) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s,
                     TLS_LOGNO(0104) "%s: TLSCiphersSuppress suppresses every cipher suite rustls implements",
                     tls_util_server_desc(pconf, s));
        return APR_EGENERAL;
    }
    setup = apr_pcalloc(pconf, sizeof(*setup));
    setup->id = id;
    setup->certs = sc->certs;
    rr = rtls_server_config_builder_new(&b);
    for (i = 0; rr == RTLS_OK && i < sc->certs->nelts; ++i) {
        const tls_cert_t *cert = APR_ARRAY_IDX(sc->certs, i, tls_cert_t *);
        rr = rtls_server_config_builder_add_certified_key(b, cert->key);
    }
    if (rr == RTLS_OK && sc->min_version > 0) {
        rr = rtls_server_config_builder_set_min_version(b, (uint16_t)sc->min_version);
    }
    if (rr == RTLS_OK && suites) {
        rr = rtls_server_config_builder_set_cipher_suites(b, (const uint16_t *)suites->elts, (size_t)suites->nelts);
    }
    if (rr == RTLS_OK) {
        rr = rtls_server_config_builder_set_ignore_client_order(b, sc->honor_client_order == TLS_FLAG_OFF);
    }
    if (rr == RTLS_OK) rr = tls_cache_setup_builder(pconf, s, b, setup->id);
    if (rr == RTLS_OK) rr = rtls_server_config_build(b, &setup->config);
    rtls_server_config_builder_free(b);
    if (rr == RTLS_CONF_NO_CIPHER_SUITES) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s,
                     TLS_LOGNO(0105) "%s: no cipher suite is left for the protocol versions TLSProtocol allows "
                                     "(TLSCiphersSuppress removed them all)",
                     tls_util_server_desc(pconf, s));
        return APR_EGENERAL;
    }
    if (rr != RTLS_OK) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, TLS_LOGNO(0102) "%s: cannot build the TLS configuration: %s",
                     tls_util_server_desc(pconf, s), rtls_result_text((unsigned)rr));
        return APR_EGENERAL;
    }
    apr_pool_cleanup_register(pconf, setup, setup_cleanup, apr_pool_cleanup_null);
    apr_hash_set(g->configs, setup->id, APR_HASH_KEY_STRING, setup);
    sc->setup = setup;
    return APR_SUCCESS;
}

int tls_core_init(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *base_server)
{
    tls_conf_global_t *g;
    tls_conf_server_t *sc;
    apr_hash_t *warned = apr_hash_make(ptemp);
    server_rec *s;

    tls_conf_server_resolve(pconf, base_server);
    g = tls_conf_server_get(base_server)->global;
    g->enabled_servers = 0;
    if (g->engines->nelts == 0) return OK;
    /* Only DUMP_* runs get here without keys; they never serve. */
    if (ap_state_query(AP_SQ_RUN_MODE) == AP_SQ_RM_CONFIG_DUMP) return OK;

    for (s = base_server; s; s = s->next) {
        sc = tls_conf_server_get(s);
        sc->enabled = (s == base_server) ? main_server_serves_tls(g, base_server) : 0;
        if (s != base_server) {
            int i;
            for (i = 0; i < g->engines->nelts && !sc->enabled; ++i) {
                sc->enabled = vhost_serves_engine(s, &APR_ARRAY_IDX(g->engines, i, tls_engine_t));
            }
        }
        if (!sc->enabled) continue;
        if (!sc->certs || sc->certs->nelts == 0) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s,
                         TLS_LOGNO(0101) "%s is reachable over TLS (TLSEngine) but has no certificate: add a "
                                         "TLSCertificate to it or to the main server",
                         tls_util_server_desc(ptemp, s));
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        if (setup_for(pconf, warned, s, sc) != APR_SUCCESS) return HTTP_INTERNAL_SERVER_ERROR;
        ++g->enabled_servers;
    }
    return OK;
}

/* ---- connections ------------------------------------------------------- */

tls_conn_t *tls_conn_get(conn_rec *c)
{
    if (c->master) c = c->master;
    return ap_get_module_config(c->conn_config, &tls_module);
}

static int conn_on_engine(const tls_conf_global_t *g, const apr_sockaddr_t *local)
{
    int i;

    for (i = 0; i < g->engines->nelts; ++i) {
        const tls_engine_t *e = &APR_ARRAY_IDX(g->engines, i, tls_engine_t);
        if (e->port == local->port && (!e->addr || engine_has_ip(e, local))) return 1;
    }
    return 0;
}

static apr_status_t conn_cleanup(void *data)
{
    tls_conn_t *cc = data;

    rtls_conn_free(cc->rtls);
    cc->rtls = NULL;
    return APR_SUCCESS;
}

int tls_core_pre_connection(conn_rec *c)
{
    tls_conf_server_t *sc = tls_conf_server_get(c->base_server);
    tls_conn_t *cc;
    rtls_result rr;

    if (c->master || c->outgoing || !c->local_addr) return OK;
    if (!conn_on_engine(sc->global, c->local_addr)) return OK;

    cc = apr_pcalloc(c->pool, sizeof(*cc));
    cc->c = c;
    cc->state = TLS_CONN_ST_CLIENT_HELLO;
    cc->server = c->base_server;
    cc->sc = sc;
    rr = rtls_conn_server_new(&cc->rtls);
    if (rr != RTLS_OK) {
        ap_log_cerror(APLOG_MARK, APLOG_ERR, 0, c, TLS_LOGNO(0201) "cannot create a TLS connection: %s",
                      rtls_result_text((unsigned)rr));
        return DONE;
    }
    apr_pool_cleanup_register(c->pool, cc, conn_cleanup, apr_pool_cleanup_null);
    ap_set_module_config(c->conn_config, &tls_module, cc);
    if (tls_filter_conn_init(cc) != APR_SUCCESS) return DONE;
    return OK;
}

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

apr_status_t tls_core_conn_hello(tls_conn_t *cc)
{
    conn_rec *c = cc->c;
    const uint8_t *name;
    size_t name_len;
    const char *alpn = NULL;
    apr_status_t rv;
    rtls_result rr;

    if (rtls_conn_server_name(cc->rtls, &name, &name_len) == RTLS_OK) {
        vhost_search_t search;
        cc->sni = apr_pstrndup(c->pool, (const char *)name, name_len);
        memset(&search, 0, sizeof(search));
        search.name = cc->sni;
        ap_vhost_iterate_given_conn(c, find_vhost_cb, &search);
        if (search.found) {
            cc->server = search.found;
            ap_log_cerror(APLOG_MARK, APLOG_TRACE1, 0, c, TLS_LOGNO(0209) "SNI '%s' selects %s", cc->sni,
                          cc->server->server_hostname);
        }
        else if (tls_conf_server_get(c->base_server)->strict_sni == TLS_FLAG_ON) {
            ap_log_cerror(APLOG_MARK, APLOG_INFO, 0, c,
                          TLS_LOGNO(0203) "handshake refused: no virtual host for SNI name '%s' on this "
                                          "address (TLSStrictSNI on)",
                          cc->sni);
            rr = rtls_conn_reject(cc->rtls, RTLS_ALERT_UNRECOGNIZED_NAME);
            return rr == RTLS_OK ? APR_NOTFOUND : APR_EGENERAL;
        }
    }
    cc->sc = tls_conf_server_get(cc->server);
    if (!cc->sc->setup) {
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
    rr = rtls_conn_accept(cc->rtls, cc->sc->setup->config, (const uint8_t *)alpn, alpn ? strlen(alpn) : 0);
    if (rr != RTLS_OK) {
        char detail[256];
        size_t n;
        if (rtls_conn_error_text(cc->rtls, detail, sizeof(detail), &n) != RTLS_OK) detail[0] = '\0';
        ap_log_cerror(APLOG_MARK, APLOG_INFO, 0, c,
                      TLS_LOGNO(0205) "handshake with %s failed: %s (%s)", cc->server->server_hostname,
                      rtls_result_text((unsigned)rr), detail);
        return APR_ECONNABORTED;
    }
    cc->alpn = alpn;
    return APR_SUCCESS;
}

void tls_core_conn_handshake_done(tls_conn_t *cc)
{
    cc->version = rtls_conn_protocol_version(cc->rtls);
    cc->suite = rtls_conn_cipher_suite(cc->rtls);
    cc->version_name = tls_proto_version_name(cc->c->pool, cc->version);
    cc->suite_name = tls_proto_suite_name(cc->c->pool, cc->suite);
    cc->resumed = rtls_conn_session_resumed(cc->rtls);
    {
        int32_t idx = rtls_conn_certified_key_index(cc->rtls);
        const apr_array_header_t *certs = cc->sc->setup->certs;
        if (idx >= 0 && idx < certs->nelts) cc->cert = APR_ARRAY_IDX(certs, idx, tls_cert_t *);
    }
    ap_log_cerror(APLOG_MARK, APLOG_DEBUG, 0, cc->c,
                  TLS_LOGNO(0206) "handshake done: %s %s, SNI %s, ALPN %s, host %s", cc->version_name,
                  cc->suite_name, cc->sni ? cc->sni : "(none)", cc->alpn ? cc->alpn : "(none)",
                  cc->server->server_hostname);
}

int tls_core_request_check(request_rec *r)
{
    tls_conn_t *cc = tls_conn_get(r->connection);

    if (!cc || cc->state < TLS_CONN_ST_TRAFFIC) return DECLINED;
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
