/* tls_cert.h: loading certificates and keys into rtls certified keys.
 *
 * Files are read and checked when the directive is read (config time), so
 * every problem is reported with the configuration file and line. A
 * registry in the global record makes each (certificate, key) file pair
 * load once per configuration generation, however many hosts name it.
 */
#ifndef TLS_CERT_H
#define TLS_CERT_H

#include "rtls.h"
#include "tls_conf.h"

struct tls_cert_t {
    const char *cert_file;          /* absolute path */
    const char *key_file;           /* absolute path; == cert_file when the key is inside */
    const rtls_certified_key *key;  /* NULL only when httpd just dumps its configuration */
    apr_table_t *vars;              /* SSL_SERVER_* variables of the leaf, computed at load */
    /* OCSP stapling (tls_ocsp): the id the leaf was primed under, SHA-1 of
     * its DER; ocsp_primed: some module (mod_md) staples responses for it. */
    unsigned char ocsp_id[20];
    int ocsp_primed;
    int ocsp_tried;                 /* priming was attempted this generation */
};

/* Load (or find already loaded) the certificate chain in `cert_file` with
 * the key in `key_file` (NULL: the key is in cert_file); relative paths are
 * taken from ServerRoot. `ptemp` is a temporary pool for file contents
 * (key text is scrubbed after use). On success *pcert points into the
 * registry (pool of `g`) and NULL is returned; otherwise an error message
 * for the admin (from ptemp) naming the file and the problem. */
const char *tls_cert_load_files(tls_conf_global_t *g, apr_pool_t *ptemp, const char *cert_file,
                                const char *key_file, tls_cert_t **pcert);

/* post_config, for a server `s` reachable over TLS: the certificates it
 * presents, into *pcerts (tls_cert_t*, in presentation order, from pconf):
 *   1. its own TLSCertificate files (`own`, NULL when it has none),
 *   2. then the files other modules add (ap_ssl_add_cert_files: mod_md's
 *      for a host of an MDomain that has its certificate);
 *   3. with none of those: the files of ap_ssl_add_fallback_cert_files
 *      (mod_md's temporary self-signed certificate while it obtains one),
 *      and *pfallback = 1: the host then answers every request with 503;
 *   4. with none of those either: `inherited` (the main server's
 *      TLSCertificate files a virtual host inherits), which may be NULL.
 * *pcerts is NULL or empty when no certificate came from anywhere (the
 * caller refuses the start, naming the host). Returns NULL, or an error for
 * the admin (from ptemp) naming the file a module gave that cannot be
 * loaded. */
const char *tls_cert_for_server(tls_conf_global_t *g, apr_pool_t *ptemp, server_rec *s,
                                const apr_array_header_t *own, const apr_array_header_t *inherited,
                                apr_array_header_t **pcerts, int *pfallback);

#endif /* TLS_CERT_H */
