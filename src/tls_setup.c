/* tls_setup.c: see tls_setup.h. */
#include <apr_sha1.h>
#include <apr_strings.h>

#include <httpd.h>
#include <http_config.h>
#include <http_core.h>
#include <http_log.h>
#include <ap_listen.h>

#include "tls_cache.h"
#include "tls_cert.h"
#include "tls_clientcert.h"
#include "tls_conf.h"
#include "tls_ocsp.h"
#include "tls_proto.h"
#include "tls_setup.h"
#include "tls_util.h"
#include "tls_version.h"

APLOG_USE_MODULE(tls);

/* ---- which servers are reachable over TLS ------------------------------ */

static int engine_has_ip(const tls_engine_t *e, const apr_sockaddr_t *ip)
{
    const apr_sockaddr_t *sa;

    for (sa = e->addr; sa; sa = sa->next) {
        if (tls_util_addr_same_ip(sa, ip)) return 1;
    }
    return 0;
}

int tls_setup_on_engine(const tls_conf_global_t *g, const apr_sockaddr_t *local)
{
    int i;

    for (i = 0; i < g->engines->nelts; ++i) {
        const tls_engine_t *e = &APR_ARRAY_IDX(g->engines, i, tls_engine_t);
        if (e->port == local->port && (!e->addr || engine_has_ip(e, local))) return 1;
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

static int server_serves_tls(const tls_conf_global_t *g, server_rec *base, server_rec *s)
{
    int i;

    if (s == base) return main_server_serves_tls(g, base);
    for (i = 0; i < g->engines->nelts; ++i) {
        if (vhost_serves_engine(s, &APR_ARRAY_IDX(g->engines, i, tls_engine_t))) return 1;
    }
    return 0;
}

/* ---- cipher suites ----------------------------------------------------- */

static int ids_contain(const apr_array_header_t *ids, apr_uint16_t id)
{
    int i;

    for (i = 0; ids && i < ids->nelts; ++i) {
        if (APR_ARRAY_IDX(ids, i, apr_uint16_t) == id) return 1;
    }
    return 0;
}

/* The name of a configured suite, for the admin: the registry's IANA name,
 * or TLS_CIPHER_0xNNNN for an id the registry lacks. Not
 * tls_proto_suite_name(): that answers NULL ("no suite") for id 0, which
 * the registry knows as TLS_NULL_WITH_NULL_NULL and a directive may name. */
static const char *configured_suite_name(apr_pool_t *p, apr_uint16_t id)
{
    const tls_suite_t *suite = tls_proto_suite_by_id(id);

    return suite ? suite->iana : apr_psprintf(p, "TLS_CIPHER_0x%04x", id);
}

/* A preferred suite rustls lacks: warned about once per startup (`warned`,
 * keyed by suite id, remembers), not on httpd's preflight read of the
 * configuration. */
static void warn_unimplemented(apr_pool_t *p, apr_hash_t *warned, server_rec *s, apr_uint16_t id)
{
    apr_uint16_t *key;

    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG) return;
    if (apr_hash_get(warned, &id, sizeof(id))) return;
    key = apr_pmemdup(apr_hash_pool_get(warned), &id, sizeof(id));
    apr_hash_set(warned, key, sizeof(*key), key);
    ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                 TLS_LOGNO(0103) "%s: TLSCiphersPrefer names %s, which rustls does not implement; it is "
                                 "ignored",
                 tls_util_server_desc(p, s), configured_suite_name(p, id));
}

apr_array_header_t *tls_setup_suite_order(apr_pool_t *p, const apr_array_header_t *prefer,
                                          const apr_array_header_t *suppress,
                                          tls_setup_unimplemented_fn *unimplemented, void *baton)
{
    apr_array_header_t *list;
    size_t n, i;
    int j;

    if ((!prefer || prefer->nelts == 0) && (!suppress || suppress->nelts == 0)) return NULL;
    list = apr_array_make(p, 16, sizeof(apr_uint16_t));
    for (j = 0; prefer && j < prefer->nelts; ++j) {
        apr_uint16_t id = APR_ARRAY_IDX(prefer, j, apr_uint16_t);
        if (rtls_cipher_suite_version(id) == 0) {
            if (unimplemented) unimplemented(baton, id);
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

/* Where warn_unimplemented reports to. */
typedef struct warn_ctx_t {
    apr_pool_t *p;
    apr_hash_t *warned;
    server_rec *s;
} warn_ctx_t;

static void warn_unimplemented_cb(void *baton, apr_uint16_t id)
{
    warn_ctx_t *ctx = baton;

    warn_unimplemented(ctx->p, ctx->warned, ctx->s, id);
}

/* The cipher suites of a server (tls_setup_suite_order of its lists). */
static apr_array_header_t *suites_for(apr_pool_t *p, apr_hash_t *warned, server_rec *s, const tls_conf_server_t *sc)
{
    warn_ctx_t ctx = { p, warned, s };

    return tls_setup_suite_order(p, sc->ciphers_prefer, sc->ciphers_suppress, warn_unimplemented_cb, &ctx);
}

/* ---- TLS setups -------------------------------------------------------- */

static apr_status_t setup_cleanup(void *data)
{
    tls_setup_t *setup = data;

    rtls_server_config_free(setup->config);
    setup->config = NULL;
    return APR_SUCCESS;
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
    id = apr_pstrcat(p, id, tls_clientcert_setup_id(p, sc), NULL);
    return id;
}

/* The rustls configuration of a new setup for server s into
 * setup->config. Returns an rtls result; the caller words it. */
static rtls_result build_config(apr_pool_t *pconf, server_rec *s, const tls_conf_server_t *sc,
                                const apr_array_header_t *suites, tls_setup_t *setup)
{
    rtls_server_config_builder *b = NULL;
    rtls_result rr;
    int i;

    rr = rtls_server_config_builder_new(&b);
    if (rr != RTLS_OK) goto cleanup;
    for (i = 0; i < sc->certs->nelts; ++i) {
        const tls_cert_t *cert = APR_ARRAY_IDX(sc->certs, i, tls_cert_t *);
        rr = rtls_server_config_builder_add_certified_key(b, cert->key);
        if (rr != RTLS_OK) goto cleanup;
    }
    if (sc->min_version > 0) {
        rr = rtls_server_config_builder_set_min_version(b, (uint16_t)sc->min_version);
        if (rr != RTLS_OK) goto cleanup;
    }
    if (suites) {
        rr = rtls_server_config_builder_set_cipher_suites(b, (const uint16_t *)suites->elts, (size_t)suites->nelts);
        if (rr != RTLS_OK) goto cleanup;
    }
    rr = rtls_server_config_builder_set_ignore_client_order(b, sc->honor_client_order == TLS_FLAG_OFF);
    if (rr != RTLS_OK) goto cleanup;
    rr = tls_clientcert_setup_builder(pconf, s, sc, b);
    if (rr != RTLS_OK) goto cleanup;
    rr = tls_cache_setup_builder(pconf, s, b, setup->id);
    if (rr != RTLS_OK) goto cleanup;
    rr = rtls_server_config_build(b, &setup->config);
cleanup:
    rtls_server_config_builder_free(b);
    return rr;
}

/* Find or build the setup for server s; logs and returns an error status
 * when rustls refuses the combination. */
static apr_status_t setup_for(apr_pool_t *pconf, apr_hash_t *warned, server_rec *s, tls_conf_server_t *sc)
{
    tls_conf_global_t *g = sc->global;
    apr_array_header_t *suites = suites_for(pconf, warned, s, sc);
    const char *id = setup_id(pconf, sc, suites);
    tls_setup_t *setup;
    rtls_result rr;

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
    rr = build_config(pconf, s, sc, suites, setup);
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

/* Decide which servers are reachable over TLS and give each its setup. */
static int setup_servers(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *base_server)
{
    tls_conf_global_t *g;
    tls_conf_server_t *sc;
    apr_hash_t *warned = apr_hash_make(ptemp);
    server_rec *s;
    const apr_array_header_t *main_certs;
    const char *err;

    tls_conf_server_resolve(pconf, base_server);
    g = tls_conf_server_get(base_server)->global;
    g->enabled_servers = 0;
    if (g->engines->nelts == 0) return OK;
    /* Only DUMP_* runs get here without keys; they never serve. */
    if (ap_state_query(AP_SQ_RUN_MODE) == AP_SQ_RM_CONFIG_DUMP) return OK;

    main_certs = tls_conf_server_get(base_server)->certs;
    for (s = base_server; s; s = s->next) {
        sc = tls_conf_server_get(s);
        sc->enabled = server_serves_tls(g, base_server, s);
        if (!sc->enabled) continue;
        {
            /* Its own files, then other modules' (mod_md), see tls_cert.h. */
            int own = s == base_server || sc->certs != main_certs;
            err = tls_cert_for_server(g, ptemp, s, own ? sc->certs : NULL, own ? NULL : main_certs, &sc->certs,
                                      &sc->service_unavailable);
            if (err) {
                ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, TLS_LOGNO(1401) "%s: %s", tls_util_server_desc(ptemp, s),
                             err);
                return HTTP_INTERNAL_SERVER_ERROR;
            }
        }
        if (!sc->certs || sc->certs->nelts == 0) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s,
                         TLS_LOGNO(0101) "%s is reachable over TLS (TLSEngine) but has no certificate: add a "
                                         "TLSCertificate to it or to the main server (or an MDomain for it, "
                                         "with mod_md loaded)",
                         tls_util_server_desc(ptemp, s));
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        if (sc->service_unavailable && ap_state_query(AP_SQ_MAIN_STATE) != AP_SQ_MS_CREATE_PRE_CONFIG) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                         TLS_LOGNO(1402) "%s has no certificate yet and serves a temporary one from another "
                                         "module (mod_md); every request gets 503 until the certificate is "
                                         "obtained",
                         tls_util_server_desc(ptemp, s));
        }
        if (setup_for(pconf, warned, s, sc) != APR_SUCCESS) return HTTP_INTERNAL_SERVER_ERROR;
        ++g->enabled_servers;
    }
    tls_ocsp_prime(pconf, ptemp, base_server);
    return OK;
}

int tls_setup_post_config(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *base_server)
{
    int rv = setup_servers(pconf, ptemp, base_server);

    if (rv != OK) return rv;
    /* httpd reads its configuration twice at startup: say hello on the run
     * that serves (and on every restart), not on the preflight. */
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG) return OK;
    if (ap_state_query(AP_SQ_RUN_MODE) == AP_SQ_RM_NORMAL) {
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, base_server,
                     TLS_LOGNO(0001) "mod_tls/%s (%s) initialized", MOD_TLS_VERSION, rtls_version());
    }
    return OK;
}
