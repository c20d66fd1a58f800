/*
 * rtls.h: the C contract of the rtls crate, the thin binding mod_tls uses
 * to reach rustls (0.23.26). Everything here is implemented in Rust (rtls/src)
 * and linked statically into mod_tls.so.
 *
 * Rules that hold for every function:
 * - No panic crosses this boundary: a panic inside is reported as
 *   RTLS_INTERNAL_PANIC, and a connection that panicked refuses further use.
 * - Out-parameters are written only on success (rtls_conn_process and
 *   rtls_conn_write_tls say what they write on failure). An out-parameter
 *   that receives a new object (*_new, *_build) must not be NULL
 *   (RTLS_INTERNAL_NULL_ARGUMENT); other out-parameters may be NULL and are
 *   then not written.
 * - A buffer pointer is always followed by its length; NULL is accepted for
 *   a length of 0. Object handles and callbacks may be NULL only where a
 *   function says so (the *_free functions accept NULL; functions that
 *   return no rtls_result say what they return for NULL); elsewhere NULL
 *   fails with RTLS_INTERNAL_NULL_ARGUMENT.
 * - Objects are created by *_new / *_build and released by the matching
 *   *_free, which accepts NULL. Certified keys, ticketers and server and
 *   client configurations are reference counted inside: freeing the C handle
 *   never pulls an object from under a configuration or connection still
 *   using it.
 * - Certified keys, ticketers and server and client configurations are
 *   immutable and may be used from any thread. A connection, like a
 *   builder, is used by one thread at a time.
 * - Each function says in which phase mod_tls calls it: at config time
 *   (while httpd reads and checks its configuration), per connection (by
 *   the thread serving that connection), or at any time.
 */

#ifndef RTLS_H
#define RTLS_H

/* Generated with cbindgen:0.24.3 */

/* Do not edit: made from rtls/src and rtls/cbindgen.toml. Document a
 * function in its Rust doc comment, then run `make header`. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Marks the functions whose result must be checked. */
#if defined(__GNUC__)
#define RTLS_MUST_CHECK __attribute__((warn_unused_result))
#else
#define RTLS_MUST_CHECK
#endif

/* The category of a result code (rtls_result) is its thousands digit:
 * RTLS_RESULT_CATEGORY(rv) is one of RTLS_CATEGORY_*. */
#define RTLS_RESULT_CATEGORY(rv) ((unsigned)(rv) / 1000u)
#define RTLS_CATEGORY_PEER 1u
#define RTLS_CATEGORY_CONF 2u
#define RTLS_CATEGORY_IO 3u
#define RTLS_CATEGORY_INTERNAL 4u

/* TLS alert descriptions used with rtls_conn_reject(). */
#define RTLS_ALERT_HANDSHAKE_FAILURE 40
#define RTLS_ALERT_INTERNAL_ERROR 80
#define RTLS_ALERT_UNRECOGNIZED_NAME 112

/**
 * Client certificates are not asked for.
 */
#define RTLS_CLIENT_AUTH_NONE 0

/**
 * Asked for; a client without one is accepted, an invalid one refused.
 */
#define RTLS_CLIENT_AUTH_OPTIONAL 1

/**
 * Asked for; a client without a valid one fails the handshake.
 */
#define RTLS_CLIENT_AUTH_REQUIRED 2

/**
 * TLS 1.2 (IANA number 0x0303): TLS 1.2 and 1.3 are the protocol versions
 * rustls implements. The *_set_min_version functions take these numbers;
 * rtls_conn_protocol_version and rtls_cipher_suite_version return them.
 */
#define RTLS_TLS12 771

/**
 * TLS 1.3 (IANA number 0x0304).
 */
#define RTLS_TLS13 772

/**
 * What one rtls_conn_process step changed, as bits of `*out_events`; each
 * is reported once, by the step in which it happened.
 * RTLS_EVENT_HELLO: a complete ClientHello waits for rtls_conn_accept or
 * rtls_conn_reject.
 */
#define RTLS_EVENT_HELLO 1

/**
 * RTLS_EVENT_HANDSHAKE_DONE: the handshake completed.
 */
#define RTLS_EVENT_HANDSHAKE_DONE 2

/**
 * RTLS_EVENT_PEER_CLOSED: the peer's close_notify arrived: no more
 * plaintext will follow what is readable now.
 */
#define RTLS_EVENT_PEER_CLOSED 4

/**
 * Largest session key (RTLS_SESSION_MAX_KEY_LEN): keys are binary, 1 to
 * this many bytes, and other client-supplied ids are misses without a
 * call. rustls' keys are TLS 1.2 session ids (32 bytes) and the
 * 32-byte ids of TLS 1.3 stateful tickets; a TLS 1.3 lookup key comes
 * from the client and may be up to 64 KiB, so longer (or empty) keys are
 * misses without asking the store.
 */
#define RTLS_SESSION_MAX_KEY_LEN 64

/**
 * Largest session value rtls stores or reads back
 * (RTLS_SESSION_MAX_VALUE_LEN): values are binary, at most this many
 * bytes. rustls' session values are a few hundred bytes (more only with
 * client certificates, which they carry); a longer value is not stored,
 * and a lookup that would return one is a miss.
 */
#define RTLS_SESSION_MAX_VALUE_LEN (16 * 1024)

/**
 * Result codes: stable numbers. The thousands digit is the category
 * (RTLS_RESULT_CATEGORY(rv), one of RTLS_CATEGORY_*), so the caller picks
 * an `apr_status_t` and a log level from the category alone:
 * 1 = caused by the peer / the protocol (log at info or below),
 * 2 = configuration, 3 = I/O state (not errors as such), 4 = internal
 * errors and misuse of the API. rtls_result_text() describes each code.
 */
typedef enum {
    RTLS_OK = 0,
    RTLS_PEER_CORRUPT_MESSAGE = 1001,
    RTLS_PEER_UNEXPECTED_MESSAGE = 1002,
    RTLS_PEER_INCOMPATIBLE = 1003,
    RTLS_PEER_MISBEHAVED = 1004,
    RTLS_PEER_ALERT = 1005,
    RTLS_PEER_DECRYPT_ERROR = 1006,
    RTLS_PEER_BAD_CERTIFICATE = 1007,
    RTLS_PEER_NO_CERTIFICATE = 1008,
    RTLS_PEER_OVERSIZED_RECORD = 1009,
    RTLS_PEER_NO_APPLICATION_PROTOCOL = 1010,
    RTLS_PEER_BAD_SERVER_NAME = 1011,
    RTLS_PEER_REJECTED = 1012,
    RTLS_PEER_ERROR = 1099,
    RTLS_CONF_NO_CERTIFICATE = 2001,
    RTLS_CONF_BAD_CERTIFICATE = 2002,
    RTLS_CONF_NO_KEY = 2003,
    RTLS_CONF_BAD_KEY = 2004,
    RTLS_CONF_ENCRYPTED_KEY = 2005,
    RTLS_CONF_UNSUPPORTED_KEY = 2006,
    RTLS_CONF_KEY_MISMATCH = 2007,
    RTLS_CONF_NO_CIPHER_SUITES = 2008,
    RTLS_CONF_UNSUPPORTED_VERSION = 2009,
    RTLS_CONF_NO_CERTIFIED_KEY = 2010,
    RTLS_CONF_BAD_PEM = 2011,
    RTLS_CONF_BAD_DER = 2012,
    RTLS_CONF_BAD_TICKET_KEY = 2013,
    RTLS_CONF_BAD_TICKET_LIFETIME = 2014,
    RTLS_CONF_NO_TRUST_ANCHORS = 2015,
    RTLS_CONF_BAD_CRL = 2031,
    RTLS_CONF_NO_CLIENT_CA = 2032,
    RTLS_CONF_ERROR = 2099,
    RTLS_IO_WOULD_BLOCK = 3001,
    RTLS_IO_EOF = 3002,
    RTLS_IO_UNCLEAN_EOF = 3003,
    RTLS_IO_BUFFER_FULL = 3004,
    RTLS_IO_NOT_FOUND = 3005,
    RTLS_IO_CALLBACK_FAILED = 3006,
    RTLS_IO_ERROR = 3099,
    RTLS_INTERNAL_PANIC = 4001,
    RTLS_INTERNAL_NULL_ARGUMENT = 4002,
    RTLS_INTERNAL_WRONG_STATE = 4003,
    RTLS_INTERNAL_CRYPTO = 4004,
    RTLS_INTERNAL_ERROR = 4099,
} rtls_result;

/**
 * A certificate chain with its private key, parsed and checked once at
 * config time (rtls_certified_key_new, freed by rtls_certified_key_free).
 * Opaque. Immutable, usable from any thread, and reference counted: the
 * configurations built with it keep their own reference.
 */
typedef struct rtls_certified_key rtls_certified_key;

/**
 * Trusted CAs and CRLs for verifying client certificates (opaque), made by
 * rtls_client_auth_new, filled by rtls_client_auth_add_ca and
 * rtls_client_auth_add_crl, freed by rtls_client_auth_free. Used by one
 * thread at a time (config time).
 */
typedef struct rtls_client_auth rtls_client_auth;

/**
 * How rtls talks to a TLS server (mod_tls: to a mod_proxy backend), built
 * once at config time and shared by every connection to the backends of
 * one TLS setup (opaque). Immutable, usable from any thread, reference
 * counted: every client connection holds its own reference.
 * The server's certificate is always verified (webpki, against the trust
 * anchors added; there is no switch to skip it): a backend's own
 * self-signed certificate added as an anchor is accepted for that backend.
 * Sessions are resumed from rustls' in-memory client cache, one per
 * configuration and process, keyed by server name.
 */
typedef struct rtls_client_config rtls_client_config;

/**
 * Collects the settings of a client configuration (opaque): made by
 * rtls_client_config_builder_new, set by the rtls_client_config_builder_*
 * functions, turned into configurations by rtls_client_config_build and
 * freed by rtls_client_config_builder_free. Used by one thread at a time.
 */
typedef struct rtls_client_config_builder rtls_client_config_builder;

/**
 * One TLS connection, server or client, from the first ClientHello byte to
 * close_notify (opaque). Not thread-safe: one thread at a time may call
 * functions on a connection (httpd gives a connection to one thread at a
 * time); the connections of one configuration may run on any threads.
 *
 * A server connection (rtls_conn_server_new) starts in the accepting
 * phase: TLS bytes are fed (rtls_conn_read_tls, rtls_conn_process) until
 * the ClientHello is complete (RTLS_EVENT_HELLO). C then looks at the hello
 * (rtls_conn_server_name, rtls_conn_hello_alpn), picks the virtual host,
 * and binds the connection to that host's configuration with
 * rtls_conn_accept; from then on it is a normal rustls connection. If C
 * refuses the hello (rtls_conn_reject), or binding fails, a fatal alert is
 * queued so the peer learns why. A client connection (rtls_conn_client_new)
 * is bound from the start and speaks first.
 *
 * The byte pump, the same for both: feed what the peer sent with
 * rtls_conn_read_tls, run rtls_conn_process, take plaintext with
 * rtls_conn_read, give plaintext with rtls_conn_write, and send whatever
 * rtls_conn_write_tls hands over whenever rtls_conn_wants_write says so.
 */
typedef struct rtls_conn rtls_conn;

/**
 * One rustls server configuration per TLS setup (virtual host), built once
 * at config time and shared by all connections (opaque). Immutable,
 * usable from any thread, reference counted: every connection bound to it
 * holds its own reference.
 */
typedef struct rtls_server_config rtls_server_config;

/**
 * Collects the settings of a server configuration (opaque): made by
 * rtls_server_config_builder_new, set by the rtls_server_config_builder_*
 * functions, turned into configurations by rtls_server_config_build and
 * freed by rtls_server_config_builder_free. Used by one thread at a time.
 */
typedef struct rtls_server_config_builder rtls_server_config_builder;

/**
 * Makes and opens session tickets (opaque): rtls_ticketer_new,
 * rtls_ticketer_free. Immutable, usable from any thread, reference
 * counted: builders and configurations using it hold their own references.
 */
typedef struct rtls_ticketer rtls_ticketer;

/**
 * The `put` callback of a session store (see
 * rtls_server_config_builder_set_session_store): store `value`
 * (`value_len` bytes, at most RTLS_SESSION_MAX_VALUE_LEN) under `key`
 * (`key_len` bytes, 1 to RTLS_SESSION_MAX_KEY_LEN), replacing an older
 * entry. Keys and values are binary and valid during the call only.
 * Return 0 when stored, non-zero otherwise (a failure only costs the
 * resumption).
 * Both callbacks run inside rtls_conn_accept and rtls_conn_process, on
 * whichever thread drives the connection, concurrently for many
 * connections: they must be thread-safe, must not call rtls functions for
 * the same connection, and should not block for long (a handshake waits).
 */
typedef int (*rtls_session_put_fn)(void *userdata, const uint8_t *key, size_t key_len, const uint8_t *value, size_t value_len);

/**
 * The `get` callback of a session store (see
 * rtls_server_config_builder_set_session_store): look `key` up (`key_len`
 * bytes, 1 to RTLS_SESSION_MAX_KEY_LEN, binary). Return 0 when found with
 * value_len <= buf_len, after copying the value into `buf` and setting
 * `*out_len` = value_len; non-zero for a miss, an error, or a longer value
 * (buf_len is always RTLS_SESSION_MAX_VALUE_LEN). `remove` != 0: the entry
 * is single-use (a TLS 1.3 session): remove it as it is found, so that no
 * other get, concurrent or later, in this or another process, returns it
 * again. Key and buf are valid during the call only.
 * Runs like rtls_session_put_fn: inside rtls_conn_accept and
 * rtls_conn_process, on whichever thread drives the connection,
 * concurrently for many connections: thread-safe, not calling rtls
 * functions for the same connection, not blocking for long.
 */
typedef int (*rtls_session_get_fn)(void *userdata, const uint8_t *key, size_t key_len, int remove, uint8_t *buf, size_t buf_len, size_t *out_len);

/**
 * Receives TLS bytes to send (rtls_conn_write_tls); copy them (`buf` is
 * valid during the call only) and return 0 when all `len` bytes were
 * taken, or non-zero on failure (then it took nothing of `buf`). It must
 * not call into the same connection.
 */
typedef int32_t (*rtls_write_fn)(void *userdata, const uint8_t *buf, size_t len);

/**
 * Receives one certificate variable (rtls_x509_fields): `name` is its name
 * without the "SSL_SERVER_" or "SSL_CLIENT_" prefix, `value` its text
 * (UTF-8). Neither is NUL-terminated; both are valid during the call only.
 * Return 0 to go on, anything else to stop.
 */
typedef int (*rtls_x509_field_fn)(void *userdata, const char *name, size_t name_len, const char *value, size_t value_len);

#ifdef __cplusplus
extern "C" {
#endif // __cplusplus

/**
 * "rtls/V/rustls/W", V being this crate's version and W rustls': static,
 * NUL-terminated, never NULL.
 * Phase: any time.
 */
const char *rtls_version(void);

/**
 * Parse a certificate chain (`cert_pem`: PEM, the certificate first, then
 * its chain) and its private key (`key_pem`: PEM, RSA PKCS#1, PKCS#8 or
 * SEC1 EC; the first key found is used; it may be the same text as
 * `cert_pem`) and check that the key belongs to the leaf certificate. The
 * buffers are read during the call only.
 * On success `*out` is a new key owned by the caller (rtls_certified_key_free);
 * `*out` is untouched on error.
 * Errors: RTLS_CONF_BAD_PEM, RTLS_CONF_NO_CERTIFICATE, RTLS_CONF_NO_KEY,
 * RTLS_CONF_ENCRYPTED_KEY, RTLS_CONF_UNSUPPORTED_KEY,
 * RTLS_CONF_BAD_CERTIFICATE, RTLS_CONF_KEY_MISMATCH, RTLS_INTERNAL_CRYPTO
 * (signing the test message failed), RTLS_INTERNAL_NULL_ARGUMENT.
 * Phase: config time.
 */
RTLS_MUST_CHECK
rtls_result rtls_certified_key_new(const uint8_t *cert_pem,
                                   size_t cert_pem_len,
                                   const uint8_t *key_pem,
                                   size_t key_pem_len,
                                   const rtls_certified_key **out);

/**
 * Like rtls_certified_key_new, for an ACME tls-alpn-01 challenge
 * certificate (RFC 8737) another module just made: the certificate is not
 * parsed as X.509 and not checked against the key, because its critical
 * acmeIdentifier extension makes webpki refuse it (rustls itself never
 * parses the certificates it presents). Only for such certificates, which
 * serve one handshake with an ACME server: the certificate must not be
 * used as a normal server certificate. Same ownership and errors as
 * rtls_certified_key_new, without RTLS_CONF_BAD_CERTIFICATE and
 * RTLS_CONF_KEY_MISMATCH.
 * Phase: per connection (the hello of an acme-tls/1 connection).
 */
RTLS_MUST_CHECK
rtls_result rtls_certified_key_new_acme_challenge(const uint8_t *cert_pem,
                                                  size_t cert_pem_len,
                                                  const uint8_t *key_pem,
                                                  size_t key_pem_len,
                                                  const rtls_certified_key **out);

/**
 * Release the caller's reference to a certified key. Builders and
 * configurations using it keep their own, so this may be called right
 * after they are built. NULL is ignored.
 * Phase: config time (or a cleanup of the pool owning the key).
 */
void rtls_certified_key_free(const rtls_certified_key *key);

/**
 * Certificates in the chain, leaf included (0 for NULL).
 * Phase: any time.
 */
size_t rtls_certified_key_chain_len(const rtls_certified_key *key);

/**
 * DER of chain certificate `index` (0 = leaf) in `*out_der`, `*out_len`;
 * the bytes belong to `key` and stay valid as long as it does.
 * Errors: RTLS_IO_NOT_FOUND past the end, RTLS_INTERNAL_NULL_ARGUMENT.
 * Phase: any time (mod_tls: config time).
 */
RTLS_MUST_CHECK
rtls_result rtls_certified_key_cert_der(const rtls_certified_key *key,
                                        size_t index,
                                        const uint8_t **out_der,
                                        size_t *out_len);

/**
 * A new, empty set (no CAs, no CRLs). On success `*out` is owned by the
 * caller: free it with rtls_client_auth_free. Builders that take it keep
 * what they need.
 * Errors: RTLS_INTERNAL_NULL_ARGUMENT (`out` NULL).
 * Phase: config time.
 */
RTLS_MUST_CHECK rtls_result rtls_client_auth_new(rtls_client_auth **out);

/**
 * Free a set; NULL is ignored.
 * Phase: config time.
 */
void rtls_client_auth_free(rtls_client_auth *a);

/**
 * Trust the CA certificates in `len` bytes at `data`: the contents of a
 * file, PEM (every CERTIFICATE block; other blocks, e.g. CRLs, are
 * skipped) or one DER certificate. `*out_count` (if not NULL) is the
 * number of certificates added, which may be 0 for a PEM file without
 * certificates (the caller decides whether that is an error).
 * Errors: RTLS_CONF_BAD_PEM (malformed PEM), RTLS_CONF_BAD_CERTIFICATE (a
 * certificate webpki cannot use as a trust anchor; nothing of this call
 * is added then), RTLS_INTERNAL_NULL_ARGUMENT.
 * Phase: config time.
 */
RTLS_MUST_CHECK
rtls_result rtls_client_auth_add_ca(rtls_client_auth *a,
                                    const uint8_t *data,
                                    size_t len,
                                    size_t *out_count);

/**
 * Check client certificates against the CRLs in `len` bytes at `data`: the
 * contents of a file, PEM (every X509 CRL block; others are skipped) or one
 * DER CRL. `*out_count` (if not NULL) is the number of CRLs added (0 for a
 * PEM file without CRLs); `*out_next_update` (if not NULL) the earliest
 * nextUpdate among them in seconds since 1970 (0 when none has one, or
 * none was added), for the caller to warn about expired CRLs: they are
 * still applied. Revocation is checked for every certificate of a
 * client's chain whose issuer has a CRL here; certificates of issuers
 * without one are accepted.
 * Errors: RTLS_CONF_BAD_PEM, RTLS_CONF_BAD_CRL (a CRL webpki cannot parse;
 * nothing of this call is added then), RTLS_INTERNAL_NULL_ARGUMENT.
 * Phase: config time.
 */
RTLS_MUST_CHECK
rtls_result rtls_client_auth_add_crl(rtls_client_auth *a,
                                     const uint8_t *data,
                                     size_t len,
                                     size_t *out_count,
                                     uint64_t *out_next_update);

/**
 * The number of CAs trusted so far (for messages and tests).
 * Errors: none; 0 for NULL.
 * Phase: config time.
 */
size_t rtls_client_auth_ca_count(const rtls_client_auth *a);

/**
 * A client configuration builder with rustls' defaults: TLS 1.2 and 1.3,
 * all implemented cipher suites in rustls' order, no trust anchors, no
 * client certificate. On success `*out` is a new builder owned by the
 * caller: free it with rtls_client_config_builder_free; building does not
 * consume it.
 * Errors: RTLS_INTERNAL_NULL_ARGUMENT (`out` NULL).
 * Phase: config time.
 */
RTLS_MUST_CHECK rtls_result rtls_client_config_builder_new(rtls_client_config_builder **out);

/**
 * Free a builder; NULL is ignored. Configurations built from it are not
 * affected.
 * Phase: config time.
 */
void rtls_client_config_builder_free(rtls_client_config_builder *b);

/**
 * Add every certificate of `pem` (`pem_len` bytes of PEM text, read during
 * the call only) as a trust anchor for verifying servers; `*out_added`
 * gets how many were added (may be NULL).
 * Errors: RTLS_CONF_BAD_PEM, RTLS_CONF_NO_CERTIFICATE (no certificate in
 * the text), RTLS_CONF_BAD_CERTIFICATE (a certificate webpki cannot use as
 * an anchor; none of this call's certificates is added then),
 * RTLS_INTERNAL_NULL_ARGUMENT.
 * Phase: config time.
 */
RTLS_MUST_CHECK
rtls_result rtls_client_config_builder_add_trust_anchors_pem(rtls_client_config_builder *b,
                                                             const uint8_t *pem,
                                                             size_t pem_len,
                                                             size_t *out_added);

/**
 * Add a client certificate and key, presented to servers that ask for one
 * (keys are tried in the order added: the first one the server's
 * signature schemes allow and whose chain has an issuer the server names
 * as acceptable is used; if the server names none of them, the first its
 * schemes allow). The builder keeps its own reference;
 * the caller still frees `key`.
 * Errors: RTLS_INTERNAL_NULL_ARGUMENT (`b` or `key` NULL).
 * Phase: config time.
 */
RTLS_MUST_CHECK
rtls_result rtls_client_config_builder_add_certified_key(rtls_client_config_builder *b,
                                                         const rtls_certified_key *key);

/**
 * Lowest protocol version offered: RTLS_TLS12 or RTLS_TLS13 (lower values
 * mean TLS 1.2).
 * Errors: RTLS_CONF_UNSUPPORTED_VERSION above TLS 1.3 (the setting is
 * unchanged then), RTLS_INTERNAL_NULL_ARGUMENT.
 * Phase: config time.
 */
RTLS_MUST_CHECK
rtls_result rtls_client_config_builder_set_min_version(rtls_client_config_builder *b,
                                                       uint16_t version);

/**
 * Offer exactly these cipher suites (`count` IANA ids at `ids`) in this
 * order; ids rustls lacks are skipped.
 * Errors: RTLS_CONF_NO_CIPHER_SUITES if none remains (the setting is
 * unchanged then), RTLS_INTERNAL_NULL_ARGUMENT.
 * Phase: config time.
 */
RTLS_MUST_CHECK
rtls_result rtls_client_config_builder_set_cipher_suites(rtls_client_config_builder *b,
                                                         const uint16_t *ids,
                                                         size_t count);

/**
 * Build a configuration from the builder's current settings. On success
 * `*out` is a new configuration owned by the caller (rtls_client_config_free);
 * connections hold their own references; the builder stays usable.
 * Errors: RTLS_CONF_NO_TRUST_ANCHORS, RTLS_CONF_NO_CIPHER_SUITES (none for
 * the enabled versions), RTLS_CONF_UNSUPPORTED_VERSION,
 * RTLS_INTERNAL_NULL_ARGUMENT.
 * Phase: config time.
 */
RTLS_MUST_CHECK
rtls_result rtls_client_config_build(const rtls_client_config_builder *b,
                                     const rtls_client_config **out);

/**
 * Release the caller's reference to a configuration. Connections made with
 * it keep it alive as long as they need it. NULL is ignored.
 * Phase: config time (or a cleanup of the pool owning the configuration).
 */
void rtls_client_config_free(const rtls_client_config *cfg);

/**
 * A builder with rustls' defaults: TLS 1.2 + 1.3, all implemented suites
 * in rustls' order, the client's suite order honoured, no keys, rustls'
 * session cache, no tickets. On success `*out` is a new builder owned by
 * the caller: free it with rtls_server_config_builder_free; building does
 * not consume it.
 * Errors: RTLS_INTERNAL_NULL_ARGUMENT (`out` NULL).
 * Phase: config time.
 */
RTLS_MUST_CHECK rtls_result rtls_server_config_builder_new(rtls_server_config_builder **out);

/**
 * Free a builder; NULL is ignored. Configurations built from it are not
 * affected.
 * Phase: config time.
 */
void rtls_server_config_builder_free(rtls_server_config_builder *b);

/**
 * Append a key (tried in the order added: the first one the client's
 * signature schemes and the shared cipher suites allow is presented). The
 * builder keeps its own reference; the caller still frees `key`.
 * Errors: RTLS_INTERNAL_NULL_ARGUMENT (`b` or `key` NULL).
 * Phase: config time.
 */
RTLS_MUST_CHECK
rtls_result rtls_server_config_builder_add_certified_key(rtls_server_config_builder *b,
                                                         const rtls_certified_key *key);

/**
 * Minimum version: RTLS_TLS12 or RTLS_TLS13 (IANA numbers; lower values
 * mean TLS 1.2, as rustls has nothing older).
 * Errors: RTLS_CONF_UNSUPPORTED_VERSION above TLS 1.3 (the setting is
 * unchanged then), RTLS_INTERNAL_NULL_ARGUMENT.
 * Phase: config time.
 */
RTLS_MUST_CHECK
rtls_result rtls_server_config_builder_set_min_version(rtls_server_config_builder *b,
                                                       uint16_t version);

/**
 * Exactly these suites (`count` IANA ids at `ids`) in this preference
 * order; ids rustls lacks are skipped.
 * Errors: RTLS_CONF_NO_CIPHER_SUITES if none remains (the setting is
 * unchanged then), RTLS_INTERNAL_NULL_ARGUMENT.
 * Phase: config time.
 */
RTLS_MUST_CHECK
rtls_result rtls_server_config_builder_set_cipher_suites(rtls_server_config_builder *b,
                                                         const uint16_t *ids,
                                                         size_t count);

/**
 * true: the server's suite order decides; false (default): the client's.
 * Errors: RTLS_INTERNAL_NULL_ARGUMENT.
 * Phase: config time.
 */
RTLS_MUST_CHECK
rtls_result rtls_server_config_builder_set_ignore_client_order(rtls_server_config_builder *b,
                                                               bool ignore);

/**
 * Keep stateful sessions of configurations built from now on in the store
 * behind `put`/`get` instead of rustls' default, a memory cache of 256
 * sessions private to each configuration and process. put and get both
 * NULL: keep no stateful sessions at all (TLS 1.2 then resumes by ticket
 * only, TLS 1.3 without a ticketer does not resume).
 *
 * The store is outside rtls (mod_tls: Apache's socache, shared by all
 * children), reached through the two callbacks (rtls_session_put_fn,
 * rtls_session_get_fn: what they must do is said there). rustls stores
 * TLS 1.2 sessions under their session id and, when no ticketer is set,
 * TLS 1.3 sessions under the ticket id it hands the client; a TLS 1.3
 * session is taken out as it is used (single use, RFC 8446 8.1). Keys are
 * random, so one store can serve several configurations, but give each TLS
 * setup its own namespace (e.g. through userdata) so sessions never cross
 * setups. The store decides how long an entry lives: rustls resumes any
 * session handed back to it (it checks only cipher suite, SNI and extended
 * master secret), so give entries a bounded lifetime (mod_ssl: 300 s).
 *
 * userdata is passed to every call, from any thread; it must stay valid,
 * and the callbacks callable, until every configuration built with it, and
 * every connection using one, is freed.
 * Errors: RTLS_INTERNAL_NULL_ARGUMENT (b NULL, or one of put/get NULL and
 * the other not).
 * Phase: config time.
 */
RTLS_MUST_CHECK
rtls_result rtls_server_config_builder_set_session_store(rtls_server_config_builder *b,
                                                         rtls_session_put_fn put,
                                                         rtls_session_get_fn get,
                                                         void *userdata);

/**
 * Issue and accept tickets made by t in configurations built from now on
 * (the builder keeps its own reference; the caller still frees t). NULL:
 * no tickets (the default). With a ticketer, TLS 1.3 resumes by ticket
 * only and the session store serves TLS 1.2 session ids (clients that ask
 * for a ticket get one and a session id).
 * Errors: RTLS_INTERNAL_NULL_ARGUMENT (b NULL).
 * Phase: config time.
 */
RTLS_MUST_CHECK
rtls_result rtls_server_config_builder_set_ticketer(rtls_server_config_builder *b,
                                                    const rtls_ticketer *t);

/**
 * Ask clients for certificates in configurations built from now on:
 * `mode` RTLS_CLIENT_AUTH_NONE (the default; `auth` may be NULL),
 * RTLS_CLIENT_AUTH_OPTIONAL or RTLS_CLIENT_AUTH_REQUIRED, verified against
 * the CAs and CRLs of `auth` (the builder keeps a copy; the caller still
 * frees `auth`). The CAs' subjects are sent as hints in the
 * CertificateRequest. A client without a certificate fails the handshake
 * with `required` (TLS 1.3 alert certificate_required); an invalid
 * certificate fails it with either (bad_certificate, unknown_ca,
 * certificate_revoked, certificate_expired... as rustls maps the cause).
 * Errors: RTLS_CONF_NO_CLIENT_CA (optional/required without any CA; the
 * setting is unchanged then), RTLS_CONF_ERROR (unknown mode),
 * RTLS_INTERNAL_NULL_ARGUMENT.
 * Phase: config time.
 */
RTLS_MUST_CHECK
rtls_result rtls_server_config_builder_set_client_auth(rtls_server_config_builder *b,
                                                       const rtls_client_auth *auth,
                                                       uint32_t mode);

/**
 * Build a configuration from the builder's current settings. On success
 * `*out` is a new configuration owned by the caller (rtls_server_config_free);
 * connections hold their own references; the builder stays usable.
 * Errors: RTLS_CONF_NO_CERTIFIED_KEY, RTLS_CONF_NO_CIPHER_SUITES (none for
 * the enabled versions), RTLS_CONF_UNSUPPORTED_VERSION,
 * RTLS_INTERNAL_NULL_ARGUMENT.
 * Phase: config time.
 */
RTLS_MUST_CHECK
rtls_result rtls_server_config_build(const rtls_server_config_builder *b,
                                     const rtls_server_config **out);

/**
 * Release the caller's reference to a configuration. Connections bound to
 * it keep it alive as long as they need it. NULL is ignored.
 * Phase: config time (or a cleanup of the pool owning the configuration).
 */
void rtls_server_config_free(const rtls_server_config *cfg);

/**
 * The cipher suites rustls implements, in its default preference order:
 * their count (see rtls_supported_cipher_suite_id).
 * Phase: any time.
 */
size_t rtls_supported_cipher_suite_count(void);

/**
 * The IANA id of implemented suite `index` (in rustls' default preference
 * order), 0 past the end.
 * Phase: any time.
 */
uint16_t rtls_supported_cipher_suite_id(size_t index);

/**
 * Protocol version a suite (IANA id) belongs to (RTLS_TLS12/RTLS_TLS13), 0
 * when rustls does not implement the suite.
 * Phase: any time.
 */
uint16_t rtls_cipher_suite_version(uint16_t id);

/**
 * A server connection waiting for the ClientHello. On success `*out` is a
 * new connection owned by the caller: free it with rtls_conn_free.
 * Errors: RTLS_INTERNAL_NULL_ARGUMENT (`out` NULL).
 * Phase: per connection.
 */
RTLS_MUST_CHECK rtls_result rtls_conn_server_new(rtls_conn **out);

/**
 * A client connection with `config` to `server_name` (`server_name_len`
 * bytes of a DNS name or an IP address in text form, read during the
 * call), offering the ALPN protocols of `alpn_wire` (`alpn_len` bytes: each
 * name preceded by its length byte, e.g. "\x02h2\x08http/1.1"; NULL or
 * empty for none). SNI is sent for a DNS name, never for an IP address; the
 * server's certificate must be valid for the name or address. The
 * ClientHello is ready at once (rtls_conn_wants_write, rtls_conn_write_tls):
 * the client speaks first. The connection keeps its own reference to the
 * configuration. On success `*out` is a new connection owned by the
 * caller: free it with rtls_conn_free.
 * Errors: RTLS_PEER_BAD_SERVER_NAME (not a valid DNS name or IP address; it
 * is the name given for the server, hence the peer category),
 * RTLS_CONF_ERROR (a malformed ALPN list), 4xxx (e.g.
 * RTLS_INTERNAL_NULL_ARGUMENT: `config` or `out` NULL).
 * Phase: per connection (mod_tls: per connection to a backend).
 */
RTLS_MUST_CHECK
rtls_result rtls_conn_client_new(const rtls_client_config *config,
                                 const uint8_t *server_name,
                                 size_t server_name_len,
                                 const uint8_t *alpn_wire,
                                 size_t alpn_len,
                                 rtls_conn **out);

/**
 * Free a connection, server or client; NULL is ignored.
 * Phase: per connection.
 */
void rtls_conn_free(rtls_conn *conn);

/**
 * Feed TLS bytes from the peer; `*out_n` = bytes taken, possibly fewer than
 * `len`: then process (rtls_conn_process), drain plaintext (rtls_conn_read),
 * and feed the rest.
 * Errors: RTLS_IO_BUFFER_FULL (read plaintext first),
 * RTLS_INTERNAL_WRONG_STATE (hello pending, or the connection failed),
 * RTLS_INTERNAL_NULL_ARGUMENT.
 * Phase: per connection.
 */
RTLS_MUST_CHECK
rtls_result rtls_conn_read_tls(rtls_conn *conn,
                               const uint8_t *buf,
                               size_t len,
                               size_t *out_n);

/**
 * The peer's TCP stream ended: no more TLS bytes will come. Afterwards
 * rtls_conn_read reports RTLS_IO_UNCLEAN_EOF unless a close_notify arrived
 * first. While a hello is pending, or after the connection failed, this
 * does nothing and returns RTLS_OK.
 * Errors: RTLS_INTERNAL_NULL_ARGUMENT.
 * Phase: per connection.
 */
RTLS_MUST_CHECK rtls_result rtls_conn_read_tls_eof(rtls_conn *conn);

/**
 * Process what was fed: notice the ClientHello while accepting (up to 64
 * records per call; see rtls_conn_has_hello), then drive the handshake and
 * decrypt. `*out_plaintext` = plaintext bytes readable now (rtls_conn_read),
 * `*out_tls` = TLS bytes waiting to be sent (rtls_conn_write_tls),
 * `*out_events` = RTLS_EVENT_* bits (any may be NULL). Unlike other
 * functions it writes them when processing fails too (plaintext 0, no
 * events). On a 1xxx error, rtls_conn_error_text() has the detail and an
 * alert for the peer may wait in rtls_conn_write_tls().
 * Errors: 1xxx (the peer), RTLS_INTERNAL_CRYPTO, RTLS_INTERNAL_WRONG_STATE
 * (the connection failed before), RTLS_INTERNAL_NULL_ARGUMENT.
 * Phase: per connection.
 */
RTLS_MUST_CHECK
rtls_result rtls_conn_process(rtls_conn *conn,
                              size_t *out_plaintext,
                              size_t *out_tls,
                              uint32_t *out_events);

/**
 * True once a complete ClientHello waits for rtls_conn_accept/_reject;
 * false for NULL.
 * Phase: per connection.
 */
bool rtls_conn_has_hello(const rtls_conn *conn);

/**
 * SNI host name (lower case, not NUL-terminated) in `*out`, `*out_len`: of
 * a server connection, the one in the client's hello (from the hello on);
 * of a client connection, the one it sends (from its creation). Valid
 * until the connection is freed.
 * Errors: RTLS_IO_NOT_FOUND if none was sent (a client connection to an
 * IP address), RTLS_INTERNAL_NULL_ARGUMENT.
 * Phase: per connection.
 */
RTLS_MUST_CHECK
rtls_result rtls_conn_server_name(const rtls_conn *conn,
                                  const uint8_t **out,
                                  size_t *out_len);

/**
 * ALPN protocol `index` the client offered, in its order, in `*out`,
 * `*out_len`; the bytes belong to the connection and are valid until
 * rtls_conn_accept/_reject.
 * Errors: RTLS_IO_NOT_FOUND past the end or without ALPN,
 * RTLS_INTERNAL_WRONG_STATE when no hello is pending,
 * RTLS_INTERNAL_NULL_ARGUMENT.
 * Phase: per connection.
 */
RTLS_MUST_CHECK
rtls_result rtls_conn_hello_alpn(const rtls_conn *conn,
                                 size_t index,
                                 const uint8_t **out,
                                 size_t *out_len);

/**
 * Bind to `config` and continue the handshake, answering ALPN with exactly
 * `alpn` (`alpn_len` bytes, one of the protocols the client offered; NULL:
 * no ALPN answer). The connection keeps its own reference to `config`. On
 * error (1xxx: nothing in common with the client) an alert waits in
 * rtls_conn_write_tls and the connection is done: unusable except for
 * rtls_conn_write_tls.
 * Errors: 1xxx, RTLS_INTERNAL_WRONG_STATE (no hello pending),
 * RTLS_INTERNAL_NULL_ARGUMENT.
 * Phase: per connection.
 */
RTLS_MUST_CHECK
rtls_result rtls_conn_accept(rtls_conn *conn,
                             const rtls_server_config *config,
                             const uint8_t *alpn,
                             size_t alpn_len);

/**
 * Refuse the hello with a fatal alert (`description`: RTLS_ALERT_*, or any
 * TLS alert description) to send next with rtls_conn_write_tls. The
 * connection is unusable afterwards.
 * Errors: RTLS_INTERNAL_WRONG_STATE (past the hello, or a client
 * connection), RTLS_INTERNAL_NULL_ARGUMENT.
 * Phase: per connection.
 */
RTLS_MUST_CHECK rtls_result rtls_conn_reject(rtls_conn *conn, uint8_t description);

/**
 * Hand all pending TLS bytes to `cb` (called once per TLS record, or more),
 * in order, with `userdata`; `*out_n` = total.
 * Errors: RTLS_IO_CALLBACK_FAILED: `*out_n` = what `cb` took before it
 * failed (written on this failure too); that is not handed over again, the
 * rest is. RTLS_INTERNAL_NULL_ARGUMENT (`conn` or `cb` NULL).
 * Phase: per connection.
 */
RTLS_MUST_CHECK
rtls_result rtls_conn_write_tls(rtls_conn *conn,
                                rtls_write_fn cb,
                                void *userdata,
                                size_t *out_n);

/**
 * Copy up to `len` decrypted bytes into `buf`; `*out_n` = count.
 * Errors: RTLS_IO_WOULD_BLOCK (nothing decrypted yet: feed more),
 * RTLS_IO_EOF (close_notify seen, all read), RTLS_IO_UNCLEAN_EOF (stream
 * ended without close_notify), RTLS_INTERNAL_WRONG_STATE (not bound yet),
 * RTLS_INTERNAL_NULL_ARGUMENT.
 * Phase: per connection.
 */
RTLS_MUST_CHECK
rtls_result rtls_conn_read(rtls_conn *conn,
                           uint8_t *buf,
                           size_t len,
                           size_t *out_n);

/**
 * Encrypt `len` plaintext bytes from `buf`; `*out_n` = bytes taken (fewer
 * when rustls' outgoing buffer is full: write TLS out with
 * rtls_conn_write_tls, then retry). Data written during the handshake is
 * sent once it completes.
 * Errors: RTLS_INTERNAL_WRONG_STATE (not bound yet),
 * RTLS_INTERNAL_NULL_ARGUMENT.
 * Phase: per connection.
 */
RTLS_MUST_CHECK
rtls_result rtls_conn_write(rtls_conn *conn,
                            const uint8_t *buf,
                            size_t len,
                            size_t *out_n);

/**
 * Queue close_notify (send it with rtls_conn_write_tls).
 * Errors: RTLS_INTERNAL_WRONG_STATE (not bound), RTLS_INTERNAL_NULL_ARGUMENT.
 * Phase: per connection.
 */
RTLS_MUST_CHECK rtls_result rtls_conn_send_close_notify(rtls_conn *conn);

/**
 * True when the handshake resumed an earlier session (TLS 1.2 session id or
 * ticket, TLS 1.3 PSK); false for full handshakes, before binding and for
 * NULL. Final once the handshake is complete (TLS 1.2: once
 * rtls_conn_accept returned; TLS 1.3 after a HelloRetryRequest: with the
 * second ClientHello).
 * Phase: per connection.
 */
bool rtls_conn_session_resumed(const rtls_conn *conn);

/**
 * True while the handshake is not complete (also before binding, and for
 * NULL).
 * Phase: per connection.
 */
bool rtls_conn_is_handshaking(const rtls_conn *conn);

/**
 * True when TLS bytes wait to be sent (rtls_conn_write_tls); false for NULL.
 * Phase: per connection.
 */
bool rtls_conn_wants_write(const rtls_conn *conn);

/**
 * After the handshake: the negotiated protocol version, RTLS_TLS12 or
 * RTLS_TLS13 (0 before it is known, and for NULL).
 * Phase: per connection.
 */
uint16_t rtls_conn_protocol_version(const rtls_conn *conn);

/**
 * After the handshake: the negotiated suite's IANA id (0 before it is
 * known, and for NULL).
 * Phase: per connection.
 */
uint16_t rtls_conn_cipher_suite(const rtls_conn *conn);

/**
 * Negotiated ALPN protocol in `*out`, `*out_len`; valid until the
 * connection is freed.
 * Errors: RTLS_IO_NOT_FOUND (none negotiated), RTLS_INTERNAL_NULL_ARGUMENT.
 * Phase: per connection.
 */
RTLS_MUST_CHECK
rtls_result rtls_conn_alpn_protocol(const rtls_conn *conn,
                                    const uint8_t **out,
                                    size_t *out_len);

/**
 * After the handshake: certificate `index` of the chain the peer
 * presented (0 = its own certificate, then the intermediates as sent), as
 * DER in `*out`, `*out_len`; valid until the connection is freed. On a
 * server, a resumed session gives the chain of the session's original
 * handshake (rustls keeps it in the session).
 * Errors: RTLS_IO_NOT_FOUND (no certificate presented, or `index` past the
 * end), RTLS_INTERNAL_NULL_ARGUMENT.
 * Phase: per connection.
 */
RTLS_MUST_CHECK
rtls_result rtls_conn_peer_cert_der(const rtls_conn *conn,
                                    size_t index,
                                    const uint8_t **out,
                                    size_t *out_len);

/**
 * Index of the key presented to the client, in the configuration's key
 * order (the order added to its builder); -1 if none was chosen yet, for a
 * client connection, and for NULL.
 * Phase: per connection.
 */
int32_t rtls_conn_certified_key_index(const rtls_conn *conn);

/**
 * Copy the last error's text (rustls' words) into `buf` (NUL-terminated,
 * at most `len` bytes incl. NUL: longer texts are cut; nothing for `len`
 * 0); `*out_n` = length of the text copied, without the NUL. Empty when
 * there was no error.
 * Errors: RTLS_INTERNAL_NULL_ARGUMENT.
 * Phase: per connection.
 */
rtls_result rtls_conn_error_text(const rtls_conn *conn, char *buf, size_t len, size_t *out_n);

/**
 * A short English description of a result code (an rtls_result, passed as
 * an unsigned number): static, NUL-terminated, never NULL; "unknown result
 * code" for a number that is not one.
 * Phase: any time.
 */
const char *rtls_result_text(uint32_t rv);

/**
 * Staple `der` (`der_len` bytes, a DER OCSPResponse as the responder sent
 * it; rtls does not parse it) for the key at `key_index` of the server
 * configuration this connection is about to bind to, in the order keys
 * were added to its builder. `der` is copied during the call. Calling again
 * for the same index replaces the response; `der_len` 0 removes it.
 * Call between RTLS_EVENT_HELLO and rtls_conn_accept; rustls sends the
 * response only to clients that asked for one.
 * A `key_index` of 64 or more is ignored (RTLS_OK, nothing stapled).
 * Errors: RTLS_INTERNAL_WRONG_STATE (no hello waiting: already bound, or a
 * client connection), RTLS_INTERNAL_NULL_ARGUMENT (`conn` NULL, or `der`
 * NULL with `der_len` > 0).
 * Phase: per connection (the hello).
 */
RTLS_MUST_CHECK
rtls_result rtls_conn_set_ocsp(rtls_conn *conn,
                               size_t key_index,
                               const uint8_t *der,
                               size_t der_len);

/**
 * Session tickets (TLS 1.2 tickets, TLS 1.3 stateless resumption) that every
 * process holding the same secret and context can decrypt: the parent makes
 * the secret once before forking (random, or read from a key file that
 * several servers share), every child builds its ticketer from it. No
 * process stores or rotates keys: the key of a time slot is derived,
 *   slot      = unix time / lifetime_secs
 *   key(slot) = HKDF-SHA256(salt = context, ikm = secret,
 *                           info = "rtls ticket key v1" || slot as u64 BE)
 * and a ticket is slot (8 bytes BE) || random nonce (12 bytes) ||
 * ChaCha20-Poly1305(key(slot), aad = slot bytes, session). Tickets are made
 * with the current slot's key and accepted while their slot or the one after
 * it is current: a ticket stays valid for lifetime_secs at least (what
 * clients are told) and 2 * lifetime_secs at most. Servers sharing a
 * secret need clocks that agree to well within lifetime_secs (a ticket
 * from a slot that has not begun here is refused). Forward secrecy: anyone
 * who learns the secret can decrypt every ticket (and so the sessions) made
 * with it, past ones included; make a new secret regularly (e.g. at each
 * restart) unless servers must share it.
 * context separates TLS setups: tickets made with one context never
 * decrypt with another (a full handshake follows), so pass an identity of
 * the setup (certificates and TLS settings) that may resume sessions.
 *
 * secret: at least 32 bytes of high entropy. context: any bytes, may be
 * empty. Both are read during the call only. lifetime_secs: 60 to 86400.
 * On success `*out` is a new ticketer owned by the caller (rtls_ticketer_free);
 * it is immutable and may be shared by any number of builders and threads.
 * Errors: RTLS_CONF_BAD_TICKET_KEY (secret shorter than 32 bytes),
 * RTLS_CONF_BAD_TICKET_LIFETIME, RTLS_INTERNAL_NULL_ARGUMENT.
 * Phase: config time.
 */
RTLS_MUST_CHECK
rtls_result rtls_ticketer_new(const uint8_t *secret,
                              size_t secret_len,
                              const uint8_t *context,
                              size_t context_len,
                              uint32_t lifetime_secs,
                              const rtls_ticketer **out);

/**
 * Release the caller's reference: builders and configurations using the
 * ticketer keep it alive. NULL is ignored.
 * Phase: config time (or a cleanup of the pool owning the ticketer).
 */
void rtls_ticketer_free(const rtls_ticketer *t);

/**
 * The certificate variables mod_ssl sets for a certificate, with mod_ssl's
 * names and values (OpenSSL's formats), computed from its DER (`der_len`
 * bytes at `der`; for a server certificate: rtls_certified_key_cert_der).
 * Parses and formats the whole certificate on every call: call it once per
 * certificate at configuration time and keep the results. cb is called
 * once per variable, with `userdata`, in this order:
 *   M_VERSION    "3" for a v3 certificate
 *   M_SERIAL     upper-case hex, "-" when negative, a backslash and a
 *                newline after every 35 bytes (as openssl x509 -serial)
 *   V_START      "Nov  7 02:00:00 2026 GMT" (notBefore)
 *   V_END        the same for notAfter
 *   S_DN         subject as RFC 2253 text: "CN=www.example.org,O=Example,C=DE"
 *   S_DN_<a>     each subject attribute <a> of C ST L O OU CN T I G S D UID
 *                Email, in certificate order; from the second attribute of
 *                a kind on: S_DN_<a>_1, S_DN_<a>_2, ... (as mod_ssl exports
 *                them; mod_ssl's lookups also answer S_DN_<a>_0 for S_DN_<a>
 *                and S_DN_SP for S_DN_ST: the caller maps those)
 *   I_DN, I_DN_<a>  the same for the issuer
 *   A_SIG        signature algorithm, OpenSSL's long name ("UNKNOWN" if none)
 *   A_KEY        public key algorithm, likewise
 *   SAN_Email_<n>, SAN_DNS_<n>  subjectAltName rfc822Name and dNSName
 *                entries, <n> from 0
 *   SAN_OTHER_msUPN_<n>  otherName entries of type msUPN
 *                (1.3.6.1.4.1.311.20.2.3) whose value is a UTF8String
 *   CERT         the certificate as PEM, ending in a newline
 * Variables whose text would be empty are left out (mod_ssl leaves them
 * unset). V_REMAIN depends on the time of the request and is not reported.
 * The certificate is checked completely before cb is first called.
 * Errors: RTLS_CONF_BAD_DER (not a DER X.509 certificate, or one RFC 5280
 * rules out: e.g. times not in "Z" form, invalid strings in names, duplicate
 * extensions, a malformed subjectAltName, OIDs over 586 bytes; cb was not
 * called),
 * RTLS_IO_CALLBACK_FAILED (cb returned non-zero; it is not called again),
 * RTLS_INTERNAL_NULL_ARGUMENT (der NULL with der_len > 0, or cb NULL).
 * Phase: config time.
 */
RTLS_MUST_CHECK
rtls_result rtls_x509_fields(const uint8_t *der,
                             size_t der_len,
                             rtls_x509_field_fn cb,
                             void *userdata);

/**
 * notAfter of the certificate `der_len` bytes at `der` in seconds since
 * 1970 into `*out` (for SSL_CLIENT_V_REMAIN, which depends on the time of
 * the request).
 * Errors: RTLS_CONF_BAD_DER (not a certificate, or its notAfter is not an
 * RFC 5280 time), RTLS_INTERNAL_NULL_ARGUMENT.
 * Phase: any time.
 */
RTLS_MUST_CHECK rtls_result rtls_x509_not_after(const uint8_t *der, size_t der_len, int64_t *out);

#ifdef __cplusplus
} // extern "C"
#endif // __cplusplus

#endif /* RTLS_H */
