/* tls_clientcert.c: see tls_clientcert.h. */
#include <stdlib.h>
#include <string.h>

#include <apr_file_info.h>
#include <apr_lib.h>
#include <apr_sha1.h>
#include <apr_strings.h>
#include <apr_tables.h>

#include <httpd.h>
#include <http_config.h>
#include <http_core.h>
#include <http_log.h>
#include <http_request.h>
#include <http_ssl.h>

#include "tls_clientcert.h"
#include "tls_conf.h"
#include "tls_core.h"
#include "tls_util.h"

APLOG_USE_MODULE(tls);

#define CLIENT_PREFIX "SSL_CLIENT_"
#define CLIENT_PREFIX_LEN (sizeof(CLIENT_PREFIX) - 1)
#define CHAIN_PREFIX "CERT_CHAIN_"
#define WARNED_KEY "mod_tls_client_crl_warned"

/* ---- files: CA certificates and CRLs ------------------------------------ */

typedef enum { FILES_CA, FILES_CRL } files_kind_t;

static int blob_cmp(const void *a, const void *b)
{
    return strcmp(((const tls_clientcert_blob_t *)a)->file, ((const tls_clientcert_blob_t *)b)->file);
}

static const char *read_blob(apr_pool_t *p, const char *directive, const char *path, apr_array_header_t *blobs)
{
    const char *data;
    apr_size_t len;
    apr_status_t rv = tls_util_read_file(p, path, TLS_MAX_PEM_SIZE, &data, &len);
    tls_clientcert_blob_t *b;
    char buf[256];

    if (rv == APR_EINVAL) return apr_psprintf(p, "%s: '%s' is empty", directive, path);
    if (rv == APR_ENOSPC) return apr_psprintf(p, "%s: '%s' is larger than %d bytes", directive, path, TLS_MAX_PEM_SIZE);
    if (rv != APR_SUCCESS) {
        return apr_psprintf(p, "%s: cannot read '%s': %s", directive, path, apr_strerror(rv, buf, sizeof(buf)));
    }
    b = apr_array_push(blobs);
    b->file = path;
    b->data = (const unsigned char *)data;
    b->len = len;
    return NULL;
}

/* Every regular file of directory `dir`, in name order (the hashed names
 * of `openssl rehash` included). */
static const char *read_dir(apr_pool_t *p, const char *directive, const char *dir, apr_array_header_t *blobs)
{
    apr_dir_t *d;
    apr_finfo_t fi;
    apr_status_t rv;
    const char *err = NULL;
    char buf[256];

    rv = apr_dir_open(&d, dir, p);
    if (rv != APR_SUCCESS) {
        return apr_psprintf(p, "%s: cannot open directory '%s': %s", directive, dir, apr_strerror(rv, buf, sizeof(buf)));
    }
    while (!err && apr_dir_read(&fi, APR_FINFO_NAME | APR_FINFO_TYPE, d) == APR_SUCCESS) {
        const char *path;
        if (fi.filetype == APR_DIR || fi.name[0] == '.') continue;
        path = apr_pstrcat(p, dir, "/", fi.name, NULL);
        if (fi.filetype == APR_LNK || fi.filetype == APR_UNKFILE) {
            apr_finfo_t target;
            if (apr_stat(&target, path, APR_FINFO_TYPE, p) != APR_SUCCESS || target.filetype != APR_REG) continue;
        }
        else if (fi.filetype != APR_REG) {
            continue;
        }
        err = read_blob(p, directive, path, blobs);
    }
    apr_dir_close(d);
    if (!err && blobs->nelts > 1) qsort(blobs->elts, (size_t)blobs->nelts, sizeof(tls_clientcert_blob_t), blob_cmp);
    return err;
}

/* Read and check the CA or CRL file or directory `arg` of a directive. */
static const char *load_files(cmd_parms *cmd, files_kind_t kind, const char *arg, tls_clientcert_files_t **pfiles)
{
    const char *directive = cmd->cmd->name;
    const char *path = ap_server_root_relative(cmd->pool, arg);
    tls_clientcert_files_t *files;
    rtls_client_auth *auth = NULL;
    apr_finfo_t fi;
    apr_sha1_ctx_t sha;
    unsigned char digest[APR_SHA1_DIGESTSIZE];
    char hex[2 * APR_SHA1_DIGESTSIZE + 1];
    const char *err = NULL;
    size_t total = 0;
    int i;
    char buf[256];
    apr_status_t rv;

    if (!path) return apr_psprintf(cmd->pool, "%s: invalid path '%s'", directive, arg);
    files = apr_pcalloc(cmd->pool, sizeof(*files));
    files->path = path;
    files->blobs = apr_array_make(cmd->pool, 4, sizeof(tls_clientcert_blob_t));
    rv = apr_stat(&fi, path, APR_FINFO_TYPE, cmd->temp_pool);
    if (rv != APR_SUCCESS) {
        return apr_psprintf(cmd->pool, "%s: cannot access '%s': %s", directive, path, apr_strerror(rv, buf, sizeof(buf)));
    }
    err = (fi.filetype == APR_DIR) ? read_dir(cmd->pool, directive, path, files->blobs)
                                   : read_blob(cmd->pool, directive, path, files->blobs);
    if (err) return err;

    if (rtls_client_auth_new(&auth) != RTLS_OK) return apr_psprintf(cmd->pool, "%s: out of memory", directive);
    apr_sha1_init(&sha);
    for (i = 0; !err && i < files->blobs->nelts; ++i) {
        const tls_clientcert_blob_t *b = &APR_ARRAY_IDX(files->blobs, i, tls_clientcert_blob_t);
        size_t count = 0;
        uint64_t next_update = 0;
        rtls_result rr = (kind == FILES_CA) ? rtls_client_auth_add_ca(auth, b->data, b->len, &count)
                                            : rtls_client_auth_add_crl(auth, b->data, b->len, &count, &next_update);
        if (rr != RTLS_OK) {
            err = apr_psprintf(cmd->pool, "%s: '%s': %s", directive, b->file, rtls_result_text((unsigned)rr));
            break;
        }
        if (count == 0 && fi.filetype != APR_DIR) {
            err = apr_psprintf(cmd->pool, "%s: '%s' holds no %s (PEM or DER expected)", directive, b->file,
                               kind == FILES_CA ? "CA certificate" : "CRL (X509 CRL)");
            break;
        }
        if (next_update && (!files->next_update || next_update < files->next_update)) {
            files->next_update = next_update;
            files->next_update_file = b->file;
        }
        total += count;
        apr_sha1_update_binary(&sha, b->data, (unsigned int)b->len);
    }
    rtls_client_auth_free(auth);
    if (err) return err;
    if (total == 0) {
        return apr_psprintf(cmd->pool, "%s: directory '%s' holds no %s", directive, path,
                            kind == FILES_CA ? "CA certificate" : "CRL");
    }
    apr_sha1_final(digest, &sha);
    ap_bin2hex(digest, sizeof(digest), hex);
    files->digest = apr_pstrdup(cmd->pool, hex);
    *pfiles = files;
    return NULL;
}

/* ---- directives --------------------------------------------------------- */

const char *tls_clientcert_cmd_certificate(cmd_parms *cmd, void *dc, const char *arg)
{
    tls_conf_server_t *sc = tls_conf_server_get(cmd->server);
    const char *err = ap_check_cmd_context(cmd, NOT_IN_DIR_CONTEXT);

    (void)dc;
    if (err) return err;
    if (!ap_cstr_casecmp(arg, "none")) {
        sc->client_mode = RTLS_CLIENT_AUTH_NONE;
    }
    else if (!ap_cstr_casecmp(arg, "optional")) {
        sc->client_mode = RTLS_CLIENT_AUTH_OPTIONAL;
    }
    else if (!ap_cstr_casecmp(arg, "required")) {
        sc->client_mode = RTLS_CLIENT_AUTH_REQUIRED;
    }
    else {
        return apr_psprintf(cmd->pool, "TLSClientCertificate: '%s' is not one of none, optional, required", arg);
    }
    return NULL;
}

const char *tls_clientcert_cmd_ca(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, NOT_IN_DIR_CONTEXT);

    (void)dc;
    if (err) return err;
    return load_files(cmd, FILES_CA, arg, &tls_conf_server_get(cmd->server)->client_ca);
}

const char *tls_clientcert_cmd_crl(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, NOT_IN_DIR_CONTEXT);

    (void)dc;
    if (err) return err;
    return load_files(cmd, FILES_CRL, arg, &tls_conf_server_get(cmd->server)->client_crl);
}

const char *tls_clientcert_cmd_user_name(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, NOT_IN_DIR_CONTEXT);

    (void)dc;
    if (err) return err;
    if (!*arg) return "TLSUserName needs a variable name, e.g. SSL_CLIENT_S_DN_CN";
    tls_conf_server_get(cmd->server)->user_name = apr_pstrdup(cmd->pool, arg);
    return NULL;
}

void tls_clientcert_conf_init(tls_conf_server_t *sc)
{
    sc->client_mode = TLS_UNSET;
    sc->client_ca = NULL;
    sc->client_crl = NULL;
    sc->user_name = NULL;
}

void tls_clientcert_conf_merge(tls_conf_server_t *sc, const tls_conf_server_t *base, const tls_conf_server_t *add)
{
    sc->client_mode = add->client_mode != TLS_UNSET    ? add->client_mode
                      : base->client_mode != TLS_UNSET ? base->client_mode
                                                       : RTLS_CLIENT_AUTH_NONE;
    sc->client_ca = add->client_ca ? add->client_ca : base->client_ca;
    sc->client_crl = add->client_crl ? add->client_crl : base->client_crl;
    sc->user_name = add->user_name ? add->user_name : base->user_name;
}

/* ---- TLS setups ---------------------------------------------------------- */

const char *tls_clientcert_setup_id(apr_pool_t *p, const tls_conf_server_t *sc)
{
    if (sc->client_mode == RTLS_CLIENT_AUTH_NONE || sc->client_mode == TLS_UNSET) return "";
    return apr_psprintf(p, ";client=%d;ca=%s;crl=%s", sc->client_mode, sc->client_ca ? sc->client_ca->digest : "-",
                        sc->client_crl ? sc->client_crl->digest : "-");
}

/* An expired CRL is used all the same (see rtls_client_auth_add_crl); say
 * so once per file and configuration generation, not on the preflight. */
static void warn_expired(apr_pool_t *p, server_rec *s, const tls_clientcert_files_t *crl)
{
    apr_hash_t *warned = NULL;
    apr_time_t next;

    if (!crl->next_update || ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG) return;
    next = apr_time_from_sec((apr_time_t)crl->next_update);
    if (next > apr_time_now()) return;
    apr_pool_userdata_get((void **)&warned, WARNED_KEY, p);
    if (!warned) {
        warned = apr_hash_make(p);
        apr_pool_userdata_setn(warned, WARNED_KEY, NULL, p);
    }
    if (apr_hash_get(warned, crl->next_update_file, APR_HASH_KEY_STRING)) return;
    apr_hash_set(warned, crl->next_update_file, APR_HASH_KEY_STRING, crl);
    {
        char date[APR_RFC822_DATE_LEN];
        apr_rfc822_date(date, next);
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                     TLS_LOGNO(1301) "TLSClientCRL: the CRL in '%s' expired (nextUpdate %s); it is still "
                                     "applied, but certificates revoked since are not known: replace it",
                     crl->next_update_file, date);
    }
}

rtls_result tls_clientcert_setup_builder(apr_pool_t *p, server_rec *s, const tls_conf_server_t *sc,
                                     rtls_server_config_builder *b)
{
    rtls_client_auth *auth = NULL;
    rtls_result rr = RTLS_OK;
    int i;

    if (sc->client_mode == RTLS_CLIENT_AUTH_NONE || sc->client_mode == TLS_UNSET) return RTLS_OK;
    if (!sc->client_ca) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s,
                     TLS_LOGNO(1302) "%s: TLSClientCertificate %s needs TLSClientCA (the CAs client "
                                     "certificates are verified with), in the virtual host or the main server",
                     tls_util_server_desc(p, s), sc->client_mode == RTLS_CLIENT_AUTH_REQUIRED ? "required" : "optional");
        return RTLS_CONF_NO_CLIENT_CA;
    }
    rr = rtls_client_auth_new(&auth);
    if (rr != RTLS_OK) goto cleanup;
    for (i = 0; i < sc->client_ca->blobs->nelts; ++i) {
        const tls_clientcert_blob_t *blob = &APR_ARRAY_IDX(sc->client_ca->blobs, i, tls_clientcert_blob_t);
        rr = rtls_client_auth_add_ca(auth, blob->data, blob->len, NULL);
        if (rr != RTLS_OK) goto cleanup;
    }
    for (i = 0; sc->client_crl && i < sc->client_crl->blobs->nelts; ++i) {
        const tls_clientcert_blob_t *blob = &APR_ARRAY_IDX(sc->client_crl->blobs, i, tls_clientcert_blob_t);
        rr = rtls_client_auth_add_crl(auth, blob->data, blob->len, NULL, NULL);
        if (rr != RTLS_OK) goto cleanup;
    }
    if (sc->client_crl) warn_expired(p, s, sc->client_crl);
    rr = rtls_server_config_builder_set_client_auth(b, auth, (uint32_t)sc->client_mode);
cleanup:
    rtls_client_auth_free(auth);
    return rr;
}

/* ---- variables ------------------------------------------------------------ */

const char *tls_clientcert_verify(const tls_conn_t *cc)
{
    /* Only verified chains get past the handshake. */
    return (cc->peer_certs && cc->peer_certs->nelts > 0) ? "SUCCESS" : "NONE";
}

static int add_field(void *userdata, const char *name, size_t name_len, const char *value, size_t value_len)
{
    apr_table_t *t = userdata;
    apr_pool_t *p = apr_table_elts(t)->pool;

    apr_table_setn(t, apr_pstrcat(p, CLIENT_PREFIX, apr_pstrmemdup(p, name, name_len), NULL),
                   apr_pstrmemdup(p, value, value_len));
    return 0;
}

/* The fields of certificate `d` as SSL_CLIENT_* in a table of pool p; NULL
 * if rtls cannot read it (cannot happen for a verified chain). The last
 * certificate parsed is remembered in p: a request looking up several
 * variables (mod_headers, ap_expr, the environment) parses it once. */
typedef struct {
    const tls_der_t *d;
    apr_table_t *fields;
} fields_memo_t;

#define FIELDS_MEMO_KEY "mod_tls_client_fields"

static apr_table_t *cert_fields(apr_pool_t *p, const tls_der_t *d)
{
    fields_memo_t *memo = NULL;
    apr_table_t *t;

    apr_pool_userdata_get((void **)&memo, FIELDS_MEMO_KEY, p);
    if (memo && memo->d == d) return memo->fields;
    t = apr_table_make(p, 32);
    if (rtls_x509_fields(d->der, d->len, add_field, t) != RTLS_OK) return NULL;
    if (!memo) {
        memo = apr_palloc(p, sizeof(*memo));
        apr_pool_userdata_setn(memo, FIELDS_MEMO_KEY, NULL, p);
    }
    memo->d = d;
    memo->fields = t;
    return t;
}

static const char *v_remain(apr_pool_t *p, const tls_der_t *d)
{
    int64_t not_after;
    apr_int64_t days;

    if (rtls_x509_not_after(d->der, d->len, &not_after) != RTLS_OK) return NULL;
    /* OpenSSL's ASN1_TIME_diff, as mod_ssl: whole days, towards zero */
    days = (not_after - (int64_t)apr_time_sec(apr_time_now())) / 86400;
    return apr_psprintf(p, "%" APR_INT64_T_FMT, days);
}

/* mod_ssl also answers <attr>_0 for the first attribute of a kind and SP
 * for ST. */
static const char *field_get(apr_pool_t *p, apr_table_t *fields, const char *name)
{
    const char *val = apr_table_get(fields, name);
    apr_size_t len = strlen(name);

    if (val) return val;
    if (len > 2 && !strcmp(name + len - 2, "_0")) return field_get(p, fields, apr_pstrmemdup(p, name, len - 2));
    if (len >= 3 && !strcmp(name + len - 2, "SP") && name[len - 3] == '_') {
        return apr_table_get(fields, apr_pstrcat(p, apr_pstrmemdup(p, name, len - 2), "ST", NULL));
    }
    return NULL;
}

static const char *chain_pem(apr_pool_t *p, const tls_conn_t *cc, int index)
{
    apr_table_t *t;

    if (index < 0 || index >= cc->peer_certs->nelts) return NULL;
    t = cert_fields(p, &APR_ARRAY_IDX(cc->peer_certs, index, tls_der_t));
    return t ? apr_table_get(t, CLIENT_PREFIX "CERT") : NULL;
}

const char *tls_clientcert_var(apr_pool_t *p, const tls_conn_t *cc, const char *name)
{
    const char *x;
    apr_table_t *fields;

    if (strncmp(name, CLIENT_PREFIX, CLIENT_PREFIX_LEN)) return NULL;
    if (!cc->peer_certs || cc->peer_certs->nelts == 0) return NULL;
    x = name + CLIENT_PREFIX_LEN;
    if (!strcmp(x, "V_REMAIN")) return v_remain(p, &APR_ARRAY_IDX(cc->peer_certs, 0, tls_der_t));
    if (!strncmp(x, CHAIN_PREFIX, sizeof(CHAIN_PREFIX) - 1)) {
        const char *n = x + sizeof(CHAIN_PREFIX) - 1;
        char *end;
        long i;
        if (!apr_isdigit(*n)) return NULL;
        i = strtol(n, &end, 10);
        if (*end || i > 100) return NULL;
        /* mod_ssl's chain is the one OpenSSL keeps on a server: without
         * the client's own certificate */
        return chain_pem(p, cc, (int)i + 1);
    }
    fields = cert_fields(p, &APR_ARRAY_IDX(cc->peer_certs, 0, tls_der_t));
    return fields ? field_get(p, fields, name) : NULL;
}

typedef struct {
    apr_table_t *env;
    int std;
    int export_cert;
} export_t;

static int export_field(void *baton, const char *key, const char *val)
{
    export_t *x = baton;
    int is_cert = !strcmp(key, CLIENT_PREFIX "CERT");

    if (is_cert ? x->export_cert : x->std) apr_table_setn(x->env, key, val);
    return 1;
}

static void set_user(request_rec *r)
{
    const tls_conf_server_t *sc = tls_conf_server_get(r->server);
    const char *val;

    if (!sc->user_name) return;
    val = ap_ssl_var_lookup(r->pool, r->server, r->connection, r, sc->user_name);
    if (val && *val) {
        r->user = (char *)val;
    }
    else {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                      TLS_LOGNO(1303) "TLSUserName: variable %s has no value, the request has no user",
                      sc->user_name);
    }
}

int tls_clientcert_access_checker(request_rec *r)
{
    const tls_conn_t *cc = tls_conn_get(r->connection);

    if (cc && cc->side == TLS_SIDE_SERVER && cc->state >= TLS_CONN_ST_TRAFFIC) set_user(r);
    return DECLINED;
}

void tls_clientcert_request_fixup(request_rec *r, const tls_conn_t *cc, int std, int export_cert)
{
    export_t x;
    apr_table_t *fields;
    int i;

    if (!cc->peer_certs || cc->peer_certs->nelts == 0) {
        /* as mod_ssl: present and empty when a host that asks got no
         * certificate (mod_ssl sets it on hosts that never ask, too: that
         * says nothing, and mod_tls never did) */
        if (export_cert && cc->sc && cc->sc->client_mode > RTLS_CLIENT_AUTH_NONE) {
            apr_table_setn(r->subprocess_env, CLIENT_PREFIX "CERT", "");
        }
        return;
    }
    if (!std && !export_cert) return;
    fields = cert_fields(r->pool, &APR_ARRAY_IDX(cc->peer_certs, 0, tls_der_t));
    if (!fields) return;
    x.env = r->subprocess_env;
    x.std = std;
    x.export_cert = export_cert;
    apr_table_do(export_field, &x, fields, NULL);
    if (std) {
        const char *remain = v_remain(r->pool, &APR_ARRAY_IDX(cc->peer_certs, 0, tls_der_t));
        if (remain) apr_table_setn(r->subprocess_env, CLIENT_PREFIX "V_REMAIN", remain);
    }
    for (i = 1; export_cert && i < cc->peer_certs->nelts; ++i) {
        const char *pem = chain_pem(r->pool, cc, i);
        if (pem) apr_table_setn(r->subprocess_env, apr_psprintf(r->pool, CLIENT_PREFIX CHAIN_PREFIX "%d", i - 1), pem);
    }
}
