/* tls_acme.h: what mod_md needs from the TLS module while it obtains a
 * certificate over ACME (RFC 8555).
 *
 * tls-alpn-01 (RFC 8737): the ACME server connects with ALPN `acme-tls/1`
 * and SNI naming the domain. mod_md proposes that protocol (its
 * protocol_propose hook, during our hello: it asks ap_ssl_conn_is_ssl, which
 * we answer for connections in their hello), httpd's protocol negotiation
 * switches the connection to it, and then ap_ssl_answer_challenge hands the
 * challenge certificate and key (PEM) for that name. The connection is
 * answered with that certificate alone, through a configuration made for it,
 * and serves no request (503). Other connections to the host are untouched.
 *
 * While a host has no certificate yet it runs on mod_md's fallback
 * (tls_cert_for_server): every request gets 503 with a body saying so.
 */
#ifndef TLS_ACME_H
#define TLS_ACME_H

#include <httpd.h>

#include "tls_core.h"
#include "tls_util.h"

/* Per connection, in the hello, after ALPN selected (and switched the
 * connection to) `alpn` (NULL: none): if that is not an HTTP protocol and a
 * module answers a challenge for the SNI name, bind cc->rtls to a
 * configuration made of the challenge certificate only, answering `alpn`,
 * and mark cc->service_unavailable. Returns APR_SUCCESS when bound,
 * APR_ENOENT when this is no challenge (go on as usual), or another error
 * after logging it (an alert waits in cc->rtls). */
TLS_MUST_CHECK apr_status_t tls_acme_hello(tls_conn_t *cc, const char *alpn);

/* post_read_request, for requests on our TLS connections: 503 for a
 * challenge connection and for a host that has only a fallback
 * certificate (with a body saying the certificate is being obtained);
 * DECLINED otherwise. */
int tls_acme_request_check(request_rec *r, const tls_conn_t *cc);

#endif /* TLS_ACME_H */
