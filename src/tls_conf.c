/* tls_conf.c: directives and configuration records (see tls_conf.h). */
#include <string.h>

#include <apr_strings.h>

#include <httpd.h>
#include <http_config.h>
#include <http_core.h>
#include <http_log.h>
#include <http_main.h>

#include "tls_cache.h"
#include "tls_cert.h"
#include "tls_clientcert.h"
#include "tls_conf.h"
#include "tls_proto.h"
#include "tls_proxy.h"
#include "tls_util.h"

#define TLS_GLOBAL_KEY "mod_tls_global"

/* The global record lives in pconf's userdata, so it goes away with the
 * configuration generation it belongs to and restarts start afresh. */
static tls_conf_global_t *global_get(apr_pool_t *pconf)
{
    tls_conf_global_t *g = NULL;

    apr_pool_userdata_get((void **)&g, TLS_GLOBAL_KEY, pconf);
    if (!g) {
        g = apr_pcalloc(pconf, sizeof(*g));
        g->pool = pconf;
        g->engines = apr_array_make(pconf, 4, sizeof(tls_engine_t));
        g->certs = apr_hash_make(pconf);
        g->configs = apr_hash_make(pconf);
        apr_pool_userdata_setn(g, TLS_GLOBAL_KEY, NULL, pconf);
    }
    return g;
}

tls_conf_server_t *tls_conf_server_get(server_rec *s)
{
    return ap_get_module_config(s->module_config, &tls_module);
}

void *tls_conf_create_server(apr_pool_t *p, server_rec *s)
{
    tls_conf_server_t *sc = apr_pcalloc(p, sizeof(*sc));

    (void)s;
    sc->global = global_get(p);
    sc->certs = NULL;
    sc->strict_sni = TLS_UNSET;
    sc->min_version = TLS_UNSET;
    sc->honor_client_order = TLS_UNSET;
    tls_clientcert_conf_init(sc);
    return sc;
}

#define MERGE_FLAG(add, base, dflt) ((add) != TLS_UNSET ? (add) : (base) != TLS_UNSET ? (base) : (dflt))

void *tls_conf_merge_server(apr_pool_t *p, void *basev, void *addv)
{
    const tls_conf_server_t *base = basev;
    const tls_conf_server_t *add = addv;
    tls_conf_server_t *sc = apr_pcalloc(p, sizeof(*sc));

    sc->global = add->global ? add->global : base->global;
    /* A virtual host with its own certificates uses only those; one without
     * inherits the main server's list. */
    sc->certs = add->certs ? add->certs : base->certs;
    sc->strict_sni = MERGE_FLAG(add->strict_sni, base->strict_sni, TLS_FLAG_ON);
    sc->min_version = MERGE_FLAG(add->min_version, base->min_version, 0);
    sc->ciphers_prefer = add->ciphers_prefer ? add->ciphers_prefer : base->ciphers_prefer;
    sc->ciphers_suppress = add->ciphers_suppress ? add->ciphers_suppress : base->ciphers_suppress;
    sc->honor_client_order = MERGE_FLAG(add->honor_client_order, base->honor_client_order, TLS_FLAG_ON);
    tls_clientcert_conf_merge(sc, base, add);
    return sc;
}

void *tls_conf_create_dir(apr_pool_t *p, char *dir)
{
    tls_conf_dir_t *dc = apr_pcalloc(p, sizeof(*dc));

    (void)dir;
    dc->std_env_vars = TLS_UNSET;
    dc->export_cert_data = TLS_UNSET;
    dc->proxy = tls_proxy_conf_create(p);
    return dc;
}

void *tls_conf_merge_dir(apr_pool_t *p, void *basev, void *addv)
{
    const tls_conf_dir_t *base = basev;
    const tls_conf_dir_t *add = addv;
    tls_conf_dir_t *dc = apr_pcalloc(p, sizeof(*dc));

    dc->std_env_vars = MERGE_FLAG(add->std_env_vars, base->std_env_vars, TLS_UNSET);
    dc->export_cert_data = MERGE_FLAG(add->export_cert_data, base->export_cert_data, TLS_UNSET);
    dc->proxy = tls_proxy_conf_merge(p, base->proxy, add->proxy);
    return dc;
}

const tls_conf_dir_t *tls_conf_dir_get(request_rec *r)
{
    return ap_get_module_config(r->per_dir_config, &tls_module);
}

void tls_conf_server_resolve(apr_pool_t *p, server_rec *base_server)
{
    tls_conf_server_t *sc = tls_conf_server_get(base_server);
    tls_conf_server_t unset;

    memset(&unset, 0, sizeof(unset));
    unset.global = sc->global;
    unset.strict_sni = TLS_UNSET;
    unset.min_version = TLS_UNSET;
    unset.honor_client_order = TLS_UNSET;
    tls_clientcert_conf_init(&unset);
    ap_set_module_config(base_server->module_config, &tls_module, tls_conf_merge_server(p, &unset, sc));
}

/* ---- directive handlers ------------------------------------------------- */

const char *tls_conf_cmd_flag(cmd_parms *cmd, const char *arg, int *pflag)
{
    if (!ap_cstr_casecmp(arg, "on")) {
        *pflag = TLS_FLAG_ON;
    }
    else if (!ap_cstr_casecmp(arg, "off")) {
        *pflag = TLS_FLAG_OFF;
    }
    else {
        return apr_psprintf(cmd->pool, "%s: value must be 'on' or 'off', not '%s'", cmd->cmd->name, arg);
    }
    return NULL;
}

static const char *cmd_engine(cmd_parms *cmd, void *dc, const char *arg)
{
    tls_conf_global_t *g = global_get(cmd->pool);
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    tls_engine_t *e;
    char *host = NULL, *scope = NULL;
    apr_port_t port = 0;
    apr_status_t rv;

    (void)dc;
    if (err) return err;
    rv = apr_parse_addr_port(&host, &scope, &port, arg, cmd->pool);
    if (rv != APR_SUCCESS) {
        return apr_psprintf(cmd->pool, "TLSEngine: '%s' is not a valid [address:]port", arg);
    }
    if (port == 0) {
        return apr_psprintf(cmd->pool,
                            "TLSEngine: '%s' names no port; use a port (8443) or address and port "
                            "(127.0.0.1:8443, [::1]:8443)",
                            arg);
    }
    if (scope) {
        return apr_psprintf(cmd->pool, "TLSEngine: '%s': IPv6 scope ids are not supported", arg);
    }
    e = apr_array_push(g->engines);
    e->spec = apr_pstrdup(cmd->pool, arg);
    e->port = port;
    e->addr = NULL;
    if (host && strcmp(host, "*")) {
        rv = apr_sockaddr_info_get(&e->addr, host, APR_UNSPEC, port, 0, cmd->pool);
        if (rv != APR_SUCCESS) {
            char buf[256];
            return apr_psprintf(cmd->pool, "TLSEngine: cannot resolve the address in '%s': %s", arg,
                                apr_strerror(rv, buf, sizeof(buf)));
        }
    }
    return NULL;
}

static const char *cmd_certificate(cmd_parms *cmd, void *dc, const char *cert_file, const char *key_file)
{
    tls_conf_server_t *sc = tls_conf_server_get(cmd->server);
    tls_cert_t *cert = NULL;
    const char *err = ap_check_cmd_context(cmd, NOT_IN_DIR_CONTEXT);

    (void)dc;
    if (err) return err;
    err = tls_cert_load_files(sc->global, cmd->temp_pool, cert_file, key_file, &cert);
    if (err) return apr_pstrcat(cmd->pool, "TLSCertificate: ", err, NULL);
    if (!sc->certs) sc->certs = apr_array_make(cmd->pool, 2, sizeof(tls_cert_t *));
    APR_ARRAY_PUSH(sc->certs, tls_cert_t *) = cert;
    return NULL;
}

static const char *cmd_strict_sni(cmd_parms *cmd, void *dc, const char *arg)
{
    tls_conf_server_t *sc = tls_conf_server_get(cmd->server);
    const char *err = ap_check_cmd_context(cmd, NOT_IN_DIR_CONTEXT);

    (void)dc;
    if (err) return err;
    return tls_conf_cmd_flag(cmd, arg, &sc->strict_sni);
}

const char *tls_conf_cmd_min_version(cmd_parms *cmd, const char *arg, apr_uint16_t *pversion)
{
    apr_uint16_t version = 0;
    const char *err = tls_proto_parse_min_version(arg, &version);

    if (err) return apr_psprintf(cmd->pool, "%s: '%s' is not a protocol version: %s", cmd->cmd->name, arg, err);
    if (version > RTLS_TLS13) {
        return apr_psprintf(cmd->pool,
                            "%s: '%s': rustls implements TLS 1.2 and TLS 1.3 only; use 'TLSv1.2+' or 'TLSv1.3+'",
                            cmd->cmd->name, arg);
    }
    /* Below TLS 1.2 means "anything rustls has", which starts at 1.2. */
    *pversion = version;
    return NULL;
}

static const char *cmd_protocol(cmd_parms *cmd, void *dc, const char *arg)
{
    tls_conf_server_t *sc = tls_conf_server_get(cmd->server);
    const char *err = ap_check_cmd_context(cmd, NOT_IN_DIR_CONTEXT);
    apr_uint16_t version;

    (void)dc;
    if (err) return err;
    err = tls_conf_cmd_min_version(cmd, arg, &version);
    if (err) return err;
    sc->min_version = version;
    return NULL;
}

const char *tls_conf_cmd_suites(cmd_parms *cmd, apr_array_header_t **plist, int argc, char *const argv[],
                                const char *clear_word)
{
    const char *err;
    int i;

    if (argc == 0) return apr_psprintf(cmd->pool, "%s needs at least one cipher suite name", cmd->cmd->name);
    if (argc == 1 && !ap_cstr_casecmp(argv[0], clear_word)) {
        *plist = apr_array_make(cmd->pool, 1, sizeof(apr_uint16_t));
        return NULL;
    }
    if (!*plist) *plist = apr_array_make(cmd->pool, 8, sizeof(apr_uint16_t));
    for (i = 0; i < argc; ++i) {
        if (!ap_cstr_casecmp(argv[i], clear_word)) {
            return apr_psprintf(cmd->pool, "%s: '%s' must be the only argument", cmd->cmd->name, clear_word);
        }
        err = tls_proto_parse_suites(cmd->temp_pool, argv[i], *plist);
        if (err) return apr_psprintf(cmd->pool, "%s: %s", cmd->cmd->name, err);
    }
    return NULL;
}

/* TLSCiphersPrefer / TLSCiphersSuppress ('default' / 'none' empty the
 * list, also overriding what the main server set). */
static const char *cmd_ciphers(cmd_parms *cmd, apr_array_header_t **plist, int argc, char *const argv[],
                               const char *clear_word)
{
    const char *err = ap_check_cmd_context(cmd, NOT_IN_DIR_CONTEXT);

    if (err) return err;
    return tls_conf_cmd_suites(cmd, plist, argc, argv, clear_word);
}

static const char *cmd_ciphers_prefer(cmd_parms *cmd, void *dc, int argc, char *const argv[])
{
    (void)dc;
    return cmd_ciphers(cmd, &tls_conf_server_get(cmd->server)->ciphers_prefer, argc, argv, "default");
}

static const char *cmd_ciphers_suppress(cmd_parms *cmd, void *dc, int argc, char *const argv[])
{
    (void)dc;
    return cmd_ciphers(cmd, &tls_conf_server_get(cmd->server)->ciphers_suppress, argc, argv, "none");
}

static const char *cmd_honor_client_order(cmd_parms *cmd, void *dc, const char *arg)
{
    tls_conf_server_t *sc = tls_conf_server_get(cmd->server);
    const char *err = ap_check_cmd_context(cmd, NOT_IN_DIR_CONTEXT);

    (void)dc;
    if (err) return err;
    return tls_conf_cmd_flag(cmd, arg, &sc->honor_client_order);
}

/* TLSOptions [+|-]opt ...: as with httpd's Options, a list without any
 * +/- prefix replaces the options; with prefixes it changes them. */
static const char *cmd_options(cmd_parms *cmd, void *dcv, int argc, char *const argv[])
{
    tls_conf_dir_t *dc = dcv;
    int i, replace = 0;

    if (argc == 0) return "TLSOptions needs at least one option: StdEnvVars, ExportCertData or Defaults";
    for (i = 0; i < argc; ++i) {
        if (argv[i][0] != '+' && argv[i][0] != '-') replace = 1;
    }
    if (replace) {
        dc->std_env_vars = TLS_FLAG_OFF;
        dc->export_cert_data = TLS_FLAG_OFF;
    }
    for (i = 0; i < argc; ++i) {
        const char *opt = argv[i];
        int value = TLS_FLAG_ON;
        if (*opt == '+' || *opt == '-') {
            value = (*opt == '+') ? TLS_FLAG_ON : TLS_FLAG_OFF;
            ++opt;
        }
        if (!ap_cstr_casecmp(opt, "StdEnvVars")) {
            dc->std_env_vars = value;
        }
        else if (!ap_cstr_casecmp(opt, "ExportCertData")) {
            dc->export_cert_data = value;
        }
        else if (!ap_cstr_casecmp(opt, "Defaults")) {
            if (opt != argv[i]) {
                return "TLSOptions: 'Defaults' takes no '+' or '-'";
            }
            dc->std_env_vars = TLS_FLAG_OFF;
            dc->export_cert_data = TLS_FLAG_OFF;
        }
        else {
            return apr_psprintf(cmd->pool,
                                "TLSOptions: unknown option '%s' (known: StdEnvVars, ExportCertData, Defaults, "
                                "each optionally with '+' or '-')",
                                argv[i]);
        }
    }
    return NULL;
}

const command_rec tls_conf_cmds[] = {
    AP_INIT_ITERATE("TLSEngine", cmd_engine, NULL, RSRC_CONF,
                    "[address:]port: connections to this local address and port are TLS (repeatable)"),
    AP_INIT_TAKE12("TLSCertificate", cmd_certificate, NULL, RSRC_CONF,
                   "cert_file [key_file]: PEM certificate chain and its key (key in cert_file when omitted)"),
    AP_INIT_TAKE1("TLSStrictSNI", cmd_strict_sni, NULL, RSRC_CONF,
                  "on|off: refuse unknown SNI names and, without SNI, requests to name-based virtual hosts "
                  "(default on)"),
    AP_INIT_TAKE1("TLSProtocol", cmd_protocol, NULL, RSRC_CONF,
                  "default|TLSv1.2+|TLSv1.3+|TLSv0xNNNN+: the lowest protocol version accepted (default default)"),
    AP_INIT_TAKE_ARGV("TLSCiphersPrefer", cmd_ciphers_prefer, NULL, RSRC_CONF,
                      "name[:name...] ...|default: cipher suites to prefer, in this order (IANA, OpenSSL, TLS13_ "
                      "or TLS_CIPHER_0xNNNN names)"),
    AP_INIT_TAKE_ARGV("TLSCiphersSuppress", cmd_ciphers_suppress, NULL, RSRC_CONF,
                      "name[:name...] ...|none: cipher suites never to use"),
    AP_INIT_TAKE_ARGV("TLSCipherPrefer", cmd_ciphers_prefer, NULL, RSRC_CONF, "alias of TLSCiphersPrefer"),
    AP_INIT_TAKE_ARGV("TLSCipherSuppress", cmd_ciphers_suppress, NULL, RSRC_CONF, "alias of TLSCiphersSuppress"),
    AP_INIT_TAKE1("TLSHonorClientOrder", cmd_honor_client_order, NULL, RSRC_CONF,
                  "on|off: the client's cipher suite order decides (on) or the server's (default on)"),
    AP_INIT_TAKE1("TLSSessionCache", tls_cache_cmd_cache, NULL, RSRC_CONF,
                  "none|default|provider[:args]: where TLS sessions are cached for all children, an httpd "
                  "socache provider such as shmcb, dbm, memcache or redis"),
    AP_INIT_TAKE1("TLSSessionTickets", tls_cache_cmd_tickets, NULL, RSRC_CONF,
                  "on|off: resume sessions from tickets the clients keep (default on)"),
    AP_INIT_TAKE1("TLSSessionTicketKeyFile", tls_cache_cmd_ticket_key_file, NULL, RSRC_CONF,
                  "file: secret (at least 32 random bytes) from which ticket keys are derived; servers with "
                  "the same file resume each other's tickets"),
    AP_INIT_TAKE1("TLSClientCertificate", tls_clientcert_cmd_certificate, NULL, RSRC_CONF,
                  "none|optional|required: ask clients for a certificate and verify it (default none)"),
    AP_INIT_TAKE1("TLSClientCA", tls_clientcert_cmd_ca, NULL, RSRC_CONF,
                  "file|directory: PEM/DER CA certificates client certificates are verified with"),
    AP_INIT_TAKE1("TLSClientCRL", tls_clientcert_cmd_crl, NULL, RSRC_CONF,
                  "file|directory: PEM/DER certificate revocation lists for client certificates"),
    AP_INIT_TAKE1("TLSUserName", tls_clientcert_cmd_user_name, NULL, RSRC_CONF,
                  "variable: the request's user (REMOTE_USER) is this variable's value, e.g. SSL_CLIENT_S_DN_CN"),
    AP_INIT_TAKE_ARGV("TLSOptions", cmd_options, NULL, OR_OPTIONS,
                      "[+|-]StdEnvVars|ExportCertData|Defaults ...: which SSL_* variables go into the request "
                      "environment"),
    /* outgoing (mod_proxy backends): server config, virtual hosts, <Proxy> sections (tls_proxy.c) */
    AP_INIT_TAKE1("TLSProxyEngine", tls_proxy_cmd_engine, NULL, RSRC_CONF | ACCESS_CONF,
                  "on|off: mod_proxy's TLS connections of this scope go through mod_tls (default off)"),
    AP_INIT_TAKE1("TLSProxyCA", tls_proxy_cmd_ca, NULL, RSRC_CONF | ACCESS_CONF,
                  "file|directory: PEM trust anchors for verifying backends (default: the system's store)"),
    AP_INIT_TAKE1("TLSProxyProtocol", tls_proxy_cmd_protocol, NULL, RSRC_CONF | ACCESS_CONF,
                  "default|TLSv1.2+|TLSv1.3+: the lowest protocol version offered to backends"),
    AP_INIT_TAKE_ARGV("TLSProxyCiphersPrefer", tls_proxy_cmd_ciphers_prefer, NULL, RSRC_CONF | ACCESS_CONF,
                      "name[:name...] ...|default: cipher suites to prefer with backends, in this order"),
    AP_INIT_TAKE_ARGV("TLSProxyCiphersSuppress", tls_proxy_cmd_ciphers_suppress, NULL, RSRC_CONF | ACCESS_CONF,
                      "name[:name...] ...|none: cipher suites never to use with backends"),
    AP_INIT_TAKE12("TLSProxyMachineCertificate", tls_proxy_cmd_machine_cert, NULL, RSRC_CONF | ACCESS_CONF,
                   "cert_file [key_file]: a client certificate for backends that ask for one (repeatable)"),
    {NULL},
};
