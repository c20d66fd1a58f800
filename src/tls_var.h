/* tls_var.h: the SSL_* / HTTPS variables of TLS connections.
 *
 * One table names every variable and how its value is computed. Values are
 * computed only when asked for: through ap_ssl_var_lookup (mod_rewrite
 * %{SSL:...}, mod_headers, ap_expr, %{...}x in a LogFormat) or when the
 * fixups hook exports them into a request's environment (CGI, SSI).
 */
#ifndef TLS_VAR_H
#define TLS_VAR_H

#include <httpd.h>
#include <ap_expr.h>

/* ssl_var_lookup hook: the value of `name` for a connection of this module
 * (from pool p), or NULL when `c` is not ours or the name is unknown, so
 * that other providers (mod_ssl) answer for their connections. Any thread. */
const char *tls_var_lookup(apr_pool_t *p, server_rec *s, conn_rec *c, request_rec *r, const char *name);

/* fixups hook: put the variables into r->subprocess_env for requests on
 * TLS connections of this module. DECLINED always. */
int tls_var_request_fixup(request_rec *r);

/* expr_lookup hook: %{SSL:NAME} and %{SSL_NAME} in ap_expr
 * (<If>, Require expr, Header ... expr=...), answered through
 * ap_ssl_var_lookup so mod_ssl's connections get their values too. */
int tls_var_expr_lookup(ap_expr_lookup_parms *parms);

/* pre_config: register the %{name}x LogFormat handler (after mod_ssl's,
 * answering for both modules through ap_ssl_var_lookup). */
void tls_var_register_log_handler(apr_pool_t *pconf);

#endif /* TLS_VAR_H */
