/* CHECK: a failed condition is printed with its place and counted in
 * test_failures (which each test program defines); the test goes on, and
 * test_report tells the outcome at the end. */
#ifndef CLIPVK_TEST_CHECK_H
#define CLIPVK_TEST_CHECK_H

#include <stdio.h>

extern int test_failures;

#define CHECK(cond, ...)                                                        \
    do {                                                                        \
        if (!(cond)) {                                                          \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                \
            fprintf(stderr, __VA_ARGS__);                                       \
            fputc('\n', stderr);                                                \
            test_failures++;                                                    \
        }                                                                       \
    } while (0)

/* The end of a test: how many checks failed, or that all passed; the exit code. */
static inline int test_report(void)
{
    if (test_failures) {
        fprintf(stderr, "%d check(s) failed\n", test_failures);
        return 1;
    }
    printf("all checks passed\n");
    return 0;
}

#endif
