/*
 * rtls.h: the C contract of the rtls crate, the thin binding mod_tls uses
 * to reach rustls (0.23.26). Everything here is implemented in Rust (rtls/src)
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
    RTLS_CONF_BAD_DER = 2012,
    RTLS_CONF_BAD_TICKET_KEY = 2013,
    RTLS_CONF_BAD_TICKET_LIFETIME = 2014,
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
/* What one rtls_conn_process step changed (bits of *out_events); each is
 * reported once, by the step in which it happened. */
#define RTLS_EVENT_HELLO 1u          /* a ClientHello waits for accept/reject */
#define RTLS_EVENT_HANDSHAKE_DONE 2u /* the handshake completed */
#define RTLS_EVENT_PEER_CLOSED 4u    /* close_notify arrived */
/* Process what was fed: notice the ClientHello while accepting (up to 64
 * records per call), then drive the handshake and decrypt. *out_plaintext =
 * plaintext bytes readable now, *out_tls = TLS bytes waiting to be sent,
 * *out_events = RTLS_EVENT_* bits (any may be NULL). On a 1xxx error,
 * rtls_conn_error_text() has the detail and an alert for the peer may wait
 * in rtls_conn_write_tls(). */
RTLS_MUST_CHECK rtls_result rtls_conn_process(rtls_conn *conn, size_t *out_plaintext, size_t *out_tls,
                                              uint32_t *out_events);

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
 * and return 0, or non-zero on failure (then it took nothing of buf). It
 * must not call into the same connection. */
typedef int (*rtls_write_fn)(void *userdata, const uint8_t *buf, size_t len);
/* Hand all pending TLS bytes to cb, in order; *out_n = total.
 * Errors: RTLS_IO_CALLBACK_FAILED: *out_n = what cb took before it failed;
 * that is not handed over again, the rest is. */
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
 * Final once the handshake is complete (TLS 1.2: once rtls_conn_accept
 * returned; TLS 1.3 after a HelloRetryRequest: with the second ClientHello). */
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

/* ---- X.509 certificate fields (config time) --------------------------- */

/* Receives one certificate variable: `name` is its name without the
 * "SSL_SERVER_" or "SSL_CLIENT_" prefix, `value` its text (UTF-8). Neither
 * is NUL-terminated; both are valid during the call only. Return 0 to go
 * on, anything else to stop. */
typedef int (*rtls_x509_field_fn)(void *userdata, const char *name, size_t name_len, const char *value,
                                  size_t value_len);
/* The certificate variables mod_ssl sets for a certificate, with mod_ssl's
 * names and values (OpenSSL's formats), computed from its DER (for a server
 * certificate: rtls_certified_key_cert_der). Parses and formats the whole
 * certificate on every call: call it once per certificate at configuration
 * time and keep the results. cb is called once per variable, in this order:
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
 *   CERT         the certificate as PEM, ending in a newline
 * Variables whose text would be empty are left out (mod_ssl leaves them
 * unset). V_REMAIN depends on the time of the request and is not reported.
 * The certificate is checked completely before cb is first called.
 * Errors: RTLS_CONF_BAD_DER (not a DER X.509 certificate, or one RFC 5280
 * rules out: e.g. times not in "Z" form, invalid strings in names, duplicate
 * extensions, a malformed subjectAltName, OIDs over 586 bytes; cb was not
 * called),
 * RTLS_IO_CALLBACK_FAILED (cb returned non-zero; it is not called again),
 * RTLS_INTERNAL_NULL_ARGUMENT (der NULL with der_len > 0, or cb NULL). */
RTLS_MUST_CHECK rtls_result rtls_x509_fields(const uint8_t *der, size_t der_len, rtls_x509_field_fn cb,
                                             void *userdata);

/* ---- session resumption: session store and tickets (config time) ------ */

/* A stateful session store outside rtls (mod_tls: Apache's socache, shared
 * by all children), reached through two callbacks. rustls stores TLS 1.2
 * sessions under their session id and, when no ticketer is set, TLS 1.3
 * sessions under the ticket id it hands the client. The callbacks run
 * inside rtls_conn_accept and rtls_conn_process, on whichever thread drives
 * the connection, concurrently for many connections: they must be
 * thread-safe, must not call rtls functions for the same connection, and
 * should not block for long (a handshake waits). Keys, values and buf are
 * valid during the call only. Keys are binary, 1 to RTLS_SESSION_MAX_KEY_LEN
 * bytes (other client-supplied ids are misses without a call); values are
 * binary, at most RTLS_SESSION_MAX_VALUE_LEN bytes (rustls' sessions are a
 * few hundred bytes; a longer one is not stored). Keys are random, so one
 * store can serve several configurations, but give each TLS setup its own
 * namespace (e.g. through userdata) so sessions never cross setups.
 * The store decides how long an entry lives: rustls resumes any session
 * handed back to it (it checks only cipher suite, SNI and extended master
 * secret), so give entries a bounded lifetime (mod_ssl: 300 s).
 *
 * put: store value under key, replacing an older entry. Return 0 when
 *   stored, non-zero otherwise (a failure only costs the resumption).
 * get: look key up. Return 0 when found with value_len <= buf_len, after
 *   copying the value into buf and setting *out_len = value_len; non-zero
 *   for a miss, an error, or a longer value (buf_len is always
 *   RTLS_SESSION_MAX_VALUE_LEN). remove != 0: the entry is single-use (a
 *   TLS 1.3 session): remove it as it is found, so that no other get,
 *   concurrent or later, in this or another process, returns it again. */
#define RTLS_SESSION_MAX_KEY_LEN 64
#define RTLS_SESSION_MAX_VALUE_LEN 16384
typedef int (*rtls_session_put_fn)(void *userdata, const uint8_t *key, size_t key_len, const uint8_t *value,
                                   size_t value_len);
typedef int (*rtls_session_get_fn)(void *userdata, const uint8_t *key, size_t key_len, int remove, uint8_t *buf,
                                   size_t buf_len, size_t *out_len);
/* Keep stateful sessions of configurations built from now on in the store
 * behind put/get instead of rustls' default, a memory cache of 256 sessions
 * private to each configuration and process. put and get both NULL: keep
 * no stateful sessions at all (TLS 1.2 then resumes by ticket only, TLS 1.3
 * without a ticketer does not resume). userdata is passed to every call,
 * from any thread; it must stay valid, and the callbacks callable, until
 * every configuration built with it, and every connection using one, is
 * freed. Errors: RTLS_INTERNAL_NULL_ARGUMENT (b NULL, or one of put/get
 * NULL and the other not). */
RTLS_MUST_CHECK rtls_result rtls_server_config_builder_set_session_store(rtls_server_config_builder *b,
                                                                         rtls_session_put_fn put,
                                                                         rtls_session_get_fn get, void *userdata);

/* Session tickets (TLS 1.2 tickets, TLS 1.3 stateless resumption) that every
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
 * secret: at least 32 bytes of high entropy. context: any bytes, may be
 * empty. Both are read during the call only. lifetime_secs: 60 to 86400.
 * On success *out is a new ticketer owned by the caller (rtls_ticketer_free);
 * it is immutable and may be shared by any number of builders and threads.
 * Errors: RTLS_CONF_BAD_TICKET_KEY (secret shorter than 32 bytes),
 * RTLS_CONF_BAD_TICKET_LIFETIME, RTLS_INTERNAL_NULL_ARGUMENT. */
typedef struct rtls_ticketer rtls_ticketer;
RTLS_MUST_CHECK rtls_result rtls_ticketer_new(const uint8_t *secret, size_t secret_len, const uint8_t *context,
                                              size_t context_len, uint32_t lifetime_secs,
                                              const rtls_ticketer **out);
/* Configurations using the ticketer keep it alive. NULL is ignored. */
void rtls_ticketer_free(const rtls_ticketer *t);
/* Issue and accept tickets made by t in configurations built from now on
 * (the builder keeps its own reference; the caller still frees t). NULL:
 * no tickets (the default). With a ticketer, TLS 1.3 resumes by ticket
 * only and the session store serves TLS 1.2 session ids (clients that ask
 * for a ticket get one and a session id).
 * Errors: RTLS_INTERNAL_NULL_ARGUMENT (b NULL). */
RTLS_MUST_CHECK rtls_result rtls_server_config_builder_set_ticketer(rtls_server_config_builder *b,
                                                                    const rtls_ticketer *t);

#ifdef __cplusplus
}
#endif

#endif /* RTLS_H */
