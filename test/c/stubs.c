/* stubs.c: the httpd functions tls_util.c calls from the helpers these
 * tests leave to pytest (tls_util_name_matches_server needs a server_rec).
 * They only satisfy the linker; reaching one is a test bug. */
#include <stdio.h>
#include <stdlib.h>

#include <httpd.h>

static void not_here(const char *fn)
{
    fprintf(stderr, "unit tests: %s() is a link stub, not callable here\n", fn);
    abort();
}

int ap_cstr_casecmp(const char *s1, const char *s2)
{
    (void)s1;
    (void)s2;
    not_here(__func__);
    return 0;
}

int ap_strcasecmp_match(const char *str, const char *expected)
{
    (void)str;
    (void)expected;
    not_here(__func__);
    return 0;
}
