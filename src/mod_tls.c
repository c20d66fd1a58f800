/* mod_tls.c: the module record and its hooks. Everything else lives in the
 * files named by concern: tls_conf (directives), tls_cert (certificates),
 * tls_core (connections, SNI, ALPN, request checks), tls_filter (I/O),
 * tls_var (variables), tls_proto (names of versions and suites).
 */
#include <apr_strings.h>

#include <httpd.h>
#include <http_config.h>
#include <http_connection.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>
#include <http_ssl.h>
#include <mod_status.h>

#include "rtls.h"
#include "tls_cache.h"
#include "tls_conf.h"
#include "tls_core.h"
#include "tls_filter.h"
#include "tls_util.h"
#include "tls_var.h"
#include "tls_version.h"


static void tls_register_hooks(apr_pool_t *p);

AP_DECLARE_MODULE(tls) = {
    STANDARD20_MODULE_STUFF,
    tls_conf_create_dir,    /* create per-directory config */
    tls_conf_merge_dir,     /* merge per-directory config */
    tls_conf_create_server, /* create per-server config */
    tls_conf_merge_server,  /* merge per-server config */
    tls_conf_cmds,          /* directives */
    tls_register_hooks,
#if defined(AP_MODULE_FLAG_ALWAYS_MERGE)
    AP_MODULE_FLAG_ALWAYS_MERGE,
#endif
};

static int hook_pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp)
{
    (void)plog;
    (void)ptemp;
    tls_var_register_log_handler(pconf);
    tls_cache_pre_config(pconf);
    return OK;
}

static int hook_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s)
{
    int rv;

    (void)plog;
    rv = tls_cache_post_config(pconf, ptemp, s);
    if (rv != OK) return rv;
    rv = tls_core_init(pconf, ptemp, s);
    if (rv != OK) return rv;

    /* httpd reads its configuration twice at startup: say hello on the run
     * that serves (and on every restart), not on the preflight. */
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG) return OK;
    if (ap_state_query(AP_SQ_RUN_MODE) == AP_SQ_RM_NORMAL) {
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, TLS_LOGNO(0001) "mod_tls/%s (%s) initialized", MOD_TLS_VERSION,
                     rtls_version());
    }
    return OK;
}

static void hook_child_init(apr_pool_t *pchild, server_rec *s)
{
    tls_cache_child_init(pchild, s);
}

static int hook_pre_connection(conn_rec *c, void *csd)
{
    (void)csd;
    return tls_core_pre_connection(c);
}

/* Finish the handshake before the protocol handlers look at the
 * connection: ALPN may switch it to h2. */
static int hook_process_connection(conn_rec *c)
{
    tls_conn_t *cc;

    if (c->master) return DECLINED;
    cc = tls_conn_get(c);
    if (!cc || cc->state != TLS_CONN_ST_CLIENT_HELLO) return DECLINED;
    if (tls_filter_handshake(cc) == APR_SUCCESS) return DECLINED;
    /* The alert (if any) was sent; end the connection without more ado. */
    c->aborted = 1;
    if (c->cs) c->cs->state = CONN_STATE_LINGER;
    return DONE;
}

static int hook_post_read_request(request_rec *r)
{
    return tls_core_request_check(r);
}

static int hook_conn_is_ssl(conn_rec *c)
{
    tls_conn_t *cc = tls_conn_get(c);

    return (cc && cc->state != TLS_CONN_ST_DONE) ? OK : DECLINED;
}

static const char *hook_http_scheme(const request_rec *r)
{
    return tls_conn_get(r->connection) ? "https" : NULL;
}

static apr_port_t hook_default_port(const request_rec *r)
{
    return tls_conn_get(r->connection) ? 443 : 0;
}

static void tls_register_hooks(apr_pool_t *p)
{
    static const char *const after_ssl[] = { "mod_ssl.c", NULL };
    static const char *const before_ssl[] = { "mod_ssl.c", NULL };
    static const char *const before_h2[] = { "mod_http2.c", "mod_reqtimeout.c", NULL };

    (void)p;
    tls_filter_register();
    ap_hook_pre_config(hook_pre_config, after_ssl, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(hook_post_config, after_ssl, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(hook_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_pre_connection(hook_pre_connection, NULL, NULL, APR_HOOK_MIDDLE);
    APR_OPTIONAL_HOOK(ap, status_hook, tls_cache_status, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_process_connection(hook_process_connection, NULL, before_h2, APR_HOOK_FIRST);
    ap_hook_post_read_request(hook_post_read_request, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_fixups(tls_var_request_fixup, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_ssl_conn_is_ssl(hook_conn_is_ssl, NULL, before_ssl, APR_HOOK_MIDDLE);
    ap_hook_ssl_var_lookup(tls_var_lookup, NULL, before_ssl, APR_HOOK_MIDDLE);
    ap_hook_expr_lookup(tls_var_expr_lookup, NULL, before_ssl, APR_HOOK_MIDDLE);
    ap_hook_http_scheme(hook_http_scheme, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_default_port(hook_default_port, NULL, NULL, APR_HOOK_MIDDLE);
}
