/* mod_backend_probe.c: a test-only httpd module (test_17_proxy). On every
 * outgoing connection (a mod_proxy backend) it puts an input filter above
 * the TLS module's filters; when the first response bytes arrive, the
 * handshake is over, and the filter logs (once) what httpd's ap_ssl_* API says
 * about the connection:
 *
 *   backend-probe: is_ssl=1 HTTPS=on SSL_PROTOCOL=TLSv1.3 SSL_CIPHER=... SSL_TLS_SNI=...
 *
 * so that the same question can be put to mod_tls (TLSProxyEngine) and to
 * mod_ssl (SSLProxyEngine). No stock module asks it of a backend
 * connection. */
#include <httpd.h>
#include <http_config.h>
#include <http_connection.h>
#include <http_log.h>
#include <http_ssl.h>
#include <util_filter.h>

#define PROBE_FILTER "BACKEND_PROBE"

module AP_MODULE_DECLARE_DATA backend_probe_module;

static const char *var(conn_rec *c, const char *name)
{
    const char *val = ap_ssl_var_lookup(c->pool, c->base_server, c, NULL, name);

    return val && *val ? val : "-";
}

static apr_status_t probe_in(ap_filter_t *f, apr_bucket_brigade *bb, ap_input_mode_t mode,
                             apr_read_type_e block, apr_off_t bytes)
{
    conn_rec *c = f->c;
    apr_status_t rv = ap_get_brigade(f->next, bb, mode, block, bytes);

    /* once per connection: f->ctx marks it done (the filter stays, since
     * mod_proxy keeps reading through the chain it saw at the start) */
    if (rv == APR_SUCCESS && !APR_BRIGADE_EMPTY(bb) && !f->ctx) {
        f->ctx = f;
        ap_log_cerror(APLOG_MARK, APLOG_NOTICE, 0, c,
                      "backend-probe: is_ssl=%d HTTPS=%s SSL_PROTOCOL=%s SSL_CIPHER=%s SSL_TLS_SNI=%s",
                      ap_ssl_conn_is_ssl(c), var(c, "HTTPS"), var(c, "SSL_PROTOCOL"), var(c, "SSL_CIPHER"),
                      var(c, "SSL_TLS_SNI"));
    }
    return rv;
}

static int probe_pre_connection(conn_rec *c, void *csd)
{
    (void)csd;
    if (c->outgoing) ap_add_input_filter(PROBE_FILTER, NULL, NULL, c);
    return OK;
}

static void probe_register_hooks(apr_pool_t *p)
{
    (void)p;
    /* above the TLS modules' connection filters (AP_FTYPE_CONNECTION + 5) */
    ap_register_input_filter(PROBE_FILTER, probe_in, NULL, AP_FTYPE_CONNECTION);
    ap_hook_pre_connection(probe_pre_connection, NULL, NULL, APR_HOOK_LAST);
}

AP_DECLARE_MODULE(backend_probe) = {
    STANDARD20_MODULE_STUFF, NULL, NULL, NULL, NULL, NULL, probe_register_hooks,
#if defined(AP_MODULE_FLAG_NONE)
    AP_MODULE_FLAG_NONE,
#endif
};
