/* tls_setup.h: compiling the configuration records into what connections
 * use (post_config): which servers are reachable over TLS (TLSEngine
 * addresses against virtual hosts), and one TLS setup, with its rustls
 * configuration, per distinct combination of certificates and settings.
 *
 * Everything here is made in post_config, in pconf, and read-only
 * afterwards (any thread). Incoming (server) policy lives in tls_server;
 * proxy client configurations will be compiled here too.
 */
#ifndef TLS_SETUP_H
#define TLS_SETUP_H

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
    const rtls_server_config *config; /* freed by a pconf cleanup */
} tls_setup_t;

/* post_config, after tls_cache_post_config: give the main server's record
 * its defaults, decide which servers are reachable over TLS (sc->enabled),
 * check that each has certificates, and build their TLS setups
 * (sc->setup, shared through g->configs; the session cache and tickets of
 * tls_cache go into each). Logs the module's startup line when all is well.
 * Returns OK, or HTTP_INTERNAL_SERVER_ERROR after logging what is wrong
 * (with the server's name and place), which stops the start. A cipher
 * suite preferred but not implemented by rustls is warned about once and
 * left out, never an error. */
TLS_MUST_CHECK int tls_setup_post_config(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *base_server);

/* Called for a preferred suite rustls does not implement (it is left out). */
typedef void tls_setup_unimplemented_fn(void *baton, apr_uint16_t id);

/* The cipher suites to offer, in preference order: the `prefer` ones
 * rustls implements, then the rest of rustls' own order, none of the
 * `suppress` ones (a suppressed suite rustls lacks is fine: it is never
 * used anyway). Each list counts on its own; NULL (rustls' defaults) when
 * neither is set; an empty array when `suppress` leaves nothing.
 * `unimplemented` (may be NULL) hears of each preferred suite rustls
 * lacks. Allocated from p. Config time: the frontend's setups and
 * tls_proxy's. */
apr_array_header_t *tls_setup_suite_order(apr_pool_t *p, const apr_array_header_t *prefer,
                                          const apr_array_header_t *suppress,
                                          tls_setup_unimplemented_fn *unimplemented, void *baton);

/* Does a connection to local address `local` arrive on a TLSEngine address
 * (port and, if the engine names one, address)? Per connection
 * (pre_connection); `g` is the global record of the generation serving. */
int tls_setup_on_engine(const tls_conf_global_t *g, const apr_sockaddr_t *local);

#endif /* TLS_SETUP_H */
