/* fuzz_proto.c: libFuzzer target for the configuration parsers of
 * src/tls_proto.c (TLSProtocol and TLSCiphers* arguments). Each input is
 * one directive argument, given to both parsers. Besides crashes and
 * sanitizer findings it aborts when a parser breaks its contract:
 *   - an error leaves the outputs untouched (version, ids array);
 *   - an accepted version, printed by tls_proto_version_name() plus '+',
 *     parses back to itself;
 *   - an accepted suite list yields one id per ':'-separated name, and each
 *     id's name from tls_proto_suite_name() parses back to that id. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <apr_cstr.h>
#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <apr_tables.h>

#include "tls_proto.h"

#define SENTINEL 0xbeef

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static apr_pool_t *root;

static void require(int ok)
{
    if (!ok) abort();
}

static void fuzz_min_version(apr_pool_t *p, const char *arg)
{
    apr_uint16_t version = SENTINEL, again = SENTINEL;
    const char *err = tls_proto_parse_min_version(arg, &version);

    if (err) {
        require(*err && version == SENTINEL);
        return;
    }
    if (version == 0) {
        require(!apr_cstr_casecmp(arg, "default"));
        return;
    }
    err = tls_proto_parse_min_version(apr_pstrcat(p, tls_proto_version_name(p, version), "+", NULL), &again);
    require(!err && again == version);
}

static void fuzz_suites(apr_pool_t *p, const char *arg)
{
    apr_array_header_t *ids = apr_array_make(p, 4, sizeof(apr_uint16_t));
    const char *err, *c;
    int i, names = 1;

    APR_ARRAY_PUSH(ids, apr_uint16_t) = SENTINEL;
    err = tls_proto_parse_suites(p, arg, ids);
    if (err) {
        require(*err && ids->nelts == 1 && APR_ARRAY_IDX(ids, 0, apr_uint16_t) == SENTINEL);
        return;
    }
    for (c = arg; *c; ++c)
        names += (*c == ':');
    require(ids->nelts == 1 + names && APR_ARRAY_IDX(ids, 0, apr_uint16_t) == SENTINEL);
    for (i = 1; i < ids->nelts; ++i) {
        apr_uint16_t id = APR_ARRAY_IDX(ids, i, apr_uint16_t);
        const char *name = tls_proto_suite_name(p, id);
        apr_array_header_t *back;

        if (!name) { /* id 0 has no name by contract */
            require(id == 0);
            continue;
        }
        back = apr_array_make(p, 1, sizeof(apr_uint16_t));
        require(!tls_proto_parse_suites(p, name, back) && back->nelts == 1 &&
                APR_ARRAY_IDX(back, 0, apr_uint16_t) == id);
        require(tls_proto_suite_by_id(id) == tls_proto_suite_by_name(name));
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (apr_initialize() != APR_SUCCESS || apr_pool_create(&root, NULL) != APR_SUCCESS) abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = NULL;
    const char *arg;

    if (apr_pool_create(&p, root) != APR_SUCCESS) abort();
    /* httpd hands directive arguments over as C strings: stop at a NUL */
    arg = apr_pstrmemdup(p, (const char *)data, size);
    fuzz_min_version(p, arg);
    fuzz_suites(p, arg);
    apr_pool_destroy(p);
    return 0;
}
