/* fuzz_pki.c: libFuzzer target for what TLSClientCA and TLSClientCRL read
 * (rtls_client_auth_add_ca, rtls_client_auth_add_crl: PEM or DER, parsed by
 * rustls-pemfile, rustls-webpki and rtls' own nextUpdate reader) and for
 * rtls_x509_not_after (SSL_CLIENT_V_REMAIN). An input is a file's contents,
 * given to each. A finding, besides crashes, sanitizer reports and panics
 * (fuzz_tls.c traps those): an internal result code (4xxx), a result other
 * than those rtls.h lists, or an out-parameter written on an error. */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_tls.h"
#include "rtls.h"

#define SENTINEL 0x5a5a5a5a5a5a5a5aULL

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void require(int ok)
{
    if (!ok) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rtls_client_auth *auth = NULL;
    size_t count = SENTINEL;
    uint64_t next = SENTINEL;
    int64_t not_after = (int64_t)SENTINEL;
    rtls_result rr;

    require(rtls_client_auth_new(&auth) == RTLS_OK && auth);
    rr = rtls_client_auth_add_ca(auth, data, size, &count);
    require(rr == RTLS_OK || rr == RTLS_CONF_BAD_PEM || rr == RTLS_CONF_BAD_CERTIFICATE);
    require(rr == RTLS_OK ? count == rtls_client_auth_ca_count(auth) : count == SENTINEL);

    count = SENTINEL;
    rr = rtls_client_auth_add_crl(auth, data, size, &count, &next);
    require(rr == RTLS_OK || rr == RTLS_CONF_BAD_PEM || rr == RTLS_CONF_BAD_CRL);
    if (rr != RTLS_OK) require(count == SENTINEL && next == SENTINEL);
    else require(count != SENTINEL && (count > 0 || next == 0));

    rr = rtls_x509_not_after(data, size, &not_after);
    require(rr == RTLS_OK || rr == RTLS_CONF_BAD_DER);
    if (rr != RTLS_OK) require(not_after == (int64_t)SENTINEL);
    rtls_client_auth_free(auth);
    return 0;
}
