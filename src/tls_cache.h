/* tls_cache.h: TLS session resumption shared by all httpd children.
 *
 * Two mechanisms, both shared across children (and, configured so, across
 * servers):
 * - a session cache on httpd's socache (TLSSessionCache; shmcb by default)
 *   for TLS 1.2 session ids and TLS 1.3 stateful sessions. Keys are
 *   prefixed with a digest of the TLS setup, so a session never resumes on
 *   a virtual host with other certificates or settings.
 * - session tickets (TLSSessionTickets), encrypted with keys derived from
 *   one secret and the current time slot (see rtls_ticketer_new). The
 *   parent process makes the secret once per server lifetime (it survives
 *   graceful and full restarts) or reads it from TLSSessionTicketKeyFile;
 *   children inherit it at fork, so every child can open every ticket, and
 *   servers sharing a key file open each other's. The setup identity is
 *   the ticket context, so tickets do not cross TLS setups either.
 *
 * Phases: directives at config time; tls_cache_post_config in the parent;
 * tls_cache_child_init in each child; tls_cache_setup_builder while the
 * TLS setups are built (post_config); the store callbacks run in any
 * thread during handshakes.
 */
#ifndef TLS_CACHE_H
#define TLS_CACHE_H

#include <httpd.h>
#include <http_config.h>

#include "rtls.h"
#include "tls_util.h"

/* Cache entries live this long (socache expiry). */
#define TLS_CACHE_SESSION_SECS 300
/* Length of one ticket key period: a ticket opens during the period it was
 * made in and the next one. */
#define TLS_CACHE_TICKET_SECS 3600
/* The shmcb cache used when TLSSessionCache is not configured. */
#define TLS_CACHE_DEFAULT_SIZE 512000

/* Directive handlers (tls_conf.c puts them into its table). */
const char *tls_cache_cmd_cache(cmd_parms *cmd, void *dc, const char *arg);
const char *tls_cache_cmd_tickets(cmd_parms *cmd, void *dc, const char *arg);
const char *tls_cache_cmd_ticket_key_file(cmd_parms *cmd, void *dc, const char *arg);

/* pre_config: register the cache's mutex type ("tls-session-cache"). */
void tls_cache_pre_config(apr_pool_t *pconf);

/* post_config (parent): set up the cache and the ticket secret. Returns OK
 * or an httpd error (logged). */
TLS_MUST_CHECK int tls_cache_post_config(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s);

/* child_init: attach the cache mutex in the child. */
void tls_cache_child_init(apr_pool_t *pchild, server_rec *s);

/* Give a TLS setup's rustls configuration the shared cache and tickets.
 * `setup_id` identifies the setup (see tls_setup); `pconf` owns what is
 * made. Returns an rtls result. */
TLS_MUST_CHECK rtls_result tls_cache_setup_builder(apr_pool_t *pconf, server_rec *s, rtls_server_config_builder *b,
                                                   const char *setup_id);

/* mod_status hook: the cache's state. */
int tls_cache_status(request_rec *r, int flags);

#endif /* TLS_CACHE_H */
