/* fuzz_conn.c: libFuzzer target for an rtls server connection, driven as
 * mod_tls drives one: TLS bytes from a client fed in chunks, the ClientHello
 * looked at (SNI, ALPN) and accepted with a real configuration (the test
 * certificate, fuzz/testcert.pem) or rejected, plaintext read and written,
 * close_notify, free. An input is an 8-byte plan followed by what the client
 * sends; see fuzz_tls.h for the plan and for what counts as a finding.
 *
 * Seeds (corpus-conn/): ClientHellos of real clients and of rawtls.py
 * (fuzz/seeds.py), and complete recorded sessions (mkcorpus.c) that go on
 * into application data because the server's randomness is deterministic. */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_tls.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_init_server();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_plan plan;
    struct fuzz_side server;
    size_t n = fuzz_plan_parse(data, size, &plan);

    fuzz_rng_reset();
    fuzz_server_start(&server, &plan);
    fuzz_feed(&server, data + n, size - n);
    fuzz_finish(&server);
    return 0;
}
