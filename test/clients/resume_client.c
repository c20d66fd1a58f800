/*
 * resume_client: reconnects to a TLS server the way curl keeps its sessions, and says for each
 * connection whether the server resumed the session it was offered.
 *
 *   resume_client HOST PORT SNI 1.2|1.3 ticket|id COUNT SECONDS [CAFILE]
 *
 * The session cache of the SSL_CTX is client-side only and keeps nothing itself
 * (SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE); the new-session callback keeps the
 * newest session it is handed (SSL_SESSION_up_ref, dropping the one before), and each connection
 * offers that newest session (SSL_set_session). This is what curl does with its own session cache,
 * and it differs from `openssl s_client -reconnect`, which offers the first session every time.
 *
 * Mode `ticket` takes TLS 1.2 session tickets (OpenSSL's default), `id` refuses them
 * (SSL_OP_NO_TICKET: TLS 1.2 resumes by session id). TLS 1.3 resumes with the tickets the server
 * sends after the handshake; they are read with the response, so every connection sends
 *   GET / HTTP/1.1\r\nHost: SNI\r\nConnection: close\r\n\r\n
 * and reads to EOF.
 *
 * Output, one line per connection (N from 1):
 *   N resumed|full SESSION-ID-HEX          (the session id after the handshake; "-" if empty)
 *   N error WHAT                           (connect, handshake, I/O, or a response other than 200)
 * and a last line
 *   summary connections=C resumed=R full=F errors=E seconds=S
 * C counts the connections tried; fewer than COUNT when SECONDS ran out. Every socket operation
 * has a timeout within SECONDS, so the whole run ends after about SECONDS at the latest.
 * Exit status: 0 when all COUNT connections were made without an error, 1 otherwise, 2 on bad
 * arguments.
 *
 * Build: cc -O2 -Wall -Wextra -o resume_client resume_client.c -lssl -lcrypto   (Debian: libssl-dev)
 */

#include <errno.h>
#include <signal.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

static SSL_SESSION *newest;

static int new_session_cb(SSL *ssl, SSL_SESSION *sess)
{
    (void)ssl;
    SSL_SESSION_up_ref(sess);
    if (newest) {
        SSL_SESSION_free(newest);
    }
    newest = sess;
    /* 1: we took a reference (OpenSSL's contract when the callback keeps the session) */
    return 1;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void set_timeouts(int fd, double secs)
{
    struct timeval tv;
    if (secs < 0.01) {
        secs = 0.01;
    }
    tv.tv_sec = (time_t)secs;
    tv.tv_usec = (suseconds_t)((secs - (double)tv.tv_sec) * 1e6);
    /* on Linux SO_SNDTIMEO bounds connect(2) too */
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static int tcp_connect(const char *host, const char *port, double secs, char *why, size_t whylen)
{
    struct addrinfo hints, *res, *ai;
    int fd = -1, rv, one = 1;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;  /* loopback addresses only, no lookups */
    rv = getaddrinfo(host, port, &hints, &res);
    if (rv != 0) {
        snprintf(why, whylen, "getaddrinfo %s:%s: %s", host, port, gai_strerror(rv));
        return -1;
    }
    for (ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0) {
            continue;
        }
        set_timeouts(fd, secs);
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
            break;
        }
        snprintf(why, whylen, "connect: %s", strerror(errno));
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd >= 0) {
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    return fd;
}

static void ssl_error(char *why, size_t whylen, const char *what, SSL *ssl, int rv)
{
    unsigned long e = ERR_get_error();
    char buf[256] = "";
    if (e) {
        ERR_error_string_n(e, buf, sizeof(buf));
    }
    snprintf(why, whylen, "%s: SSL_get_error=%d errno=%d %s", what, SSL_get_error(ssl, rv), errno, buf);
    ERR_clear_error();
}

/* One connection. Returns 1 resumed, 0 full, -1 error (why says what). */
static int one_connection(SSL_CTX *ctx, const char *host, const char *port, const char *sni, double secs,
                          char *sid_hex, size_t sidlen, char *why, size_t whylen)
{
    SSL *ssl = NULL;
    int fd, rv, result = -1, clean = 0;
    char req[512], resp[16384];
    size_t got = 0;
    const unsigned char *sid;
    unsigned int n, i;

    fd = tcp_connect(host, port, secs, why, whylen);
    if (fd < 0) {
        return -1;
    }
    ssl = SSL_new(ctx);
    if (!ssl || !SSL_set_fd(ssl, fd) || !SSL_set_tlsext_host_name(ssl, sni)) {
        snprintf(why, whylen, "SSL_new/SSL_set_fd/SNI failed");
        goto out;
    }
    if (newest && !SSL_set_session(ssl, newest)) {
        snprintf(why, whylen, "SSL_set_session failed");
        goto out;
    }
    rv = SSL_connect(ssl);
    if (rv != 1) {
        ssl_error(why, whylen, "handshake", ssl, rv);
        goto out;
    }
    sid = SSL_SESSION_get_id(SSL_get_session(ssl), &n);
    if (n == 0) {
        snprintf(sid_hex, sidlen, "-");
    }
    else {
        for (i = 0; i < n && 2 * i + 2 < sidlen; i++) {
            snprintf(sid_hex + 2 * i, 3, "%02x", sid[i]);
        }
    }
    snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", sni);
    rv = SSL_write(ssl, req, (int)strlen(req));
    if (rv <= 0) {
        ssl_error(why, whylen, "write", ssl, rv);
        goto out;
    }
    /* to EOF: TLS 1.3 tickets come with (or before) the response */
    for (;;) {
        /* the start of the response is kept (for its status line), the rest read and dropped */
        char discard[4096];
        int keep = got < sizeof(resp) - 1;
        if (keep) {
            rv = SSL_read(ssl, resp + got, (int)(sizeof(resp) - 1 - got));
        }
        else {
            rv = SSL_read(ssl, discard, sizeof(discard));
        }
        if (rv > 0) {
            if (keep) {
                got += (size_t)rv;
            }
            continue;
        }
        if (SSL_get_error(ssl, rv) == SSL_ERROR_ZERO_RETURN) {
            clean = 1;  /* close_notify, or EOF (SSL_OP_IGNORE_UNEXPECTED_EOF) */
            break;
        }
        ssl_error(why, whylen, "read", ssl, rv);
        goto out;
    }
    resp[got] = '\0';
    if (strncmp(resp, "HTTP/1.1 200 ", 13) != 0) {
        char *eol = strpbrk(resp, "\r\n");
        if (eol) {
            *eol = '\0';
        }
        snprintf(why, whylen, "response: '%.100s'", resp);
        goto out;
    }
    result = SSL_session_reused(ssl) ? 1 : 0;
out:
    if (ssl) {
        if (clean) {
            SSL_shutdown(ssl);  /* our close_notify, as curl sends it */
        }
        SSL_free(ssl);
    }
    close(fd);
    return result;
}

int main(int argc, char **argv)
{
    const char *host, *port, *sni, *version, *mode, *cafile = NULL;
    long count, seconds, i;
    long resumed = 0, full = 0, errors = 0, tried = 0;
    double start, deadline;
    SSL_CTX *ctx;
    int v;

    if (argc != 8 && argc != 9) {
        fprintf(stderr, "usage: %s HOST PORT SNI 1.2|1.3 ticket|id COUNT SECONDS [CAFILE]\n", argv[0]);
        return 2;
    }
    host = argv[1];
    port = argv[2];
    sni = argv[3];
    version = argv[4];
    mode = argv[5];
    count = strtol(argv[6], NULL, 10);
    seconds = strtol(argv[7], NULL, 10);
    if (argc == 9) {
        cafile = argv[8];
    }
    if (strcmp(version, "1.2") == 0) {
        v = TLS1_2_VERSION;
    }
    else if (strcmp(version, "1.3") == 0) {
        v = TLS1_3_VERSION;
    }
    else {
        fprintf(stderr, "version must be 1.2 or 1.3: %s\n", version);
        return 2;
    }
    if (strcmp(mode, "ticket") != 0 && strcmp(mode, "id") != 0) {
        fprintf(stderr, "mode must be ticket or id: %s\n", mode);
        return 2;
    }
    if (count < 1 || count > 100000 || seconds < 1 || seconds > 3600) {
        fprintf(stderr, "COUNT must be 1..100000 and SECONDS 1..3600\n");
        return 2;
    }

    ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx || !SSL_CTX_set_min_proto_version(ctx, v) || !SSL_CTX_set_max_proto_version(ctx, v)) {
        fprintf(stderr, "cannot set up the SSL_CTX\n");
        return 2;
    }
    if (strcmp(mode, "id") == 0) {
        SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    }
    /* as curl: a peer that closes without close_notify after the response is not an error here */
    SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
    if (cafile) {
        if (!SSL_CTX_load_verify_locations(ctx, cafile, NULL)) {
            fprintf(stderr, "cannot load %s\n", cafile);
            return 2;
        }
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    }
    else {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    }
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(ctx, new_session_cb);

    signal(SIGPIPE, SIG_IGN);  /* a write to a closed connection fails with EPIPE instead */
    start = now();
    deadline = start + (double)seconds;
    for (i = 1; i <= count; i++) {
        char sid_hex[2 * SSL_MAX_SSL_SESSION_ID_LENGTH + 2] = "";
        char why[512] = "";
        double left = deadline - now();
        int r;
        if (left <= 0) {
            break;
        }
        tried++;
        r = one_connection(ctx, host, port, sni, left, sid_hex, sizeof(sid_hex), why, sizeof(why));
        if (r < 0) {
            errors++;
            printf("%ld error %s\n", i, why);
        }
        else {
            if (r) {
                resumed++;
            }
            else {
                full++;
            }
            printf("%ld %s %s\n", i, r ? "resumed" : "full", sid_hex);
        }
        fflush(stdout);
    }
    printf("summary connections=%ld resumed=%ld full=%ld errors=%ld seconds=%.2f\n", tried, resumed, full, errors,
           now() - start);
    if (newest) {
        SSL_SESSION_free(newest);
    }
    SSL_CTX_free(ctx);
    return (tried == count && errors == 0) ? 0 : 1;
}
