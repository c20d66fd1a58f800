/* tls_conf.h: configuration records, directive table, create/merge.
 *
 * Phases: records are created and filled while httpd reads its
 * configuration (config time, pool pconf); tls_setup fills the "computed"
 * fields in post_config; at run time they are read-only and shared by all
 * threads. Values start UNSET and get their defaults in the merge
 * function; the main server is merged with an empty record in post_config
 * (tls_conf_server_resolve), so every server record is complete afterwards.
 */
#ifndef TLS_CONF_H
#define TLS_CONF_H

#include <apr_hash.h>
#include <httpd.h>
#include <http_config.h>

#include "rtls.h"

#define TLS_UNSET (-1)
#define TLS_FLAG_OFF 0
#define TLS_FLAG_ON 1

/* One TLSEngine directive: connections to this local address and port are
 * TLS. `addr` NULL: any local address on `port`. */
typedef struct tls_engine_t {
    const char *spec;    /* as configured, for messages */
    apr_sockaddr_t *addr; /* list (a host name may resolve to several) */
    apr_port_t port;
} tls_engine_t;

/* A loaded certificate + key (see tls_cert.h). */
typedef struct tls_cert_t tls_cert_t;

/* Module-wide state; one per configuration generation, in pconf. */
typedef struct tls_conf_global_t {
    apr_pool_t *pool;             /* pconf */
    apr_array_header_t *engines;  /* tls_engine_t */
    apr_hash_t *certs;            /* tls_cert registry, see tls_cert.h */
    apr_hash_t *configs;          /* TLS setup key -> tls_setup_t (tls_setup) */
    int enabled_servers;          /* computed: servers reachable over TLS */
    struct tls_cache_t *cache;    /* session cache and tickets (tls_cache.c) */
} tls_conf_global_t;

typedef struct tls_conf_server_t {
    tls_conf_global_t *global;
    apr_array_header_t *certs; /* tls_cert_t*, in configured order; NULL: unset */
    int strict_sni;            /* TLSStrictSNI, default on */
    int min_version;           /* TLSProtocol: IANA version, 0 = rustls' default */
    apr_array_header_t *ciphers_prefer;   /* apr_uint16_t; NULL: unset, empty: 'default' */
    apr_array_header_t *ciphers_suppress; /* apr_uint16_t; NULL: unset, empty: 'none' */
    int honor_client_order;    /* TLSHonorClientOrder, default on */
    /* client certificates (tls_clientcert.h) */
    int client_mode;           /* TLSClientCertificate: RTLS_CLIENT_AUTH_*, default none */
    struct tls_clientcert_files_t *client_ca;  /* TLSClientCA; NULL: unset */
    struct tls_clientcert_files_t *client_crl; /* TLSClientCRL; NULL: unset */
    const char *user_name;     /* TLSUserName: variable naming r->user; NULL: unset */

    /* computed in post_config (tls_setup) */
    int enabled;                      /* reachable on a TLSEngine address */
    struct tls_setup_t *setup;        /* TLS setup this server uses; shared */
    int service_unavailable;          /* only a fallback certificate (mod_md): 503 */
} tls_conf_server_t;

/* Per directory (TLSOptions). Flags are TLS_UNSET until a section sets
 * them, so that a server-wide setting survives sections that do not touch
 * it. */
typedef struct tls_conf_dir_t {
    int std_env_vars;     /* StdEnvVars: the full set of SSL_* variables in the environment */
    int export_cert_data; /* ExportCertData: SSL_SERVER_CERT in the environment */
    struct tls_proxy_conf_t *proxy; /* TLSProxy* settings (tls_proxy.h), never NULL */
} tls_conf_dir_t;

extern module AP_MODULE_DECLARE_DATA tls_module;

/* The server record of `s` (never NULL for servers httpd knows). */
tls_conf_server_t *tls_conf_server_get(server_rec *s);

/* httpd module callbacks (config time). */
void *tls_conf_create_server(apr_pool_t *p, server_rec *s);
void *tls_conf_merge_server(apr_pool_t *p, void *basev, void *addv);
void *tls_conf_create_dir(apr_pool_t *p, char *dir);
void *tls_conf_merge_dir(apr_pool_t *p, void *basev, void *addv);

/* The TLSOptions of request r (never NULL; flags TLS_UNSET mean off). */
const tls_conf_dir_t *tls_conf_dir_get(request_rec *r);

/* Give the main server's record its defaults (post_config). */
void tls_conf_server_resolve(apr_pool_t *p, server_rec *base_server);

/* Directive helper: parse on|off into *pflag (TLS_FLAG_ON/OFF); NULL, or
 * an error naming the directive (from cmd->pool). Config time. */
const char *tls_conf_cmd_flag(cmd_parms *cmd, const char *arg, int *pflag);

/* Directive helper for TLSProtocol and TLSProxyProtocol (the caller
 * checks the scope): the lowest version named by `arg` into *pversion
 * (0: rustls' default), or an error naming the directive (from cmd->pool;
 * *pversion untouched), also for a version rustls does not implement.
 * Config time. */
const char *tls_conf_cmd_min_version(cmd_parms *cmd, const char *arg, apr_uint16_t *pversion);

/* Directive helper for TLSCiphersPrefer/-Suppress and their TLSProxy
 * twins (the caller checks the scope): the suites of all lines of a scope
 * add up in *plist (made from cmd->pool on first use); the single word
 * `clear_word` makes it empty (overriding an outer scope). NULL, or an
 * error naming the directive (from cmd->pool). Config time. */
const char *tls_conf_cmd_suites(cmd_parms *cmd, apr_array_header_t **plist, int argc, char *const argv[],
                                const char *clear_word);

/* The directive table. */
extern const command_rec tls_conf_cmds[];

#endif /* TLS_CONF_H */
