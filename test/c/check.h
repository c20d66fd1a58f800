/* check.h: the whole unit-test harness. CHECK* macros count and report;
 * a failed check prints file:line and the expression, and the run goes on
 * so one report shows every failure. main() prints the summary. */
#ifndef TLS_TEST_CHECK_H
#define TLS_TEST_CHECK_H

#include <apr_pools.h>

/* Each returns its verdict (1 = passed) so a test can stop early. */
int check_true(int ok, const char *expr, const char *file, int line);
int check_str_eq(const char *got, const char *want, const char *expr, const char *file, int line);
int check_str_has(const char *got, const char *part, const char *expr, const char *file, int line);

#define CHECK(cond) check_true(!!(cond), #cond, __FILE__, __LINE__)
#define CHECK_STR_EQ(got, want) check_str_eq((got), (want), #got, __FILE__, __LINE__)
/* got is non-NULL and contains part */
#define CHECK_STR_HAS(got, part) check_str_has((got), (part), #got, __FILE__, __LINE__)

/* The test suites, one per source file under test; p is cleared after each. */
void test_proto(apr_pool_t *p);
void test_util(apr_pool_t *p);

#endif /* TLS_TEST_CHECK_H */
