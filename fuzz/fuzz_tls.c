/* fuzz_tls.c: the driver shared by fuzz_conn.c, fuzz_client.c and
 * mkcorpus.c (see fuzz_tls.h for the input format and what is a finding). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>

#include "fuzz_tls.h"
#include "testcert.h" /* generated from testcert.pem and testkey.pem by the Makefile */

#define READ_MAX 16384
#define RESPOND_UNIT 61 /* not a divisor of anything rustls cares about */
#define FEED_STALLS_MAX 4
#define FLUSH_TRIES 16
#define MAX_ALPN_ASKED 16
/* The longest TLS record: 2^14 + 2048 (RFC 5246 6.2.3). */
#define RECORD_MAX ((1u << 14) + 2048u)
#define UNSET ((size_t)0xfeedfacecafe)

const char *const FUZZ_CLIENT_NAMES[3] = {"fuzz.test", "www.fuzz.test", "127.0.0.1"};
const struct fuzz_alpn FUZZ_CLIENT_ALPN[3] = {
    {NULL, 0},
    {(const uint8_t *)"\x02h2\x08http/1.1", 12},
    {(const uint8_t *)"\x08http/1.1", 9},
};

const rtls_server_config *fuzz_server_configs[FUZZ_SERVER_CONFIGS];
int fuzz_record_output;
rtls_client_config_builder *fuzz_client_builders[FUZZ_CLIENT_CONFIGS];

/* ------------------------------------------------------------ randomness */

/* The link wraps syscall(2) (-Wl,--wrap=syscall): rtls reaches the kernel's
 * getrandom through the getrandom crate's syscall(SYS_getrandom, ...), which
 * lands here and gets bytes of the current stream; every other system call
 * (std's futex calls) goes through unchanged. Each stream is splitmix64 over
 * a counter, restarted for every input. */
long __real_syscall(long number, ...);
long __wrap_syscall(long number, ...);

static uint64_t rng_counter[FUZZ_STREAMS];
static enum fuzz_stream rng_stream = FUZZ_STREAM_INIT;

static uint64_t splitmix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static void rng_fill(uint8_t *buf, size_t len)
{
    while (len > 0) {
        uint64_t v = splitmix64(((uint64_t)rng_stream << 56) ^ rng_counter[rng_stream]++);
        size_t n = len < sizeof(v) ? len : sizeof(v);

        memcpy(buf, &v, n);
        buf += n;
        len -= n;
    }
}

void fuzz_rng_reset(void)
{
    memset(rng_counter, 0, sizeof(rng_counter));
    rng_stream = FUZZ_STREAM_INIT;
}

void fuzz_rng_use(enum fuzz_stream s)
{
    rng_stream = s;
}

long __wrap_syscall(long number, ...)
{
    va_list ap;
    long a[6];
    int i;

    /* as glibc's syscall() does: take six arguments whatever the call */
    va_start(ap, number);
    for (i = 0; i < 6; ++i)
        a[i] = va_arg(ap, long);
    va_end(ap);
    if (number == SYS_getrandom) {
        rng_fill((uint8_t *)a[0], (size_t)a[1]);
        return a[1];
    }
    return __real_syscall(number, a[0], a[1], a[2], a[3], a[4], a[5]);
}

/* ------------------------------------------------------------ panics */

/* The link wraps _Unwind_RaiseException (-Wl,--wrap=...): a Rust panic
 * starts unwinding through it, after the panic hook printed the message.
 * Aborting here makes every panic a finding with the stack of its origin,
 * also those rtls catches (RTLS_INTERNAL_PANIC, or a getter's fallback
 * value that C cannot tell from a real answer). */
struct _Unwind_Exception;
int __wrap__Unwind_RaiseException(struct _Unwind_Exception *e);

int __wrap__Unwind_RaiseException(struct _Unwind_Exception *e)
{
    (void)e;
    fprintf(stderr, "fuzz: a Rust panic started unwinding (message above): rtls must not panic on any input\n");
    abort();
}

/* ------------------------------------------------------------ findings */

void fuzz_fail(const struct fuzz_side *s, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "fuzz: %s: ", s ? s->who : "init");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}

static void require(const struct fuzz_side *s, int ok, const char *what)
{
    if (!ok) fuzz_fail(s, "broken promise: %s", what);
}

__attribute__((format(printf, 2, 3))) static void trace(const struct fuzz_side *s, const char *fmt, ...)
{
    va_list ap;

    if (!s->trace) return;
    fprintf(stderr, "  %s: ", s->who);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* A result of a call the peer's bytes drive. Peer (1xxx) and I/O (3xxx)
 * results are answers; internal (4xxx) and configuration (2xxx) results
 * would be logged by mod_tls at error level, which no peer may cause.
 * `allowed` is a 4xxx code the caller expects in this state (or 0). */
static rtls_result peer_driven(const struct fuzz_side *s, rtls_result rv, const char *call, rtls_result allowed)
{
    unsigned cat = RTLS_RESULT_CATEGORY(rv);

    if (rv == RTLS_INTERNAL_PANIC) fuzz_fail(s, "%s: RTLS_INTERNAL_PANIC", call);
    if (rv != RTLS_OK && rv != allowed && (cat == RTLS_CATEGORY_INTERNAL || cat == RTLS_CATEGORY_CONF))
        fuzz_fail(s, "%s returned %d (%s): a peer must not cause an internal or configuration error", call, (int)rv,
                  rtls_result_text((unsigned)rv));
    return rv;
}

/* A call that cannot fail in the state the harness calls it in. */
static void must(const struct fuzz_side *s, rtls_result rv, const char *call)
{
    if (rv != RTLS_OK) fuzz_fail(s, "%s returned %d (%s)", call, (int)rv, rtls_result_text((unsigned)rv));
}

/* ------------------------------------------------------------ plan */

size_t fuzz_plan_parse(const uint8_t *data, size_t size, struct fuzz_plan *plan)
{
    uint8_t b[FUZZ_PLAN_LEN] = {0};
    size_t n = size < FUZZ_PLAN_LEN ? size : FUZZ_PLAN_LEN;

    if (n) memcpy(b, data, n);
    plan->flags = b[0];
    plan->arg = b[1];
    memcpy(plan->chunk, b + 2, 4);
    plan->readbuf = b[6];
    plan->extra = b[7];
    return n;
}

void fuzz_plan_write(const struct fuzz_plan *plan, uint8_t out[FUZZ_PLAN_LEN])
{
    out[0] = plan->flags;
    out[1] = plan->arg;
    memcpy(out + 2, plan->chunk, 4);
    out[6] = plan->readbuf;
    out[7] = plan->extra;
}

/* ------------------------------------------------------------ configurations */

static const rtls_certified_key *test_key(void)
{
    const rtls_certified_key *key = NULL;

    fuzz_rng_use(FUZZ_STREAM_INIT);
    must(NULL,
         rtls_certified_key_new((const uint8_t *)fuzz_cert_pem, strlen(fuzz_cert_pem), (const uint8_t *)fuzz_key_pem,
                                strlen(fuzz_key_pem), &key),
         "rtls_certified_key_new (the test certificate)");
    return key;
}

void fuzz_init_server(void)
{
    static const uint8_t secret[32] = "fuzz ticket secret, not secret!";
    static const uint16_t tls12_suites[] = {0xC02B, 0xC02C, 0xCCA9};
    const rtls_certified_key *key;
    const rtls_ticketer *ticketer = NULL;
    int i;

    fuzz_rng_reset();
    key = test_key();
    must(NULL, rtls_ticketer_new(secret, sizeof(secret), (const uint8_t *)"fuzz", 4, 3600, &ticketer),
         "rtls_ticketer_new");
    for (i = 0; i < FUZZ_SERVER_CONFIGS; ++i) {
        rtls_server_config_builder *b = NULL;

        must(NULL, rtls_server_config_builder_new(&b), "rtls_server_config_builder_new");
        must(NULL, rtls_server_config_builder_add_certified_key(b, key), "add_certified_key");
        must(NULL, rtls_server_config_builder_set_session_store(b, NULL, NULL, NULL), "set_session_store");
        if (i == 1 || i == 2) must(NULL, rtls_server_config_builder_set_ticketer(b, ticketer), "set_ticketer");
        if (i == 2) {
            must(NULL, rtls_server_config_builder_set_min_version(b, RTLS_TLS13), "set_min_version");
            must(NULL, rtls_server_config_builder_set_ignore_client_order(b, true), "set_ignore_client_order");
        }
        if (i == 3) must(NULL, rtls_server_config_builder_set_cipher_suites(b, tls12_suites, 3), "set_cipher_suites");
        must(NULL, rtls_server_config_build(b, &fuzz_server_configs[i]), "rtls_server_config_build");
        rtls_server_config_builder_free(b);
    }
    rtls_ticketer_free(ticketer);
    rtls_certified_key_free(key);
}

void fuzz_init_client(void)
{
    static const uint16_t tls12_suites[] = {0xC02B, 0xC02C, 0xCCA9, 0xC02F, 0xC030, 0xCCA8};
    static const uint16_t chacha_first[] = {0x1303, 0xCCA9, 0xCCA8, 0x1301, 0x1302, 0xC02B, 0xC02C};
    int i;

    fuzz_rng_reset();
    fuzz_rng_use(FUZZ_STREAM_INIT);
    for (i = 0; i < FUZZ_CLIENT_CONFIGS; ++i) {
        rtls_client_config_builder *b = NULL;
        size_t added = 0;

        must(NULL, rtls_client_config_builder_new(&b), "rtls_client_config_builder_new");
        must(NULL,
             rtls_client_config_builder_add_trust_anchors_pem(b, (const uint8_t *)fuzz_cert_pem, strlen(fuzz_cert_pem),
                                                              &added),
             "add_trust_anchors_pem (the test certificate)");
        if (added != 1) fuzz_fail(NULL, "add_trust_anchors_pem added %zu certificates, not 1", added);
        if (i == 1) must(NULL, rtls_client_config_builder_set_min_version(b, RTLS_TLS13), "set_min_version");
        if (i == 2) must(NULL, rtls_client_config_builder_set_cipher_suites(b, tls12_suites, 6), "set_cipher_suites");
        if (i == 3) must(NULL, rtls_client_config_builder_set_cipher_suites(b, chacha_first, 7), "set_cipher_suites");
        fuzz_client_builders[i] = b;
    }
}

/* ------------------------------------------------------------ writing TLS out */

static void bytes_append(struct fuzz_bytes *b, const uint8_t *data, size_t len)
{
    if (b->len + len > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;

        while (cap < b->len + len)
            cap *= 2;
        b->data = realloc(b->data, cap);
        if (!b->data) abort();
        b->cap = cap;
    }
    memcpy(b->data + b->len, data, len);
    b->len += len;
}

/* Everything handed to the callback, concatenated, must be whole TLS
 * records: a byte lost or handed over twice after a callback failure would
 * break the framing. */
static void check_framing(struct fuzz_side *s, const uint8_t *buf, size_t len)
{
    while (len > 0) {
        if (s->rec_left > 0) {
            size_t n = len < s->rec_left ? len : s->rec_left;

            s->rec_left -= n;
            buf += n;
            len -= n;
            continue;
        }
        s->rec_head[s->rec_head_len++] = *buf++;
        --len;
        if (s->rec_head_len < 5) continue;
        s->rec_head_len = 0;
        s->rec_left = ((size_t)s->rec_head[3] << 8) | s->rec_head[4];
        if (s->rec_head[0] < 20 || s->rec_head[0] > 23 || s->rec_head[1] != 3 || s->rec_left == 0 ||
            s->rec_left > RECORD_MAX)
            fuzz_fail(
                s, "write callback got bytes that are no TLS record header: %02x %02x %02x %02x %02x (after %zu bytes)",
                s->rec_head[0], s->rec_head[1], s->rec_head[2], s->rec_head[3], s->rec_head[4], s->cb_taken);
    }
}

static int write_cb(void *userdata, const uint8_t *buf, size_t len)
{
    struct fuzz_side *s = userdata;

    if (len == 0 || !buf) fuzz_fail(s, "write callback called with %zu bytes at %p", len, (const void *)buf);
    if ((s->plan.flags & PLAN_FLAKY_WRITE) && ++s->cb_calls % 3 == 0) return -1;
    check_framing(s, buf, len);
    if (s->record_out) bytes_append(&s->out, buf, len);
    s->cb_taken += len;
    return 0;
}

/* Hand everything pending to the callback (it may fail now and then: try again). */
static void flush(struct fuzz_side *s)
{
    int tries;

    for (tries = 0; tries < FLUSH_TRIES; ++tries) {
        size_t n = UNSET, before = s->cb_taken;
        rtls_result rv = rtls_conn_write_tls(s->conn, write_cb, s, &n);

        if (rv == RTLS_OK || rv == RTLS_IO_CALLBACK_FAILED) {
            require(s, n == s->cb_taken - before, "rtls_conn_write_tls: *out_n is what the callback took");
            if (rv == RTLS_OK) {
                require(s, !rtls_conn_wants_write(s->conn), "rtls_conn_write_tls hands over all pending bytes");
                return;
            }
            continue;
        }
        peer_driven(s, rv, "rtls_conn_write_tls", 0);
        fuzz_fail(s, "rtls_conn_write_tls returned %d", (int)rv);
    }
    fuzz_fail(s, "rtls_conn_write_tls: still not done after %d tries", FLUSH_TRIES);
}

/* ------------------------------------------------------------ plaintext */

static void write_plaintext(struct fuzz_side *s, const uint8_t *data, size_t len)
{
    int stalls = 0;

    while (len > 0) {
        size_t n = UNSET;
        rtls_result rv = peer_driven(s, rtls_conn_write(s->conn, data, len, &n), "rtls_conn_write", 0);

        if (rv != RTLS_OK) {
            trace(s, "write: %d", (int)rv);
            return;
        }
        require(s, n <= len, "rtls_conn_write: *out_n <= len");
        data += n;
        len -= n;
        if (n == 0) {
            /* rustls' buffer is full: send, then retry */
            if (++stalls > FEED_STALLS_MAX) fuzz_fail(s, "rtls_conn_write takes nothing even after write_tls");
            flush(s);
        }
    }
}

static void respond(struct fuzz_side *s)
{
    static uint8_t pattern[255 * RESPOND_UNIT + 1];
    size_t len = (size_t)s->plan.extra * RESPOND_UNIT + 1;

    if (!pattern[0]) memset(pattern, 'r', sizeof(pattern));
    trace(s, "writing %zu bytes", len);
    write_plaintext(s, pattern, len);
}

/* Read all decrypted bytes; `expect` is what rtls_conn_process said was readable. */
static void read_plaintext(struct fuzz_side *s, size_t expect)
{
    static uint8_t buf[READ_MAX];
    size_t want = s->plan.readbuf ? s->plan.readbuf : READ_MAX, got = 0;

    for (;;) {
        size_t n = UNSET;
        rtls_result rv = peer_driven(s, rtls_conn_read(s->conn, buf, want, &n), "rtls_conn_read", 0);

        if (rv == RTLS_OK) {
            require(s, n > 0 && n <= want, "rtls_conn_read: 0 < *out_n <= len on success");
            got += n;
            s->plaintext_read += n;
            if (s->plan.flags & PLAN_ECHO) write_plaintext(s, buf, n);
            continue;
        }
        require(s, n == UNSET, "rtls_conn_read: *out_n untouched on error");
        if (rv == RTLS_IO_EOF)
            require(s, s->events & RTLS_EVENT_PEER_CLOSED, "rtls_conn_read: RTLS_IO_EOF only after close_notify");
        else if (rv == RTLS_IO_UNCLEAN_EOF)
            require(s, s->eof, "rtls_conn_read: RTLS_IO_UNCLEAN_EOF only after rtls_conn_read_tls_eof");
        else if (rv != RTLS_IO_WOULD_BLOCK)
            trace(s, "read: %d (%s)", (int)rv, rtls_result_text((unsigned)rv));
        break;
    }
    if (got) trace(s, "read %zu plaintext bytes", got);
    require(s, got == expect, "rtls_conn_read yields exactly the plaintext rtls_conn_process announced");
}

/* ------------------------------------------------------------ events */

static void on_hello(struct fuzz_side *s)
{
    const uint8_t *p = NULL, *alpn = NULL;
    size_t len = UNSET, alpn_len = 0, i;
    rtls_result rv;
    unsigned action = PLAN_HELLO(&s->plan);

    require(s, s->is_server, "RTLS_EVENT_HELLO only on server connections");
    require(s, rtls_conn_has_hello(s->conn), "rtls_conn_has_hello at RTLS_EVENT_HELLO");
    require(s, rtls_conn_is_handshaking(s->conn), "handshaking at RTLS_EVENT_HELLO");
    require(s, rtls_conn_protocol_version(s->conn) == 0, "no protocol version before accept");

    rv = rtls_conn_server_name(s->conn, &p, &len);
    if (rv == RTLS_OK) {
        require(s, p && len > 0 && len <= sizeof(s->sni), "rtls_conn_server_name: a name of 1 to 255 bytes");
        for (i = 0; i < len; ++i)
            require(s, !(p[i] >= 'A' && p[i] <= 'Z'), "rtls_conn_server_name is lower case");
        memcpy(s->sni, p, len);
        s->sni_len = len;
        s->sni_ptr = p;
        trace(s, "hello: SNI %.*s", (int)len, (const char *)p);
    } else {
        require(s, rv == RTLS_IO_NOT_FOUND, "rtls_conn_server_name: RTLS_OK or RTLS_IO_NOT_FOUND");
        require(s, len == UNSET, "rtls_conn_server_name: out-parameters untouched on error");
    }

    for (i = 0; i < MAX_ALPN_ASKED; ++i) {
        p = NULL;
        len = UNSET;
        rv = rtls_conn_hello_alpn(s->conn, i, &p, &len);
        if (rv == RTLS_IO_NOT_FOUND) {
            require(s, rtls_conn_hello_alpn(s->conn, i + 1, &p, &len) == RTLS_IO_NOT_FOUND,
                    "rtls_conn_hello_alpn: nothing after the end");
            break;
        }
        must(s, rv, "rtls_conn_hello_alpn");
        /* rustls 0.23.26 passes on empty names (RFC 7301 3.1 forbids them; OpenSSL's server
         * refuses them with decode_error): rtls.h promises nothing about that */
        require(s, p && len < 256, "rtls_conn_hello_alpn: a protocol of at most 255 bytes");
        trace(s, "hello: ALPN %zu %.*s", i, (int)len, (const char *)p);
        if (i == (s->plan.arg & 3u)) {
            alpn = p;
            alpn_len = len;
        }
    }

    switch (action) {
    case HELLO_REJECT:
        trace(s, "reject with alert %u", s->plan.arg);
        must(s, rtls_conn_reject(s->conn, s->plan.arg), "rtls_conn_reject");
        s->rejected = 1;
        s->failed = 1;
        require(s, rtls_conn_accept(s->conn, s->config, NULL, 0) == RTLS_INTERNAL_WRONG_STATE,
                "rtls_conn_accept after rtls_conn_reject: RTLS_INTERNAL_WRONG_STATE");
        return;
    case HELLO_ACCEPT:
        alpn = NULL;
        alpn_len = 0;
        break;
    default:
        break;
    }
    if (alpn) {
        memcpy(s->alpn, alpn, alpn_len);
        s->alpn_len = alpn_len;
        s->alpn_set = 1;
    }
    /* the ALPN pointer from rtls_conn_hello_alpn goes straight back in: it is
     * valid until accept returns */
    rv = peer_driven(s, rtls_conn_accept(s->conn, s->config, alpn, alpn_len), "rtls_conn_accept", 0);
    /* alpn is not valid any more: s->alpn is the copy */
    trace(s, "accept (config %u, ALPN %.*s): %d", PLAN_SERVER_CONFIG(&s->plan), s->alpn_set ? (int)s->alpn_len : 1,
          s->alpn_set ? (const char *)s->alpn : "-", (int)rv);
    require(s, !rtls_conn_has_hello(s->conn), "no hello pending after rtls_conn_accept");
    require(s, rtls_conn_hello_alpn(s->conn, 0, &p, &len) == RTLS_INTERNAL_WRONG_STATE,
            "rtls_conn_hello_alpn after accept: RTLS_INTERNAL_WRONG_STATE");
    if (rv != RTLS_OK) {
        s->failed = 1;
        return;
    }
    s->bound = 1;
}

static void on_handshake_done(struct fuzz_side *s)
{
    uint16_t version = rtls_conn_protocol_version(s->conn);
    uint16_t suite = rtls_conn_cipher_suite(s->conn);
    const uint8_t *p = NULL;
    size_t len = 0;
    rtls_result rv;
    int32_t key;

    trace(s, "handshake done: version %04x, suite %04x, %s", version, suite,
          rtls_conn_session_resumed(s->conn) ? "resumed" : "full");
    require(s, !rtls_conn_is_handshaking(s->conn), "not handshaking after RTLS_EVENT_HANDSHAKE_DONE");
    require(s, version == RTLS_TLS12 || version == RTLS_TLS13, "a TLS 1.2 or 1.3 version after the handshake");
    require(s, suite != 0 && rtls_cipher_suite_version(suite) == version,
            "a cipher suite of the negotiated version after the handshake");
    if (s->is_server) {
        unsigned cfg = PLAN_SERVER_CONFIG(&s->plan);

        require(s, cfg != 2 || version == RTLS_TLS13, "a TLS 1.3-only configuration negotiates TLS 1.3");
        require(s, cfg != 3 || version == RTLS_TLS12, "a TLS 1.2-only configuration negotiates TLS 1.2");
        key = rtls_conn_certified_key_index(s->conn);
        require(s, key == 0 || (key == -1 && rtls_conn_session_resumed(s->conn)),
                "the one certified key was presented (unless resumed)");
    } else {
        unsigned cfg = PLAN_CLIENT_CONFIG(&s->plan);

        require(s, cfg != 1 || version == RTLS_TLS13, "a TLS 1.3-only client negotiates TLS 1.3");
        require(s, cfg != 2 || version == RTLS_TLS12, "a TLS 1.2-only client negotiates TLS 1.2");
    }

    rv = rtls_conn_alpn_protocol(s->conn, &p, &len);
    if (s->is_server) {
        if (s->alpn_set)
            require(s, rv == RTLS_OK && len == s->alpn_len && !memcmp(p, s->alpn, len),
                    "the negotiated ALPN protocol is the one rtls_conn_accept was given");
        else
            require(s, rv == RTLS_IO_NOT_FOUND, "no ALPN protocol when accepted without one");
    } else if (rv == RTLS_OK) {
        /* a client only takes a protocol it offered */
        const uint8_t *w = s->offered_alpn;
        size_t left = s->offered_alpn_len;
        int found = 0;

        while (left > 0 && !found) {
            size_t n = w[0];

            found = n == len && n < left && !memcmp(w + 1, p, n);
            w += 1 + n;
            left -= left < 1 + n ? left : 1 + n;
        }
        require(s, found, "the client negotiated an ALPN protocol it offered");
        memcpy(s->alpn, p, len);
        s->alpn_len = len;
        s->alpn_set = 1;
    } else
        require(s, rv == RTLS_IO_NOT_FOUND, "rtls_conn_alpn_protocol: RTLS_OK or RTLS_IO_NOT_FOUND");

    if (s->plan.flags & PLAN_RESPOND) respond(s);
}

/* One rtls_conn_process and what follows from it. */
static void step(struct fuzz_side *s)
{
    size_t plain = UNSET, tls = UNSET;
    uint32_t ev = 0xffffffffu;
    rtls_result rv;

    fuzz_rng_use(s->stream);
    rv = peer_driven(s, rtls_conn_process(s->conn, &plain, &tls, &ev), "rtls_conn_process", 0);
    if (rv == RTLS_OK) {
        require(s, (ev & ~7u) == 0, "rtls_conn_process: only RTLS_EVENT_* bits");
        require(s, (ev & s->events) == 0, "rtls_conn_process: each event is reported once");
        require(s, plain < RECORD_MAX * 64 && tls < RECORD_MAX * 64, "rtls_conn_process: sane byte counts");
        s->events |= ev;
        if (ev & RTLS_EVENT_HELLO) {
            on_hello(s);
            if (s->bound && !s->failed) {
                /* what came with the hello waits in the connection now */
                flush(s);
                step(s);
                return;
            }
        }
        if (s->bound && !s->failed) {
            if (ev & RTLS_EVENT_HANDSHAKE_DONE) on_handshake_done(s);
            read_plaintext(s, plain);
            if (ev & RTLS_EVENT_PEER_CLOSED) {
                trace(s, "peer sent close_notify");
                must(s, rtls_conn_send_close_notify(s->conn), "rtls_conn_send_close_notify");
            }
        } else
            require(s, plain == 0, "no plaintext before the connection is bound");
    } else {
        char text[256];
        size_t tn = UNSET, cap = (size_t)s->plan.extra % sizeof(text) + 1;

        require(s, RTLS_RESULT_CATEGORY(rv) == RTLS_CATEGORY_PEER, "rtls_conn_process fails with 1xxx only");
        require(s, plain == 0 && ev == 0 && tls != UNSET,
                "rtls_conn_process writes its out-parameters on failure too: plaintext 0, no events");
        must(s, rtls_conn_error_text(s->conn, text, cap, &tn), "rtls_conn_error_text");
        require(s, tn < cap && text[tn] == 0 && strlen(text) == tn,
                "rtls_conn_error_text: NUL-terminated text of *out_n bytes within len");
        require(s, tn > 0 || cap == 1, "an error has a text");
        trace(s, "process: %d (%s): %s", (int)rv, rtls_result_text((unsigned)rv), text);
        s->failed = 1;
    }
    /* whatever happened, what waits goes out (an alert after an error) */
    flush(s);
}

/* ------------------------------------------------------------ the stream */

void fuzz_server_start(struct fuzz_side *s, const struct fuzz_plan *plan)
{
    memset(s, 0, sizeof(*s));
    s->who = "server";
    s->is_server = 1;
    s->stream = FUZZ_STREAM_SERVER;
    s->plan = *plan;
    s->config = fuzz_server_configs[PLAN_SERVER_CONFIG(plan)];
    s->trace = getenv("FUZZ_TLS_TRACE") != NULL;
    s->record_out = fuzz_record_output;
    fuzz_rng_use(s->stream);
    must(s, rtls_conn_server_new(&s->conn), "rtls_conn_server_new");
    require(s, !rtls_conn_has_hello(s->conn) && !rtls_conn_wants_write(s->conn), "a new server connection is idle");
}

/* A client connection reports the SNI it sends: its name in lower case
 * for a DNS name (which never has a ':'), none for an IP address (digits
 * and dots, or an IPv6 form with ':'). */
static void check_client_sni(struct fuzz_side *s)
{
    const uint8_t *p = NULL;
    size_t len = UNSET, i;
    int has_colon = 0, ipv4_shape = 1;
    rtls_result rv = rtls_conn_server_name(s->conn, &p, &len);

    for (i = 0; i < s->client_name_len; ++i) {
        uint8_t ch = s->client_name[i];
        if (ch == ':') has_colon = 1;
        if (!(ch == '.' || (ch >= '0' && ch <= '9'))) ipv4_shape = 0;
    }
    if (rv == RTLS_OK) {
        require(s, !has_colon, "rtls_conn_server_name on a client connection: no SNI for an IPv6 address");
        require(s, p && len == s->client_name_len, "rtls_conn_server_name on a client connection: the name given");
        for (i = 0; i < len; ++i) {
            uint8_t ch = s->client_name[i];
            if (ch >= 'A' && ch <= 'Z') ch = (uint8_t)(ch - 'A' + 'a');
            require(s, p[i] == ch, "rtls_conn_server_name on a client connection: the name given, in lower case");
        }
    } else {
        require(s, rv == RTLS_IO_NOT_FOUND, "rtls_conn_server_name on a client connection: RTLS_OK or RTLS_IO_NOT_FOUND");
        require(s, has_colon || ipv4_shape, "rtls_conn_server_name on a client connection: none only for an IP address");
    }
}

int fuzz_client_start(struct fuzz_side *s, const struct fuzz_plan *plan, const uint8_t *name, size_t name_len,
                      const uint8_t *alpn, size_t alpn_len)
{
    const rtls_client_config *cfg = NULL;
    unsigned choice;
    rtls_result rv;

    memset(s, 0, sizeof(*s));
    s->who = "client";
    s->stream = FUZZ_STREAM_CLIENT;
    s->plan = *plan;
    s->trace = getenv("FUZZ_TLS_TRACE") != NULL;
    s->record_out = fuzz_record_output;
    choice = PLAN_CLIENT_NAME(plan);
    if (!name) {
        name = (const uint8_t *)FUZZ_CLIENT_NAMES[choice < 3 ? choice : 0];
        name_len = strlen((const char *)name);
    }
    choice = PLAN_CLIENT_ALPN(plan);
    if (!alpn && choice < 3) {
        alpn = FUZZ_CLIENT_ALPN[choice].wire;
        alpn_len = FUZZ_CLIENT_ALPN[choice].len;
    }
    s->offered_alpn = alpn;
    s->offered_alpn_len = alpn_len;

    fuzz_rng_use(s->stream);
    must(s, rtls_client_config_build(fuzz_client_builders[PLAN_CLIENT_CONFIG(plan)], &cfg), "rtls_client_config_build");
    rv = rtls_conn_client_new(cfg, name, name_len, alpn, alpn_len, &s->conn);
    /* the connection holds its own reference */
    rtls_client_config_free(cfg);
    if (rv != RTLS_OK) {
        /* a name or ALPN list from the input that rtls refuses */
        require(s, rv == RTLS_PEER_BAD_SERVER_NAME || rv == RTLS_CONF_ERROR,
                "rtls_conn_client_new: RTLS_PEER_BAD_SERVER_NAME or RTLS_CONF_ERROR for a bad name or ALPN list");
        require(s, s->conn == NULL, "rtls_conn_client_new: *out untouched on error");
        trace(s, "rtls_conn_client_new: %d (%s)", (int)rv, rtls_result_text((unsigned)rv));
        return 0;
    }
    s->bound = 1;
    s->client_name = name;
    s->client_name_len = name_len;
    require(s, rtls_conn_wants_write(s->conn), "a new client connection has its ClientHello to send");
    if (plan->arg & PLAN_CLIENT_EARLY_WRITE) respond(s);
    flush(s);
    return 1;
}

void fuzz_feed(struct fuzz_side *s, const uint8_t *data, size_t len)
{
    int stalls = 0;

    while (len > 0 && !s->failed) {
        uint8_t c = s->plan.chunk[s->chunk_no++ % 4];
        size_t want = c ? c : len, n = UNSET;
        rtls_result rv;

        if (want > len) want = len;
        fuzz_rng_use(s->stream);
        rv = peer_driven(s, rtls_conn_read_tls(s->conn, data, want, &n), "rtls_conn_read_tls", 0);
        if (rv == RTLS_OK) {
            require(s, n <= want, "rtls_conn_read_tls: *out_n <= len");
            data += n;
            len -= n;
            stalls = n ? 0 : stalls + 1;
        } else {
            require(s, n == UNSET, "rtls_conn_read_tls: *out_n untouched on error");
            if (rv != RTLS_IO_BUFFER_FULL) fuzz_fail(s, "rtls_conn_read_tls returned %d", (int)rv);
            ++stalls;
        }
        step(s);
        if (stalls > FEED_STALLS_MAX) {
            /* rustls holds as much as it will without a complete message */
            trace(s, "rtls_conn_read_tls takes no more (%zu bytes left)", len);
            break;
        }
    }
}

void fuzz_close(struct fuzz_side *s)
{
    if (!s->bound || s->failed) return;
    trace(s, "sending close_notify");
    must(s, rtls_conn_send_close_notify(s->conn), "rtls_conn_send_close_notify");
    flush(s);
}

void fuzz_finish(struct fuzz_side *s)
{
    const uint8_t *p = NULL;
    size_t len = 0;
    char text[64];

    if (!s->conn) return;
    if ((s->plan.flags & PLAN_EOF) && !s->failed) {
        fuzz_rng_use(s->stream);
        peer_driven(s, rtls_conn_read_tls_eof(s->conn), "rtls_conn_read_tls_eof", 0);
        s->eof = 1;
        step(s);
    }
    if (s->bound && !s->failed) {
        must(s, rtls_conn_send_close_notify(s->conn), "rtls_conn_send_close_notify");
        flush(s);
    } else if (!s->bound) {
        uint8_t b[1];

        require(s, rtls_conn_send_close_notify(s->conn) == RTLS_INTERNAL_WRONG_STATE,
                "rtls_conn_send_close_notify before binding: RTLS_INTERNAL_WRONG_STATE");
        require(s, rtls_conn_read(s->conn, b, sizeof(b), &len) == RTLS_INTERNAL_WRONG_STATE,
                "rtls_conn_read before binding: RTLS_INTERNAL_WRONG_STATE");
        require(s, rtls_conn_write(s->conn, b, sizeof(b), &len) == RTLS_INTERNAL_WRONG_STATE,
                "rtls_conn_write before binding: RTLS_INTERNAL_WRONG_STATE");
    }
    if (!s->is_server) {
        require(s, rtls_conn_reject(s->conn, 40) == RTLS_INTERNAL_WRONG_STATE,
                "rtls_conn_reject on a client connection: RTLS_INTERNAL_WRONG_STATE");
        check_client_sni(s);
    }
    if (s->rejected) require(s, s->cb_taken == 7 && s->rec_left == 0, "a rejection sends one alert record (7 bytes)");
    /* every byte handed over, the stream ends on a record boundary */
    flush(s);
    require(s, s->rec_left == 0 && s->rec_head_len == 0, "the TLS bytes handed over end with a whole record");

    /* the getters, in any state */
    (void)rtls_conn_is_handshaking(s->conn);
    (void)rtls_conn_session_resumed(s->conn);
    (void)rtls_conn_protocol_version(s->conn);
    (void)rtls_conn_cipher_suite(s->conn);
    (void)rtls_conn_certified_key_index(s->conn);
    if (rtls_conn_alpn_protocol(s->conn, &p, &len) == RTLS_OK) {
        require(s, p != NULL, "rtls_conn_alpn_protocol: a protocol");
        if (s->alpn_set) require(s, len == s->alpn_len && !memcmp(p, s->alpn, len), "the ALPN protocol stays");
    }
    must(s, rtls_conn_error_text(s->conn, text, sizeof(text), &len), "rtls_conn_error_text");
    /* the SNI bytes handed out at the hello are still there (ASan sees a use
     * after free here) */
    if (s->sni_ptr) require(s, !memcmp(s->sni_ptr, s->sni, s->sni_len), "the SNI stays valid until freed");
    trace(s, "end: %zu plaintext bytes read, %zu TLS bytes written, events %x", s->plaintext_read, s->cb_taken,
          s->events);
    rtls_conn_free(s->conn);
    s->conn = NULL;
    free(s->out.data);
    s->out.data = NULL;
}
