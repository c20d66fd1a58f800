/* main.c: runs the C unit tests; `unit_tests --dump-suites` prints the
 * cipher-suite table for check_openssl_names.sh instead. */
#include <stdio.h>
#include <string.h>

#include <apr_general.h>

#include "check.h"
#include "tls_proto.h"

static unsigned checks, failures;

int check_true(int ok, const char *expr, const char *file, int line)
{
    ++checks;
    if (!ok) {
        ++failures;
        fprintf(stderr, "%s:%d: check failed: %s\n", file, line, expr);
    }
    return ok;
}

int check_str_eq(const char *got, const char *want, const char *expr, const char *file, int line)
{
    int ok = (got == NULL && want == NULL) || (got && want && !strcmp(got, want));

    if (!check_true(ok, expr, file, line)) {
        fprintf(stderr, "    got:  %s\n    want: %s\n", got ? got : "(null)", want ? want : "(null)");
    }
    return ok;
}

int check_str_has(const char *got, const char *part, const char *expr, const char *file, int line)
{
    int ok = got && strstr(got, part);

    if (!check_true(ok, expr, file, line)) {
        fprintf(stderr, "    got:  %s\n    should contain: %s\n", got ? got : "(null)", part);
    }
    return ok;
}

static void dump_suites(void)
{
    const tls_suite_t *suites;
    apr_size_t i, n;

    suites = tls_proto_suites(&n);
    for (i = 0; i < n; ++i) {
        printf("0x%02X,0x%02X %s %s\n", suites[i].id >> 8, suites[i].id & 0xff, suites[i].iana,
               suites[i].openssl ? suites[i].openssl : "-");
    }
}

int main(int argc, const char *const *argv)
{
    static const struct {
        const char *name;
        void (*run)(apr_pool_t *p);
    } SUITES[] = {
        {"tls_proto", test_proto},
        {"tls_util", test_util},
    };
    apr_pool_t *p = NULL;
    size_t i;

    if (argc == 2 && !strcmp(argv[1], "--dump-suites")) {
        dump_suites();
        return 0;
    }
    if (apr_app_initialize(&argc, &argv, NULL) != APR_SUCCESS || apr_pool_create(&p, NULL) != APR_SUCCESS) {
        fprintf(stderr, "cannot initialize APR\n");
        return 2;
    }
    for (i = 0; i < sizeof(SUITES) / sizeof(SUITES[0]); ++i) {
        unsigned before = failures;
        SUITES[i].run(p);
        apr_pool_clear(p);
        if (failures != before) fprintf(stderr, "%s: %u failed checks\n", SUITES[i].name, failures - before);
    }
    apr_pool_destroy(p);
    apr_terminate();
    printf("C unit tests: %u checks, %u failed: %s\n", checks, failures, failures ? "FAIL" : "ok");
    return failures ? 1 : 0;
}
