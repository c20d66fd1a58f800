/* test_proto.c: the cipher-suite table and the TLSProtocol/TLSCiphers*
 * parsers of src/tls_proto.c. */
#include <stdlib.h>
#include <string.h>

#include <apr_cstr.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include <apr_tables.h>

#include "check.h"
#include "tls_proto.h"

/* Rows of the IANA registry at the time of writing; a new registration
 * changes this number on purpose. */
#define IANA_SUITE_COUNT 352

#define SENTINEL_VERSION 0xbeef
#define SENTINEL_ID 0x4242

static const char *lower(apr_pool_t *p, const char *s)
{
    char *l = apr_pstrdup(p, s);
    char *c;

    for (c = l; *c; ++c)
        *c = (char)apr_tolower(*c);
    return l;
}

/* An ids array holding SENTINEL_ID, to see that parsing appends and that
 * errors leave it alone. */
static apr_array_header_t *new_ids(apr_pool_t *p)
{
    apr_array_header_t *ids = apr_array_make(p, 4, sizeof(apr_uint16_t));
    APR_ARRAY_PUSH(ids, apr_uint16_t) = SENTINEL_ID;
    return ids;
}

static int ids_untouched(const apr_array_header_t *ids)
{
    return ids->nelts == 1 && APR_ARRAY_IDX(ids, 0, apr_uint16_t) == SENTINEL_ID;
}

/* arg parses to exactly the one suite `id` */
static int parses_to_one(apr_pool_t *p, const char *arg, apr_uint16_t id)
{
    apr_array_header_t *ids = new_ids(p);
    const char *err = tls_proto_parse_suites(p, arg, ids);

    return err == NULL && ids->nelts == 2 && APR_ARRAY_IDX(ids, 1, apr_uint16_t) == id;
}

static int cmp_names(const void *a, const void *b)
{
    return apr_cstr_casecmp(*(const char *const *)a, *(const char *const *)b);
}

static void test_table_shape(apr_pool_t *p)
{
    const tls_suite_t *suites;
    const char **names;
    apr_size_t i, n, nnames = 0;

    suites = tls_proto_suites(&n);
    CHECK(n == IANA_SUITE_COUNT);
    names = apr_pcalloc(p, 3 * n * sizeof(*names));
    for (i = 0; i < n; ++i) {
        const tls_suite_t *s = &suites[i];

        if (i > 0) CHECK(suites[i - 1].id < s->id); /* sorted, hence unique */
        CHECK(s->iana != NULL && !strncmp(s->iana, "TLS_", 4));
        CHECK(apr_cstr_casecmpn(s->iana, "TLS_CIPHER_", 11) != 0);
        /* OpenSSL names never look like IANA ones (OpenSSL uses the IANA
         * name itself for TLS 1.3, which the table does not repeat). */
        if (s->openssl) CHECK(strncmp(s->openssl, "TLS", 3) && !strpbrk(s->openssl, ": ,"));
        /* TLS13_ aliases exactly for 0x1301-0x1305, spelled from the IANA name */
        if (s->id >= 0x1301 && s->id <= 0x1305) {
            CHECK(s->alias && !strncmp(s->alias, "TLS13_", 6) && !strcmp(s->alias + 6, s->iana + 4));
        } else {
            CHECK(s->alias == NULL);
        }
        names[nnames++] = s->iana;
        if (s->openssl) names[nnames++] = s->openssl;
        if (s->alias) names[nnames++] = s->alias;
    }
    /* Names are matched case-insensitively, so they must differ in more
     * than case: sorted that way, no two neighbours compare equal. */
    qsort(names, nnames, sizeof(*names), cmp_names);
    for (i = 1; i < nnames; ++i) {
        if (!CHECK(apr_cstr_casecmp(names[i - 1], names[i]) != 0)) {
            check_str_eq(names[i - 1], "a different name", names[i], __FILE__, __LINE__);
        }
    }
}

/* Rows whose content is known from the registry and from OpenSSL. */
static void test_table_spot_checks(void)
{
    static const tls_suite_t KNOWN[] = {
        {0x0000, "TLS_NULL_WITH_NULL_NULL", NULL, NULL},
        {0x000a, "TLS_RSA_WITH_3DES_EDE_CBC_SHA", NULL, NULL},
        {0x002f, "TLS_RSA_WITH_AES_128_CBC_SHA", "AES128-SHA", NULL},
        {0x0096, "TLS_RSA_WITH_SEED_CBC_SHA", "SEED-SHA", NULL},
        {0x009e, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", "DHE-RSA-AES128-GCM-SHA256", NULL},
        {0x00c7, "TLS_SM4_CCM_SM3", NULL, NULL},
        {0x00ff, "TLS_EMPTY_RENEGOTIATION_INFO_SCSV", NULL, NULL},
        {0x1301, "TLS_AES_128_GCM_SHA256", NULL, "TLS13_AES_128_GCM_SHA256"},
        {0x1305, "TLS_AES_128_CCM_8_SHA256", NULL, "TLS13_AES_128_CCM_8_SHA256"},
        {0x1306, "TLS_AEGIS_256_SHA512", NULL, NULL},
        {0x1307, "TLS_AEGIS_128L_SHA256", NULL, NULL},
        {0x5600, "TLS_FALLBACK_SCSV", NULL, NULL},
        {0xc02b, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256", NULL},
        {0xc02f, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256", NULL},
        {0xc030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "ECDHE-RSA-AES256-GCM-SHA384", NULL},
        {0xc060, "TLS_ECDHE_RSA_WITH_ARIA_128_GCM_SHA256", "ECDHE-ARIA128-GCM-SHA256", NULL},
        {0xc0aa, "TLS_PSK_DHE_WITH_AES_128_CCM_8", "DHE-PSK-AES128-CCM8", NULL},
        {0xc0b5, "TLS_SHA384_SHA384", NULL, NULL},
        {0xc106, "TLS_GOSTR341112_256_WITH_MAGMA_MGM_S", NULL, NULL},
        {0xcca8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-RSA-CHACHA20-POLY1305", NULL},
        {0xcca9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305", NULL},
        {0xd005, "TLS_ECDHE_PSK_WITH_AES_128_CCM_SHA256", NULL, NULL},
    };
    /* unassigned, reserved or GREASE values */
    static const apr_uint16_t ABSENT[] = {0x001c, 0x001d, 0x0047, 0x0060, 0x0080, 0x00c8, 0x0a0a, 0x1300,
                                          0x1308, 0xc0b6, 0xcaca, 0xcc13, 0xd004, 0xfefe, 0xff00, 0xffff};
    apr_size_t i;

    for (i = 0; i < sizeof(KNOWN) / sizeof(KNOWN[0]); ++i) {
        const tls_suite_t *s = tls_proto_suite_by_id(KNOWN[i].id);
        if (!CHECK(s != NULL)) continue;
        CHECK_STR_EQ(s->iana, KNOWN[i].iana);
        CHECK_STR_EQ(s->openssl, KNOWN[i].openssl);
        CHECK_STR_EQ(s->alias, KNOWN[i].alias);
    }
    for (i = 0; i < sizeof(ABSENT) / sizeof(ABSENT[0]); ++i) {
        CHECK(tls_proto_suite_by_id(ABSENT[i]) == NULL);
    }
}

static void test_every_id(void)
{
    apr_size_t n, found = 0;
    apr_uint32_t id;

    (void)tls_proto_suites(&n);
    for (id = 0; id <= 0xffff; ++id) {
        const tls_suite_t *s = tls_proto_suite_by_id((apr_uint16_t)id);
        if (s) {
            ++found;
            CHECK(s->id == id);
        }
    }
    CHECK(found == n);
}

/* Every name of every row leads back to its row, in every form. */
static void test_round_trips(apr_pool_t *p)
{
    const tls_suite_t *suites;
    apr_size_t i, n;

    suites = tls_proto_suites(&n);
    for (i = 0; i < n; ++i) {
        const tls_suite_t *s = &suites[i];
        const char *hex = apr_psprintf(p, "TLS_CIPHER_0x%04x", s->id);

        CHECK(tls_proto_suite_by_id(s->id) == s);
        CHECK(tls_proto_suite_by_name(s->iana) == s);
        CHECK(tls_proto_suite_by_name(lower(p, s->iana)) == s);
        CHECK(parses_to_one(p, s->iana, s->id));
        CHECK(parses_to_one(p, hex, s->id));
        CHECK(parses_to_one(p, apr_psprintf(p, "TLS_CIPHER_0x%04X", s->id), s->id));
        if (s->id == 0) {
            CHECK(tls_proto_suite_name(p, s->id) == NULL);
        } else {
            CHECK(tls_proto_suite_name(p, s->id) == s->iana);
        }
        if (s->openssl) {
            CHECK(tls_proto_suite_by_name(s->openssl) == s);
            CHECK(tls_proto_suite_by_name(lower(p, s->openssl)) == s);
            CHECK(parses_to_one(p, s->openssl, s->id));
        }
        if (s->alias) {
            CHECK(tls_proto_suite_by_name(s->alias) == s);
            CHECK(tls_proto_suite_by_name(lower(p, s->alias)) == s);
            CHECK(parses_to_one(p, s->alias, s->id));
        }
    }
    CHECK(tls_proto_suite_by_name(NULL) == NULL);
    CHECK(tls_proto_suite_by_name("") == NULL);
    CHECK(tls_proto_suite_by_name("TLS_CIPHER_0xc02f") == NULL); /* not a table name */
    CHECK(tls_proto_suite_by_name("TLS_AES_128_GCM_SHA25") == NULL);
    CHECK(tls_proto_suite_by_name("TLS_AES_128_GCM_SHA2566") == NULL);
    CHECK(tls_proto_suite_by_name(" TLS_AES_128_GCM_SHA256") == NULL);
}

static void test_names(apr_pool_t *p)
{
    const char *name;

    CHECK(tls_proto_version_name(p, 0) == NULL);
    CHECK_STR_EQ(tls_proto_version_name(p, 0x0303), "TLSv1.2");
    CHECK_STR_EQ(tls_proto_version_name(p, 0x0304), "TLSv1.3");
    CHECK_STR_EQ(tls_proto_version_name(p, 0x0302), "TLSv0x0302");
    CHECK_STR_EQ(tls_proto_version_name(p, 0xfefc), "TLSv0xfefc");

    CHECK_STR_EQ(tls_proto_suite_name(p, 0x1302), "TLS_AES_256_GCM_SHA384");
    name = tls_proto_suite_name(p, 0x0a0a); /* GREASE: not in the registry */
    CHECK_STR_EQ(name, "TLS_CIPHER_0x0a0a");
    CHECK(parses_to_one(p, name, 0x0a0a));
    CHECK_STR_EQ(tls_proto_suite_name(p, 0xfeff), "TLS_CIPHER_0xfeff");
}

static void test_min_version_accepted(apr_pool_t *p)
{
    static const struct {
        const char *arg;
        apr_uint16_t version;
    } OK[] = {
        {"default", 0},          {"DEFAULT", 0},          {"Default", 0},          {"TLSv1.2+", 0x0303},
        {"tlsv1.2+", 0x0303},    {"TLSV1.2+", 0x0303},    {"v1.2+", 0x0303},       {"V1.2+", 0x0303},
        {"TLSv1.3+", 0x0304},    {"tlsV1.3+", 0x0304},    {"v1.3+", 0x0304},       {"TLSv0x0303+", 0x0303},
        {"TLSv0x0304+", 0x0304}, {"TLSv0x0001+", 0x0001}, {"tlsv0XaBcD+", 0xabcd}, {"TLSv0xFFFF+", 0xffff},
    };
    static const apr_uint16_t VERSIONS[] = {0x0001, 0x0300, 0x0301, 0x0302, 0x0303,
                                            0x0304, 0x0305, 0x7f1c, 0xfefd, 0xffff};
    apr_size_t i;

    for (i = 0; i < sizeof(OK) / sizeof(OK[0]); ++i) {
        apr_uint16_t version = SENTINEL_VERSION;
        const char *err = tls_proto_parse_min_version(OK[i].arg, &version);
        if (!CHECK(err == NULL && version == OK[i].version)) {
            check_str_eq(err, NULL, OK[i].arg, __FILE__, __LINE__);
        }
    }
    /* what tls_proto_version_name() prints, plus '+', parses back */
    for (i = 0; i < sizeof(VERSIONS) / sizeof(VERSIONS[0]); ++i) {
        apr_uint16_t version = SENTINEL_VERSION;
        const char *arg = apr_pstrcat(p, tls_proto_version_name(p, VERSIONS[i]), "+", NULL);
        CHECK(tls_proto_parse_min_version(arg, &version) == NULL && version == VERSIONS[i]);
    }
}

static void test_min_version_rejected(void)
{
    static const char *const BAD[] = {
        "",
        "+",
        "++",
        "TLSv1.1+",
        "TLSv1.0+",
        "SSLv3+",
        "TLSv1+",
        "TLSv1.2++",
        " TLSv1.2+",
        "TLSv1.2+ ",
        "TLSv1.2 +",
        "+TLSv1.2",
        "TLSv1.2-",
        "1.2+",
        "TLS1.2+",
        "TLSv12+",
        "v1.2.0+",
        "TLSv0x0000+",
        "TLSv0x303+",
        "TLSv0x00303+",
        "TLSv0xGGGG+",
        "TLSv0x+",
        "TLSv0x-303+",
        "TLSv0x 303+",
        "v0x0303+",
        "0x0303+",
        "defaults",
        "default+",
        "all",
        "-all",
        "TLSv1.3 TLSv1.2",
    };
    static const char *const NEED_PLUS[] = {"TLSv1.2", "tlsv1.3", "v1.2", "V1.3", "TLSv0x0304"};
    apr_uint16_t version = SENTINEL_VERSION;
    const char *err;
    apr_size_t i;

    for (i = 0; i < sizeof(BAD) / sizeof(BAD[0]); ++i) {
        err = tls_proto_parse_min_version(BAD[i], &version);
        if (!CHECK(err != NULL)) {
            check_str_eq("accepted", "rejected", BAD[i], __FILE__, __LINE__);
            continue;
        }
        CHECK_STR_HAS(err, "unrecognized");
        CHECK_STR_HAS(err, "'default'");
        CHECK_STR_HAS(err, "'TLSv1.2+'");
        CHECK_STR_HAS(err, "'TLSv1.3+'");
        CHECK_STR_HAS(err, "'v1.2+'");
        CHECK_STR_HAS(err, "'v1.3+'");
        CHECK_STR_HAS(err, "'TLSv0xNNNN+'");
    }
    for (i = 0; i < sizeof(NEED_PLUS) / sizeof(NEED_PLUS[0]); ++i) {
        err = tls_proto_parse_min_version(NEED_PLUS[i], &version);
        CHECK_STR_HAS(err, "trailing '+'");
        CHECK_STR_HAS(err, "'TLSv1.3+'");
    }
    CHECK_STR_HAS(tls_proto_parse_min_version(NULL, &version), "'TLSv1.2+'");
    CHECK(version == SENTINEL_VERSION); /* never written on error */
}

static void test_suite_lists(apr_pool_t *p)
{
    apr_array_header_t *ids = new_ids(p);
    const char *err;

    err = tls_proto_parse_suites(p,
                                 "TLS_AES_128_GCM_SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                                 "TLS13_CHACHA20_POLY1305_SHA256:TLS_CIPHER_0xc030:tls_cipher_0XABCD",
                                 ids);
    CHECK(err == NULL);
    if (CHECK(ids->nelts == 6)) {
        CHECK(APR_ARRAY_IDX(ids, 0, apr_uint16_t) == SENTINEL_ID); /* appended, not replaced */
        CHECK(APR_ARRAY_IDX(ids, 1, apr_uint16_t) == 0x1301);
        CHECK(APR_ARRAY_IDX(ids, 2, apr_uint16_t) == 0xc02f);
        CHECK(APR_ARRAY_IDX(ids, 3, apr_uint16_t) == 0x1303);
        CHECK(APR_ARRAY_IDX(ids, 4, apr_uint16_t) == 0xc030);
        CHECK(APR_ARRAY_IDX(ids, 5, apr_uint16_t) == 0xabcd); /* not in the table: fine */
    }
    /* a second argument of the same directive appends */
    CHECK(tls_proto_parse_suites(p, "ecdhe-ecdsa-aes256-gcm-sha384", ids) == NULL);
    CHECK(ids->nelts == 7 && APR_ARRAY_IDX(ids, 6, apr_uint16_t) == 0xc02c);

    /* duplicates are kept, in order: the caller decides what they mean */
    ids = new_ids(p);
    CHECK(tls_proto_parse_suites(p, "TLS_AES_256_GCM_SHA384:TLS13_AES_256_GCM_SHA384:TLS_CIPHER_0x1302", ids) == NULL);
    CHECK(ids->nelts == 4 && APR_ARRAY_IDX(ids, 1, apr_uint16_t) == 0x1302 &&
          APR_ARRAY_IDX(ids, 2, apr_uint16_t) == 0x1302 && APR_ARRAY_IDX(ids, 3, apr_uint16_t) == 0x1302);

    CHECK(parses_to_one(p, "TLS_CIPHER_0x0000", 0x0000));
    CHECK(parses_to_one(p, "TLS_CIPHER_0xffff", 0xffff));
    CHECK(parses_to_one(p, "TLS_dh_ANON_with_AES_128_GCM_SHA256", 0x00a6));
}

static void test_suite_errors(apr_pool_t *p)
{
    static const char *const EMPTY[] = {
        "",
        ":",
        "::",
        "TLS_AES_128_GCM_SHA256:",
        ":TLS_AES_128_GCM_SHA256",
        "TLS_AES_128_GCM_SHA256::TLS_AES_256_GCM_SHA384",
        "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:",
    };
    static const struct {
        const char *arg, *culprit;
    } UNKNOWN[] = {
        {"NO_SUCH_SUITE", "'NO_SUCH_SUITE'"},
        {"TLS_AES_128_GCM_SHA256:BOGUS:TLS_AES_256_GCM_SHA384", "'BOGUS'"},
        {"TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:BOGUS", "'BOGUS'"},
        {"default", "'default'"}, /* keywords are the caller's business */
        {"none", "'none'"},
        {"TLS_AES_128_GCM_SHA256 ", "'TLS_AES_128_GCM_SHA256 '"},
        {"TLS13_AES_128_GCM", "'TLS13_AES_128_GCM'"},
        {"TLS13_AEGIS_256_SHA512", "'TLS13_AEGIS_256_SHA512'"}, /* aliases only for 0x1301-0x1305 */
        {"ALL", "'ALL'"},
        {"!RC4", "'!RC4'"},
        {"TLS_CIPHER_", "'TLS_CIPHER_'"},
        {"TLS_CIPHER_c02f", "'TLS_CIPHER_c02f'"},
    };
    static const char *const MALFORMED_HEX[] = {
        "TLS_CIPHER_0x",     "TLS_CIPHER_0x123",  "TLS_CIPHER_0x12345",
        "TLS_CIPHER_0x12G4", "TLS_CIPHER_0x+123", "TLS_CIPHER_0x 123",
    };
    apr_array_header_t *ids;
    const char *err;
    apr_size_t i;

    for (i = 0; i < sizeof(EMPTY) / sizeof(EMPTY[0]); ++i) {
        ids = new_ids(p);
        err = tls_proto_parse_suites(p, EMPTY[i], ids);
        CHECK_STR_HAS(err, "empty cipher suite name");
        CHECK_STR_HAS(err, apr_psprintf(p, "'%s'", EMPTY[i]));
        CHECK(ids_untouched(ids));
    }
    for (i = 0; i < sizeof(UNKNOWN) / sizeof(UNKNOWN[0]); ++i) {
        ids = new_ids(p);
        err = tls_proto_parse_suites(p, UNKNOWN[i].arg, ids);
        CHECK_STR_HAS(err, "not recognized");
        CHECK_STR_HAS(err, UNKNOWN[i].culprit);
        CHECK_STR_HAS(err, "IANA");
        CHECK_STR_HAS(err, "OpenSSL");
        CHECK_STR_HAS(err, "TLS13_");
        CHECK_STR_HAS(err, "TLS_CIPHER_0xNNNN");
        CHECK(ids_untouched(ids));
    }
    /* only the unknown element is named, not its valid neighbours */
    err = tls_proto_parse_suites(p, "TLS_AES_128_GCM_SHA256:BOGUS", new_ids(p));
    CHECK(err && !strstr(err, "'TLS_AES_128_GCM_SHA256"));

    for (i = 0; i < sizeof(MALFORMED_HEX) / sizeof(MALFORMED_HEX[0]); ++i) {
        ids = new_ids(p);
        err = tls_proto_parse_suites(p, apr_pstrcat(p, "TLS_AES_128_GCM_SHA256:", MALFORMED_HEX[i], NULL), ids);
        CHECK_STR_HAS(err, "malformed");
        CHECK_STR_HAS(err, apr_psprintf(p, "'%s'", MALFORMED_HEX[i]));
        CHECK_STR_HAS(err, "4 hex digits");
        CHECK(ids_untouched(ids));
    }

    ids = new_ids(p);
    err = tls_proto_parse_suites(p, "ECDHE-RSA-AES128-GCM-SHA256,ECDHE-RSA-AES256-GCM-SHA384", ids);
    CHECK_STR_HAS(err, "not ','");
    CHECK(ids_untouched(ids));

    ids = new_ids(p);
    CHECK_STR_HAS(tls_proto_parse_suites(p, NULL, ids), "no cipher suite");
    CHECK(ids_untouched(ids));

    /* an array of the wrong element size is refused, not overrun */
    ids = apr_array_make(p, 1, sizeof(apr_uint32_t));
    CHECK_STR_HAS(tls_proto_parse_suites(p, "TLS_AES_128_GCM_SHA256", ids), "apr_uint16_t");
    CHECK(ids->nelts == 0);
}

void test_proto(apr_pool_t *p)
{
    test_table_shape(p);
    test_table_spot_checks();
    test_every_id();
    test_round_trips(p);
    test_names(p);
    test_min_version_accepted(p);
    test_min_version_rejected();
    test_suite_lists(p);
    test_suite_errors(p);
}
