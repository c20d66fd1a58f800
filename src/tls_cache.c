/* tls_cache.c: see tls_cache.h. */
#include <string.h>
#include <unistd.h>

#include <apr_atomic.h>
#include <apr_file_info.h>
#include <apr_global_mutex.h>
#include <apr_sha1.h>
#include <apr_strings.h>

#include <httpd.h>
#include <http_config.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <ap_provider.h>
#include <ap_socache.h>
#include <util_mutex.h>
#include <mod_status.h>

#include "tls_cache.h"
#include "tls_conf.h"
#include "tls_util.h"

APLOG_USE_MODULE(tls);

#define CACHE_MUTEX_TYPE "tls-session-cache"
#define CACHE_NAME "mod_tls-sess"
/* A ticket secret longer than this in a key file is refused. */
#define TICKET_SECRET_MAX 1024
#define TICKET_SECRET_MIN 32
#define TICKET_SECRET_KEY "mod_tls_ticket_secret"
/* Bounds of what rtls hands us (see rtls.h). */
#define SESSION_VALUE_MAX RTLS_SESSION_MAX_VALUE_LEN
#define SESSION_KEY_MAX RTLS_SESSION_MAX_KEY_LEN
/* Bytes of the setup digest in front of every cache key. */
#define SETUP_PREFIX_LEN 8
/* Every stored value starts with a header: a format mark and the entry's
 * expiry (apr_time_t, big-endian). The expiry lets a restart carry entries
 * over with their remaining lifetime; the mark keeps entries of another
 * format (a networked cache outlives module versions) from being used. */
#define VALUE_MARK "mTs1"
#define VALUE_MARK_LEN 4
#define VALUE_HEADER_LEN (VALUE_MARK_LEN + 8)
/* Process-pool key of the entries carried over a restart. */
#define CARRY_KEY "mod_tls_session_carry"
/* At most this many bytes of entries are carried over a restart. */
#define CARRY_MAX_BYTES (64 * 1024 * 1024)

struct tls_cache_t {
    int configured;                  /* TLSSessionCache given */
    int none;                        /* TLSSessionCache none */
    const char *spec;                /* as given, for messages */
    const ap_socache_provider_t *provider;
    ap_socache_instance_t *instance; /* set once initialized (post_config); NULL: no shared cache */
    apr_global_mutex_t *mutex;       /* for providers not safe across threads/processes */
    int tickets;                     /* TLSSessionTickets, default on */
    const char *ticket_key_file;
    const unsigned char *secret;     /* ticket secret: key file or random, parent-made */
    apr_size_t secret_len;
    server_rec *s;                   /* main server, for logging */
    pid_t parent;                    /* the process that made the instance */
};

/* Entries of a local cache (shmcb, dbm) carried from one configuration
 * generation to the next. Lives in its own pool under the process pool,
 * which outlives pconf; holds data only (no code pointers), since the
 * provider's module is unloaded and loaded again in between. */
typedef struct {
    apr_pool_t *pool;
    apr_array_header_t *entries; /* of carry_entry_t */
    apr_size_t bytes;
    int dropped;                 /* entries left out (over CARRY_MAX_BYTES) */
} carry_t;

typedef struct {
    unsigned char *id;
    unsigned int id_len;
    unsigned char *data;         /* with the value header */
    unsigned int data_len;
} carry_entry_t;

/* What the store callbacks get: the cache and the setup's key prefix. */
typedef struct {
    struct tls_cache_t *cache;
    unsigned char prefix[SETUP_PREFIX_LEN];
} cache_setup_t;

/* Problems with the cache backend (e.g. redis down) are logged once per
 * outage and process, not per handshake: set at the first failure, cleared
 * (with a line saying so) when a store or a lookup that found an entry
 * worked again. */
static apr_uint32_t warned;

static struct tls_cache_t *cache_get(server_rec *s)
{
    tls_conf_global_t *g = tls_conf_server_get(s)->global;

    if (!g->cache) {
        g->cache = apr_pcalloc(g->pool, sizeof(*g->cache));
        g->cache->tickets = TLS_UNSET;
    }
    return g->cache;
}

/* ---- directives --------------------------------------------------------- */

const char *tls_cache_cmd_cache(cmd_parms *cmd, void *dc, const char *arg)
{
    struct tls_cache_t *cache = cache_get(cmd->server);
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    const char *name, *args;
    char *sep;

    (void)dc;
    if (err) return err;
    cache->configured = 1;
    cache->spec = apr_pstrdup(cmd->pool, arg);
    cache->provider = NULL;
    cache->instance = NULL;
    cache->none = !ap_cstr_casecmp(arg, "none");
    if (cache->none) return NULL;
    if (!ap_cstr_casecmp(arg, "default")) {
        cache->configured = 0;
        return NULL;
    }
    name = apr_pstrdup(cmd->temp_pool, arg);
    sep = strchr((char *)name, ':');
    args = NULL;
    if (sep) {
        *sep = '\0';
        args = sep + 1;
    }
    cache->provider = ap_lookup_provider(AP_SOCACHE_PROVIDER_GROUP, name, AP_SOCACHE_PROVIDER_VERSION);
    if (!cache->provider) {
        return apr_psprintf(cmd->pool,
                            "TLSSessionCache: no session cache provider '%s'; load its module first, e.g. "
                            "'LoadModule socache_%s_module modules/mod_socache_%s.so' (or use 'default' or "
                            "'none')",
                            name, name, name);
    }
    err = cache->provider->create(&cache->instance, args, cmd->temp_pool, cmd->pool);
    if (err) return apr_psprintf(cmd->pool, "TLSSessionCache: '%s': %s", arg, err);
    return NULL;
}

const char *tls_cache_cmd_tickets(cmd_parms *cmd, void *dc, const char *arg)
{
    struct tls_cache_t *cache = cache_get(cmd->server);
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);

    (void)dc;
    if (err) return err;
    return tls_conf_cmd_flag(cmd, arg, &cache->tickets);
}

const char *tls_cache_cmd_ticket_key_file(cmd_parms *cmd, void *dc, const char *arg)
{
    struct tls_cache_t *cache = cache_get(cmd->server);
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    const char *path, *data;
    apr_size_t len;
    apr_finfo_t finfo;
    apr_status_t rv;
    char buf[256];

    (void)dc;
    if (err) return err;
    path = ap_server_root_relative(cmd->pool, arg);
    if (!path) return apr_psprintf(cmd->pool, "TLSSessionTicketKeyFile: invalid path '%s'", arg);
    if (ap_state_query(AP_SQ_RUN_MODE) == AP_SQ_RM_CONFIG_DUMP) {
        cache->ticket_key_file = path;
        return NULL;
    }
    rv = apr_stat(&finfo, path, APR_FINFO_PROT | APR_FINFO_TYPE, cmd->temp_pool);
    if (rv != APR_SUCCESS) {
        return apr_psprintf(cmd->pool, "TLSSessionTicketKeyFile: cannot read '%s': %s", path,
                            apr_strerror(rv, buf, sizeof(buf)));
    }
    if (finfo.protection & (APR_WREAD | APR_WWRITE | APR_GWRITE)) {
        return apr_psprintf(cmd->pool,
                            "TLSSessionTicketKeyFile: '%s' is readable or writable by others; it holds a "
                            "secret: make it readable by its owner (and group) only, e.g. chmod 600",
                            path);
    }
    rv = tls_util_read_file(cmd->pool, path, TICKET_SECRET_MAX, &data, &len);
    if (rv == APR_ENOSPC) {
        return apr_psprintf(cmd->pool, "TLSSessionTicketKeyFile: '%s' is larger than %d bytes", path,
                            TICKET_SECRET_MAX);
    }
    if (rv != APR_SUCCESS && rv != APR_EINVAL) {
        return apr_psprintf(cmd->pool, "TLSSessionTicketKeyFile: cannot read '%s': %s", path,
                            apr_strerror(rv, buf, sizeof(buf)));
    }
    if (rv == APR_EINVAL || len < TICKET_SECRET_MIN) {
        return apr_psprintf(cmd->pool,
                            "TLSSessionTicketKeyFile: '%s' holds fewer than %d bytes; fill it with random data, "
                            "e.g. 'openssl rand 48 > %s'",
                            path, TICKET_SECRET_MIN, path);
    }
    cache->ticket_key_file = path;
    cache->secret = (const unsigned char *)data;
    cache->secret_len = len;
    return NULL;
}

/* ---- locking and stored values ----------------------------------------- */

static apr_status_t lock(struct tls_cache_t *cache)
{
    return cache->mutex ? apr_global_mutex_lock(cache->mutex) : APR_SUCCESS;
}

static void unlock(struct tls_cache_t *cache)
{
    if (cache->mutex && apr_global_mutex_unlock(cache->mutex) != APR_SUCCESS) {
        /* nothing sensible to do: the next lock will report */
    }
}

static void value_header_put(unsigned char *p, apr_time_t expiry)
{
    apr_uint64_t e = (apr_uint64_t)expiry;
    int i;

    memcpy(p, VALUE_MARK, VALUE_MARK_LEN);
    for (i = 7; i >= 0; i--, e >>= 8) p[VALUE_MARK_LEN + i] = (unsigned char)(e & 0xff);
}

/* The expiry of a stored value, or 0 when it is not one of ours. */
static apr_time_t value_header_expiry(const unsigned char *p, apr_size_t len)
{
    apr_uint64_t e = 0;
    int i;

    if (len < VALUE_HEADER_LEN || memcmp(p, VALUE_MARK, VALUE_MARK_LEN)) return 0;
    for (i = 0; i < 8; i++) e = (e << 8) | p[VALUE_MARK_LEN + i];
    return (apr_time_t)e;
}

/* Scratch pool of the store callbacks: one per thread, cleared after each
 * call, destroyed when its thread ends (made in child_init's key). A pool
 * per call came from the global allocator, whose mutex every handshake
 * thread of a child contends for. Without the key (not a child), a pool
 * per call. */
static apr_threadkey_t *call_pool_key;

static void call_pool_key_destroy(void *data)
{
    apr_pool_destroy(data);
}

static apr_pool_t *call_pool_get(void)
{
    apr_allocator_t *allocator = NULL;
    apr_pool_t *p = NULL;

    if (call_pool_key && apr_threadkey_private_get((void **)&p, call_pool_key) == APR_SUCCESS && p) return p;
    if (apr_allocator_create(&allocator) != APR_SUCCESS) return NULL;
    if (apr_pool_create_unmanaged_ex(&p, NULL, allocator) != APR_SUCCESS) {
        apr_allocator_destroy(allocator);
        return NULL;
    }
    apr_allocator_owner_set(allocator, p);
    if (call_pool_key && apr_threadkey_private_set(p, call_pool_key) != APR_SUCCESS) {
        /* cannot keep it: released after the call */
    }
    return p;
}

static void call_pool_release(apr_pool_t *p)
{
    apr_pool_t *kept = NULL;

    if (call_pool_key && apr_threadkey_private_get((void **)&kept, call_pool_key) == APR_SUCCESS && kept == p)
        apr_pool_clear(p);
    else
        apr_pool_destroy(p);
}

/* ---- startup ------------------------------------------------------------ */

void tls_cache_pre_config(apr_pool_t *pconf)
{
    if (ap_mutex_register(pconf, CACHE_MUTEX_TYPE, NULL, APR_LOCK_DEFAULT, 0) != APR_SUCCESS) {
        /* only fails for a duplicate registration: nothing to do */
    }
}

static apr_status_t cache_destroy(void *data)
{
    struct tls_cache_t *cache = data;

    if (cache->provider && cache->instance) {
        cache->provider->destroy(cache->instance, cache->s);
        cache->instance = NULL;
    }
    return APR_SUCCESS;
}

/* The random ticket secret lives in the process pool: made once, it
 * survives restarts, so tickets stay valid across graceful restarts. */
static apr_status_t random_secret(server_rec *s, const unsigned char **psecret, apr_size_t *plen)
{
    unsigned char *secret = NULL;
    apr_status_t rv;

    apr_pool_userdata_get((void **)&secret, TICKET_SECRET_KEY, s->process->pool);
    if (!secret) {
        secret = apr_palloc(s->process->pool, TICKET_SECRET_MIN);
        rv = apr_generate_random_bytes(secret, TICKET_SECRET_MIN);
        if (rv != APR_SUCCESS) return rv;
        apr_pool_userdata_set(secret, TICKET_SECRET_KEY, apr_pool_cleanup_null, s->process->pool);
    }
    *psecret = secret;
    *plen = TICKET_SECRET_MIN;
    return APR_SUCCESS;
}

static apr_status_t carry_one(ap_socache_instance_t *instance, server_rec *s, void *userctx,
                              const unsigned char *id, unsigned int id_len, const unsigned char *data,
                              unsigned int data_len, apr_pool_t *pool)
{
    carry_t *carry = userctx;
    carry_entry_t *e;

    (void)instance;
    (void)s;
    (void)pool;
    if (!value_header_expiry(data, data_len)) return APR_SUCCESS;
    if (carry->bytes + id_len + data_len > CARRY_MAX_BYTES) {
        carry->dropped++;
        return APR_SUCCESS;
    }
    e = apr_array_push(carry->entries);
    e->id = apr_pmemdup(carry->pool, id, id_len);
    e->id_len = id_len;
    e->data = apr_pmemdup(carry->pool, data, data_len);
    e->data_len = data_len;
    carry->bytes += id_len + data_len;
    return APR_SUCCESS;
}

/* pconf cleanup in the parent, before the instance is destroyed: when the
 * configuration is destroyed for a restart (not when httpd exits), copy the
 * entries of a local cache out of it, so that the next generation's cache
 * starts with them (restore_carried). Sessions stored by old-generation
 * children after this point are lost: a full handshake next time. */
static apr_status_t carry_out(void *data)
{
    struct tls_cache_t *cache = data;
    carry_t *carry = NULL;
    apr_pool_t *p = NULL;
    apr_status_t rv;

    if (!cache->instance || !cache->provider->iterate || getpid() != cache->parent ||
        ap_state_query(AP_SQ_MAIN_STATE) != AP_SQ_MS_DESTROY_CONFIG)
        return APR_SUCCESS;
    rv = apr_pool_create(&p, cache->s->process->pool);
    if (rv != APR_SUCCESS) return APR_SUCCESS;
    carry = apr_pcalloc(p, sizeof(*carry));
    carry->pool = p;
    carry->entries = apr_array_make(p, 64, sizeof(carry_entry_t));
    rv = lock(cache);
    if (rv == APR_SUCCESS) {
        rv = cache->provider->iterate(cache->instance, cache->s, carry, carry_one, p);
        unlock(cache);
    }
    if (rv != APR_SUCCESS) {
        /* APR_ENOTIMPL: a provider that cannot list its entries; others: nothing to carry */
        apr_pool_destroy(p);
        return APR_SUCCESS;
    }
    apr_pool_userdata_set(carry, CARRY_KEY, apr_pool_cleanup_null, cache->s->process->pool);
    return APR_SUCCESS;
}

/* post_config: store the entries carried over from the last generation
 * (with their remaining lifetime) into the new cache, then free them. */
static void restore_carried(struct tls_cache_t *cache, apr_pool_t *ptemp)
{
    carry_t *carry = NULL;
    apr_time_t now = apr_time_now();
    int i, restored = 0, expired = 0, failed = 0;

    apr_pool_userdata_get((void **)&carry, CARRY_KEY, cache->s->process->pool);
    if (!carry) return;
    apr_pool_userdata_set(NULL, CARRY_KEY, apr_pool_cleanup_null, cache->s->process->pool);
    for (i = 0; cache->instance && i < carry->entries->nelts; i++) {
        carry_entry_t *e = &APR_ARRAY_IDX(carry->entries, i, carry_entry_t);
        apr_time_t expiry = value_header_expiry(e->data, e->data_len);

        if (expiry <= now) {
            expired++;
            continue;
        }
        if (lock(cache) != APR_SUCCESS) break;
        if (cache->provider->store(cache->instance, cache->s, e->id, e->id_len, expiry, e->data, e->data_len,
                                   ptemp) == APR_SUCCESS)
            restored++;
        else
            failed++;
        unlock(cache);
    }
    if (cache->instance && (carry->entries->nelts || carry->dropped))
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, cache->s,
                     TLS_LOGNO(0408) "TLS session cache %s: %d session(s) carried over the restart, %d expired, "
                                     "%d not stored, %d left out",
                     cache->spec, restored, expired, failed, carry->dropped);
    apr_pool_destroy(carry->pool);
}

static int post_config(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s)
{
    struct tls_cache_t *cache = cache_get(s);
    /* made by TLSSessionCache, not initialized yet: everything else uses
     * cache->instance (store, status, restore, child_init), so it is set
     * only once init succeeded; on every other way out there is none */
    ap_socache_instance_t *inst = cache->instance;
    struct ap_socache_hints hints;
    apr_status_t rv;

    cache->instance = NULL;
    cache->s = s;
    if (cache->tickets == TLS_UNSET) cache->tickets = TLS_FLAG_ON;
    /* Nothing to resume without TLS ports, nor when httpd only dumps its config. */
    if (tls_conf_server_get(s)->global->engines->nelts == 0 ||
        ap_state_query(AP_SQ_RUN_MODE) == AP_SQ_RM_CONFIG_DUMP)
        return OK;
    if (cache->tickets == TLS_FLAG_ON && !cache->secret) {
        rv = random_secret(s, &cache->secret, &cache->secret_len);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s, TLS_LOGNO(0401) "cannot make a session ticket secret");
            return HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    if (cache->none) return OK;
    if (!cache->configured) {
        /* default: shmcb, if its module is loaded */
        const char *err;
        cache->provider = ap_lookup_provider(AP_SOCACHE_PROVIDER_GROUP, "shmcb", AP_SOCACHE_PROVIDER_VERSION);
        if (!cache->provider) {
            ap_log_error(APLOG_MARK, APLOG_INFO, 0, s,
                         TLS_LOGNO(0402) "TLSSessionCache default: mod_socache_shmcb is not loaded, so TLS "
                                         "sessions are cached per child process (tickets still work everywhere)");
            return OK;
        }
        cache->spec = apr_psprintf(pconf, "shmcb:%s(%d)",
                                   ap_runtime_dir_relative(pconf, "mod_tls-sessions"), TLS_CACHE_DEFAULT_SIZE);
        err = cache->provider->create(&inst, strchr(cache->spec, ':') + 1, ptemp, pconf);
        if (err) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, TLS_LOGNO(0403) "TLSSessionCache %s: %s", cache->spec, err);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    if (!inst) return OK;
    if (cache->provider->flags & AP_SOCACHE_FLAG_NOTMPSAFE) {
        rv = ap_global_mutex_create(&cache->mutex, NULL, CACHE_MUTEX_TYPE, NULL, s, pconf, 0);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s,
                         TLS_LOGNO(0404) "cannot create the mutex of the TLS session cache");
            return HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    memset(&hints, 0, sizeof(hints));
    hints.avg_id_len = SETUP_PREFIX_LEN + 32;
    hints.avg_obj_size = 200;
    hints.expiry_interval = apr_time_from_sec(30);
    rv = cache->provider->init(inst, CACHE_NAME, &hints, s, pconf);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s,
                     TLS_LOGNO(0405) "cannot initialize the TLS session cache '%s'", cache->spec);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    cache->instance = inst;
    apr_pool_cleanup_register(pconf, cache, cache_destroy, apr_pool_cleanup_null);
    /* registered after cache_destroy (and the mutex), so it runs before them */
    cache->parent = getpid();
    apr_pool_cleanup_register(pconf, cache, carry_out, apr_pool_cleanup_null);
    return OK;
}

int tls_cache_post_config(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s)
{
    int rc = post_config(pconf, ptemp, s);

    /* whatever the new configuration is, the carried entries go now */
    restore_carried(cache_get(s), ptemp);
    return rc;
}

void tls_cache_child_init(apr_pool_t *pchild, server_rec *s)
{
    struct tls_cache_t *cache = cache_get(s);
    apr_status_t rv;

    if (cache->instance && !call_pool_key &&
        apr_threadkey_private_create(&call_pool_key, call_pool_key_destroy, pchild) != APR_SUCCESS) {
        call_pool_key = NULL; /* a pool per call then */
    }
    if (!cache->mutex) return;
    rv = apr_global_mutex_child_init(&cache->mutex, apr_global_mutex_lockfile(cache->mutex), pchild);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s,
                     TLS_LOGNO(0406) "cannot attach to the TLS session cache mutex; sessions are not cached");
        cache->instance = NULL;
    }
}

/* ---- the store, called by rustls during handshakes ---------------------- */

static void warn_once(struct tls_cache_t *cache, apr_status_t rv, const char *what)
{
    if (apr_atomic_cas32(&warned, 1, 0) == 0) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, cache->s,
                     TLS_LOGNO(0407) "TLS session cache '%s': %s failed; handshakes go on without it (logged "
                                     "once per process until it works again)",
                     cache->spec, what);
    }
}

/* A cache call worked: if this process had warned, say that it works again. */
static void note_works(struct tls_cache_t *cache)
{
    if (apr_atomic_read32(&warned) && apr_atomic_cas32(&warned, 0, 1) == 1) {
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, cache->s,
                     TLS_LOGNO(0409) "TLS session cache '%s' works again", cache->spec);
    }
}

static unsigned char *make_id(apr_pool_t *p, const cache_setup_t *cs, const uint8_t *key, size_t key_len,
                              unsigned int *pid_len)
{
    unsigned char *id = apr_palloc(p, SETUP_PREFIX_LEN + key_len);

    memcpy(id, cs->prefix, SETUP_PREFIX_LEN);
    memcpy(id + SETUP_PREFIX_LEN, key, key_len);
    *pid_len = (unsigned int)(SETUP_PREFIX_LEN + key_len);
    return id;
}

static int store_put(void *userdata, const uint8_t *key, size_t key_len, const uint8_t *value, size_t value_len)
{
    cache_setup_t *cs = userdata;
    struct tls_cache_t *cache = cs->cache;
    apr_pool_t *p = NULL;
    unsigned char *id, *data;
    unsigned int id_len;
    apr_time_t expiry;
    apr_status_t rv;

    if (!cache->instance || key_len > SESSION_KEY_MAX || value_len > SESSION_VALUE_MAX) return -1;
    p = call_pool_get();
    if (!p) return -1;
    id = make_id(p, cs, key, key_len, &id_len);
    expiry = apr_time_now() + apr_time_from_sec(TLS_CACHE_SESSION_SECS);
    data = apr_palloc(p, VALUE_HEADER_LEN + value_len);
    value_header_put(data, expiry);
    memcpy(data + VALUE_HEADER_LEN, value, value_len);
    rv = lock(cache);
    if (rv == APR_SUCCESS) {
        rv = cache->provider->store(cache->instance, cache->s, id, id_len, expiry, data,
                                    (unsigned int)(VALUE_HEADER_LEN + value_len), p);
        unlock(cache);
    }
    if (rv != APR_SUCCESS)
        warn_once(cache, rv, "storing a session");
    else
        note_works(cache);
    call_pool_release(p);
    return rv == APR_SUCCESS ? 0 : -1;
}

static int store_get(void *userdata, const uint8_t *key, size_t key_len, int remove, uint8_t *buf, size_t buf_len,
                     size_t *out_len)
{
    cache_setup_t *cs = userdata;
    struct tls_cache_t *cache = cs->cache;
    apr_pool_t *p = NULL;
    unsigned char *id, *data;
    unsigned int id_len, len = (unsigned int)(buf_len < SESSION_VALUE_MAX ? buf_len : SESSION_VALUE_MAX);
    apr_status_t rv;
    int found = 0;

    if (!cache->instance || key_len > SESSION_KEY_MAX) return -1;
    p = call_pool_get();
    if (!p) return -1;
    id = make_id(p, cs, key, key_len, &id_len);
    len += VALUE_HEADER_LEN;
    data = apr_palloc(p, len);
    rv = lock(cache);
    if (rv == APR_SUCCESS) {
        rv = cache->provider->retrieve(cache->instance, cache->s, id, id_len, data, &len, p);
        if (rv == APR_SUCCESS && remove) {
            /* single use: a failed removal means the session must not be used */
            rv = cache->provider->remove(cache->instance, cache->s, id, id_len, p);
        }
        unlock(cache);
    }
    if (rv == APR_SUCCESS)
        note_works(cache); /* not on "not found": apr_memcache says so for a server it marked dead */
    else if (!APR_STATUS_IS_NOTFOUND(rv))
        warn_once(cache, rv, "looking up a session");
    /* not ours, or past its expiry (a provider may keep entries a little longer) */
    if (rv == APR_SUCCESS && value_header_expiry(data, len) > apr_time_now()) {
        len -= VALUE_HEADER_LEN;
        memcpy(buf, data + VALUE_HEADER_LEN, len);
        *out_len = len;
        found = 1;
    }
    call_pool_release(p);
    return found ? 0 : -1;
}

rtls_result tls_cache_setup_builder(apr_pool_t *pconf, server_rec *s, rtls_server_config_builder *b,
                                    const char *setup_id)
{
    struct tls_cache_t *cache = cache_get(s);
    rtls_result rr = RTLS_OK;

    if (cache->instance) {
        cache_setup_t *cs = apr_pcalloc(pconf, sizeof(*cs));
        unsigned char digest[APR_SHA1_DIGESTSIZE];
        apr_sha1_ctx_t sha;

        cs->cache = cache;
        apr_sha1_init(&sha);
        apr_sha1_update_binary(&sha, (const unsigned char *)setup_id, (unsigned int)strlen(setup_id));
        apr_sha1_final(digest, &sha);
        memcpy(cs->prefix, digest, SETUP_PREFIX_LEN);
        rr = rtls_server_config_builder_set_session_store(b, store_put, store_get, cs);
    }
    else if (cache->none) {
        rr = rtls_server_config_builder_set_session_store(b, NULL, NULL, NULL);
    }
    if (rr == RTLS_OK && cache->tickets == TLS_FLAG_ON && cache->secret) {
        const rtls_ticketer *t = NULL;
        rr = rtls_ticketer_new(cache->secret, cache->secret_len, (const uint8_t *)setup_id, strlen(setup_id),
                               TLS_CACHE_TICKET_SECS, &t);
        if (rr == RTLS_OK) {
            rr = rtls_server_config_builder_set_ticketer(b, t);
            rtls_ticketer_free(t);
        }
    }
    return rr;
}

/* ---- server-status ------------------------------------------------------ */

/* What server-status says the cache is. */
static const char *cache_state(const struct tls_cache_t *cache, server_rec *s)
{
    if (cache->instance) return cache->spec;
    if (cache->none) return "none";
    if (tls_conf_server_get(s)->global->engines->nelts == 0) return "not in use (no TLSEngine)";
    return "per process";
}

int tls_cache_status(request_rec *r, int flags)
{
    struct tls_cache_t *cache = cache_get(r->server);

    if (flags & AP_STATUS_SHORT) {
        ap_rprintf(r, "TLSSessionCache: %s\n", cache_state(cache, r->server));
        ap_rprintf(r, "TLSSessionTickets: %s\n", cache->tickets == TLS_FLAG_ON ? "on" : "off");
    }
    else {
        ap_rputs("<hr>\n<h2>mod_tls session cache</h2>\n<p>", r);
        ap_rprintf(r, "TLSSessionCache: %s<br>\n", ap_escape_html(r->pool, cache_state(cache, r->server)));
        ap_rprintf(r, "TLSSessionTickets: %s</p>\n", cache->tickets == TLS_FLAG_ON ? "on" : "off");
    }
    if (cache->instance && cache->provider->status) {
        if (lock(cache) == APR_SUCCESS) {
            cache->provider->status(cache->instance, r, flags);
            unlock(cache);
        }
    }
    return OK;
}
