/* tls_util.h: small helpers that know nothing about TLS state. */
#ifndef TLS_UTIL_H
#define TLS_UTIL_H

#include <httpd.h>
#include <apr_network_io.h>

/* Tag for every log line of this module: "MTLSnnnn: ". Numbers are unique
 * in the source (a test checks) and never reused. */
#define TLS_LOGNO(n) "MTLS" #n ": "

#define TLS_MUST_CHECK __attribute__((warn_unused_result))

/* Largest PEM file we read (certificate chains, keys). */
#define TLS_MAX_PEM_SIZE (1024 * 1024)

/* Read a whole file of at most `max` bytes into memory from `p`, with a
 * terminating NUL not counted in *plen. Config time.
 * Errors: whatever APR reports opening/reading, APR_EINVAL if empty,
 * APR_ENOSPC if larger than max. */
TLS_MUST_CHECK apr_status_t tls_util_read_file(apr_pool_t *p, const char *path, apr_size_t max,
                                               const char **pdata, apr_size_t *plen);

/* Does `name` (a host name, e.g. from SNI) name server `s`: its ServerName,
 * a ServerAlias or a wildcard ServerAlias, case-insensitively. */
int tls_util_name_matches_server(const char *name, server_rec *s);

/* True if `sa` is a wildcard address ("*", "_default_", 0.0.0.0, ::). */
int tls_util_addr_is_wildcard(const apr_sockaddr_t *sa);

/* Compare two socket addresses by IP only (ports ignored), treating an
 * IPv4-mapped IPv6 address as the IPv4 address it carries. */
int tls_util_addr_same_ip(const apr_sockaddr_t *a, const apr_sockaddr_t *b);

/* A printable description of a server for messages, e.g.
 * "www.example.org:443 (defined at /etc/apache2/sites/x.conf:12)"; pool p. */
const char *tls_util_server_desc(apr_pool_t *p, server_rec *s);

#endif /* TLS_UTIL_H */
