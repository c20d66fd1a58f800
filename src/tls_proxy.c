/* tls_proxy.c: see tls_proxy.h. */
#include <string.h>

#include <apr_file_info.h>
#include <apr_strings.h>

#include <httpd.h>
#include <http_config.h>
#include <http_connection.h>
#include <http_core.h>
#include <http_log.h>
#include <http_main.h>

#include "tls_cert.h"
#include "tls_conf.h"
#include "tls_core.h"
#include "tls_filter.h"
#include "tls_proto.h"
#include "tls_proxy.h"
#include "tls_setup.h"
#include "tls_util.h"

APLOG_USE_MODULE(tls);

/* The trust anchors without TLSProxyCA (Debian's ca-certificates). */
#define TLS_PROXY_SYSTEM_CA "/etc/ssl/certs/ca-certificates.crt"
/* Largest CA file read (the system bundle is ~200 KiB). */
#define TLS_PROXY_MAX_CA_SIZE (8 * 1024 * 1024)
#define TLS_PROXY_SETUPS_KEY "mod_tls_proxy_setups"
/* What mod_proxy tells us about the connection it is about to use. */
#define NOTE_HOSTNAME "proxy-request-hostname"
#define NOTE_ALPN "proxy-request-alpn-protos"

/* One distinct client setup: built once per configuration generation, in
 * pconf, shared by every backend connection with these settings. */
typedef struct tls_proxy_setup_t {
    const char *id;                   /* the settings, see setup_id */
    const char *ca_desc;              /* where the trust anchors come from, for messages */
    const rtls_client_config *config; /* freed by a pconf cleanup */
} tls_proxy_setup_t;

/* Per backend connection, in c->pool (cc->side_ctx). */
typedef struct tls_proxy_conn_t {
    const tls_proxy_setup_t *setup;
    const char *name; /* the name verified (and sent as SNI unless an IP address) */
    int failed;       /* the failure is logged */
} tls_proxy_conn_t;

/* The setups of the configuration generation serving (set in post_config,
 * read-only afterwards: children only read it). */
static apr_hash_t *current_setups;

/* ---- records ----------------------------------------------------------- */

tls_proxy_conf_t *tls_proxy_conf_create(apr_pool_t *p)
{
    tls_proxy_conf_t *pc = apr_pcalloc(p, sizeof(*pc));

    pc->engine = TLS_UNSET;
    pc->min_version = TLS_UNSET;
    return pc;
}

#define MERGE_VAL(add, base) ((add) != TLS_UNSET ? (add) : (base))
#define MERGE_PTR(add, base) ((add) ? (add) : (base))

tls_proxy_conf_t *tls_proxy_conf_merge(apr_pool_t *p, const tls_proxy_conf_t *base, const tls_proxy_conf_t *add)
{
    tls_proxy_conf_t *pc = apr_pcalloc(p, sizeof(*pc));

    pc->engine = MERGE_VAL(add->engine, base->engine);
    pc->ca = MERGE_PTR(add->ca, base->ca);
    pc->min_version = MERGE_VAL(add->min_version, base->min_version);
    pc->ciphers_prefer = MERGE_PTR(add->ciphers_prefer, base->ciphers_prefer);
    pc->ciphers_suppress = MERGE_PTR(add->ciphers_suppress, base->ciphers_suppress);
    pc->machine_certs = MERGE_PTR(add->machine_certs, base->machine_certs);
    return pc;
}

static tls_proxy_conf_t *proxy_conf_of(ap_conf_vector_t *v)
{
    tls_conf_dir_t *dc = v ? ap_get_module_config(v, &tls_module) : NULL;

    return dc ? dc->proxy : NULL;
}

/* ---- directives -------------------------------------------------------- */

/* Server config, virtual host, <Proxy>/<ProxyMatch>: the scopes mod_proxy
 * hands to ssl_bind_outgoing. Other sections are refused, since their
 * settings would never reach a backend connection. */
static const char *check_scope(cmd_parms *cmd)
{
    const ap_directive_t *parent = cmd->directive ? cmd->directive->parent : NULL;

    if (!cmd->path) return NULL;
    if (parent && !ap_cstr_casecmpn(parent->directive, "<Proxy", 6)) return NULL;
    return apr_psprintf(cmd->pool, "%s is allowed in the server config, <VirtualHost> and <Proxy> sections, not "
                                   "in %s",
                        cmd->cmd->name, parent ? parent->directive : "this context");
}

const char *tls_proxy_cmd_engine(cmd_parms *cmd, void *dcv, const char *arg)
{
    tls_conf_dir_t *dc = dcv;
    const char *err = check_scope(cmd);

    if (err) return err;
    return tls_conf_cmd_flag(cmd, arg, &dc->proxy->engine);
}

const char *tls_proxy_cmd_ca(cmd_parms *cmd, void *dcv, const char *arg)
{
    tls_conf_dir_t *dc = dcv;
    const char *err = check_scope(cmd);
    const char *path;
    apr_finfo_t fi;

    if (err) return err;
    path = ap_server_root_relative(cmd->pool, arg);
    if (!path) return apr_psprintf(cmd->pool, "%s: invalid path '%s'", cmd->cmd->name, arg);
    if (apr_stat(&fi, path, APR_FINFO_TYPE, cmd->temp_pool) != APR_SUCCESS
        || (fi.filetype != APR_REG && fi.filetype != APR_DIR)) {
        return apr_psprintf(cmd->pool, "%s: '%s' is neither a file nor a directory (give a PEM file of CA "
                                       "certificates, or a directory of such files)",
                            cmd->cmd->name, path);
    }
    dc->proxy->ca = path;
    return NULL;
}

const char *tls_proxy_cmd_protocol(cmd_parms *cmd, void *dcv, const char *arg)
{
    tls_conf_dir_t *dc = dcv;
    const char *err = check_scope(cmd);
    apr_uint16_t version;

    if (err) return err;
    err = tls_conf_cmd_min_version(cmd, arg, &version);
    if (err) return err;
    dc->proxy->min_version = version;
    return NULL;
}

/* As TLSCiphersPrefer/-Suppress, in the proxy scopes. */
static const char *cmd_ciphers(cmd_parms *cmd, apr_array_header_t **plist, int argc, char *const argv[],
                               const char *clear_word)
{
    const char *err = check_scope(cmd);

    if (err) return err;
    return tls_conf_cmd_suites(cmd, plist, argc, argv, clear_word);
}

const char *tls_proxy_cmd_ciphers_prefer(cmd_parms *cmd, void *dcv, int argc, char *const argv[])
{
    tls_conf_dir_t *dc = dcv;
    return cmd_ciphers(cmd, &dc->proxy->ciphers_prefer, argc, argv, "default");
}

const char *tls_proxy_cmd_ciphers_suppress(cmd_parms *cmd, void *dcv, int argc, char *const argv[])
{
    tls_conf_dir_t *dc = dcv;
    return cmd_ciphers(cmd, &dc->proxy->ciphers_suppress, argc, argv, "none");
}

const char *tls_proxy_cmd_machine_cert(cmd_parms *cmd, void *dcv, const char *cert_file, const char *key_file)
{
    tls_conf_dir_t *dc = dcv;
    tls_conf_server_t *sc = tls_conf_server_get(cmd->server);
    tls_cert_t *cert = NULL;
    const char *err = check_scope(cmd);

    if (err) return err;
    err = tls_cert_load_files(sc->global, cmd->temp_pool, cert_file, key_file, &cert);
    if (err) return apr_pstrcat(cmd->pool, cmd->cmd->name, ": ", err, NULL);
    if (!dc->proxy->machine_certs) dc->proxy->machine_certs = apr_array_make(cmd->pool, 2, sizeof(tls_cert_t *));
    APR_ARRAY_PUSH(dc->proxy->machine_certs, tls_cert_t *) = cert;
    return NULL;
}

/* ---- setups ------------------------------------------------------------ */

/* Suites warned about in this configuration generation (pconf), so that
 * several setups with the same preference warn once. */
static apr_hash_t *warned_suites;

static void warn_unimplemented(void *baton, apr_uint16_t id)
{
    server_rec *s = baton;
    apr_pool_t *p = apr_hash_pool_get(warned_suites);
    const tls_suite_t *suite;
    apr_uint16_t *key;

    if (apr_hash_get(warned_suites, &id, sizeof(id))) return;
    key = apr_pmemdup(p, &id, sizeof(id));
    apr_hash_set(warned_suites, key, sizeof(*key), key);
    suite = tls_proto_suite_by_id(id);
    ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                 TLS_LOGNO(1201) "%s: TLSProxyCiphersPrefer names %s, which rustls does not implement; it is "
                                 "ignored",
                 tls_util_server_desc(p, s), suite ? suite->iana : apr_psprintf(p, "TLS_CIPHER_0x%04x", id));
}

/* The suites offered to backends (tls_setup_suite_order); a preferred
 * suite rustls lacks is warned about when `s` is given (at startup, once
 * per generation). */
static apr_array_header_t *suites_for(apr_pool_t *p, server_rec *s, const tls_proxy_conf_t *pc)
{
    return tls_setup_suite_order(p, pc->ciphers_prefer, pc->ciphers_suppress,
                                 s && warned_suites ? warn_unimplemented : NULL, s);
}

/* Identity of a setup: everything that goes into its client config. */
static const char *setup_id(apr_pool_t *p, const tls_proxy_conf_t *pc, const apr_array_header_t *suites)
{
    const char *id = apr_psprintf(p, "ca=%s;v=%04x;s=", pc->ca ? pc->ca : "(system)",
                                  pc->min_version > 0 ? pc->min_version : 0);
    int i;

    for (i = 0; suites && i < suites->nelts; ++i) {
        id = apr_psprintf(p, "%s%04x,", id, APR_ARRAY_IDX(suites, i, apr_uint16_t));
    }
    id = apr_pstrcat(p, id, ";m=", NULL);
    for (i = 0; pc->machine_certs && i < pc->machine_certs->nelts; ++i) {
        const tls_cert_t *cert = APR_ARRAY_IDX(pc->machine_certs, i, tls_cert_t *);
        id = apr_pstrcat(p, id, cert->cert_file, "|", cert->key_file, ",", NULL);
    }
    return id;
}

/* Add every PEM certificate of `text` as an anchor, one at a time, so
 * that one certificate webpki cannot use (a system bundle may hold such)
 * does not cost the others. Counts what was added and what was not. */
static void add_anchors(rtls_client_config_builder *b, const char *text, apr_size_t len, int *added,
                        int *refused)
{
    static const char begin[] = "-----BEGIN CERTIFICATE-----";
    static const char end[] = "-----END CERTIFICATE-----";
    const char *pos = text, *stop = text + len;

    while (pos < stop) {
        const char *s = strstr(pos, begin), *e;
        size_t n = 0;
        if (!s) break;
        e = strstr(s, end);
        if (!e) break;
        e += sizeof(end) - 1;
        if (rtls_client_config_builder_add_trust_anchors_pem(b, (const uint8_t *)s, (size_t)(e - s), &n) == RTLS_OK
            && n > 0) {
            *added += (int)n;
        }
        else {
            ++*refused;
        }
        pos = e;
    }
}

/* The trust anchors of `path` (a file, or every file of a directory)
 * into the builder. Returns NULL or a message for the admin. */
static const char *load_anchors(apr_pool_t *ptemp, rtls_client_config_builder *b, const char *path,
                                int *added, int *refused)
{
    apr_finfo_t fi;
    apr_dir_t *dir;
    const char *text;
    apr_size_t len;
    apr_status_t rv;
    char buf[128];

    rv = apr_stat(&fi, path, APR_FINFO_TYPE, ptemp);
    if (rv == APR_SUCCESS && fi.filetype == APR_DIR) {
        rv = apr_dir_open(&dir, path, ptemp);
        if (rv != APR_SUCCESS) {
            return apr_psprintf(ptemp, "cannot read directory %s: %s", path, apr_strerror(rv, buf, sizeof(buf)));
        }
        while (apr_dir_read(&fi, APR_FINFO_NAME | APR_FINFO_TYPE, dir) == APR_SUCCESS) {
            const char *file;
            if (fi.filetype != APR_REG && fi.filetype != APR_LNK) continue;
            file = apr_pstrcat(ptemp, path, "/", fi.name, NULL);
            if (tls_util_read_file(ptemp, file, TLS_PROXY_MAX_CA_SIZE, &text, &len) != APR_SUCCESS) continue;
            add_anchors(b, text, len, added, refused);
        }
        apr_dir_close(dir);
        return NULL;
    }
    rv = tls_util_read_file(ptemp, path, TLS_PROXY_MAX_CA_SIZE, &text, &len);
    if (rv != APR_SUCCESS) {
        return apr_psprintf(ptemp, "cannot read %s: %s", path, apr_strerror(rv, buf, sizeof(buf)));
    }
    add_anchors(b, text, len, added, refused);
    return NULL;
}

static apr_status_t setup_cleanup(void *data)
{
    tls_proxy_setup_t *setup = data;

    rtls_client_config_free(setup->config);
    setup->config = NULL;
    return APR_SUCCESS;
}

static apr_hash_t *setups_get(apr_pool_t *pconf)
{
    apr_hash_t *setups = NULL;

    apr_pool_userdata_get((void **)&setups, TLS_PROXY_SETUPS_KEY, pconf);
    if (!setups) {
        setups = apr_hash_make(pconf);
        apr_pool_userdata_setn(setups, TLS_PROXY_SETUPS_KEY, NULL, pconf);
        /* a new generation: its warnings are new too */
        warned_suites = apr_hash_make(pconf);
    }
    current_setups = setups;
    return setups;
}

/* Find or build the setup of the resolved settings `pc` of a scope of
 * server `s` (`where` names the scope in messages). Logs and returns an
 * error status when the settings cannot work. */
static apr_status_t setup_for(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s, const char *where,
                              const tls_proxy_conf_t *pc)
{
    apr_hash_t *setups = setups_get(pconf);
    int preflight = ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG;
    apr_array_header_t *suites;
    const char *id, *err;
    tls_proxy_setup_t *setup;
    rtls_client_config_builder *b = NULL;
    rtls_result rr = RTLS_OK;
    int i, added = 0, refused = 0;
    apr_status_t rv = APR_EGENERAL;

    suites = suites_for(ptemp, NULL, pc);
    id = setup_id(ptemp, pc, suites);
    if (apr_hash_get(setups, id, APR_HASH_KEY_STRING)) return APR_SUCCESS;
    /* new: this time with the warnings, once per setup and start */
    suites = suites_for(ptemp, preflight ? NULL : s, pc);
    if (suites && suites->nelts == 0) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s,
                     TLS_LOGNO(1202) "%s: TLSProxyCiphersSuppress suppresses every cipher suite rustls implements",
                     where);
        return APR_EGENERAL;
    }
    setup = apr_pcalloc(pconf, sizeof(*setup));
    setup->id = apr_pstrdup(pconf, id);
    setup->ca_desc = pc->ca ? apr_pstrcat(pconf, "TLSProxyCA ", pc->ca, NULL)
                            : "the system's trust store (" TLS_PROXY_SYSTEM_CA ")";
    rr = rtls_client_config_builder_new(&b);
    if (rr != RTLS_OK) goto cleanup;
    err = load_anchors(ptemp, b, pc->ca ? pc->ca : TLS_PROXY_SYSTEM_CA, &added, &refused);
    if (err || added == 0) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s,
                     TLS_LOGNO(1203) "%s: TLSProxyEngine is on, but %s gives no trust anchor to verify backends "
                                     "with (%s): name a PEM file or directory of CA certificates (or the "
                                     "backend's own certificate) with TLSProxyCA",
                     where, setup->ca_desc, err ? err : "no usable PEM certificate in it");
        goto cleanup;
    }
    if (refused > 0 && pc->ca && !preflight) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                     TLS_LOGNO(1204) "%s: %d certificate(s) in TLSProxyCA %s cannot be used as trust anchors "
                                     "and are ignored",
                     where, refused, pc->ca);
    }
    for (i = 0; pc->machine_certs && i < pc->machine_certs->nelts; ++i) {
        const tls_cert_t *cert = APR_ARRAY_IDX(pc->machine_certs, i, tls_cert_t *);
        if (!cert->key) continue; /* only when httpd dumps its configuration */
        rr = rtls_client_config_builder_add_certified_key(b, cert->key);
        if (rr != RTLS_OK) goto cleanup;
    }
    if (pc->min_version > 0) {
        rr = rtls_client_config_builder_set_min_version(b, (uint16_t)pc->min_version);
        if (rr != RTLS_OK) goto cleanup;
    }
    if (suites) {
        rr = rtls_client_config_builder_set_cipher_suites(b, (const uint16_t *)suites->elts, (size_t)suites->nelts);
        if (rr != RTLS_OK) goto cleanup;
    }
    rr = rtls_client_config_build(b, &setup->config);
    if (rr != RTLS_OK) goto cleanup;
    apr_pool_cleanup_register(pconf, setup, setup_cleanup, apr_pool_cleanup_null);
    apr_hash_set(setups, setup->id, APR_HASH_KEY_STRING, setup);
    rv = APR_SUCCESS;
cleanup:
    rtls_client_config_builder_free(b);
    if (rr == RTLS_CONF_NO_CIPHER_SUITES) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s,
                     TLS_LOGNO(1205) "%s: no cipher suite is left for the protocol versions TLSProxyProtocol "
                                     "allows (TLSProxyCiphersSuppress removed them all)",
                     where);
    }
    else if (rr != RTLS_OK) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s,
                     TLS_LOGNO(1206) "%s: cannot build the TLS client configuration for backends: %s", where,
                     rtls_result_text((unsigned)rr));
    }
    return rv;
}

/* Defaults for what no scope set. */
static tls_proxy_conf_t *resolved(apr_pool_t *p, const tls_proxy_conf_t *pc)
{
    tls_proxy_conf_t *r = apr_pmemdup(p, pc, sizeof(*pc));

    if (r->engine == TLS_UNSET) r->engine = TLS_FLAG_OFF;
    if (r->min_version == TLS_UNSET) r->min_version = 0;
    return r;
}

int tls_proxy_post_config(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *base_server)
{
    server_rec *s;

    setups_get(pconf);
    if (ap_state_query(AP_SQ_RUN_MODE) == AP_SQ_RM_CONFIG_DUMP) return OK;
    for (s = base_server; s; s = s->next) {
        const tls_proxy_conf_t *pc = proxy_conf_of(s->lookup_defaults);
        if (!pc) continue;
        pc = resolved(ptemp, pc);
        if (pc->engine != TLS_FLAG_ON) continue;
        if (setup_for(pconf, ptemp, s, tls_util_server_desc(ptemp, s), pc) != APR_SUCCESS) {
            return HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    return OK;
}

int tls_proxy_section_post_config(apr_pool_t *p, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s,
                                  ap_conf_vector_t *section_config)
{
    const tls_proxy_conf_t *base = proxy_conf_of(s->lookup_defaults);
    const tls_proxy_conf_t *add = proxy_conf_of(section_config);
    const tls_proxy_conf_t *pc;

    (void)plog;
    if (!base || !add) return OK;
    if (ap_state_query(AP_SQ_RUN_MODE) == AP_SQ_RM_CONFIG_DUMP) return OK;
    pc = resolved(ptemp, tls_proxy_conf_merge(ptemp, base, add));
    if (pc->engine != TLS_FLAG_ON) return OK;
    if (setup_for(p, ptemp, s, apr_psprintf(ptemp, "a <Proxy> section of %s", tls_util_server_desc(ptemp, s)), pc)
        != APR_SUCCESS) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}

/* ---- connections ------------------------------------------------------- */

/* The setup of a scope's settings, made in post_config; NULL if none was
 * (a combination of sections post_config did not see). Per connection:
 * a few string operations, no locking (read-only hash). */
static const tls_proxy_setup_t *setup_lookup(apr_pool_t *p, const tls_proxy_conf_t *pc)
{
    const char *id;

    if (!current_setups) return NULL;
    id = setup_id(p, pc, suites_for(p, NULL, pc));
    return apr_hash_get(current_setups, id, APR_HASH_KEY_STRING);
}

/* What went wrong, in words an admin can act on. */
static const char *remedy_for(const char *what, const char *detail, rtls_result rr)
{
    if (rr == RTLS_OK) {
        /* the transport failed, not TLS */
        if (detail && (strstr(detail, "timeout") || strstr(detail, "timed out"))) {
            return "the backend did not answer in time (ProxyTimeout, or the worker's timeout=): is it up, "
                   "and a TLS server on that port?";
        }
        return "the backend ended the connection: is it a TLS server on that port, and does it accept "
               "mod_tls' protocol versions and cipher suites?";
    }
    /* BadSignature: an anchor has the issuer's name but not its key */
    if (detail && (strstr(detail, "UnknownIssuer") || strstr(detail, "unknown issuer")
                   || strstr(detail, "BadSignature"))) {
        return "the backend's certificate is not issued by a trusted CA: add its CA (or the backend's own "
               "certificate) to TLSProxyCA";
    }
    if (detail && (strstr(detail, "NotValidForName") || strstr(detail, "not valid for"))) {
        return "the backend's certificate is not valid for the name or address used: use a name of its "
               "subjectAltName in ProxyPass (or ProxyPreserveHost off), or give the backend a certificate for it";
    }
    if (detail && (strstr(detail, "xpired") || strstr(detail, "NotValidYet") || strstr(detail, "not valid before"))) {
        return "the backend's certificate is outside its validity period: renew it (or check the clocks)";
    }
    if (detail && (strstr(detail, "CertificateRequired") || strstr(detail, "certificate required"))) {
        return "the backend asks for a client certificate it accepts: configure one with "
               "TLSProxyMachineCertificate";
    }
    if (detail && (strstr(detail, "ProtocolVersion") || strstr(detail, "HandshakeFailure")
                   || strstr(detail, "InsufficientSecurity") || strstr(detail, "no ciphersuites in common")
                   || strstr(detail, "IllegalParameter"))) {
        return "the backend and mod_tls have no protocol version or cipher suite in common (or it refused the "
               "client certificate): check TLSProxyProtocol, TLSProxyCiphersPrefer/-Suppress, "
               "TLSProxyMachineCertificate and the backend's TLS settings";
    }
    if (rr == RTLS_PEER_CORRUPT_MESSAGE || strstr(what, "closed")) {
        return "is the backend a TLS server on that port?";
    }
    return "check the backend's certificate and TLS settings against TLSProxyCA and the other TLSProxy* "
           "directives";
}

static void proxy_fail(tls_conn_t *cc, const char *what, const char *detail, rtls_result rr)
{
    tls_proxy_conn_t *pconn = cc->side_ctx;
    conn_rec *c = cc->c;

    /* In TLS 1.3 the client's handshake is done before the server has
     * checked the client's certificate: its refusal (an alert) arrives
     * with the first read. That is a setup problem like a failed
     * handshake; anything else after the handshake is the backend's
     * doing, nothing to configure. */
    if (cc->state >= TLS_CONN_ST_TRAFFIC && !(detail && strstr(detail, "received fatal alert"))) {
        ap_log_cerror(APLOG_MARK, APLOG_INFO, 0, c, TLS_LOGNO(1207) "backend %s (%pI): %s: %s", pconn->name,
                      c->client_addr, what, detail ? detail : "-");
        return;
    }
    /* mod_proxy answers 502 for an aborted backend connection */
    c->aborted = 1;
    if (pconn->failed) return;
    pconn->failed = 1;
    ap_log_cerror(APLOG_MARK, APLOG_WARNING, 0, c,
                  TLS_LOGNO(1208) "TLS to backend %s (%pI) failed: %s%s%s; %s", pconn->name, c->client_addr, what,
                  detail ? ": " : "", detail ? detail : "", remedy_for(what, detail, rr));
}

/* mod_proxy's ALPN note ("h2", "h2, http/1.1") in wire format (each name
 * after its length byte) from p; NULL when there is none. */
static const char *alpn_wire(apr_pool_t *p, conn_rec *c, const char *note, apr_size_t *plen)
{
    char *list, *word, *state = NULL, *wire;
    apr_size_t len = 0;

    *plen = 0;
    if (!note || !*note) return NULL;
    list = apr_pstrdup(p, note);
    wire = apr_palloc(p, strlen(note) + 1);
    for (word = apr_strtok(list, ", ", &state); word; word = apr_strtok(NULL, ", ", &state)) {
        apr_size_t n = strlen(word);
        if (n == 0) continue;
        if (n > 255) {
            ap_log_cerror(APLOG_MARK, APLOG_WARNING, 0, c,
                          TLS_LOGNO(1209) "ALPN protocol name of more than 255 bytes asked for a backend is left out");
            continue;
        }
        wire[len++] = (char)n;
        memcpy(wire + len, word, n);
        len += n;
    }
    *plen = len;
    return len ? wire : NULL;
}

/* First filter call: mod_proxy's notes say whom we talk to and in which
 * protocol; make the rtls client connection. */
static apr_status_t proxy_open(tls_conn_t *cc)
{
    tls_proxy_conn_t *pconn = cc->side_ctx;
    conn_rec *c = cc->c;
    const char *name = apr_table_get(c->notes, NOTE_HOSTNAME);
    const char *alpn;
    apr_size_t alpn_len = 0;
    rtls_conn *rtls = NULL;
    rtls_result rr;

    /* Without the note (a module that does not set it) the backend's
     * address is all there is: verified as an IP address. */
    if (!name || !*name) name = c->client_ip;
    pconn->name = name;
    alpn = alpn_wire(c->pool, c, apr_table_get(c->notes, NOTE_ALPN), &alpn_len);
    rr = rtls_conn_client_new(pconn->setup->config, (const uint8_t *)name, strlen(name), (const uint8_t *)alpn,
                              alpn_len, &rtls);
    if (rr != RTLS_OK) {
        c->aborted = 1;
        pconn->failed = 1;
        ap_log_cerror(APLOG_MARK, APLOG_WARNING, 0, c,
                      TLS_LOGNO(1210) "TLS to backend %s (%pI) failed: cannot start a TLS connection to that name: "
                                      "%s; use a DNS name or an IP address in ProxyPass",
                      name, c->client_addr, rtls_result_text((unsigned)rr));
        return APR_EGENERAL;
    }
    cc->rtls = rtls;
    ap_log_cerror(APLOG_MARK, APLOG_DEBUG, 0, c, TLS_LOGNO(1211) "TLS to backend %s (%pI), ALPN %s, trusting %s",
                  name, c->client_addr, alpn ? apr_table_get(c->notes, NOTE_ALPN) : "(none)",
                  pconn->setup->ca_desc);
    return APR_SUCCESS;
}

int tls_proxy_bind_outgoing(conn_rec *c, ap_conf_vector_t *dir_conf, int enable_ssl)
{
    tls_conn_t *cc = tls_conn_get(c);
    const tls_proxy_conf_t *pc;
    const tls_proxy_setup_t *setup;
    tls_proxy_conn_t *pconn;
    rtls_conn *none = NULL;

    if (cc) {
        /* bound before (mod_proxy reuses the connection): it stays ours */
        return (cc->side == TLS_SIDE_CLIENT && enable_ssl) ? OK : DECLINED;
    }
    if (!enable_ssl) return DECLINED;
    pc = proxy_conf_of(dir_conf ? dir_conf : c->base_server->lookup_defaults);
    if (!pc) return DECLINED;
    pc = resolved(c->pool, pc);
    if (pc->engine != TLS_FLAG_ON) return DECLINED;
    setup = setup_lookup(c->pool, pc);
    if (!setup) {
        /* Only a combination of nested <Proxy> sections can get here. */
        ap_log_cerror(APLOG_MARK, APLOG_ERR, 0, c,
                      TLS_LOGNO(1212) "TLSProxyEngine is on for a backend connection to %pI, but no TLS client "
                                      "setup was made for its combination of TLSProxy* settings at startup: "
                                      "set them in one <Proxy> section or at server level",
                      c->client_addr);
        return DECLINED;
    }
    cc = tls_conn_create(c, TLS_SIDE_CLIENT, &none);
    pconn = apr_pcalloc(c->pool, sizeof(*pconn));
    pconn->setup = setup;
    pconn->name = c->client_ip;
    cc->side_ctx = pconn;
    cc->on_open = proxy_open;
    cc->on_fail = proxy_fail;
    return OK;
}

int tls_proxy_pre_connection(conn_rec *c, void *csd)
{
    tls_conn_t *cc;

    (void)csd;
    if (!c->outgoing || c->master) return OK;
    cc = tls_conn_get(c);
    if (!cc || cc->side != TLS_SIDE_CLIENT || cc->filter) return OK;
    if (tls_filter_conn_init(cc) != APR_SUCCESS) return DONE;
    return OK;
}
