/* tls_core.h: which connections are TLS, their state, the choice of
 * virtual host by SNI, ALPN through httpd, and the request checks.
 */
#ifndef TLS_CORE_H
#define TLS_CORE_H

#include <httpd.h>

#include "rtls.h"
#include "tls_conf.h"
#include "tls_util.h"

/* A distinct TLS setup (certificates + TLS settings). Virtual hosts with the
 * same setup share one, and with it one rustls configuration; two hosts are
 * TLS-compatible (a request may move between them, see 421) exactly when
 * they share a setup. Built in post_config, in pconf, read-only later. */
typedef struct tls_setup_t {
    const char *id;                  /* identity: files and settings */
    apr_array_header_t *certs;       /* tls_cert_t*, in rtls key order */
    const rtls_server_config *config;
} tls_setup_t;

/* Connection states, in the order a connection passes them. */
typedef enum {
    TLS_CONN_ST_CLIENT_HELLO, /* waiting for the complete ClientHello */
    TLS_CONN_ST_HANDSHAKE,    /* bound to a virtual host's setup */
    TLS_CONN_ST_TRAFFIC,      /* application data */
    TLS_CONN_ST_NOTIFIED,     /* we sent close_notify */
    TLS_CONN_ST_DONE,         /* closed or aborted: nothing more to do */
} tls_conn_state_t;

struct tls_filter_ctx_t;

/* Per TLS connection, in c->pool, stored in c->conn_config. Used by one
 * thread at a time (the one httpd gives the connection to). */
typedef struct tls_conn_t {
    conn_rec *c;
    tls_conn_state_t state;
    rtls_conn *rtls;             /* freed by a c->pool cleanup */
    server_rec *server;          /* chosen by SNI, else c->base_server */
    tls_conf_server_t *sc;       /* server's config */
    const char *sni;             /* NULL when the client sent none */
    const char *alpn;            /* negotiated protocol, NULL if none */
    apr_uint16_t version;        /* after the handshake */
    apr_uint16_t suite;
    const char *version_name;
    const char *suite_name;
    int resumed;                 /* the handshake resumed a session */
    const struct tls_cert_t *cert; /* the certificate presented, NULL if unknown */
    struct tls_filter_ctx_t *filter;
} tls_conn_t;

/* post_config: decide which servers are reachable over TLS, check that
 * each has certificates, build the TLS setups. Returns OK, or an httpd
 * error (after logging what is wrong) that stops the start. */
TLS_MUST_CHECK int tls_core_init(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *base_server);

/* The TLS state of `c` (for secondary connections, of their master), or
 * NULL if `c` is not a TLS connection of this module. Any phase. */
tls_conn_t *tls_conn_get(conn_rec *c);

/* pre_connection: if `c` arrived on a TLSEngine address, create its TLS
 * state and filters. Returns OK or an httpd error. */
TLS_MUST_CHECK int tls_core_pre_connection(conn_rec *c);

/* Called by the input filter once the ClientHello is complete: choose the
 * virtual host by SNI, negotiate ALPN through httpd, bind the rustls
 * connection. On failure an alert waits in cc->rtls and an error is
 * returned (already logged). */
TLS_MUST_CHECK apr_status_t tls_core_conn_hello(tls_conn_t *cc);

/* Called by the input filter when the handshake completed: record what
 * was negotiated. */
void tls_core_conn_handshake_done(tls_conn_t *cc);

/* post_read_request: 403 (no SNI while name-based virtual hosts and
 * TLSStrictSNI on) and 421 (request for a host with another TLS setup). */
int tls_core_request_check(request_rec *r);

#endif /* TLS_CORE_H */
