/* test_util.c: the helpers of src/tls_util.c that need no server_rec:
 * reading files and comparing socket addresses. */
#include <string.h>

#include <apr_file_io.h>
#include <apr_network_io.h>
#include <apr_strings.h>

#include "check.h"
#include "tls_util.h"

/* A numeric address; NULL if the system cannot represent it (no IPv6). */
static apr_sockaddr_t *addr(apr_pool_t *p, const char *host, apr_int32_t family, apr_port_t port)
{
    apr_sockaddr_t *sa = NULL;

    if (apr_sockaddr_info_get(&sa, host, family, port, 0, p) != APR_SUCCESS) return NULL;
    return sa;
}

static void test_wildcard(apr_pool_t *p)
{
    CHECK(tls_util_addr_is_wildcard(addr(p, "0.0.0.0", APR_INET, 443)));
    CHECK(tls_util_addr_is_wildcard(addr(p, NULL, APR_INET, 443)));              /* "*" */
    CHECK(tls_util_addr_is_wildcard(addr(p, "255.255.255.255", APR_INET, 443))); /* "_default_" */
    CHECK(!tls_util_addr_is_wildcard(addr(p, "127.0.0.1", APR_INET, 443)));
    CHECK(!tls_util_addr_is_wildcard(addr(p, "192.0.2.10", APR_INET, 0)));
#if APR_HAVE_IPV6
    {
        apr_sockaddr_t *any6 = addr(p, "::", APR_INET6, 443), *one6 = addr(p, "::1", APR_INET6, 443);
        if (any6 && one6) {
            CHECK(tls_util_addr_is_wildcard(any6));
            CHECK(!tls_util_addr_is_wildcard(one6));
        }
    }
#endif
}

static void test_same_ip(apr_pool_t *p)
{
    apr_sockaddr_t *lo80 = addr(p, "127.0.0.1", APR_INET, 80), *lo443 = addr(p, "127.0.0.1", APR_INET, 443);
    apr_sockaddr_t *lo2 = addr(p, "127.0.0.2", APR_INET, 443);

    if (!CHECK(lo80 && lo443 && lo2)) return;
    CHECK(tls_util_addr_same_ip(lo80, lo443)); /* ports do not matter */
    CHECK(tls_util_addr_same_ip(lo443, lo443));
    CHECK(!tls_util_addr_same_ip(lo443, lo2));
    CHECK(!tls_util_addr_same_ip(lo2, lo443));
#if APR_HAVE_IPV6
    {
        apr_sockaddr_t *mapped = addr(p, "::ffff:127.0.0.1", APR_INET6, 443);
        apr_sockaddr_t *mapped_other = addr(p, "::ffff:10.0.0.1", APR_INET6, 443);
        apr_sockaddr_t *one6 = addr(p, "::1", APR_INET6, 443), *one6b = addr(p, "::1", APR_INET6, 8443);
        apr_sockaddr_t *doc6 = addr(p, "2001:db8::7f00:1", APR_INET6, 443);

        if (mapped && mapped_other && one6 && one6b && doc6) {
            CHECK(tls_util_addr_same_ip(mapped, lo443));
            CHECK(tls_util_addr_same_ip(lo80, mapped));
            CHECK(!tls_util_addr_same_ip(mapped_other, lo443));
            CHECK(!tls_util_addr_same_ip(lo443, mapped_other));
            CHECK(tls_util_addr_same_ip(one6, one6b));
            CHECK(!tls_util_addr_same_ip(one6, lo443));
            CHECK(!tls_util_addr_same_ip(lo443, one6));
            /* ends in 127.0.0.1 but is not IPv4-mapped */
            CHECK(!tls_util_addr_same_ip(doc6, lo443));
            CHECK(!tls_util_addr_same_ip(doc6, mapped));
        }
    }
#endif
}

static const char *write_temp(apr_pool_t *p, const char *dir, const char *content)
{
    char *path = apr_pstrcat(p, dir, "/tls-unit-XXXXXX", NULL);
    apr_file_t *f;
    apr_size_t len = strlen(content);

    if (apr_file_mktemp(&f, path, APR_FOPEN_CREATE | APR_FOPEN_WRITE | APR_FOPEN_EXCL, p) != APR_SUCCESS) return NULL;
    if (len && apr_file_write_full(f, content, len, NULL) != APR_SUCCESS) path = NULL;
    apr_file_close(f);
    return path;
}

static void test_read_file(apr_pool_t *p)
{
    const char *tmpdir = NULL, *data = "untouched", *full, *empty;
    apr_size_t len = 4711;
    apr_status_t rv;

    if (!CHECK(apr_temp_dir_get(&tmpdir, p) == APR_SUCCESS)) return;
    full = write_temp(p, tmpdir, "-----BEGIN X-----\n");
    empty = write_temp(p, tmpdir, "");
    if (!CHECK(full && empty)) return;

    rv = tls_util_read_file(p, full, TLS_MAX_PEM_SIZE, &data, &len);
    CHECK(rv == APR_SUCCESS);
    CHECK(len == 18);
    CHECK_STR_EQ(data, "-----BEGIN X-----\n"); /* and NUL-terminated */

    rv = tls_util_read_file(p, full, 18, &data, &len); /* the limit is inclusive */
    CHECK(rv == APR_SUCCESS && len == 18);

    data = "untouched";
    len = 4711;
    CHECK(tls_util_read_file(p, full, 17, &data, &len) == APR_ENOSPC);
    CHECK(tls_util_read_file(p, empty, TLS_MAX_PEM_SIZE, &data, &len) == APR_EINVAL);
    CHECK(tls_util_read_file(p, tmpdir, TLS_MAX_PEM_SIZE, &data, &len) == APR_EBADF);
    rv = tls_util_read_file(p, apr_pstrcat(p, full, ".missing", NULL), TLS_MAX_PEM_SIZE, &data, &len);
    CHECK(APR_STATUS_IS_ENOENT(rv));
    /* outputs are written only on success */
    CHECK_STR_EQ(data, "untouched");
    CHECK(len == 4711);

    apr_file_remove(full, p);
    apr_file_remove(empty, p);
}

void test_util(apr_pool_t *p)
{
    test_wildcard(p);
    test_same_ip(p);
    test_read_file(p);
}
