/* tls_filter.c: see tls_filter.h.
 *
 * How bytes travel:
 *
 *   network -> core input -> [TLS input]  -> plaintext brigade -> httpd
 *   httpd   -> [TLS output] -> core output -> network
 *
 * The pump does not care which side of the TLS connection we are: it moves
 * TLS bytes between the filters below and rtls, plaintext between rtls and
 * the brigades above, and hands what rtls reports (RTLS_EVENT_*) to
 * tls_core, which owns the connection's state.
 *
 * Input: TLS bytes are read from the filter below in chunks of at most
 * TLS_READ_CHUNK bytes, only when no decrypted byte is waiting, and fed to
 * rustls; decrypted bytes are taken out as heap buckets into `in_plain`,
 * from which the request's mode (READBYTES, GETLINE, SPECULATIVE, ...) is
 * served. What is buffered is therefore bounded by one read chunk plus
 * rustls' own limits: nothing grows with the size of a request body.
 *
 * Output: plaintext is collected into one record-sized buffer (the
 * thread's, during a call) and handed to rustls a record at a time:
 * rustls makes one record of each write, so what it is given in one
 * piece is what decides the record count. The buffer is encrypted when it
 * is full, and whenever a metadata bucket (FLUSH, EOS, EOR, EOC, ...)
 * comes. rustls' records are appended to `out_tls` as heap buckets, which
 * is passed down whenever it holds TLS_PASS_BYTES, at FLUSH, at EOC and at
 * the end of every call.
 *
 * Across calls: httpd passes a response's status line and headers in one
 * call (ap_http_header_filter) and its body right after in the next, so
 * encrypting at the end of each call made every small response two
 * records. Plaintext that ends a call with no metadata after it is
 * therefore held for the next call (copied out of the thread's buffer,
 * see hold_plain) -- but only when it is less than TLS_HOLD_MAX and came
 * down a request's filter chain. The request's end (EOS, then EOR) always
 * comes down this filter, so such data waits no longer than the core
 * output filter would keep it anyway (it writes nothing under
 * THRESHOLD_MIN_WRITE without a FLUSH). Other data is not held: the MPM's
 * write completion and mod_proxy's tunnel (websockets) pass data without
 * any metadata and then call the core output filter directly, past this
 * one, to get it written; mod_proxy removes mod_ssl's coalescing filter
 * from a tunnel for that reason. Whether a call comes down a request's
 * chain is told by a request filter of ours just above the connection
 * filters (filter_request_output), which mod_proxy's tunnel and mod_http2
 * do not pass through.
 *
 * Memory: between requests an idle connection holds no buffer of ours;
 * record and plaintext buffers come from malloc and return to it when
 * consumed (see collect_tls), and held plaintext lives from one output
 * call of a request to the next only.
 *
 * Handshake: whichever filter is called first runs it to its end, the
 * input filter usually. The side that has bytes to send first sends (a
 * client its ClientHello, a server its answer to the hello); otherwise the
 * pump reads TLS bytes from below and feeds them to rustls. Each
 * rtls_conn_process step's events go to tls_conn_on_events: a complete
 * ClientHello (server side) calls the connection's hello callback there,
 * which picks the virtual host and ALPN and binds the connection (tls_server
 * for incoming connections); the handshake then continues with that
 * configuration. A failed handshake sends rustls' alert, logs at info (the
 * peer's doing) and leaves the connection in TLS_CONN_ST_DONE, where both
 * filters refuse work.
 */
/* <stddef.h> before any APR header: with offsetof defined, APR_OFFSETOF (in
 * every APR_RING/APR_BRIGADE macro) is offsetof; without, it is APR's own
 * arithmetic on a NULL pointer, undefined behaviour that UBSan reports. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <apr_atomic.h>
#include <apr_poll.h>
#include <apr_strings.h>

#include <httpd.h>
#include <http_config.h>
#include <http_connection.h>
#include <http_core.h>
#include <http_log.h>
#include <util_filter.h>

#include "tls_core.h"
#include "tls_filter.h"
#include "tls_util.h"

APLOG_USE_MODULE(tls);

/* Largest plaintext of one TLS record: the unit we encrypt in. */
#define TLS_RECORD_PLAIN 16384
/* TLS bytes read from the network in one go. */
#define TLS_READ_CHUNK (2 * TLS_RECORD_PLAIN + 1024)
/* Encrypted bytes collected before they are passed down. */
#define TLS_PASS_BYTES (4 * TLS_RECORD_PLAIN)
/* Longest single wait for TLS bytes (see get_below_blocking). */
#define TLS_WAIT_SLICE apr_time_from_msec(250)

/* How the child stops, once it does (see tls_filter_child_stopping). */
#define TLS_STOPPING_GRACEFUL 1
#define TLS_STOPPING_NOW 2
static apr_uint32_t child_stopping;

/* Plaintext held from one output call to the next stays below this: what
 * httpd's core output filter keeps back from a write without FLUSH
 * (THRESHOLD_MIN_WRITE in server/core_filters.c). */
#define TLS_HOLD_MAX 4096

typedef struct tls_filter_ctx_t {
    tls_conn_t *cc;
    conn_rec *c;
    ap_filter_t *fin;
    ap_filter_t *fout;
    apr_bucket_brigade *in_tls;   /* read from below, not yet fed to rustls */
    apr_bucket_brigade *in_plain; /* decrypted, not yet handed up */
    int in_eof;                   /* the stream below ended */
    int plain_seen;               /* application data arrived: a request began */
    apr_size_t rec_left;          /* bytes of the current TLS record still to read */
    apr_size_t hdr_len;           /* bytes of the next record header seen so far */
    unsigned char hdr[5];         /* that record header */
    apr_bucket_brigade *out_tls;  /* encrypted, not yet passed down */
    apr_off_t out_tls_len;
    char *out_buf;                /* plaintext collected for one record, during one output call */
    apr_size_t out_buf_len;
    char *own_buf;                /* this connection's record buffer, made only when the thread's is taken */
    char *held;                   /* plaintext kept from one output call to the next (malloc), or NULL */
    apr_size_t held_len;
    int in_request;               /* the output call came down a request's filter chain */
} tls_filter_ctx_t;

/* The record buffer of the output filter. What it collects is encrypted
 * before each output call returns, so it is needed only during a call:
 * one per thread serves all connections, and an idle connection holds
 * none (memory per idle connection). Nested use on one thread (not seen
 * in httpd) gets a connection's own buffer. */
static __thread char thread_out_buf[TLS_RECORD_PLAIN];
static __thread int thread_out_buf_taken;

static void out_buf_take(tls_filter_ctx_t *fctx)
{
    if (!thread_out_buf_taken) {
        thread_out_buf_taken = 1;
        fctx->out_buf = thread_out_buf;
        return;
    }
    if (!fctx->own_buf) fctx->own_buf = apr_palloc(fctx->c->pool, TLS_RECORD_PLAIN);
    fctx->out_buf = fctx->own_buf;
}

static void out_buf_give_back(tls_filter_ctx_t *fctx)
{
    if (fctx->out_buf == thread_out_buf) thread_out_buf_taken = 0;
    fctx->out_buf = NULL;
    fctx->out_buf_len = 0;
}

static void held_free(tls_filter_ctx_t *fctx)
{
    free(fctx->held);
    fctx->held = NULL;
    fctx->held_len = 0;
}

static apr_status_t held_cleanup(void *data)
{
    held_free(data);
    return APR_SUCCESS;
}

/* At the end of an output call: keep the record buffer's plaintext (with
 * no metadata after it) for the next call if that is safe (see the top of
 * the file), in a malloc'd copy of its size, so that the thread's buffer
 * is free for other connections. Returns 0 when it is not kept (then it
 * must be encrypted now). */
static int hold_plain(tls_filter_ctx_t *fctx)
{
    char *copy;

    if (!fctx->in_request || fctx->out_buf_len >= TLS_HOLD_MAX) return 0;
    copy = malloc(fctx->out_buf_len);
    if (!copy) return 0;
    memcpy(copy, fctx->out_buf, fctx->out_buf_len);
    fctx->held = copy;
    fctx->held_len = fctx->out_buf_len;
    fctx->out_buf_len = 0;
    return 1;
}

/* At the start of an output call: held plaintext back into a record buffer. */
static void unhold_plain(tls_filter_ctx_t *fctx)
{
    out_buf_take(fctx);
    memcpy(fctx->out_buf, fctx->held, fctx->held_len);
    fctx->out_buf_len = fctx->held_len;
    held_free(fctx);
}

/* Who is at the other end, for messages. */
static const char *peer_name(const tls_filter_ctx_t *fctx)
{
    return fctx->cc->side == TLS_SIDE_SERVER ? "client" : "server";
}

static void log_peer_failure(tls_filter_ctx_t *fctx, const char *what, rtls_result rr)
{
    char detail[256];
    size_t n;

    if (rtls_conn_error_text(fctx->cc->rtls, detail, sizeof(detail), &n) != RTLS_OK || n == 0) {
        apr_cpystrn(detail, rtls_result_text((unsigned)rr), sizeof(detail));
    }
    if (fctx->cc->on_fail) {
        fctx->cc->on_fail(fctx->cc, what, detail, rr);
        return;
    }
    ap_log_cerror(APLOG_MARK, RTLS_RESULT_CATEGORY(rr) == RTLS_CATEGORY_INTERNAL ? APLOG_ERR : APLOG_INFO, 0,
                  fctx->c, TLS_LOGNO(0301) "%s: %s (rtls %d)", what, detail, (int)rr);
}

/* ---- TLS bytes out ----------------------------------------------------- */

/* Buffers of TLS records and decrypted data come from malloc and go back
 * to it when their bucket is consumed. apr_bucket_alloc would take anything
 * over 128 bytes from the connection's allocator, which keeps freed blocks
 * for as long as the connection lives: every idle connection would hold
 * them. */
static int collect_tls(void *userdata, const uint8_t *buf, size_t len)
{
    tls_filter_ctx_t *fctx = userdata;
    char *copy = malloc(len);
    apr_bucket *b;

    if (!copy) return -1;
    memcpy(copy, buf, len);
    b = apr_bucket_heap_create(copy, len, free, fctx->c->bucket_alloc);
    APR_BRIGADE_INSERT_TAIL(fctx->out_tls, b);
    fctx->out_tls_len += (apr_off_t)len;
    return 0;
}

/* Move all TLS bytes rustls has ready into out_tls. */
static apr_status_t take_tls(tls_filter_ctx_t *fctx)
{
    size_t n;
    rtls_result rr = rtls_conn_write_tls(fctx->cc->rtls, collect_tls, fctx, &n);

    if (rr != RTLS_OK) {
        log_peer_failure(fctx, "collecting TLS data to send", rr);
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

/* Pass out_tls down, with a FLUSH bucket when `flush`. */
static apr_status_t pass_tls(tls_filter_ctx_t *fctx, int flush)
{
    apr_status_t rv;
    int sent;

    if (flush) {
        APR_BRIGADE_INSERT_TAIL(fctx->out_tls, apr_bucket_flush_create(fctx->c->bucket_alloc));
    }
    if (APR_BRIGADE_EMPTY(fctx->out_tls)) return APR_SUCCESS;
    sent = fctx->out_tls_len > 0;
    rv = ap_pass_brigade(fctx->fout->next, fctx->out_tls);
    apr_brigade_cleanup(fctx->out_tls);
    fctx->out_tls_len = 0;
    if (rv != APR_SUCCESS) {
        ap_log_cerror(APLOG_MARK, APLOG_DEBUG, rv, fctx->c, TLS_LOGNO(0302) "sending TLS data failed");
        tls_conn_done(fctx->cc);
        return rv;
    }
    if (sent) tls_conn_on_sent(fctx->cc);
    return APR_SUCCESS;
}

/* Send what rustls has ready (an alert, handshake messages) right away. */
static apr_status_t send_tls_now(tls_filter_ctx_t *fctx)
{
    apr_status_t rv = take_tls(fctx);

    if (rv == APR_SUCCESS) rv = pass_tls(fctx, 1);
    return rv;
}

/* The connection cannot go on: send what rustls still has (its alert) and
 * refuse all further work. Returns APR_ECONNABORTED. */
static apr_status_t conn_abort(tls_filter_ctx_t *fctx)
{
    if (fctx->cc->state != TLS_CONN_ST_DONE) {
        if (send_tls_now(fctx) != APR_SUCCESS) {
            /* already logged; the peer is gone */
        }
        tls_conn_done(fctx->cc);
    }
    return APR_ECONNABORTED;
}

/* ---- TLS bytes in ------------------------------------------------------ */

/* Decrypted bytes into in_plain; `avail` is what process reported. */
static apr_status_t take_plain(tls_filter_ctx_t *fctx, size_t avail)
{
    while (avail > 0) {
        char *buf = malloc(avail); /* see collect_tls */
        size_t n = 0;
        rtls_result rr;

        if (!buf) return APR_ENOMEM;
        rr = rtls_conn_read(fctx->cc->rtls, (uint8_t *)buf, avail, &n);
        if (rr != RTLS_OK || n == 0) {
            free(buf);
            return APR_SUCCESS; /* EOF states are seen by fill_plain */
        }
        APR_BRIGADE_INSERT_TAIL(fctx->in_plain, apr_bucket_heap_create(buf, n, free, fctx->c->bucket_alloc));
        fctx->plain_seen = 1;
        avail -= n;
    }
    return APR_SUCCESS;
}

/* Run rustls on what was fed; hand its events to tls_core (a hello binds
 * the connection there), collect plaintext and send what rustls wants
 * sent (after a hello: the answer to it). */
static apr_status_t process(tls_filter_ctx_t *fctx)
{
    tls_conn_t *cc = fctx->cc;
    size_t plain = 0, tls = 0;
    uint32_t events = 0;
    rtls_result rr = rtls_conn_process(cc->rtls, &plain, &tls, &events);

    if (rr != RTLS_OK) {
        log_peer_failure(fctx, cc->state < TLS_CONN_ST_TRAFFIC ? "TLS handshake failed" : "TLS connection failed", rr);
        return conn_abort(fctx);
    }
    if (tls_conn_on_events(cc, events) != APR_SUCCESS) return conn_abort(fctx);
    if (plain > 0 && take_plain(fctx, plain) != APR_SUCCESS) return conn_abort(fctx);
    if (events & RTLS_EVENT_HELLO) {
        /* Bound now: records that came with the hello wait in rtls for a
         * process step of their own, which must not wait for more bytes. */
        apr_status_t rv = send_tls_now(fctx);
        return rv == APR_SUCCESS ? process(fctx) : rv;
    }
    if (tls > 0 || (events & RTLS_EVENT_HANDSHAKE_DONE)) return send_tls_now(fctx);
    return APR_SUCCESS;
}

/* Feed in_tls to rustls, processing as we go. Stops early (leaving the
 * rest in in_tls) when rustls' plaintext buffer is full. */
static apr_status_t feed(tls_filter_ctx_t *fctx)
{
    apr_status_t rv;

    while (!APR_BRIGADE_EMPTY(fctx->in_tls)) {
        apr_bucket *b = APR_BRIGADE_FIRST(fctx->in_tls);
        const char *data;
        apr_size_t len;
        size_t n = 0;
        rtls_result rr;

        if (APR_BUCKET_IS_EOS(b)) {
            fctx->in_eof = 1;
            apr_bucket_delete(b);
            continue;
        }
        if (APR_BUCKET_IS_METADATA(b)) {
            apr_bucket_delete(b);
            continue;
        }
        rv = apr_bucket_read(b, &data, &len, APR_BLOCK_READ);
        if (rv != APR_SUCCESS) return rv;
        if (len == 0) {
            apr_bucket_delete(b);
            continue;
        }
        rr = rtls_conn_read_tls(fctx->cc->rtls, (const uint8_t *)data, len, &n);
        if (rr == RTLS_IO_BUFFER_FULL) {
            /* Decrypted data waits: hand it up before feeding more. */
            return process(fctx);
        }
        if (rr != RTLS_OK) {
            log_peer_failure(fctx, "reading TLS data", rr);
            return conn_abort(fctx);
        }
        if (n < len) {
            apr_bucket_split(b, n);
        }
        apr_bucket_delete(APR_BRIGADE_FIRST(fctx->in_tls));
        rv = process(fctx);
        if (rv != APR_SUCCESS) return rv;
    }
    return APR_SUCCESS;
}

/* Follow the TLS record framing over bytes just read, so that the next
 * read asks for exactly the rest of the current record (or header). */
static void track_records(tls_filter_ctx_t *fctx, const unsigned char *data, apr_size_t len)
{
    while (len > 0) {
        if (fctx->rec_left > 0) {
            apr_size_t n = len < fctx->rec_left ? len : fctx->rec_left;
            fctx->rec_left -= n;
            data += n;
            len -= n;
            continue;
        }
        fctx->hdr[fctx->hdr_len++] = *data++;
        --len;
        if (fctx->hdr_len == sizeof(fctx->hdr)) {
            fctx->rec_left = ((apr_size_t)fctx->hdr[3] << 8) | fctx->hdr[4];
            fctx->hdr_len = 0;
        }
    }
}

/* Is the child stopping in a way that ends this connection's wait? A
 * stop without grace ends every wait; a graceful one the waits of
 * connections that carry no request yet (in the handshake, or done with it
 * and no byte of a request arrived): the MPM closes its idle keep-alive
 * connections then too. */
static int stop_ends_wait(const tls_filter_ctx_t *fctx)
{
    apr_uint32_t stopping = apr_atomic_read32(&child_stopping);

    if (stopping == TLS_STOPPING_NOW) return 1;
    /* A backend connection serves a request under way from its start. */
    if (fctx->cc->side == TLS_SIDE_CLIENT) return 0;
    return stopping == TLS_STOPPING_GRACEFUL && !fctx->plain_seen;
}

/* Wait until the connection's socket is readable, or at most `wait`.
 * APR_SUCCESS also when the wait just ran out (the caller reads to find
 * out); APR_ECONNABORTED when the child's stop ends the wait (see
 * stop_ends_wait). */
static apr_status_t wait_readable(tls_filter_ctx_t *fctx, apr_interval_time_t wait)
{
    apr_socket_t *sock = ap_get_conn_socket(fctx->c);
    apr_pollfd_t pfd;
    apr_int32_t n = 0;
    apr_status_t rv;

    if (stop_ends_wait(fctx)) return APR_ECONNABORTED;
    memset(&pfd, 0, sizeof(pfd));
    pfd.p = fctx->c->pool;
    pfd.desc_type = APR_POLL_SOCKET;
    pfd.reqevents = APR_POLLIN;
    pfd.desc.s = sock;
    rv = apr_poll(&pfd, 1, &n, wait);
    if (stop_ends_wait(fctx)) return APR_ECONNABORTED;
    if (rv != APR_SUCCESS && !APR_STATUS_IS_TIMEUP(rv) && !APR_STATUS_IS_EINTR(rv)) return rv;
    return APR_SUCCESS;
}

/* A blocking read from the filter below, done as non-blocking reads and
 * waits of at most TLS_WAIT_SLICE each. Why not one blocking read: a worker
 * blocked in a socket read does not notice the child stopping (the MPM
 * closes the socket under it, which does not wake a poll() on Linux) and
 * sleeps until the read times out: the parent then needs SIGTERM/SIGKILL.
 * Each slice asks the filters below again, so their deadlines (those of
 * mod_reqtimeout) are seen within a slice; between bytes, the wait is
 * bounded by the socket's timeout (httpd's Timeout), as a blocking read of
 * the core filter is. */
static apr_status_t get_below_blocking(tls_filter_ctx_t *fctx, apr_off_t want)
{
    apr_socket_t *sock = ap_get_conn_socket(fctx->c);
    apr_interval_time_t timeout = 0;
    apr_time_t deadline = 0;
    apr_status_t rv;

    if (!sock) {
        /* not on a socket of its own (cannot happen for connections we serve) */
        return ap_get_brigade(fctx->fin->next, fctx->in_tls, AP_MODE_READBYTES, APR_BLOCK_READ, want);
    }
    for (;;) {
        apr_bucket *last = APR_BRIGADE_LAST(fctx->in_tls);
        rv = ap_get_brigade(fctx->fin->next, fctx->in_tls, AP_MODE_READBYTES, APR_NONBLOCK_READ, want);
        /* nothing there: the core filter says so with an empty brigade */
        if (rv == APR_SUCCESS && APR_BRIGADE_LAST(fctx->in_tls) != last) return APR_SUCCESS;
        if (rv != APR_SUCCESS && !APR_STATUS_IS_EAGAIN(rv)) return rv;
        if (deadline == 0) {
            if (apr_socket_timeout_get(sock, &timeout) != APR_SUCCESS) timeout = -1;
            deadline = timeout > 0 ? apr_time_now() + timeout : -1;
        }
        {
            apr_interval_time_t wait = TLS_WAIT_SLICE;
            if (deadline > 0) {
                apr_time_t left = deadline - apr_time_now();
                if (left <= 0) return APR_TIMEUP;
                if (left < wait) wait = left;
            }
            rv = wait_readable(fctx, wait);
            if (rv != APR_SUCCESS) return rv;
        }
    }
}

/* Read more TLS bytes from the filter below into in_tls: the rest of the
 * current record, or of its header. Asking for no more than that keeps the
 * core filter from trying an extra (non-blocking, mostly futile) socket
 * read per call, as it does when it has less than was asked for; rustls
 * checks the framing itself, this only sizes the reads. APR_EOF when the
 * stream ended; APR_EAGAIN when non-blocking and nothing came;
 * APR_ECONNABORTED when blocking and the child stops meanwhile. */
static apr_status_t read_below(tls_filter_ctx_t *fctx, apr_read_type_e block)
{
    apr_bucket *last = APR_BRIGADE_LAST(fctx->in_tls), *b;
    apr_off_t want;
    apr_status_t rv;

    if (fctx->in_eof) return APR_EOF;
    if (fctx->rec_left > 0) {
        want = (apr_off_t)(fctx->rec_left < TLS_READ_CHUNK ? fctx->rec_left : TLS_READ_CHUNK);
    }
    else {
        want = (apr_off_t)(sizeof(fctx->hdr) - fctx->hdr_len);
    }
    if (block == APR_BLOCK_READ) {
        rv = get_below_blocking(fctx, want);
    }
    else {
        rv = ap_get_brigade(fctx->fin->next, fctx->in_tls, AP_MODE_READBYTES, block, want);
    }
    if (rv == APR_EOF) {
        fctx->in_eof = 1;
        return APR_EOF;
    }
    if (rv != APR_SUCCESS) return rv;
    if (APR_BRIGADE_EMPTY(fctx->in_tls)) {
        return block == APR_NONBLOCK_READ ? APR_EAGAIN : APR_EOF;
    }
    /* the buckets added by this read */
    b = (last == APR_BRIGADE_SENTINEL(fctx->in_tls)) ? APR_BRIGADE_FIRST(fctx->in_tls) : APR_BUCKET_NEXT(last);
    for (; b != APR_BRIGADE_SENTINEL(fctx->in_tls); b = APR_BUCKET_NEXT(b)) {
        const char *data;
        apr_size_t len;
        if (APR_BUCKET_IS_METADATA(b)) continue;
        rv = apr_bucket_read(b, &data, &len, APR_BLOCK_READ);
        if (rv != APR_SUCCESS) return rv;
        track_records(fctx, (const unsigned char *)data, len);
    }
    return APR_SUCCESS;
}

/* ---- handshake --------------------------------------------------------- */

static apr_status_t handshake(tls_filter_ctx_t *fctx, apr_read_type_e block)
{
    tls_conn_t *cc = fctx->cc;
    apr_status_t rv;

    if (!cc->rtls) {
        /* A client connection made on first use (tls_proxy: mod_proxy has
         * set the backend's name and ALPN notes by now). */
        rv = cc->on_open ? cc->on_open(cc) : APR_EGENERAL;
        if (rv != APR_SUCCESS || !cc->rtls) {
            tls_conn_done(cc);
            return APR_ECONNABORTED;
        }
    }
    while (cc->state < TLS_CONN_ST_TRAFFIC) {
        /* The side that has bytes to send first sends (a client's hello). */
        if (rtls_conn_wants_write(cc->rtls)) {
            rv = send_tls_now(fctx);
            if (rv != APR_SUCCESS) return rv;
            continue;
        }
        rv = read_below(fctx, block);
        if (rv == APR_EOF) {
            if (cc->on_fail) {
                cc->on_fail(cc, "the connection was closed during the TLS handshake", NULL, RTLS_OK);
            }
            else {
                ap_log_cerror(APLOG_MARK, APLOG_DEBUG, 0, fctx->c,
                              TLS_LOGNO(0303) "the %s closed the connection during the TLS handshake",
                              peer_name(fctx));
            }
            tls_conn_done(cc);
            return APR_ECONNABORTED;
        }
        if (rv != APR_SUCCESS) {
            if (!APR_STATUS_IS_EAGAIN(rv)) {
                /* aborted: the child stops (our doing); reset: the peer went
                 * away, as with EOF above. Neither is worth an info line. */
                int level = (APR_STATUS_IS_ECONNABORTED(rv) || APR_STATUS_IS_ECONNRESET(rv)) ? APLOG_DEBUG
                                                                                             : APLOG_INFO;
                if (cc->on_fail && !APR_STATUS_IS_ECONNABORTED(rv)) {
                    char buf[128];
                    cc->on_fail(cc, "reading the TLS handshake failed", apr_strerror(rv, buf, sizeof(buf)), RTLS_OK);
                }
                else {
                    ap_log_cerror(APLOG_MARK, level, rv, fctx->c,
                                  TLS_LOGNO(0304) "reading the TLS handshake from the %s failed", peer_name(fctx));
                }
                tls_conn_done(cc);
            }
            return rv;
        }
        rv = feed(fctx);
        if (rv != APR_SUCCESS) return rv;
    }
    return cc->state == TLS_CONN_ST_DONE ? APR_ECONNABORTED : APR_SUCCESS;
}

apr_status_t tls_filter_handshake(tls_conn_t *cc)
{
    return handshake(cc->filter, APR_BLOCK_READ);
}

/* ---- input filter ------------------------------------------------------ */

/* Make sure in_plain holds data, or say why not: APR_EOF (the peer
 * closed; with or without close_notify), APR_EAGAIN (non-blocking and
 * nothing yet), or an error. */
static apr_status_t fill_plain(tls_filter_ctx_t *fctx, apr_read_type_e block)
{
    apr_status_t rv;

    /* Splitting a line off at a bucket's end leaves an empty bucket: an
     * empty brigade must mean "nothing decrypted". */
    while (!APR_BRIGADE_EMPTY(fctx->in_plain) && APR_BRIGADE_FIRST(fctx->in_plain)->length == 0) {
        apr_bucket_delete(APR_BRIGADE_FIRST(fctx->in_plain));
    }
    while (APR_BRIGADE_EMPTY(fctx->in_plain)) {
        char probe[1];
        size_t n = 0;
        rtls_result rr;

        if (fctx->cc->state == TLS_CONN_ST_DONE) return APR_ECONNABORTED;
        rv = feed(fctx);
        if (rv != APR_SUCCESS) return rv;
        if (!APR_BRIGADE_EMPTY(fctx->in_plain)) break;
        /* Nothing decrypted: is the stream over? (reading 0 bytes would not
         * tell, so look at what a 1-byte read says without losing it) */
        rr = rtls_conn_read(fctx->cc->rtls, (uint8_t *)probe, sizeof(probe), &n);
        if (rr == RTLS_OK) {
            APR_BRIGADE_INSERT_TAIL(fctx->in_plain,
                                    apr_bucket_heap_create(probe, n, NULL, fctx->c->bucket_alloc));
            break;
        }
        if (rr == RTLS_IO_EOF) return APR_EOF;
        if (rr == RTLS_IO_UNCLEAN_EOF) {
            ap_log_cerror(APLOG_MARK, APLOG_TRACE1, 0, fctx->c, TLS_LOGNO(0308) "%s closed without close_notify",
                          peer_name(fctx));
            return APR_EOF;
        }
        if (rr != RTLS_IO_WOULD_BLOCK) {
            log_peer_failure(fctx, "reading decrypted data", rr);
            return conn_abort(fctx);
        }
        if (!APR_BRIGADE_EMPTY(fctx->in_tls)) continue;
        rv = read_below(fctx, block);
        if (rv == APR_EOF) {
            rr = rtls_conn_read_tls_eof(fctx->cc->rtls);
            if (rr != RTLS_OK) return conn_abort(fctx);
            rv = process(fctx);
            if (rv != APR_SUCCESS) return rv;
            continue;
        }
        if (rv != APR_SUCCESS) return rv;
    }
    return APR_SUCCESS;
}

/* Move up to `max` bytes (max < 0: all) of in_plain to bb. */
static apr_status_t move_plain(tls_filter_ctx_t *fctx, apr_bucket_brigade *bb, apr_off_t max)
{
    apr_bucket *after;
    apr_status_t rv;

    if (max < 0) {
        APR_BRIGADE_CONCAT(bb, fctx->in_plain);
        return APR_SUCCESS;
    }
    rv = apr_brigade_partition(fctx->in_plain, max, &after);
    if (rv != APR_SUCCESS && rv != APR_INCOMPLETE) return rv;
    while (!APR_BRIGADE_EMPTY(fctx->in_plain) && APR_BRIGADE_FIRST(fctx->in_plain) != after) {
        apr_bucket *b = APR_BRIGADE_FIRST(fctx->in_plain);
        APR_BUCKET_REMOVE(b);
        APR_BRIGADE_INSERT_TAIL(bb, b);
    }
    return APR_SUCCESS;
}

/* Copy up to `max` bytes of in_plain to bb, leaving in_plain as it is. */
static apr_status_t copy_plain(tls_filter_ctx_t *fctx, apr_bucket_brigade *bb, apr_off_t max)
{
    apr_bucket *b, *copy;
    apr_status_t rv;

    for (b = APR_BRIGADE_FIRST(fctx->in_plain); b != APR_BRIGADE_SENTINEL(fctx->in_plain) && max > 0;
         b = APR_BUCKET_NEXT(b)) {
        if ((apr_off_t)b->length > max) {
            apr_bucket_split(b, (apr_size_t)max);
        }
        rv = apr_bucket_copy(b, &copy);
        if (rv != APR_SUCCESS) return rv;
        APR_BRIGADE_INSERT_TAIL(bb, copy);
        max -= (apr_off_t)b->length;
    }
    return APR_SUCCESS;
}

static apr_status_t input(ap_filter_t *f, apr_bucket_brigade *bb, ap_input_mode_t mode,
                                 apr_read_type_e block, apr_off_t readbytes)
{
    tls_filter_ctx_t *fctx = f->ctx;
    apr_status_t rv;

    if (fctx->cc->state == TLS_CONN_ST_DONE) return APR_ECONNABORTED;
    if (fctx->cc->state < TLS_CONN_ST_TRAFFIC) {
        rv = handshake(fctx, block);
        if (rv != APR_SUCCESS) return rv;
    }
    switch (mode) {
    case AP_MODE_INIT:
        return APR_SUCCESS;
    case AP_MODE_EATCRLF:
        /* Only the core filter can look ahead that way; as in mod_ssl. */
        return APR_ENOTIMPL;
    case AP_MODE_READBYTES:
    case AP_MODE_SPECULATIVE:
    case AP_MODE_GETLINE:
    case AP_MODE_EXHAUSTIVE:
        break;
    default:
        return APR_ENOTIMPL;
    }
    /* The end of the stream is APR_EOF, as the core filter reports it once
     * nothing is left (callers such as ap_rgetline rely on the status). */
    rv = fill_plain(fctx, block);
    if (rv != APR_SUCCESS) return rv;

    switch (mode) {
    case AP_MODE_READBYTES:
        return move_plain(fctx, bb, readbytes > 0 ? readbytes : TLS_RECORD_PLAIN);
    case AP_MODE_SPECULATIVE:
        return copy_plain(fctx, bb, readbytes > 0 ? readbytes : TLS_RECORD_PLAIN);
    case AP_MODE_GETLINE:
        return apr_brigade_split_line(bb, fctx->in_plain, block, HUGE_STRING_LEN);
    default: /* AP_MODE_EXHAUSTIVE */
        return move_plain(fctx, bb, -1);
    }
}

static apr_status_t filter_input(ap_filter_t *f, apr_bucket_brigade *bb, ap_input_mode_t mode,
                                 apr_read_type_e block, apr_off_t readbytes)
{
    apr_status_t rv = input(f, bb, mode, block, readbytes);

    if (APLOGctrace4(f->c)) {
        apr_off_t len = -1;
        if (apr_brigade_length(bb, 0, &len) != APR_SUCCESS) len = -1;
        ap_log_cerror(APLOG_MARK, APLOG_TRACE4, rv, f->c, TLS_LOGNO(0309) "TLS input: mode %d, %s, asked %" APR_OFF_T_FMT
                      ", returns %" APR_OFF_T_FMT " bytes%s", (int)mode, block == APR_BLOCK_READ ? "blocking" :
                      "non-blocking", readbytes, len, (!APR_BRIGADE_EMPTY(bb) && APR_BUCKET_IS_EOS(APR_BRIGADE_LAST(bb)))
                      ? " + EOS" : "");
    }
    return rv;
}

/* ---- output filter ----------------------------------------------------- */

/* Encrypt `len` bytes, collecting the records; passes them down as they
 * pile up. */
static apr_status_t encrypt(tls_filter_ctx_t *fctx, const char *data, apr_size_t len)
{
    apr_status_t rv;

    while (len > 0) {
        size_t n = 0;
        rtls_result rr = rtls_conn_write(fctx->cc->rtls, (const uint8_t *)data, len, &n);
        if (rr != RTLS_OK) {
            log_peer_failure(fctx, "encrypting data", rr);
            return conn_abort(fctx);
        }
        data += n;
        len -= n;
        rv = take_tls(fctx);
        if (rv != APR_SUCCESS) return conn_abort(fctx);
        if (fctx->out_tls_len >= TLS_PASS_BYTES || (n == 0 && fctx->out_tls_len > 0)) {
            rv = pass_tls(fctx, 0);
            if (rv != APR_SUCCESS) return rv;
        }
        else if (n == 0) {
            /* rustls took nothing and had nothing to send: cannot happen
             * with a healthy connection; do not spin. */
            ap_log_cerror(APLOG_MARK, APLOG_ERR, 0, fctx->c, TLS_LOGNO(0305) "rustls accepted no data to encrypt");
            return conn_abort(fctx);
        }
    }
    return APR_SUCCESS;
}

static apr_status_t encrypt_buffered(tls_filter_ctx_t *fctx)
{
    apr_status_t rv = APR_SUCCESS;

    if (fctx->out_buf_len > 0) {
        rv = encrypt(fctx, fctx->out_buf, fctx->out_buf_len);
        fctx->out_buf_len = 0;
    }
    return rv;
}

/* Take one data bucket's bytes: whole records go to rustls directly, the
 * rest is collected until a record is full. */
static apr_status_t write_data(tls_filter_ctx_t *fctx, const char *data, apr_size_t len)
{
    apr_status_t rv;

    while (len > 0) {
        if (fctx->out_buf_len == 0 && len >= TLS_RECORD_PLAIN) {
            apr_size_t whole = len - (len % TLS_RECORD_PLAIN);
            rv = encrypt(fctx, data, whole);
            if (rv != APR_SUCCESS) return rv;
            data += whole;
            len -= whole;
        }
        else {
            apr_size_t room;
            if (!fctx->out_buf) out_buf_take(fctx);
            room = TLS_RECORD_PLAIN - fctx->out_buf_len;
            apr_size_t n = len < room ? len : room;
            memcpy(fctx->out_buf + fctx->out_buf_len, data, n);
            fctx->out_buf_len += n;
            data += n;
            len -= n;
            if (fctx->out_buf_len == TLS_RECORD_PLAIN) {
                rv = encrypt_buffered(fctx);
                if (rv != APR_SUCCESS) return rv;
            }
        }
    }
    return APR_SUCCESS;
}

static apr_status_t filter_output(ap_filter_t *f, apr_bucket_brigade *bb)
{
    tls_filter_ctx_t *fctx = f->ctx;
    apr_status_t rv = APR_SUCCESS;
    apr_off_t data_in = 0;
    int meta_in = 0;

    if (fctx->cc->state == TLS_CONN_ST_DONE) {
        held_free(fctx);
        apr_brigade_cleanup(bb);
        return APR_ECONNABORTED;
    }
    if (fctx->cc->state < TLS_CONN_ST_TRAFFIC) {
        /* Someone writes before reading: finish the handshake first. */
        rv = handshake(fctx, APR_BLOCK_READ);
        if (rv != APR_SUCCESS) {
            apr_brigade_cleanup(bb);
            return rv;
        }
    }
    if (fctx->held) unhold_plain(fctx);
    while (!APR_BRIGADE_EMPTY(bb) && rv == APR_SUCCESS) {
        apr_bucket *b = APR_BRIGADE_FIRST(bb);

        if (APR_BUCKET_IS_METADATA(b)) {
            ++meta_in;
            if (fctx->cc->state >= TLS_CONN_ST_NOTIFIED) {
                /* after close_notify only metadata may follow */
                APR_BUCKET_REMOVE(b);
                APR_BRIGADE_INSERT_TAIL(fctx->out_tls, b);
                continue;
            }
            rv = encrypt_buffered(fctx);
            if (rv != APR_SUCCESS) break;
            if (AP_BUCKET_IS_EOC(b)) {
                /* close_notify goes down with a FLUSH of its own, ahead of
                 * the EOC (as mod_ssl does it): passed in one brigade with
                 * the EOC, httpd 2.4's core output filter never wrote it. */
                tls_conn_close_notify(fctx->cc);
                rv = take_tls(fctx);
                if (rv == APR_SUCCESS) rv = pass_tls(fctx, 1);
                if (rv != APR_SUCCESS) break;
            }
            APR_BUCKET_REMOVE(b);
            APR_BRIGADE_INSERT_TAIL(fctx->out_tls, b);
            if (APR_BUCKET_IS_FLUSH(b) || AP_BUCKET_IS_EOC(b)) {
                rv = pass_tls(fctx, 0);
            }
            continue;
        }
        if (fctx->cc->state >= TLS_CONN_ST_NOTIFIED) {
            ap_log_cerror(APLOG_MARK, APLOG_DEBUG, 0, f->c,
                          TLS_LOGNO(0306) "data written after close_notify is dropped");
            apr_bucket_delete(b);
            continue;
        }
        {
            const char *data;
            apr_size_t len;
            rv = apr_bucket_read(b, &data, &len, APR_BLOCK_READ);
            if (rv != APR_SUCCESS) {
                ap_log_cerror(APLOG_MARK, APLOG_ERR, rv, f->c, TLS_LOGNO(0307) "reading data to send failed");
                break;
            }
            data_in += (apr_off_t)len;
            rv = write_data(fctx, data, len);
            apr_bucket_delete(b);
        }
    }
    /* What is still in the record buffer came after the last metadata. */
    if (rv == APR_SUCCESS && fctx->out_buf_len > 0 && !hold_plain(fctx)) rv = encrypt_buffered(fctx);
    out_buf_give_back(fctx);
    if (rv == APR_SUCCESS && fctx->cc->state != TLS_CONN_ST_DONE) {
        rv = take_tls(fctx);
        if (rv == APR_SUCCESS) rv = pass_tls(fctx, 0);
    }
    apr_brigade_cleanup(bb);
    if (APLOGctrace4(f->c)) {
        ap_log_cerror(APLOG_MARK, APLOG_TRACE4, rv, f->c, TLS_LOGNO(0310) "TLS output%s: %" APR_OFF_T_FMT
                      " bytes, %d metadata buckets; %" APR_SIZE_T_FMT " bytes held for the next call",
                      fctx->in_request ? " (request)" : "", data_in, meta_in, fctx->held_len);
    }
    return rv;
}

/* The request filter: marks output calls that come down a request's chain
 * (see the top of the file). It adds no buffering of its own. */
static apr_status_t filter_request_output(ap_filter_t *f, apr_bucket_brigade *bb)
{
    tls_filter_ctx_t *fctx = f->ctx;
    int outer = fctx->in_request;
    apr_status_t rv;

    fctx->in_request = 1;
    rv = ap_pass_brigade(f->next, bb);
    fctx->in_request = outer;
    return rv;
}

/* ---- setup ------------------------------------------------------------- */

static ap_filter_rec_t *in_filter_rec;
static ap_filter_rec_t *out_filter_rec;
static ap_filter_rec_t *req_filter_rec;

void tls_filter_register(void)
{
    in_filter_rec = ap_register_input_filter(TLS_FILTER_NAME, filter_input, NULL, AP_FTYPE_CONNECTION + 5);
    out_filter_rec = ap_register_output_filter(TLS_FILTER_NAME, filter_output, NULL, AP_FTYPE_CONNECTION + 5);
    /* the last of a request's filters: below HTTP_HEADER and CHUNK */
    req_filter_rec = ap_register_output_filter(TLS_REQUEST_FILTER_NAME, filter_request_output, NULL,
                                               AP_FTYPE_CONNECTION - 1);
}

int tls_filter_create_request(request_rec *r)
{
    tls_conn_t *cc = tls_conn_get(r->connection);

    /* Not on secondary (h2) connections: their output reaches us as
     * mod_http2's. Not for subrequests and internal redirects: they share
     * the initial request's protocol filters, ours among them. */
    if (!r->main && !r->prev && cc && cc->c == r->connection && cc->filter) {
        ap_add_output_filter_handle(req_filter_rec, cc->filter, r, r->connection);
    }
    return DECLINED;
}

void tls_filter_child_stopping(apr_pool_t *pchild, int graceful)
{
    (void)pchild;
    apr_atomic_set32(&child_stopping, graceful ? TLS_STOPPING_GRACEFUL : TLS_STOPPING_NOW);
}

apr_status_t tls_filter_conn_init(tls_conn_t *cc)
{
    conn_rec *c = cc->c;
    tls_filter_ctx_t *fctx = apr_pcalloc(c->pool, sizeof(*fctx));

    fctx->cc = cc;
    fctx->c = c;
    fctx->in_tls = apr_brigade_create(c->pool, c->bucket_alloc);
    fctx->in_plain = apr_brigade_create(c->pool, c->bucket_alloc);
    fctx->out_tls = apr_brigade_create(c->pool, c->bucket_alloc);
    cc->filter = fctx;
    apr_pool_cleanup_register(c->pool, fctx, held_cleanup, apr_pool_cleanup_null);
    fctx->fin = ap_add_input_filter_handle(in_filter_rec, fctx, NULL, c);
    fctx->fout = ap_add_output_filter_handle(out_filter_rec, fctx, NULL, c);
    return APR_SUCCESS;
}
