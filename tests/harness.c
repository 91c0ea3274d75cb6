#include "harness.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int test_failures;
clipvk_error test_err;
static uint64_t rng = 0x9e3779b97f4a7c15ull;

clipvk_runtime *test_runtime(void)
{
    /* A long fence timeout: lavapipe compiles a pipeline when it is first
     * dispatched, inside the submission clipvk waits for, and Mesa 25's
     * compiles are slow (LLVM's coroutine passes; one forced attention tiling
     * took over 60 s, the runtime's default, on a busy 2-core machine). A
     * hang is still caught, by ctest's timeout. */
    clipvk_runtime_options opt = {.device = {.validation = test_validation(), .fence_timeout_ns = 600000000000ull}, .cache_dir = ""};
    clipvk_runtime *rt;
    clipvk_status s = clipvk_runtime_create(&opt, &rt, &test_err);
    if (s) {
        fprintf(stderr, "FAIL: cannot create the runtime: %s\n", test_err.msg);
        exit(1);
    }
    printf("device: %s\n", rt->dev->caps.name);
    return rt;
}

int test_finish(clipvk_runtime *rt)
{
    unsigned msgs = clipvk_runtime_validation_messages(rt);
    clipvk_runtime_destroy(rt);
    if (msgs) {
        fprintf(stderr, "FAIL: %u validation message(s)\n", msgs);
        test_failures++;
    }
    return test_report();
}

void test_seed(uint64_t s) { rng = s ? s : 1; }

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

float test_uniform(float lo, float hi) { return lo + (hi - lo) * (float)((next() >> 40) / 16777216.0); }

void test_fill(float *x, size_t n, float lo, float hi)
{
    for (size_t i = 0; i < n; i++) x[i] = test_uniform(lo, hi);
}

clipvk_buffer test_buffer(clipvk_runtime *rt, const float *x, size_t n)
{
    clipvk_buffer b;
    OK(clipvk_alloc(rt->tensors, n * 4, &b, &test_err));
    float *tmp = NULL;
    if (!x) {
        tmp = malloc(n * 4 + 4);
        uint32_t p = POISON_BITS;
        for (size_t i = 0; i < n; i++) memcpy(&tmp[i], &p, 4);
        x = tmp;
    }
    OK(clipvk_upload(rt, &b, 0, x, n * 4, &test_err));
    free(tmp);
    return b;
}

void test_read(clipvk_runtime *rt, const clipvk_buffer *b, float *x, size_t n)
{
    OK(clipvk_download(rt, b, 0, x, n * 4, &test_err));
}

size_t test_compare(const char *what, const float *got, const float *want, size_t n, double atol, double rtol)
{
    size_t bad = 0, worst = 0;
    double worst_excess = -1;
    for (size_t i = 0; i < n; i++) {
        uint32_t bits;
        memcpy(&bits, &got[i], 4);
        double d = fabs((double)got[i] - (double)want[i]);
        double tol = atol + rtol * fabs((double)want[i]);
        int fail = bits == POISON_BITS || !(d <= tol);
        if (fail) bad++;
        double excess = bits == POISON_BITS || isnan(d) ? INFINITY : d - tol;
        if (excess > worst_excess) {
            worst_excess = excess;
            worst = i;
        }
    }
    if (bad) {
        uint32_t bits;
        memcpy(&bits, &got[worst], 4);
        fprintf(stderr, "FAIL %s: %zu of %zu elements off; worst [%zu] got %.9g%s want %.9g\n", what, bad, n, worst,
                got[worst], bits == POISON_BITS ? " (never written)" : "", want[worst]);
        test_failures++;
    }
    return bad;
}

