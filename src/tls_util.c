/* tls_util.c: see tls_util.h. */
#include <string.h>

#include <apr_file_io.h>
#include <apr_strings.h>

#include <httpd.h>
#include <http_config.h>

#include "tls_util.h"

apr_status_t tls_util_read_file(apr_pool_t *p, const char *path, apr_size_t max,
                                const char **pdata, apr_size_t *plen)
{
    apr_file_t *f = NULL;
    apr_finfo_t finfo;
    char *buf;
    apr_size_t len;
    apr_status_t rv;

    rv = apr_file_open(&f, path, APR_FOPEN_READ | APR_FOPEN_BINARY, 0, p);
    if (rv != APR_SUCCESS) goto cleanup;
    rv = apr_file_info_get(&finfo, APR_FINFO_SIZE | APR_FINFO_TYPE, f);
    if (rv != APR_SUCCESS) goto cleanup;
    if (finfo.filetype != APR_REG) {
        rv = APR_EBADF;
        goto cleanup;
    }
    if (finfo.size <= 0) {
        rv = APR_EINVAL;
        goto cleanup;
    }
    if ((apr_size_t)finfo.size > max) {
        rv = APR_ENOSPC;
        goto cleanup;
    }
    len = (apr_size_t)finfo.size;
    buf = apr_palloc(p, len + 1);
    rv = apr_file_read_full(f, buf, len, &len);
    if (rv != APR_SUCCESS) goto cleanup;
    buf[len] = '\0';
    *pdata = buf;
    *plen = len;
cleanup:
    if (f) apr_file_close(f);
    return rv;
}

int tls_util_name_matches_server(const char *name, server_rec *s)
{
    int i;

    if (!name || !*name) return 0;
    if (s->server_hostname && !ap_cstr_casecmp(name, s->server_hostname)) return 1;
    if (s->names) {
        const char **names = (const char **)s->names->elts;
        for (i = 0; i < s->names->nelts; ++i) {
            if (names[i] && !ap_cstr_casecmp(name, names[i])) return 1;
        }
    }
    /* Wildcard aliases are checked whether or not exact ones exist. */
    if (s->wild_names) {
        const char **names = (const char **)s->wild_names->elts;
        for (i = 0; i < s->wild_names->nelts; ++i) {
            if (names[i] && !ap_strcasecmp_match(name, names[i])) return 1;
        }
    }
    return 0;
}

/* The IPv4 address inside an IPv4-mapped IPv6 address, or NULL. */
static const unsigned char *mapped_v4(const apr_sockaddr_t *sa)
{
#if APR_HAVE_IPV6
    static const unsigned char prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (sa->family == AF_INET6 && !memcmp(sa->ipaddr_ptr, prefix, sizeof(prefix))) {
        return (const unsigned char *)sa->ipaddr_ptr + 12;
    }
#endif
    return NULL;
}

int tls_util_addr_same_ip(const apr_sockaddr_t *a, const apr_sockaddr_t *b)
{
    const unsigned char *a4, *b4;

    if (a->family == b->family) {
        return a->ipaddr_len == b->ipaddr_len && !memcmp(a->ipaddr_ptr, b->ipaddr_ptr, (size_t)a->ipaddr_len);
    }
    a4 = (a->family == AF_INET) ? (const unsigned char *)a->ipaddr_ptr : mapped_v4(a);
    b4 = (b->family == AF_INET) ? (const unsigned char *)b->ipaddr_ptr : mapped_v4(b);
    return a4 && b4 && !memcmp(a4, b4, 4);
}

int tls_util_addr_is_wildcard(const apr_sockaddr_t *sa)
{
    static const unsigned char broadcast[4] = {0xff, 0xff, 0xff, 0xff};

    if (apr_sockaddr_is_wildcard(sa)) return 1;
    /* "_default_" vhosts carry 255.255.255.255 */
    return sa->family == AF_INET && !memcmp(sa->ipaddr_ptr, broadcast, 4);
}

const char *tls_util_server_desc(apr_pool_t *p, server_rec *s)
{
    return apr_psprintf(p, "%s:%u (defined at %s:%u)", s->server_hostname ? s->server_hostname : "(no name)",
                        (unsigned)s->port, s->defn_name ? s->defn_name : "(main config)",
                        (unsigned)s->defn_line_number);
}
