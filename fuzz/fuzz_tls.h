/* fuzz_tls.h: what the TLS data-path fuzz targets (fuzz_conn.c: an rtls
 * server connection, fuzz_client.c: an rtls client connection) and the seed
 * recorder (mkcorpus.c) share: the plan at the start of each input, the
 * driver that feeds a connection and checks rtls' contract (rtls.h) on the
 * way, deterministic randomness, and the test certificate.
 *
 * How an input is used: its first bytes are a plan (struct fuzz_plan: what
 * the application does at each event, how the rest is cut into chunks), the
 * rest is the byte stream from the peer. fuzz_feed() hands it to
 * rtls_conn_read_tls() chunk by chunk and after every chunk runs one step:
 *
 *   rtls_conn_process()  -> RTLS_EVENT_HELLO: SNI and ALPN looked at, then
 *                           rtls_conn_accept() or rtls_conn_reject() (server)
 *                        -> RTLS_EVENT_HANDSHAKE_DONE: negotiated values
 *                           checked, optionally a response written
 *                        -> plaintext: rtls_conn_read() until it would
 *                           block, optionally echoed with rtls_conn_write()
 *                        -> RTLS_EVENT_PEER_CLOSED: close_notify answered
 *   rtls_conn_write_tls() with a callback that takes the TLS bytes (and
 *                           fails now and then if the plan says so)
 *
 * fuzz_finish() ends the stream (optionally with rtls_conn_read_tls_eof()),
 * sends close_notify, reads every getter and frees the connection.
 *
 * What counts as a finding (the target aborts): a crash or sanitizer report
 * (libFuzzer's), a Rust panic (caught or not: __wrap__Unwind_RaiseException
 * aborts where it starts), RTLS_INTERNAL_PANIC, a result of the internal or
 * configuration category from a call the peer drives (mod_tls logs those at
 * error level: a peer must not be able to cause them), and a broken promise
 * of rtls.h (e.g. an out-parameter out of range, an event reported twice,
 * bytes handed to the write callback that do not frame as TLS records).
 *
 * Randomness is deterministic: the link wraps syscall(2) so that rustls' and
 * ring's getrandom calls get a per-input reproducible stream, one per side.
 * A server answers a recorded client the same way every time, so recorded
 * complete sessions (mkcorpus.c) replay past the handshake into application
 * data, and every finding reproduces from its input file alone. */
#ifndef FUZZ_TLS_H
#define FUZZ_TLS_H

#include <stddef.h>
#include <stdint.h>

#include "rtls.h"

/* ---- the plan: the first FUZZ_PLAN_LEN bytes of an input --------------- */

#define FUZZ_PLAN_LEN 8

/* flags, both sides */
#define PLAN_ECHO 0x10u        /* write back every plaintext byte read */
#define PLAN_RESPOND 0x20u     /* write extra * 61 + 1 bytes at handshake done */
#define PLAN_FLAKY_WRITE 0x40u /* the write callback fails every third call */
#define PLAN_EOF 0x80u         /* rtls_conn_read_tls_eof() after the last byte */
/* flags, server: bits 0-1 the configuration (FUZZ_SERVER_CONFIGS below),
 * bits 2-3 what to do with the ClientHello: */
#define PLAN_SERVER_CONFIG(p) ((p)->flags & 3u)
#define PLAN_HELLO(p) (((p)->flags >> 2) & 3u)
#define HELLO_ACCEPT_ALPN 0u  /* accept, answering the offered ALPN protocol no. arg & 3 (none if absent) */
#define HELLO_ACCEPT_ALPN2 1u /* the same */
#define HELLO_ACCEPT 2u       /* accept without ALPN */
#define HELLO_REJECT 3u       /* reject with alert description arg */
/* flags, client: bits 0-1 ALPN offered (FUZZ_CLIENT_ALPN), bits 2-3 the
 * server name (FUZZ_CLIENT_NAMES; 3: name and ALPN list from the input,
 * see fuzz_client.c); arg bits 0-1 the client configuration
 * (FUZZ_CLIENT_CONFIGS), arg bit 2 writes the request right after
 * rtls_conn_client_new (sent when the handshake completes). */
#define PLAN_CLIENT_ALPN(p) ((p)->flags & 3u)
#define PLAN_CLIENT_NAME(p) (((p)->flags >> 2) & 3u)
#define PLAN_CLIENT_CONFIG(p) ((p)->arg & 3u)
#define PLAN_CLIENT_EARLY_WRITE 0x04u

struct fuzz_plan {
    uint8_t flags;
    uint8_t arg;      /* server: reject alert or ALPN index; client: see above */
    uint8_t chunk[4]; /* chunk sizes fed to rtls_conn_read_tls, in turn; 0: all that is left */
    uint8_t readbuf;  /* rtls_conn_read buffer size; 0: 16384 */
    uint8_t extra;    /* size of the PLAN_RESPOND write; error text buffer size */
};

/* The plan from the first bytes of data (missing bytes are 0); returns how
 * many bytes it took. */
size_t fuzz_plan_parse(const uint8_t *data, size_t size, struct fuzz_plan *plan);
void fuzz_plan_write(const struct fuzz_plan *plan, uint8_t out[FUZZ_PLAN_LEN]);

/* ---- configurations, built once by fuzz_init_* ------------------------- */

/* Server configurations, all with the test certificate (ECDSA P-256),
 * without a stateful session cache (it would carry state from one input to
 * the next):
 *   0 rustls' defaults: TLS 1.2 and 1.3
 *   1 as 0 with a session ticketer (stateless resumption)
 *   2 TLS 1.3 only, the server's suite order, a ticketer
 *   3 TLS 1.2 only (ECDSA suites) */
#define FUZZ_SERVER_CONFIGS 4
/* Client configuration builders, each trusting the test certificate (as a
 * self-signed server certificate): 0 defaults, 1 TLS 1.3 only, 2 TLS 1.2
 * only, 3 ChaCha20 first. Built per input (rustls' client session cache is
 * part of the configuration: one built once would resume sessions that an
 * earlier input established, and inputs would not replay). */
#define FUZZ_CLIENT_CONFIGS 4
/* Names the client asks for (the certificate has fuzz.test, *.fuzz.test
 * and 127.0.0.1; other.example does not match). */
extern const char *const FUZZ_CLIENT_NAMES[3];
/* ALPN lists offered, wire format */
extern const struct fuzz_alpn {
    const uint8_t *wire;
    size_t len;
} FUZZ_CLIENT_ALPN[3];

extern const rtls_server_config *fuzz_server_configs[FUZZ_SERVER_CONFIGS];
extern rtls_client_config_builder *fuzz_client_builders[FUZZ_CLIENT_CONFIGS];

void fuzz_init_server(void);
void fuzz_init_client(void);

/* ---- deterministic randomness ------------------------------------------ */

enum fuzz_stream { FUZZ_STREAM_INIT, FUZZ_STREAM_SERVER, FUZZ_STREAM_CLIENT, FUZZ_STREAMS };
/* Restart every stream (at the start of each input). */
void fuzz_rng_reset(void);
/* The stream getrandom() draws from until the next call. */
void fuzz_rng_use(enum fuzz_stream s);

/* ---- one side of a connection ------------------------------------------ */

struct fuzz_bytes {
    uint8_t *data;
    size_t len, cap;
};

struct fuzz_side {
    const char *who; /* "server" or "client", for messages */
    int is_server;
    enum fuzz_stream stream;
    struct fuzz_plan plan;
    rtls_conn *conn;
    const rtls_server_config *config; /* server: what the hello is accepted with */

    unsigned events; /* RTLS_EVENT_* seen so far */
    int bound;       /* a rustls connection exists (server: accepted; client: always) */
    int failed;      /* an error from the peer: the connection is done */
    int rejected;    /* server: rtls_conn_reject() was called */
    int eof;         /* rtls_conn_read_tls_eof() was called */
    unsigned chunk_no;

    /* server: the SNI as first seen, and the pointer rtls handed out (must
     * stay valid until the connection is freed) */
    const uint8_t *sni_ptr;
    uint8_t sni[256];
    size_t sni_len;
    const uint8_t *client_name; /* client side: the name given to rtls_conn_client_new (the input's) */
    size_t client_name_len;
    /* the ALPN protocol the server answered / the client offered list */
    int alpn_set;
    uint8_t alpn[256];
    size_t alpn_len;
    const uint8_t *offered_alpn; /* client: the wire list offered */
    size_t offered_alpn_len;

    /* the write callback */
    unsigned cb_calls;
    size_t cb_taken;     /* bytes the callback took, in total */
    uint8_t rec_head[5]; /* record framing of what it took */
    size_t rec_head_len;
    size_t rec_left;
    int record_out; /* keep what it took in out (mkcorpus) */
    struct fuzz_bytes out;

    size_t plaintext_read; /* in total */
    int trace;             /* FUZZ_TLS_TRACE set: say what happens on stderr */
};

/* Start a server connection (rtls_conn_server_new) with this plan. */
void fuzz_server_start(struct fuzz_side *s, const struct fuzz_plan *plan);
/* Start a client connection for this plan; name/ALPN override the plan's
 * choice when not NULL. Returns 0 when rtls refused to create it (a bad
 * name or ALPN list: nothing more to do). The ClientHello is written out. */
int fuzz_client_start(struct fuzz_side *s, const struct fuzz_plan *plan, const uint8_t *name, size_t name_len,
                      const uint8_t *alpn, size_t alpn_len);
/* Feed bytes from the peer (cut into the plan's chunks, one step after each). */
void fuzz_feed(struct fuzz_side *s, const uint8_t *data, size_t len);
/* End of input: EOF if planned, close_notify, getters, free. */
void fuzz_finish(struct fuzz_side *s);

/* Send close_notify (a bound connection that has not failed) and write it out. */
void fuzz_close(struct fuzz_side *s);
/* Set before starting a side: keep every TLS byte it writes in s->out. */
extern int fuzz_record_output;

/* A finding: print and abort. */
__attribute__((noreturn, format(printf, 2, 3))) void fuzz_fail(const struct fuzz_side *s, const char *fmt, ...);

#endif /* FUZZ_TLS_H */
