/* tls_ocsp.h: OCSP stapling through httpd's ap_ssl_ocsp_* API.
 *
 * The TLS module does not fetch OCSP responses itself: another module
 * (mod_md with MDStapling on, MDStapleOthers on for certificates it does
 * not manage) does, in the background. At the end of post_config every
 * certificate a TLS setup presents is primed (ap_ssl_ocsp_prime) under a
 * fixed id, the SHA-1 of its leaf's DER, with its chain in PEM; in the hello
 * of each connection the current response of each primed key is asked for
 * (ap_ssl_ocsp_get_resp, an in-memory look-up in mod_md) and handed to the
 * connection (rtls_conn_set_ocsp), which staples it for clients that ask.
 * No response (none yet, the responder down, nobody stapling): the handshake
 * goes on without a staple. Configurations are never rebuilt for a response.
 */
#ifndef TLS_OCSP_H
#define TLS_OCSP_H

#include <httpd.h>

#include "tls_core.h"
#include "tls_setup.h"

/* post_config, after every enabled server got its setup: prime each
 * certificate once (per configuration generation) with the first server
 * presenting it. Never fails the start: a certificate nobody staples for is
 * just not stapled. */
void tls_ocsp_prime(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *base_server);

/* Per connection, in the hello, before rtls_conn_accept binds cc->rtls to
 * `setup`: hand the connection the current OCSP response of each primed key
 * of `setup`, asking for cc->server. Failures are logged at debug and
 * leave the key without a staple. */
void tls_ocsp_hello(tls_conn_t *cc, const tls_setup_t *setup);

#endif /* TLS_OCSP_H */
