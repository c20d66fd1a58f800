/* tls_proto.c: see tls_proto.h. */
#include <apr_strings.h>

#include "tls_proto.h"

/* Sorted by id (binary search). */
static const tls_suite_t SUITES[] = {
    {0x1301, "TLS_AES_128_GCM_SHA256", NULL, "TLS13_AES_128_GCM_SHA256"},
    {0x1302, "TLS_AES_256_GCM_SHA384", NULL, "TLS13_AES_256_GCM_SHA384"},
    {0x1303, "TLS_CHACHA20_POLY1305_SHA256", NULL, "TLS13_CHACHA20_POLY1305_SHA256"},
    {0xc02b, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256", NULL},
    {0xc02c, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "ECDHE-ECDSA-AES256-GCM-SHA384", NULL},
    {0xc02f, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256", NULL},
    {0xc030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "ECDHE-RSA-AES256-GCM-SHA384", NULL},
    {0xcca8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-RSA-CHACHA20-POLY1305", NULL},
    {0xcca9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305", NULL},
};

const tls_suite_t *tls_proto_suite_by_id(apr_uint16_t id)
{
    size_t lo = 0, hi = sizeof(SUITES) / sizeof(SUITES[0]);

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (SUITES[mid].id == id) return &SUITES[mid];
        if (SUITES[mid].id < id) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

const char *tls_proto_version_name(apr_pool_t *p, apr_uint16_t version)
{
    switch (version) {
    case 0: return NULL;
    case 0x0303: return "TLSv1.2";
    case 0x0304: return "TLSv1.3";
    default: return apr_psprintf(p, "TLSv0x%04x", version);
    }
}

const char *tls_proto_suite_name(apr_pool_t *p, apr_uint16_t id)
{
    const tls_suite_t *suite;

    if (id == 0) return NULL;
    suite = tls_proto_suite_by_id(id);
    return suite ? suite->iana : apr_psprintf(p, "TLS_CIPHER_0x%04x", id);
}
