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
};

/* Load (or find already loaded) the certificate chain in `cert_file` with
 * the key in `key_file` (NULL: the key is in cert_file); relative paths are
 * taken from ServerRoot. `ptemp` is a temporary pool for file contents
 * (key text is scrubbed after use). On success *pcert points into the
 * registry (pool of `g`) and NULL is returned; otherwise an error message
 * for the admin (from ptemp) naming the file and the problem. */
const char *tls_cert_load_files(tls_conf_global_t *g, apr_pool_t *ptemp, const char *cert_file,
                                const char *key_file, tls_cert_t **pcert);

#endif /* TLS_CERT_H */
