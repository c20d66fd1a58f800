/*
 * rtls.h: the C contract of the rtls crate, the thin binding mod_tls uses
 * to reach rustls (0.20.8). Everything here is implemented in Rust (rtls/src)
 * and linked statically into mod_tls.so.
 *
 * Rules that hold for every function:
 * - No panic crosses this boundary: a panic inside is reported as
 *   RTLS_INTERNAL_PANIC, and a connection that panicked refuses further use.
 * - Out-parameters are written only on success.
 * - A buffer pointer is always followed by its length; NULL is accepted for
 *   a length of 0.
 * - Objects are created by *_new / *_build and released by the matching
 *   *_free, which accepts NULL. Certified keys and server configurations are
 *   reference counted inside: freeing the C handle never pulls an object
 *   from under a configuration or connection still using it.
 * - Certified keys and server configurations are immutable and may be used
 *   from any thread. A connection is used by one thread at a time.
 */
#ifndef RTLS_H
#define RTLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Result codes: stable numbers. The thousands digit is the category:
 * 1 = caused by the peer / the protocol (log at info or below),
 * 2 = configuration, 3 = I/O state (not errors as such), 4 = internal. */
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

#define RTLS_RESULT_CATEGORY(rv) ((unsigned)(rv) / 1000u)
#define RTLS_CATEGORY_PEER 1u
#define RTLS_CATEGORY_CONF 2u
#define RTLS_CATEGORY_IO 3u
#define RTLS_CATEGORY_INTERNAL 4u

/* TLS protocol versions (IANA numbers). */
#define RTLS_TLS12 0x0303
#define RTLS_TLS13 0x0304

/* TLS alert descriptions used with rtls_conn_reject(). */
#define RTLS_ALERT_HANDSHAKE_FAILURE 40
#define RTLS_ALERT_INTERNAL_ERROR 80
#define RTLS_ALERT_UNRECOGNIZED_NAME 112

#if defined(__GNUC__)
#define RTLS_MUST_CHECK __attribute__((warn_unused_result))
#else
#define RTLS_MUST_CHECK
#endif

typedef struct rtls_certified_key rtls_certified_key;
typedef struct rtls_server_config_builder rtls_server_config_builder;
typedef struct rtls_server_config rtls_server_config;
typedef struct rtls_conn rtls_conn;

/* ---- library ---------------------------------------------------------- */

/* "rtls/<version>/rustls/<version>": static, NUL-terminated, never NULL. */
const char *rtls_version(void);

/* A short English description of a result code: static, never NULL. */
const char *rtls_result_text(unsigned int rv);

/* The cipher suites rustls implements, in its default preference order:
 * count, then the IANA id of suite `index` (0 past the end). */
size_t rtls_supported_cipher_suite_count(void);
uint16_t rtls_supported_cipher_suite_id(size_t index);
/* Protocol version a suite belongs to (RTLS_TLS12/RTLS_TLS13), 0 when
 * rustls does not implement the suite. */
uint16_t rtls_cipher_suite_version(uint16_t id);

/* ---- certified keys (config time) ------------------------------------- */

/* Parse a certificate chain (PEM, leaf first) and its private key (PEM:
 * RSA PKCS#1, PKCS#8 or SEC1 EC; the first key found is used; key_pem may
 * be the same text as cert_pem) and check that the key belongs to the
 * leaf certificate. The buffers are read during the call only.
 * On success *out is a new key owned by the caller (rtls_certified_key_free).
 * Errors: RTLS_CONF_BAD_PEM, RTLS_CONF_NO_CERTIFICATE, RTLS_CONF_NO_KEY,
 * RTLS_CONF_ENCRYPTED_KEY, RTLS_CONF_UNSUPPORTED_KEY,
 * RTLS_CONF_BAD_CERTIFICATE, RTLS_CONF_KEY_MISMATCH. */
RTLS_MUST_CHECK rtls_result rtls_certified_key_new(const uint8_t *cert_pem, size_t cert_pem_len,
                                                   const uint8_t *key_pem, size_t key_pem_len,
                                                   const rtls_certified_key **out);
void rtls_certified_key_free(const rtls_certified_key *key);
/* Certificates in the chain, leaf included (0 for NULL). */
size_t rtls_certified_key_chain_len(const rtls_certified_key *key);
/* DER of chain certificate `index` (0 = leaf); the bytes belong to `key`.
 * Errors: RTLS_IO_NOT_FOUND past the end. */
RTLS_MUST_CHECK rtls_result rtls_certified_key_cert_der(const rtls_certified_key *key, size_t index,
                                                        const uint8_t **out_der, size_t *out_len);

/* ---- server configurations (config time) ------------------------------ */

/* A builder with rustls' defaults: TLS 1.2 + 1.3, all implemented suites
 * in rustls' order, the client's suite order honoured, no keys.
 * Free with rtls_server_config_builder_free; building does not consume it. */
RTLS_MUST_CHECK rtls_result rtls_server_config_builder_new(rtls_server_config_builder **out);
void rtls_server_config_builder_free(rtls_server_config_builder *b);
/* Append a key (tried in the order added: the first one the client's
 * signature schemes and the shared cipher suites allow is presented). The
 * builder keeps its own reference; the caller still frees `key`. */
RTLS_MUST_CHECK rtls_result rtls_server_config_builder_add_certified_key(rtls_server_config_builder *b,
                                                                         const rtls_certified_key *key);
/* Minimum version: RTLS_TLS12 or RTLS_TLS13 (lower values mean TLS 1.2).
 * Errors: RTLS_CONF_UNSUPPORTED_VERSION above TLS 1.3. */
RTLS_MUST_CHECK rtls_result rtls_server_config_builder_set_min_version(rtls_server_config_builder *b,
                                                                       uint16_t version);
/* Exactly these suites (IANA ids) in this preference order; ids rustls
 * lacks are skipped. Errors: RTLS_CONF_NO_CIPHER_SUITES if none remains. */
RTLS_MUST_CHECK rtls_result rtls_server_config_builder_set_cipher_suites(rtls_server_config_builder *b,
                                                                         const uint16_t *ids, size_t count);
/* true: the server's suite order decides; false (default): the client's. */
RTLS_MUST_CHECK rtls_result rtls_server_config_builder_set_ignore_client_order(rtls_server_config_builder *b,
                                                                               bool ignore);
/* Build. *out is a new configuration owned by the caller
 * (rtls_server_config_free); connections hold their own references.
 * Errors: RTLS_CONF_NO_CERTIFIED_KEY, RTLS_CONF_NO_CIPHER_SUITES (none for
 * the enabled versions), RTLS_CONF_UNSUPPORTED_VERSION. */
RTLS_MUST_CHECK rtls_result rtls_server_config_build(const rtls_server_config_builder *b,
                                                     const rtls_server_config **out);
void rtls_server_config_free(const rtls_server_config *config);

/* ---- connections (per connection, one thread at a time) --------------- */

/* A server connection waiting for the ClientHello. Free with rtls_conn_free. */
RTLS_MUST_CHECK rtls_result rtls_conn_server_new(rtls_conn **out);
void rtls_conn_free(rtls_conn *conn);

/* Feed TLS bytes from the peer; *out_n = bytes taken, possibly fewer than
 * len: then process, drain plaintext, and feed the rest.
 * Errors: RTLS_IO_BUFFER_FULL (read plaintext first),
 * RTLS_INTERNAL_WRONG_STATE (hello pending, or the connection failed). */
RTLS_MUST_CHECK rtls_result rtls_conn_read_tls(rtls_conn *conn, const uint8_t *buf, size_t len,
                                               size_t *out_n);
/* The peer's TCP stream ended: no more TLS bytes will come. */
RTLS_MUST_CHECK rtls_result rtls_conn_read_tls_eof(rtls_conn *conn);
/* Process what was fed: notice the ClientHello while accepting, then drive
 * the handshake and decrypt. *out_plaintext = plaintext bytes readable now,
 * *out_tls = TLS bytes waiting to be sent (either may be NULL). On a 1xxx
 * error, rtls_conn_error_text() has the detail and an alert for the peer
 * may wait in rtls_conn_write_tls(). */
RTLS_MUST_CHECK rtls_result rtls_conn_process(rtls_conn *conn, size_t *out_plaintext, size_t *out_tls);

/* True once a complete ClientHello waits for rtls_conn_accept/_reject. */
bool rtls_conn_has_hello(const rtls_conn *conn);
/* SNI host name from the hello (lower case, not NUL-terminated); valid
 * until the connection is freed. Errors: RTLS_IO_NOT_FOUND if none sent. */
RTLS_MUST_CHECK rtls_result rtls_conn_server_name(const rtls_conn *conn, const uint8_t **out, size_t *out_len);
/* ALPN protocol `index` the client offered, in its order; valid until
 * accept/reject. Errors: RTLS_IO_NOT_FOUND past the end or without ALPN,
 * RTLS_INTERNAL_WRONG_STATE when no hello is pending. */
RTLS_MUST_CHECK rtls_result rtls_conn_hello_alpn(const rtls_conn *conn, size_t index, const uint8_t **out,
                                                 size_t *out_len);
/* Bind to `config` and continue the handshake, answering ALPN with exactly
 * `alpn` (NULL: no ALPN answer). On error (1xxx: nothing in common with the
 * client) an alert waits in rtls_conn_write_tls and the connection is done. */
RTLS_MUST_CHECK rtls_result rtls_conn_accept(rtls_conn *conn, const rtls_server_config *config,
                                             const uint8_t *alpn, size_t alpn_len);
/* Refuse the hello with a fatal alert (RTLS_ALERT_*) to send next. */
RTLS_MUST_CHECK rtls_result rtls_conn_reject(rtls_conn *conn, uint8_t alert_description);

/* Receives TLS bytes to send; copy them (buf is valid during the call only)
 * and return 0, or non-zero on failure. */
typedef int (*rtls_write_fn)(void *userdata, const uint8_t *buf, size_t len);
/* Hand all pending TLS bytes to cb, in order; *out_n = total.
 * Errors: RTLS_IO_CALLBACK_FAILED. */
RTLS_MUST_CHECK rtls_result rtls_conn_write_tls(rtls_conn *conn, rtls_write_fn cb, void *userdata,
                                                size_t *out_n);

/* Copy up to len decrypted bytes into buf; *out_n = count.
 * Errors: RTLS_IO_WOULD_BLOCK (feed more), RTLS_IO_EOF (close_notify seen,
 * all read), RTLS_IO_UNCLEAN_EOF (stream ended without close_notify),
 * RTLS_INTERNAL_WRONG_STATE (not bound yet). */
RTLS_MUST_CHECK rtls_result rtls_conn_read(rtls_conn *conn, uint8_t *buf, size_t len, size_t *out_n);
/* Encrypt plaintext; *out_n = bytes taken (fewer when rustls' outgoing
 * buffer is full: write TLS out, then retry). */
RTLS_MUST_CHECK rtls_result rtls_conn_write(rtls_conn *conn, const uint8_t *buf, size_t len, size_t *out_n);
/* Queue close_notify (send it with rtls_conn_write_tls). */
RTLS_MUST_CHECK rtls_result rtls_conn_send_close_notify(rtls_conn *conn);

bool rtls_conn_is_handshaking(const rtls_conn *conn);
/* True when the handshake resumed an earlier session (TLS 1.2 session id or
 * ticket, TLS 1.3 PSK); false for full handshakes and before binding.
 * Known once rtls_conn_accept returned. */
bool rtls_conn_session_resumed(const rtls_conn *conn);
bool rtls_conn_wants_write(const rtls_conn *conn);
/* After the handshake: RTLS_TLS12/RTLS_TLS13 and the suite's IANA id (0
 * before they are known). */
uint16_t rtls_conn_protocol_version(const rtls_conn *conn);
uint16_t rtls_conn_cipher_suite(const rtls_conn *conn);
/* Negotiated ALPN protocol; valid until freed. Errors: RTLS_IO_NOT_FOUND. */
RTLS_MUST_CHECK rtls_result rtls_conn_alpn_protocol(const rtls_conn *conn, const uint8_t **out, size_t *out_len);
/* Index of the presented key in the configuration's key order, -1 if none. */
int32_t rtls_conn_certified_key_index(const rtls_conn *conn);
/* Copy the last error's text (NUL-terminated, at most len bytes incl. NUL);
 * *out_n = text length. Empty when there was no error. */
rtls_result rtls_conn_error_text(const rtls_conn *conn, char *buf, size_t len, size_t *out_n);

#ifdef __cplusplus
}
#endif

#endif /* RTLS_H */
