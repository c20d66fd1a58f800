/* tls_server.h: incoming TLS connections, where we are the TLS server.
 *
 * The policy of the server side: which connections are TLS (those arriving
 * on a TLSEngine address), the ClientHello -> virtual host by SNI, ALPN
 * through httpd's protocol negotiation, binding the connection to that
 * host's TLS setup, and the per-request checks (403 without SNI, 421 for a
 * host of another TLS setup). The connection object and its state are
 * tls_core's; bytes travel through tls_filter, which reaches the hello
 * policy here only through the callback in tls_conn_t (cc->on_hello).
 */
#ifndef TLS_SERVER_H
#define TLS_SERVER_H

#include <httpd.h>

#include "tls_util.h"

/* pre_connection: if `c` is an incoming connection that arrived on a
 * TLSEngine address, make it a server-side TLS connection (tls_core) with
 * the hello policy of this file and add the filters. Returns OK (also for
 * connections that are not ours), or DONE after logging when no TLS
 * connection can be made (httpd then closes `c`). */
TLS_MUST_CHECK int tls_server_pre_connection(conn_rec *c);

/* process_connection: for a TLS connection of ours still waiting for its
 * ClientHello, run the handshake to its end before the protocol handlers
 * look at `c` (ALPN may switch it to h2). DECLINED to let them go on;
 * DONE, with `c` marked aborted, when the handshake failed (the alert, if
 * any, was sent and the failure logged). */
int tls_server_process_connection(conn_rec *c);

/* post_read_request: 403 (no SNI while the address has name-based virtual
 * hosts and TLSStrictSNI is on) and 421 (r's Host names a virtual host of
 * another TLS setup than the handshake's), each logged at info; DECLINED
 * otherwise and for requests not on our TLS connections. */
int tls_server_request_check(request_rec *r);

/* http_scheme hook: "https" for requests on our TLS connections, else NULL
 * (other modules answer). */
const char *tls_server_http_scheme(const request_rec *r);

/* default_port hook: 443 for requests on our TLS connections, else 0. */
apr_port_t tls_server_default_port(const request_rec *r);

#endif /* TLS_SERVER_H */
