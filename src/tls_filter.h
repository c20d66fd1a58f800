/* tls_filter.h: the byte pump between httpd's brigades and an rtls
 * connection, a pair of connection filters. It serves both sides (we as
 * TLS server or as TLS client) alike: what differs between them is decided
 * in tls_core and by the side's own code (tls_server), never here. See the
 * top of tls_filter.c for how bytes travel.
 */
#ifndef TLS_FILTER_H
#define TLS_FILTER_H

#include "tls_core.h"

/* Name of both filters (input and output). */
#define TLS_FILTER_NAME "TLS"
/* Name of the request filter that tells the output filter which data
 * comes down a request's chain (see tls_filter.c). */
#define TLS_REQUEST_FILTER_NAME "TLS_REQUEST"

/* register_hooks: register the filter pair. */
void tls_filter_register(void);

/* child_stopping hook: once the child stops, blocking reads of the filters
 * end within a fraction of a second with APR_ECONNABORTED, so that no
 * worker keeps the child from exiting: without grace (a full stop or
 * restart) every read, gracefully those of connections that carry no
 * request yet (in the handshake, or done with it and no request byte
 * arrived). Requests under way finish as usual in a graceful stop. */
void tls_filter_child_stopping(apr_pool_t *pchild, int graceful);

/* Per connection, right after tls_conn_create (pre_connection for incoming
 * connections): add the filters to cc->c, with their buffers in c->pool,
 * and set cc->filter. Returns APR_SUCCESS. */
TLS_MUST_CHECK apr_status_t tls_filter_conn_init(tls_conn_t *cc);

/* Per connection, before anything reads from or writes to cc->c (for
 * incoming connections process_connection, so that ALPN has switched the
 * protocol before mod_http2 looks at the connection): run the handshake to
 * its end, blocking. Returns APR_SUCCESS in TLS_CONN_ST_TRAFFIC, or the
 * error that ended the connection (logged; cc is then DONE, the alert, if
 * any, sent). */
TLS_MUST_CHECK apr_status_t tls_filter_handshake(tls_conn_t *cc);

/* create_request hook, per initial request: on a TLS connection of this
 * module (not on its secondary connections), add the request filter to r,
 * so that a response's headers and body may share a TLS record. Must run
 * after http_core's hook: a protocol filter added before HTTP_HEADER and
 * its kin would be lost from r->output_filters when they are inserted
 * ahead of it (util_filter.c updates only r->proto_output_filters then).
 * Returns DECLINED (other modules' hooks run too). */
int tls_filter_create_request(request_rec *r);

#endif /* TLS_FILTER_H */
