/* mkcorpus.c: records complete TLS sessions between an rtls client and an
 * rtls server in memory, with the fuzz targets' deterministic randomness and
 * driver (fuzz_tls.c), and writes them as seeds:
 *   CONN_DIR/session-NAME    the server's plan + every byte the client sent
 *   CLIENT_DIR/session-NAME  the client's plan + every byte the server sent
 * fuzz_conn replays the first as the server did (same randomness, same
 * answers), so the client's Finished verifies and its application data
 * decrypts; fuzz_client replays the second likewise. Each seed is replayed
 * here once more, in a fresh side, and must reach the same end (handshake
 * done, the same plaintext read): a seed that no longer replays (e.g. after
 * a rustls update changed what a server sends) makes this fail.
 *
 *   build/mkcorpus corpus-conn corpus-client      (make -C fuzz corpus)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_tls.h"

#define ROUNDS_MAX 16

struct scenario {
    const char *name;
    struct fuzz_plan server; /* flags, arg, chunk[4], readbuf, extra */
    struct fuzz_plan client;
    int server_closes; /* the server sends close_notify first (else the client) */
};

#define SRV(cfg, hello) ((cfg) | ((hello) << 2))
#define CLI(alpn, name) ((alpn) | ((name) << 2))

/* clang-format off: one scenario per paragraph, server plan, client plan */
static const struct scenario scenarios[] = {
    /* TLS 1.3, h2 chosen, the client sends 123 bytes, the server echoes them */
    {"tls13-h2-echo",
     {SRV(0, HELLO_ACCEPT_ALPN) | PLAN_ECHO, 0, {0, 0, 0, 0}, 0, 0},
     {CLI(1, 0) | PLAN_RESPOND, 0, {0, 0, 0, 0}, 0, 2},
     0},
    /* TLS 1.3 with tickets sent after the handshake, no ALPN, a 4 KiB answer
     * read 100 bytes at a time */
    {"tls13-tickets-respond",
     {SRV(1, HELLO_ACCEPT) | PLAN_RESPOND | PLAN_ECHO, 0, {0, 0, 0, 0}, 0, 70},
     {CLI(0, 1) | PLAN_RESPOND, 0, {0, 0, 0, 0}, 100, 1},
     1},
    /* TLS 1.3 only, server order, ChaCha20-first client, no SNI (an IP address) */
    {"tls13-only-ip",
     {SRV(2, HELLO_ACCEPT_ALPN) | PLAN_RESPOND, 1, {0, 0, 0, 0}, 0, 3},
     {CLI(1, 2) | PLAN_RESPOND | PLAN_ECHO, 3, {0, 0, 0, 0}, 0, 5},
     0},
    /* TLS 1.3, data written by the client before the handshake completed */
    {"tls13-early-write",
     {SRV(0, HELLO_ACCEPT_ALPN) | PLAN_ECHO, 1, {0, 0, 0, 0}, 7, 0},
     {CLI(1, 1), PLAN_CLIENT_EARLY_WRITE, {0, 0, 0, 0}, 0, 9},
     1},
    /* TLS 1.2 only server, http/1.1 */
    {"tls12-echo",
     {SRV(3, HELLO_ACCEPT_ALPN) | PLAN_ECHO | PLAN_RESPOND, 0, {0, 0, 0, 0}, 0, 4},
     {CLI(2, 0) | PLAN_RESPOND, 0, {0, 0, 0, 0}, 0, 6},
     0},
    /* TLS 1.2 only client against the ticketer: a NewSessionTicket in the flight */
    {"tls12-ticket",
     {SRV(1, HELLO_ACCEPT) | PLAN_RESPOND, 0, {0, 0, 0, 0}, 0, 2},
     {CLI(1, 1) | PLAN_RESPOND | PLAN_ECHO, 2, {0, 0, 0, 0}, 0, 2},
     1},
    /* the server refuses the hello (unrecognized_name) */
    {"reject-112", {SRV(0, HELLO_REJECT), 112, {0, 0, 0, 0}, 0, 0}, {CLI(1, 0), 0, {0, 0, 0, 0}, 0, 0}, 0},
    /* a TLS 1.2-only client at the TLS 1.3-only configuration: no version in common */
    {"no-common-version", {SRV(2, HELLO_ACCEPT_ALPN), 0, {0, 0, 0, 0}, 0, 0}, {CLI(0, 0), 2, {0, 0, 0, 0}, 0, 0}, 0},
};
/* clang-format on */

static void fail(const char *what, const char *name)
{
    fprintf(stderr, "mkcorpus: %s: %s\n", name, what);
    exit(1);
}

static void write_seed(const char *dir, const char *name, const struct fuzz_plan *plan, const uint8_t *data, size_t len)
{
    char path[4096];
    uint8_t head[FUZZ_PLAN_LEN];
    FILE *f;

    snprintf(path, sizeof(path), "%s/session-%s", dir, name);
    fuzz_plan_write(plan, head);
    f = fopen(path, "wb");
    if (!f || fwrite(head, 1, sizeof(head), f) != sizeof(head) || fwrite(data, 1, len, f) != len || fclose(f)) {
        fprintf(stderr, "mkcorpus: %s: %s\n", path, strerror(errno));
        exit(1);
    }
    printf("  %s (%zu bytes)\n", path, sizeof(head) + len);
}

/* What a replay must reproduce. */
struct outcome {
    unsigned events;
    size_t plaintext_read;
};

static struct outcome outcome_of(const struct fuzz_side *s)
{
    struct outcome o = {s->events, s->plaintext_read};
    return o;
}

static void replay(const struct scenario *sc, int server, const uint8_t *data, size_t len, struct outcome want)
{
    struct fuzz_side s;
    struct outcome got;

    fuzz_record_output = 0;
    fuzz_rng_reset();
    if (server) {
        fuzz_server_start(&s, &sc->server);
        fuzz_feed(&s, data, len);
    } else if (fuzz_client_start(&s, &sc->client, NULL, 0, NULL, 0))
        fuzz_feed(&s, data, len);
    got = outcome_of(&s);
    fuzz_finish(&s);
    if (got.events != want.events || got.plaintext_read != want.plaintext_read) {
        fprintf(stderr, "mkcorpus: %s: the %s replay ends with events %x, %zu bytes read; recorded: %x, %zu\n",
                sc->name, server ? "server" : "client", got.events, got.plaintext_read, want.events,
                want.plaintext_read);
        exit(1);
    }
}

/* Move what `from` wrote since *done into `to`, keeping a copy in `log`. */
static int pass(struct fuzz_side *from, size_t *done, struct fuzz_side *to, struct fuzz_bytes *log)
{
    size_t n = from->out.len - *done;

    if (n == 0) return 0;
    if (log->len + n > log->cap) {
        log->cap = (log->len + n) * 2;
        log->data = realloc(log->data, log->cap);
        if (!log->data) abort();
    }
    memcpy(log->data + log->len, from->out.data + *done, n);
    log->len += n;
    fuzz_feed(to, from->out.data + *done, n);
    *done += n;
    return 1;
}

static void record(const struct scenario *sc, const char *conn_dir, const char *client_dir)
{
    struct fuzz_side server, client;
    struct fuzz_bytes to_server = {0}, to_client = {0};
    size_t server_done = 0, client_done = 0;
    struct outcome server_end, client_end;
    int round;

    fuzz_record_output = 1;
    fuzz_rng_reset();
    if (!fuzz_client_start(&client, &sc->client, NULL, 0, NULL, 0)) fail("rtls_conn_client_new failed", sc->name);
    fuzz_server_start(&server, &sc->server);
    for (round = 0; round < ROUNDS_MAX; ++round) {
        int moved = pass(&client, &client_done, &server, &to_server);

        moved |= pass(&server, &server_done, &client, &to_client);
        if (!moved) {
            /* quiet: whoever closes first does, the other answers */
            struct fuzz_side *closer = sc->server_closes ? &server : &client;

            if (closer->events & RTLS_EVENT_PEER_CLOSED || closer->failed ||
                (client.events | server.events) & RTLS_EVENT_PEER_CLOSED)
                break;
            if (!(closer->events & RTLS_EVENT_HANDSHAKE_DONE)) break;
            fuzz_close(closer);
        }
    }
    server_end = outcome_of(&server);
    client_end = outcome_of(&client);
    printf("%s: client %zu bytes, server %zu bytes; server events %x read %zu, client events %x read %zu\n", sc->name,
           to_server.len, to_client.len, server_end.events, server_end.plaintext_read, client_end.events,
           client_end.plaintext_read);
    write_seed(conn_dir, sc->name, &sc->server, to_server.data, to_server.len);
    write_seed(client_dir, sc->name, &sc->client, to_client.data, to_client.len);
    fuzz_finish(&server);
    fuzz_finish(&client);

    replay(sc, 1, to_server.data, to_server.len, server_end);
    replay(sc, 0, to_client.data, to_client.len, client_end);
    free(to_server.data);
    free(to_client.data);
}

int main(int argc, char **argv)
{
    size_t i;

    if (argc != 3) {
        fprintf(stderr, "usage: %s CONN_CORPUS_DIR CLIENT_CORPUS_DIR\n", argv[0]);
        return 2;
    }
    fuzz_init_server();
    fuzz_init_client();
    for (i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); ++i)
        record(&scenarios[i], argv[1], argv[2]);
    return 0;
}
