/* tls_filter.h: the connection filters between httpd's brigades and rustls.
 * See the top of tls_filter.c for how bytes travel.
 */
#ifndef TLS_FILTER_H
#define TLS_FILTER_H

#include "tls_core.h"

/* Name of both filters (input and output). */
#define TLS_FILTER_NAME "TLS"

/* register_hooks: register the filter pair. */
void tls_filter_register(void);

/* pre_connection: add the filters to cc->c. Returns APR_SUCCESS. */
TLS_MUST_CHECK apr_status_t tls_filter_conn_init(tls_conn_t *cc);

/* process_connection: run the handshake to its end (blocking), so that
 * ALPN has switched the protocol before mod_http2 looks at the connection.
 * Returns APR_SUCCESS or the error that ended the connection. */
TLS_MUST_CHECK apr_status_t tls_filter_handshake(tls_conn_t *cc);

#endif /* TLS_FILTER_H */
