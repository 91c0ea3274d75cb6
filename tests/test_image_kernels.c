/*
 * The resize row kernels with SSE2 against their plain C versions, bit for
 * bit (the C versions are the ones written to match Pillow;
 * test_preprocess.py checks the whole pipeline against PIL), on random
 * filters with real Pillow-like weights. Also: a resize gives the same
 * bytes on 1, 2, 3 and 8 threads. Needs no Vulkan device. (JPEG decoding
 * is libjpeg-turbo's, as in PIL: tests/test_jpeg.py.)
 */
#include "image/resize.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;
#define CHECK(c, ...)                                                                                                  \
    do {                                                                                                               \
        if (!(c)) {                                                                                                    \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                                                       \
            fprintf(stderr, __VA_ARGS__);                                                                              \
            fprintf(stderr, "\n");                                                                                     \
            failures++;                                                                                                \
        }                                                                                                              \
    } while (0)

static uint32_t rng = 12345;
static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

static void fill(uint8_t *p, size_t n, int mode)
{
    for (size_t i = 0; i < n; i++)
        p[i] = mode == 0 ? (uint8_t)rnd() : mode == 1 ? (uint8_t)(rnd() & 1 ? 255 : 0) : (uint8_t)(128 + (int)(rnd() % 9) - 4);
}

#if defined(__SSE2__) && !defined(CLIPVK_IMAGE_NO_SIMD) /* only the SSE2 comparison uses it */
/* Pillow-like weights: n taps summing to about 2^22, some negative, and
 * now and then extreme ones (a single tap of 2^22, large lobes). */
/* A random filter of n taps summing to 1 << 22, as Pillow's are, with
 * negative lobes and, now and then, one tap alone or an outlier. Kept to
 * filters whose sums cannot leave int32 (255 * sum |k| + 1/2 < 2^31): the
 * bound every real Pillow filter is far inside (bicubic's sum |k| is below
 * 1.3 * 2^22), and past which the C kernel's int arithmetic would overflow. */
static void random_filter(int n, int32_t *k)
{
    const int64_t limit = ((1ll << 31) - (1 << 21)) / 255;
    int64_t abs_sum;
    do {
        int64_t sum = 0;
        for (int t = 0; t < n; t++) {
            k[t] = (int32_t)(rnd() % (2 * (1u << 22) / (unsigned)n + 1)) - (int32_t)((1u << 20) / (unsigned)n);
            sum += k[t];
        }
        k[n / 2] += (int32_t)((1 << 22) - sum);
        if (rnd() % 8 == 0) {
            memset(k, 0, (size_t)n * sizeof *k);
            k[rnd() % (unsigned)n] = 1 << 22;
        }
        if (rnd() % 8 == 0) k[rnd() % (unsigned)n] = (int32_t)(rnd() % (3u << 22)) - (1 << 22);
        abs_sum = 0;
        for (int t = 0; t < n; t++) abs_sum += k[t] < 0 ? -(int64_t)k[t] : k[t];
    } while (abs_sum > limit);
}
#endif

static void test_resize_kernels(void)
{
#if defined(__SSE2__) && !defined(CLIPVK_IMAGE_NO_SIMD)
    for (int trial = 0; trial < 300; trial++) {
        uint32_t sw = 1 + rnd() % 700, count = 1 + rnd() % 100;
        int ksize = 1 + (int)(rnd() % 60);
        int npairs = (ksize + 1) / 2;
        int *lo = malloc(count * sizeof *lo), *n = malloc(count * sizeof *n);
        int32_t *kk = calloc((size_t)count * ksize, sizeof *kk);
        /* 16-byte aligned (the SSE2 loads), without C11's aligned_alloc, which
         * msvcrt (mingw-w64) lacks */
        size_t kp_bytes = (size_t)count * npairs * 32;
        unsigned char *kp_mem = malloc(kp_bytes + 15);
        int16_t *kp = (int16_t *)(void *)(kp_mem + ((16 - (uintptr_t)kp_mem % 16) % 16));
        for (uint32_t i = 0; i < count; i++) {
            int nn = 1 + (int)(rnd() % (unsigned)ksize);
            if ((uint32_t)nn > sw) nn = (int)sw;
            n[i] = nn;
            lo[i] = (int)(rnd() % (sw - (uint32_t)nn + 1));
            if (rnd() % 4 == 0) lo[i] = (int)sw - nn; /* at the right edge */
            random_filter(nn, kk + (size_t)i * ksize);
            clipvk_resize_split_pairs(kk + (size_t)i * ksize, nn, kp + (size_t)i * npairs * 16, npairs);
        }
        /* rows exactly sw pixels long, at the end of their allocation */
        uint8_t *r0 = malloc((size_t)sw * 3), *r1 = malloc((size_t)sw * 3);
        fill(r0, (size_t)sw * 3, trial % 3);
        fill(r1, (size_t)sw * 3, (trial + 1) % 3);
        uint8_t *c0 = malloc(count * 3), *c1 = malloc(count * 3), *s0 = malloc(count * 3), *s1 = malloc(count * 3);
        clipvk_resize_row_h_c(r0, lo, n, kk, ksize, count, c0);
        clipvk_resize_row_h_c(r1, lo, n, kk, ksize, count, c1);
        clipvk_resize_row_h_sse2(r0, r1, sw, lo, n, kk, ksize, kp, npairs, count, s0, s1);
        CHECK(!memcmp(c0, s0, count * 3) && !memcmp(c1, s1, count * 3), "horizontal pass differs (trial %d)", trial);
        clipvk_resize_row_h_sse2(r1, NULL, sw, lo, n, kk, ksize, kp, npairs, count, s1, NULL);
        CHECK(!memcmp(c1, s1, count * 3), "horizontal pass (one row) differs (trial %d)", trial);
        /* vertical: output i reads n[i] rows of a count-row... use the rows of a small image */
        size_t m = 1 + rnd() % 200, rows = (size_t)ksize;
        uint8_t *img = malloc(rows * m), *v1 = malloc(m), *v2 = malloc(m);
        int32_t *acc = malloc(m * sizeof *acc);
        fill(img, rows * m, trial % 3);
        for (uint32_t i = 0; i < count && i < 8; i++) {
            clipvk_resize_row_v_c(img, m, n[i], kk + (size_t)i * ksize, m, v1, acc);
            clipvk_resize_row_v_sse2(img, m, n[i], kk + (size_t)i * ksize, kp + (size_t)i * npairs * 16, m, v2);
            CHECK(!memcmp(v1, v2, m), "vertical pass differs (trial %d, width %zu, %d taps)", trial, m, n[i]);
        }
        free(img);
        free(v1);
        free(v2);
        free(acc);
        free(r0);
        free(r1);
        free(c0);
        free(c1);
        free(s0);
        free(s1);
        free(lo);
        free(n);
        free(kk);
        free(kp_mem);
    }
#else
    printf("no SSE2 resize kernels in this build: nothing to compare\n");
#endif
}

static void test_resize_threads(void)
{
    uint32_t w = 1500, h = 1100;
    uint8_t *src = malloc((size_t)w * h * 3);
    fill(src, (size_t)w * h * 3, 0);
    for (size_t i = 0; i < (size_t)w * h * 3; i += 7) src[i] = (uint8_t)(i / 4099); /* some smooth structure too */
    struct { uint32_t ow, oh, x0, y0, ww, wh; } cases[] = {{305, 224, 40, 0, 224, 224}, {224, 224, 0, 0, 224, 224},
                                                         {3000, 2200, 100, 50, 700, 900}, {1500, 900, 0, 0, 1500, 900}};
    clipvk_resample filters[] = {CLIPVK_RESAMPLE_BICUBIC, CLIPVK_RESAMPLE_BILINEAR};
    for (size_t k = 0; k < 2 * sizeof cases / sizeof cases[0]; k++) {
        clipvk_resample f = filters[k % 2];
        uint32_t ow = cases[k / 2].ow, oh = cases[k / 2].oh, x0 = cases[k / 2].x0, y0 = cases[k / 2].y0;
        uint32_t ww = cases[k / 2].ww, wh = cases[k / 2].wh;
        size_t bytes = (size_t)ww * wh * 3;
        uint8_t *ref = malloc(bytes), *out = malloc(bytes);
        clipvk_error e;
        CHECK(!clipvk_resize(src, w, h, (size_t)w * 3, f, ow, oh, x0, y0, ww, wh, ref, (size_t)ww * 3, 1, &e),
              "resize failed");
        unsigned threads[] = {2, 3, 8};
        for (int t = 0; t < 3; t++) {
            memset(out, 0, bytes);
            CHECK(!clipvk_resize(src, w, h, (size_t)w * 3, f, ow, oh, x0, y0, ww, wh, out, (size_t)ww * 3, threads[t], &e),
                  "resize failed");
            CHECK(!memcmp(ref, out, bytes), "resize (filter %d) to %ux%u on %u threads differs from 1 thread", (int)f,
                  ow, oh, threads[t]);
        }
        free(ref);
        free(out);
    }
    free(src);
}

int main(void)
{
    test_resize_kernels();
    test_resize_threads();
    if (failures) {
        fprintf(stderr, "%d failures\n", failures);
        return 1;
    }
    printf("image kernels: resize is the same on 1-8 threads%s\n",
#if defined(__SSE2__) && !defined(CLIPVK_IMAGE_NO_SIMD)
           "; SSE2 and C kernels agree"
#else
           ""
#endif
    );
    return 0;
}
