/* CHECK: a failed condition is printed with its place and counted in
 * test_failures (which each test program defines); the test goes on, and
 * test_report tells the outcome at the end. */
#ifndef CLIPVK_TEST_CHECK_H
#define CLIPVK_TEST_CHECK_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* A whole file of the test data, NUL-terminated past *size (plain stdio, so
 * tests of the public API alone can use it); a missing file skips the test. */
static inline char *test_read_data(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f) TEST_DATA_SKIP(path);
    char *p = NULL;
    long n = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    if (n >= 0 && fseek(f, 0, SEEK_SET) == 0 && (p = malloc((size_t)n + 1)) && fread(p, 1, (size_t)n, f) == (size_t)n) {
        p[n] = '\0';
        *size = (size_t)n;
    } else {
        free(p);
        p = NULL;
    }
    fclose(f);
    if (!p) {
        fprintf(stderr, "FAIL: cannot read %s\n", path);
        exit(1);
    }
    return p;
}

/* int32 [*rows, cols] from a little-endian '<i4' C-order .npy (version 1) of
 * the test data, or NULL (a failed check) when it is not one. */
static inline int32_t *test_read_npy_i32(const char *path, uint32_t cols, int *rows)
{
    size_t size;
    char *d = test_read_data(path, &size), shape[32];
    unsigned hl = size > 10 ? (unsigned char)d[8] | (unsigned char)d[9] << 8 : 0;
    int32_t *out = NULL;
    snprintf(shape, sizeof shape, ", %u)", cols);
    *rows = 0;
    if (size > 10 + hl && !memcmp(d, "\x93NUMPY\x01", 7) && strstr(d + 10, "'<i4'") && strstr(d + 10, shape) &&
        (out = malloc(size - 10 - hl + 1))) {
        *rows = (int)((size - 10 - hl) / (cols * 4));
        memcpy(out, d + 10 + hl, size - 10 - hl);
    }
    CHECK(out, "%s: not an int32 [N, %u] .npy", path, cols);
    free(d);
    return out;
}
#endif


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
