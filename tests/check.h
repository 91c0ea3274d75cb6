/* CHECK: a failed condition is printed with its place and counted in
 * test_failures (which each test program defines); the test goes on, and
 * test_report tells the outcome at the end. */
#ifndef CLIPVK_TEST_CHECK_H
#define CLIPVK_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern int test_failures;

#ifdef CLIPVK_TEST_DATA_DIR
/* The test data folder (golden set, CLIP vocabulary): $CLIPVK_TEST_DATA_DIR,
 * which ctest sets from the CMake cache variable of that name, else that
 * variable's value at build time (tests/CMakeLists.txt defines it), so a
 * test run by hand finds it too. */
static inline const char *test_data_dir(void)
{
    const char *d = getenv("CLIPVK_TEST_DATA_DIR");
    return d && *d ? d : CLIPVK_TEST_DATA_DIR;
}

/* Whether the tests turn the Vulkan validation layer on: yes, unless
 * CLIPVK_TEST_VALIDATION=0 (CMake's CLIPVK_TEST_VALIDATION=OFF), for a
 * Vulkan path without the layer: the Windows build under wine, whose
 * winevulkan offers no layers of the host. Said once on stdout when off. */
static inline int test_validation(void)
{
    const char *v = getenv("CLIPVK_TEST_VALIDATION");
    static int said;
    if (v && !strcmp(v, "0")) {
        if (!said++) printf("validation layer off (CLIPVK_TEST_VALIDATION=0)\n");
        return 0;
    }
    return 1;
}

/* Exits 77 (ctest: skipped) saying which file of the test data is missing. */
#define TEST_DATA_SKIP(path)                                                                          \
    do {                                                                                              \
        printf("SKIP: %s not found (test data folder: %s; CMake's CLIPVK_TEST_DATA_DIR)\n", (path),    \
               test_data_dir());                                                                      \
        exit(77);                                                                                     \
    } while (0)
#endif

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
