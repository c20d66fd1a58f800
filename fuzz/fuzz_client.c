/* fuzz_client.c: libFuzzer target for an rtls client connection (mod_tls'
 * proxy side): a client configuration trusting the test certificate
 * (fuzz/testcert.pem), a connection to a name of it, its ClientHello sent,
 * then whatever the input says the server answers, fed in chunks; plaintext
 * read and written, close_notify, free. An input is an 8-byte plan (see
 * fuzz_tls.h), then, when the plan's name choice is 3, two length bytes and
 * that many bytes of server name and of ALPN list (wire format) for
 * rtls_conn_client_new, then the server's bytes.
 *
 * Seeds (corpus-client/): server flights recorded by mkcorpus.c against the
 * deterministic client (the client's randomness, hence its key share, is the
 * same on every run, so a recorded TLS 1.3 flight decrypts and a TLS 1.2
 * ServerKeyExchange signature verifies). */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_tls.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_init_client();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_plan plan;
    struct fuzz_side client;
    const uint8_t *name = NULL, *alpn = NULL;
    size_t name_len = 0, alpn_len = 0;
    size_t n = fuzz_plan_parse(data, size, &plan);

    data += n;
    size -= n;
    if (PLAN_CLIENT_NAME(&plan) == 3) {
        if (size < 2) return 0;
        name_len = data[0];
        alpn_len = data[1];
        data += 2;
        size -= 2;
        if (size < name_len + alpn_len) return 0;
        name = data;
        alpn = data + name_len;
        data += name_len + alpn_len;
        size -= name_len + alpn_len;
    }
    fuzz_rng_reset();
    if (fuzz_client_start(&client, &plan, name, name_len, alpn, alpn_len)) fuzz_feed(&client, data, size);
    fuzz_finish(&client);
    return 0;
}
