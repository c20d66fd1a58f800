/* tls_clientcert.h: client certificates of incoming connections.
 *
 * Directives TLSClientCertificate, TLSClientCA, TLSClientCRL and
 * TLSUserName (config time: files are read and checked when the directive
 * is read, so errors name the file and line); the verifier of each TLS
 * setup (post_config, tls_setup calls in); the SSL_CLIENT_* variables of a
 * connection (any thread, computed when asked for from the client's chain
 * that tls_core copies into the connection at the end of the handshake).
 */
#ifndef TLS_CLIENTCERT_H
#define TLS_CLIENTCERT_H

#include <httpd.h>
#include <http_config.h>

#include "rtls.h"
#include "tls_conf.h"
#include "tls_core.h"
#include "tls_util.h"

/* One file's contents. */
typedef struct tls_clientcert_blob_t {
    const char *file;
    const unsigned char *data;
    apr_size_t len;
} tls_clientcert_blob_t;

/* CA or CRL material of one directive: the file (or every file of the
 * directory) read at config time and kept in pconf, so that each TLS setup
 * builds its verifier from it and a graceful restart reads it afresh. */
typedef struct tls_clientcert_files_t {
    const char *path;            /* absolute, as configured */
    apr_array_header_t *blobs;   /* file contents (tls_clientcert_blob_t) in name order */
    const char *digest;          /* SHA-1 hex over all contents: part of the setup id */
    apr_uint64_t next_update;    /* CRLs: earliest nextUpdate (s since 1970), 0 none */
    const char *next_update_file; /* CRLs: the file with that earliest nextUpdate */
} tls_clientcert_files_t;

/* Directive handlers (config time, server config and virtual host). */
const char *tls_clientcert_cmd_certificate(cmd_parms *cmd, void *dc, const char *arg);
const char *tls_clientcert_cmd_ca(cmd_parms *cmd, void *dc, const char *arg);
const char *tls_clientcert_cmd_crl(cmd_parms *cmd, void *dc, const char *arg);
const char *tls_clientcert_cmd_user_name(cmd_parms *cmd, void *dc, const char *arg);

/* Create/merge helpers for the four settings of tls_conf_server_t: set
 * them UNSET, and merge `add` over `base` into `sc` (the default is
 * TLSClientCertificate none). Config time. */
void tls_clientcert_conf_init(tls_conf_server_t *sc);
void tls_clientcert_conf_merge(tls_conf_server_t *sc, const tls_conf_server_t *base, const tls_conf_server_t *add);

/* The client-certificate part of a TLS setup's identity ("" for none):
 * mode and the digests of the CA and CRL contents, so hosts with other
 * settings get another setup (421, no resumption across). post_config. */
const char *tls_clientcert_setup_id(apr_pool_t *p, const tls_conf_server_t *sc);

/* post_config: give builder `b` the client verifier of server s (nothing
 * for TLSClientCertificate none). Logs (with the server's name) and
 * returns an error for optional/required without TLSClientCA; warns once
 * per CRL file whose nextUpdate has passed (it is still used). */
TLS_MUST_CHECK rtls_result tls_clientcert_setup_builder(apr_pool_t *p, server_rec *s, const tls_conf_server_t *sc,
                                                    rtls_server_config_builder *b);

/* SSL_CLIENT_VERIFY of a connection past its handshake: "SUCCESS" when the
 * client presented a (verified) certificate, else "NONE". Static string. */
const char *tls_clientcert_verify(const tls_conn_t *cc);

/* Value of SSL_CLIENT_<x> (`name` is the whole variable name) for a
 * connection past its handshake, from pool p; NULL when unset or unknown.
 * Any thread (reads only the chain copied at handshake end). */
const char *tls_clientcert_var(apr_pool_t *p, const tls_conn_t *cc, const char *name);

/* access_checker hook: r->user from TLSUserName's variable when that has
 * a value (as mod_ssl's SSLUserName: early enough for Require expr on
 * REMOTE_USER, %u in the access log, REMOTE_USER in CGI). DECLINED. */
int tls_clientcert_access_checker(request_rec *r);

/* fixups: the SSL_CLIENT_* variables into r->subprocess_env: all but the
 * certificates with `std` (TLSOptions StdEnvVars), SSL_CLIENT_CERT and
 * SSL_CLIENT_CERT_CHAIN_n with `export_cert` (ExportCertData). */
void tls_clientcert_request_fixup(request_rec *r, const tls_conn_t *cc, int std, int export_cert);

#endif /* TLS_CLIENTCERT_H */
