/* tls_proto.h: names of protocol versions and cipher suites.
 *
 * One table of cipher suites: IANA id, IANA name, and the OpenSSL and
 * TLS13_ spellings admins know. Pure data and lookups: no httpd or rustls
 * state, usable from any phase and thread.
 */
#ifndef TLS_PROTO_H
#define TLS_PROTO_H

#include <apr_pools.h>
#include <apr_general.h>

typedef struct tls_suite_t {
    apr_uint16_t id;
    const char *iana;    /* IANA registry name */
    const char *openssl; /* OpenSSL name, or NULL */
    const char *alias;   /* TLS13_ name, or NULL */
} tls_suite_t;

/* The suite with IANA id `id`, or NULL if the table lacks it. */
const tls_suite_t *tls_proto_suite_by_id(apr_uint16_t id);

/* "TLSv1.2", "TLSv1.3", or "TLSv0xNNNN" (from p) for other versions;
 * NULL for 0 (unknown). */
const char *tls_proto_version_name(apr_pool_t *p, apr_uint16_t version);

/* The IANA name of suite `id`, or "TLS_CIPHER_0xNNNN" (from p) for ids the
 * table lacks; NULL for 0 (unknown). */
const char *tls_proto_suite_name(apr_pool_t *p, apr_uint16_t id);

#endif /* TLS_PROTO_H */
