/* tls_proto.h: names of protocol versions and cipher suites.
 *
 * One table holds the whole IANA "TLS Cipher Suites" registry: id, IANA
 * name, the OpenSSL name where OpenSSL has one, and the TLS13_ spelling
 * rustls uses for the TLS 1.3 suites. On top of it: lookups and the parsers
 * behind TLSProtocol/TLSProxyProtocol and TLSCiphersPrefer/-Suppress (and
 * the proxy variants).
 *
 * Everything here is pure: no httpd structures, no rustls, no logging, no
 * global state that changes. Any function may be called from any phase and
 * any thread; results that are not pool-allocated point into static,
 * read-only data that lives as long as the module is loaded.
 *
 * Names accepted for a cipher suite (all compared case-insensitively; no two
 * names of the table differ only in case, a unit test checks):
 *   - the IANA name, e.g. TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256;
 *   - the OpenSSL name, e.g. ECDHE-RSA-AES128-GCM-SHA256: the names
 *     OpenSSL 3.0 gives the suites it implements (with its legacy provider).
 *     Suites OpenSSL dropped before 3.0 (RC4, DES, 3DES, export grades,
 *     static DH/ECDH) have only their IANA name. OpenSSL names its TLS 1.3
 *     suites by their IANA names, so the TLS 1.3 rows carry no extra one;
 *   - for the TLS 1.3 suites 0x1301-0x1305, the rustls name with the
 *     TLS13_ prefix, e.g. TLS13_AES_128_GCM_SHA256;
 *   - TLS_CIPHER_0xNNNN (exactly 4 hex digits): any id, listed in the
 *     table or not. tls_proto_suite_name() gives this form for ids the
 *     table does not list.
 */
#ifndef TLS_PROTO_H
#define TLS_PROTO_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_general.h>

/* Same text as in tls_util.h, so either header may come first. */
#ifndef TLS_MUST_CHECK
#define TLS_MUST_CHECK __attribute__((warn_unused_result))
#endif

/* Protocol versions as they appear on the wire. */
#define TLS_PROTO_VERSION_1_2 0x0303
#define TLS_PROTO_VERSION_1_3 0x0304

typedef struct tls_suite_t {
    apr_uint16_t id;
    const char *iana;    /* IANA registry name, never NULL */
    const char *openssl; /* OpenSSL name, or NULL */
    const char *alias;   /* TLS13_ name, or NULL */
} tls_suite_t;

/* The whole table, sorted by id (ids and names unique), and its length.
 * For tests and documentation tools; code looks suites up with the
 * functions below. */
const tls_suite_t *tls_proto_suites(apr_size_t *pcount);

/* The suite with IANA id `id`, or NULL if the registry lacks it.
 * Binary search; the result points into the static table. */
const tls_suite_t *tls_proto_suite_by_id(apr_uint16_t id);

/* The suite called `name` (IANA, OpenSSL or TLS13_ name, any case), or
 * NULL if no row has that name (also for NULL). The TLS_CIPHER_0xNNNN form
 * is not a table name: tls_proto_parse_suites() handles it. Linear scan of
 * the table, meant for config time. */
const tls_suite_t *tls_proto_suite_by_name(const char *name);

/* "TLSv1.2", "TLSv1.3", or "TLSv0xNNNN" (allocated from p) for other
 * versions; NULL for 0 (unknown). */
const char *tls_proto_version_name(apr_pool_t *p, apr_uint16_t version);

/* The IANA name of suite `id`, or "TLS_CIPHER_0xNNNN" (allocated from p)
 * for ids the table lacks; NULL for 0 (no suite negotiated). */
const char *tls_proto_suite_name(apr_pool_t *p, apr_uint16_t id);

/* Parse the argument of TLSProtocol / TLSProxyProtocol: the minimum protocol
 * version. Config time (directive handlers).
 * Accepts, case-insensitively: "default" (*pversion = 0: whatever rustls
 * enables by default), "TLSv1.2+" / "v1.2+" (0x0303), "TLSv1.3+" / "v1.3+"
 * (0x0304) and "TLSv0xNNNN+" with exactly 4 hex digits, not all zero.
 * Whether rustls supports the version is for the caller to decide.
 * Returns NULL on success, *pversion set. On error returns a static message
 * that lists the accepted forms (the caller adds the directive name and the
 * argument); *pversion is not touched. */
TLS_MUST_CHECK const char *tls_proto_parse_min_version(const char *arg, apr_uint16_t *pversion);

/* Parse one argument of TLSCiphersPrefer / TLSCiphersSuppress (and the
 * TLSProxy variants): suite names separated by ':' (httpd already split
 * the directive's arguments at spaces). Config time (directive handlers).
 * Each name is one of the forms listed at the top of this file; the id of
 * each is appended to `ids` (an array of apr_uint16_t) in the order given,
 * duplicates included. The directive keywords "default" and "none" are not
 * names: the caller handles them before calling this.
 * Returns NULL on success. On error returns a message allocated from p that
 * names the offending element exactly as written (unknown name, empty
 * element as in "a::b" or a trailing ':', malformed TLS_CIPHER_0x form);
 * `ids` is then left as it was on entry. The caller adds the directive
 * name. */
TLS_MUST_CHECK const char *tls_proto_parse_suites(apr_pool_t *p, const char *arg, apr_array_header_t *ids);

#endif /* TLS_PROTO_H */
