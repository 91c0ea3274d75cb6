/* CHECK: a failed condition is printed with its place and counted in
 * test_failures (which each test program defines); the test goes on. */
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

#endif
