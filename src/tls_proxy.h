/* tls_proxy.h: outgoing TLS, mod_tls as the TLS client of mod_proxy's
 * backend connections (mod_proxy_http, mod_proxy_http2, websocket tunnels).
 *
 * Configuration: the TLSProxy* directives live in the per-directory record
 * (tls_conf_dir_t.proxy), so that the server config, virtual hosts and
 * <Proxy> sections can set them; a <Proxy> section inherits the server's
 * values and may override each. In post_config every distinct resolved
 * setting (CA, lowest version, suites, machine certificates) gets one TLS
 * client setup with one rustls client configuration, shared by all
 * connections of the child (rustls' client session cache lives in it, so
 * the second connection to a backend resumes). The setups of <Proxy>
 * sections are found through mod_proxy's section_post_config hook.
 *
 * Connections: the ssl_bind_outgoing hook takes a backend connection when
 * its scope says TLSProxyEngine on (otherwise mod_ssl may take it); the
 * filters go on in pre_connection; the rtls client connection is made on
 * the first filter call, when mod_proxy has set the connection notes
 * `proxy-request-hostname` (verified name, SNI for a DNS name, none for an
 * IP address) and `proxy-request-alpn-protos` (ALPN offered). A failed
 * handshake is logged once at warn level, naming the backend, the reason
 * and the remedy, and aborts the connection (mod_proxy answers 502).
 */
#ifndef TLS_PROXY_H
#define TLS_PROXY_H

#include <httpd.h>
#include <http_config.h>

#include "tls_util.h"

/* The TLSProxy* settings of one scope (per-directory record). Values
 * start UNSET (NULL, TLS_UNSET) and are merged by tls_proxy_conf_merge. */
typedef struct tls_proxy_conf_t {
    int engine;                           /* TLSProxyEngine */
    const char *ca;                       /* TLSProxyCA: absolute path; NULL: the system store */
    int min_version;                      /* TLSProxyProtocol: IANA version, 0: rustls' default */
    apr_array_header_t *ciphers_prefer;   /* apr_uint16_t; NULL: unset, empty: 'default' */
    apr_array_header_t *ciphers_suppress; /* apr_uint16_t; NULL: unset, empty: 'none' */
    apr_array_header_t *machine_certs;    /* tls_cert_t*; NULL: unset */
} tls_proxy_conf_t;

/* Config time: a record with everything unset, and the merge of two
 * (add's settings win, each on its own). Both return memory of `p`. */
tls_proxy_conf_t *tls_proxy_conf_create(apr_pool_t *p);
tls_proxy_conf_t *tls_proxy_conf_merge(apr_pool_t *p, const tls_proxy_conf_t *base, const tls_proxy_conf_t *add);

/* Directive handlers (the table is in tls_conf.c). Config time; each
 * returns NULL or a message naming the directive. */
const char *tls_proxy_cmd_engine(cmd_parms *cmd, void *dc, const char *arg);
const char *tls_proxy_cmd_ca(cmd_parms *cmd, void *dc, const char *arg);
const char *tls_proxy_cmd_protocol(cmd_parms *cmd, void *dc, const char *arg);
const char *tls_proxy_cmd_ciphers_prefer(cmd_parms *cmd, void *dc, int argc, char *const argv[]);
const char *tls_proxy_cmd_ciphers_suppress(cmd_parms *cmd, void *dc, int argc, char *const argv[]);
const char *tls_proxy_cmd_machine_cert(cmd_parms *cmd, void *dc, const char *cert_file, const char *key_file);

/* post_config (after tls_setup_post_config): build the client setups of
 * every server's own scope. Returns OK, or HTTP_INTERNAL_SERVER_ERROR
 * after logging what is wrong (a CA that gives no trust anchor, cipher
 * settings that leave nothing), which stops the start. */
TLS_MUST_CHECK int tls_proxy_post_config(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *base_server);

/* mod_proxy's optional section_post_config hook, for every <Proxy>
 * section of every server: build the client setup of the section merged
 * onto the server's scope. OK or HTTP_INTERNAL_SERVER_ERROR (logged). */
int tls_proxy_section_post_config(apr_pool_t *p, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s,
                                  ap_conf_vector_t *section_config);

/* ssl_bind_outgoing hook, per backend connection (maybe several times when
 * mod_proxy reuses it): OK when TLS is wanted (`enable_ssl`) and the scope
 * `dir_conf` (NULL: the server's) has TLSProxyEngine on, or when the
 * connection is already ours; DECLINED otherwise (mod_ssl may take it). */
int tls_proxy_bind_outgoing(conn_rec *c, ap_conf_vector_t *dir_conf, int enable_ssl);

/* pre_connection hook: put the filters on backend connections bound by
 * tls_proxy_bind_outgoing. Returns OK (DONE if that fails). */
int tls_proxy_pre_connection(conn_rec *c, void *csd);

#endif /* TLS_PROXY_H */
