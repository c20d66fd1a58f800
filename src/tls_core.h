/* tls_core.h: the TLS connection object of this module, the same for both
 * directions: incoming connections (tls_server, we are the TLS server) and,
 * next, outgoing ones (mod_proxy backends, we are the TLS client).
 *
 * tls_core owns the connection's state machine: the state changes only
 * through the functions below. Who decides what (which connections are TLS,
 * which configuration a connection is bound to) is the caller's business
 * (tls_server for incoming connections); how bytes move is tls_filter's.
 *
 *   tls_conn_create                          -> INIT
 *   INIT      -- hello, cc->on_hello bound   -> HANDSHAKE   (server)
 *   INIT      -- first TLS bytes sent        -> HANDSHAKE   (client)
 *   INIT, HANDSHAKE -- handshake done        -> TRAFFIC
 *   TRAFFIC   -- close_notify queued         -> NOTIFIED
 *   any       -- failure, peer gone, freed   -> DONE
 */
#ifndef TLS_CORE_H
#define TLS_CORE_H

#include <httpd.h>

#include "rtls.h"
#include "tls_conf.h"
#include "tls_util.h"

/* Which end of the TLS connection we are. */
typedef enum {
    TLS_SIDE_SERVER, /* incoming: the peer is a client */
    TLS_SIDE_CLIENT, /* outgoing: the peer is a server */
} tls_side_t;

/* Connection states, in the order a connection passes them. */
typedef enum {
    TLS_CONN_ST_INIT,      /* server: waiting for the ClientHello; client: nothing sent yet */
    TLS_CONN_ST_HANDSHAKE, /* bound to a configuration, handshake under way */
    TLS_CONN_ST_TRAFFIC,   /* application data */
    TLS_CONN_ST_NOTIFIED,  /* we sent close_notify */
    TLS_CONN_ST_DONE,      /* closed or aborted: nothing more to do */
} tls_conn_state_t;

struct tls_conn_t;
struct tls_filter_ctx_t;

/* A DER certificate. */
typedef struct tls_der_t {
    const unsigned char *der;
    apr_size_t len;
} tls_der_t;

/* Called by tls_conn_on_events when a ClientHello waits (server side):
 * choose what to answer and bind cc->rtls with rtls_conn_accept, or refuse
 * it with rtls_conn_reject. May set cc->server, cc->sc and cc->keys.
 * Returns APR_SUCCESS when bound; otherwise an error, logged by the
 * callback, and an alert (if any) waits in cc->rtls. */
typedef apr_status_t tls_conn_hello_fn(struct tls_conn_t *cc);

/* Client side: called by the pump on its first call when cc->rtls is
 * still NULL (a connection made lazily, see tls_proxy): set cc->rtls.
 * Returns APR_SUCCESS, or an error (logged by the callback): the
 * connection is then aborted. */
typedef apr_status_t tls_conn_open_fn(struct tls_conn_t *cc);

/* Called by the pump instead of its own info-level line when the
 * connection fails (`what` happened, `detail` is rustls' text or NULL,
 * `rr` the rtls result or RTLS_OK for a closed/failed transport). The
 * callback logs (at the level it sees fit). */
typedef void tls_conn_fail_fn(struct tls_conn_t *cc, const char *what, const char *detail, rtls_result rr);

/* Per TLS connection, in c->pool, stored in c->conn_config. Used by one
 * thread at a time (the one httpd gives the connection to). Every field is
 * read-only outside tls_core.c except those marked as set by the side's
 * own code. */
typedef struct tls_conn_t {
    conn_rec *c;
    tls_side_t side;
    tls_conn_state_t state;
    rtls_conn *rtls;             /* owned; freed by a c->pool cleanup or tls_conn_free */
    tls_conn_hello_fn *on_hello; /* set by the side's code; NULL: a hello is refused */
    struct tls_filter_ctx_t *filter; /* set by tls_filter_conn_init */

    /* set by the side's code (defaults: c->base_server and its record) */
    server_rec *server;          /* server: chosen by SNI */
    tls_conf_server_t *sc;       /* config of `server` */
    const apr_array_header_t *keys; /* tls_cert_t* in the bound configuration's key order, or NULL */
    int service_unavailable;     /* serves no request (503): an ACME challenge connection */

    /* what was negotiated: recorded once, when the handshake is done */
    const char *sni;             /* server name of the handshake, NULL if none */
    const char *alpn;            /* negotiated protocol, NULL if none */
    apr_uint16_t version;        /* IANA protocol version */
    apr_uint16_t suite;          /* IANA cipher suite id */
    const char *version_name;    /* "TLSv1.3" */
    const char *suite_name;      /* IANA name */
    int resumed;                 /* the handshake resumed a session */
    const struct tls_cert_t *cert; /* our certificate presented (from `keys`), NULL if unknown */
    apr_array_header_t *peer_certs; /* tls_der_t the peer presented, its own first (copies in c->pool);
                                     * NULL if none. A resumed session has the original chain. */
    int peer_closed;             /* the peer's close_notify arrived */

    /* client side (tls_proxy): set by the side's code */
    tls_conn_open_fn *on_open;   /* makes cc->rtls on the first filter call */
    tls_conn_fail_fn *on_fail;   /* NULL: failures are logged by the pump at info */
    void *side_ctx;              /* the side's own state of the connection */
} tls_conn_t;

/* The TLS state of `c` (for secondary connections, of their master), or
 * NULL if `c` is not a TLS connection of this module. Any phase. */
tls_conn_t *tls_conn_get(conn_rec *c);

/* Make `c` a TLS connection of this module, on side `side`, in state INIT
 * (per connection: pre_connection for incoming ones). Takes ownership of
 * *prtls, a fresh rtls connection of that side (or NULL: a client
 * connection whose rtls connection cc->on_open makes on the first filter
 * call), and sets *prtls to NULL: from here on a cleanup of c->pool frees it (or tls_conn_free does). The
 * result lives in c->pool, is what tls_conn_get(c) returns from now on,
 * and is never NULL. The caller then sets on_hello (server) and adds the
 * filters (tls_filter_conn_init). */
tls_conn_t *tls_conn_create(conn_rec *c, tls_side_t side, rtls_conn **prtls);

/* Free the rtls connection now instead of with c->pool, and move to DONE
 * (the filters refuse further work). Per connection; idempotent. */
void tls_conn_free(tls_conn_t *cc);

/* Per connection, called by the byte pump with the RTLS_EVENT_* bits one
 * rtls_conn_process step reported (0 is fine):
 *   HELLO:          INIT -> HANDSHAKE through cc->on_hello (not set: the
 *                   hello is refused with an internal_error alert);
 *   HANDSHAKE_DONE: -> TRAFFIC, recording what was negotiated;
 *   PEER_CLOSED:    cc->peer_closed (the state is not changed).
 * Returns APR_SUCCESS, or the error of the hello callback (already logged;
 * an alert may wait in cc->rtls): the caller sends that and aborts. */
TLS_MUST_CHECK apr_status_t tls_conn_on_events(tls_conn_t *cc, uint32_t events);

/* Per connection, called by the byte pump after TLS bytes went to the
 * network: a client in INIT has sent its hello (-> HANDSHAKE). Nothing
 * changes otherwise. */
void tls_conn_on_sent(tls_conn_t *cc);

/* Per connection, in TRAFFIC: queue close_notify (the pump sends it) and
 * move to NOTIFIED. If rtls refuses, nothing is queued and the state stays:
 * the connection then ends without close_notify, which is all there is to
 * do about it. */
void tls_conn_close_notify(tls_conn_t *cc);

/* Per connection: nothing more is to be done on the connection (it failed,
 * the peer went away, or it was aborted): -> DONE. */
void tls_conn_done(tls_conn_t *cc);

/* ssl_conn_is_ssl hook: OK for a TLS connection of this module that is not
 * DONE, else DECLINED (other modules may answer). Any phase. */
int tls_core_conn_is_ssl(conn_rec *c);

#endif /* TLS_CORE_H */
