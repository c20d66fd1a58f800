/* mod_tls.c: the module record, its hooks and their order. Everything else
 * lives in the files named by concern: tls_conf (directives), tls_cert
 * (certificates), tls_setup (post_config: TLS setups), tls_core (the
 * connection object and its state), tls_server (incoming connections: SNI,
 * ALPN, request checks), tls_filter (the byte pump), tls_cache (sessions),
 * tls_var (variables), tls_proto (names of versions and suites), tls_proxy
 * (outgoing connections of mod_proxy).
 */
#include <httpd.h>
#include <http_config.h>
#include <http_connection.h>
#include <http_protocol.h>
#include <http_request.h>
#include <http_ssl.h>
#include <mod_status.h>
#include <mpm_common.h>
#include <mod_proxy.h>

#include "tls_cache.h"
#include "tls_clientcert.h"
#include "tls_conf.h"
#include "tls_core.h"
#include "tls_filter.h"
#include "tls_proxy.h"
#include "tls_server.h"
#include "tls_setup.h"
#include "tls_var.h"

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

/* The session cache and ticket secret first: every TLS setup built next
 * gets them. */
static int hook_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s)
{
    int rv;

    (void)plog;
    rv = tls_cache_post_config(pconf, ptemp, s);
    if (rv != OK) return rv;
    rv = tls_setup_post_config(pconf, ptemp, s);
    if (rv != OK) return rv;
    return tls_proxy_post_config(pconf, ptemp, s);
}

static int hook_pre_connection(conn_rec *c, void *csd)
{
    (void)csd;
    return tls_server_pre_connection(c);
}

static void tls_register_hooks(apr_pool_t *p)
{
    static const char *const after_ssl[] = { "mod_ssl.c", NULL };
    static const char *const before_ssl[] = { "mod_ssl.c", NULL };
    static const char *const after_reqtimeout[] = { "mod_reqtimeout.c", NULL };
    static const char *const before_h2[] = { "mod_http2.c", NULL };
    static const char *const after_http[] = { "http_core.c", NULL };

    (void)p;
    tls_filter_register();
    ap_hook_pre_config(hook_pre_config, after_ssl, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(hook_post_config, after_ssl, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(tls_cache_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_stopping(tls_filter_child_stopping, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_pre_connection(hook_pre_connection, NULL, NULL, APR_HOOK_MIDDLE);
    APR_OPTIONAL_HOOK(ap, status_hook, tls_cache_status, NULL, NULL, APR_HOOK_MIDDLE);
    /* The handshake runs after mod_reqtimeout has put its filter (below ours)
     * on the connection, so that its handshake stage bounds it as it does
     * mod_ssl's handshake, and ends before mod_http2 looks at the connection:
     * ALPN may switch it to h2. */
    ap_hook_process_connection(tls_server_process_connection, after_reqtimeout, before_h2, APR_HOOK_FIRST);
    ap_hook_create_request(tls_filter_create_request, after_http, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_read_request(tls_server_request_check, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_fixups(tls_var_request_fixup, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_access_checker(tls_clientcert_access_checker, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_ssl_conn_is_ssl(tls_core_conn_is_ssl, NULL, before_ssl, APR_HOOK_MIDDLE);
    ap_hook_ssl_var_lookup(tls_var_lookup, NULL, before_ssl, APR_HOOK_MIDDLE);
    ap_hook_expr_lookup(tls_var_expr_lookup, NULL, before_ssl, APR_HOOK_MIDDLE);
    ap_hook_http_scheme(tls_server_http_scheme, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_default_port(tls_server_default_port, NULL, NULL, APR_HOOK_MIDDLE);
    /* outgoing: mod_proxy's backend connections (tls_proxy); ahead of
     * mod_ssl, which takes those we decline */
    ap_hook_ssl_bind_outgoing(tls_proxy_bind_outgoing, NULL, before_ssl, APR_HOOK_MIDDLE);
    ap_hook_pre_connection(tls_proxy_pre_connection, NULL, NULL, APR_HOOK_MIDDLE);
    APR_OPTIONAL_HOOK(proxy, section_post_config, tls_proxy_section_post_config, NULL, NULL, APR_HOOK_MIDDLE);
}
