/*
 * Bicubic resampling bit-exact to Pillow 9.4's ImagingResample for 8-bit
 * images. The arithmetic below mirrors libImaging/Resample.c expression by
 * expression (the order of double operations decides the last bit of a
 * coefficient, and so sometimes a pixel); the loops are ours. Integer sums
 * are exact, so their order is free to choose for speed.
 */
#include "image/resize.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Pillow: 8 bits of pixel, 2 spare bits for the sum's overshoot and sign. */
#define PRECISION_BITS (32 - 8 - 2)

/* Keys' cubic convolution with a = -0.5, as Pillow's bicubic_filter. */
static double bicubic(double x)
{
    const double a = -0.5;
    if (x < 0.0) x = -x;
    if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
    if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
    return 0.0;
}

/* One dimension's filter for the outputs [first, first + count) of an
 * in_size -> out_size resize: for each output, the first input it reads
 * (lo), how many (n), and ksize integer coefficients. */
typedef struct coeffs {
    int ksize;
    int *lo, *n;
    int32_t *k;
} coeffs;

static void coeffs_free(coeffs *c)
{
    free(c->lo);
    free(c->n);
    free(c->k);
}

/* Pillow's precompute_coeffs + normalize_coeffs_8bpc with box = (0, in). */
static int coeffs_init(coeffs *c, int in_size, int out_size, int first, int count)
{
    /* Pillow passes the box as floats and subtracts them as floats. */
    float in0 = 0.0f, in1 = (float)in_size;
    double scale = (double)(in1 - in0) / out_size, filterscale = scale;
    if (filterscale < 1.0) filterscale = 1.0;
    double support = 2.0 * filterscale;
    int ksize = (int)ceil(support) * 2 + 1;
    c->ksize = ksize;
    c->lo = malloc((size_t)count * sizeof *c->lo);
    c->n = malloc((size_t)count * sizeof *c->n);
    c->k = calloc((size_t)count * (size_t)ksize, sizeof *c->k);
    double *w = malloc((size_t)ksize * sizeof *w);
    if (!c->lo || !c->n || !c->k || !w) {
        free(w);
        coeffs_free(c);
        return 0;
    }
    for (int i = 0; i < count; i++) {
        int xx = first + i;
        double center = in0 + (xx + 0.5) * scale;
        double ww = 0.0, ss = 1.0 / filterscale;
        int xmin = (int)(center - support + 0.5); /* truncation, as Pillow */
        if (xmin < 0) xmin = 0;
        int xmax = (int)(center + support + 0.5);
        if (xmax > in_size) xmax = in_size;
        xmax -= xmin;
        for (int x = 0; x < xmax; x++) {
            double v = bicubic((x + xmin - center + 0.5) * ss);
            w[x] = v;
            ww += v;
        }
        int32_t *k = c->k + (size_t)i * ksize;
        for (int x = 0; x < xmax; x++) {
            double v = ww != 0.0 ? w[x] / ww : w[x];
            k[x] = v < 0 ? (int)(-0.5 + v * (1 << PRECISION_BITS)) : (int)(0.5 + v * (1 << PRECISION_BITS));
        }
        c->lo[i] = xmin;
        c->n[i] = xmax;
    }
    free(w);
    return 1;
}

static inline uint8_t clip8(int32_t v)
{
    if (v >= (1 << PRECISION_BITS << 8)) return 255;
    if (v <= 0) return 0;
    return (uint8_t)(v >> PRECISION_BITS);
}

/* Horizontal pass over `rows` rows: out[x] for the window's columns. */
static void pass_horizontal(const uint8_t *src, size_t sstride, uint32_t rows, const coeffs *c, uint32_t count,
                            uint8_t *dst, size_t dstride)
{
    const int32_t half = 1 << (PRECISION_BITS - 1);
    for (uint32_t y = 0; y < rows; y++) {
        const uint8_t *in = src + y * sstride;
        uint8_t *out = dst + y * dstride;
        for (uint32_t i = 0; i < count; i++) {
            const int32_t *k = c->k + (size_t)i * c->ksize;
            const uint8_t *p = in + (size_t)c->lo[i] * 3;
            int32_t s0 = half, s1 = half, s2 = half;
            for (int x = 0, n = c->n[i]; x < n; x++, p += 3) {
                s0 += p[0] * k[x];
                s1 += p[1] * k[x];
                s2 += p[2] * k[x];
            }
            out[i * 3 + 0] = clip8(s0);
            out[i * 3 + 1] = clip8(s1);
            out[i * 3 + 2] = clip8(s2);
        }
    }
}

/* Vertical pass: output row i reads rows lo[i] - row0 ... of src. Summing
 * tap by tap over a whole row keeps the inner loop contiguous. */
static void pass_vertical(const uint8_t *src, size_t sstride, int row0, const coeffs *c, uint32_t count,
                          uint32_t width, uint8_t *dst, size_t dstride, int32_t *acc)
{
    const int32_t half = 1 << (PRECISION_BITS - 1);
    size_t m = (size_t)width * 3;
    for (uint32_t i = 0; i < count; i++) {
        const int32_t *k = c->k + (size_t)i * c->ksize;
        for (size_t j = 0; j < m; j++) acc[j] = half;
        for (int t = 0; t < c->n[i]; t++) {
            const uint8_t *row = src + (size_t)(c->lo[i] - row0 + t) * sstride;
            int32_t kt = k[t];
            for (size_t j = 0; j < m; j++) acc[j] += row[j] * kt;
        }
        uint8_t *out = dst + i * dstride;
        for (size_t j = 0; j < m; j++) out[j] = clip8(acc[j]);
    }
}

clipvk_status clipvk_resize_bicubic(const uint8_t *src, uint32_t sw, uint32_t sh, size_t sstride, uint32_t ow,
                                    uint32_t oh, uint32_t x0, uint32_t y0, uint32_t win_w, uint32_t win_h,
                                    uint8_t *dst, size_t dstride, clipvk_error *err)
{
    if (!sw || !sh || !ow || !oh || sw > INT32_MAX / 4 || sh > INT32_MAX / 4 || ow > INT32_MAX / 4 ||
        oh > INT32_MAX / 4 || x0 > ow || win_w > ow - x0 || y0 > oh || win_h > oh - y0)
        return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT, "resize: bad size %ux%u -> %ux%u (window %ux%u at %u,%u)",
                           sw, sh, ow, oh, win_w, win_h, x0, y0);
    if (!win_w || !win_h) return CLIPVK_OK;
    /* Pillow skips a pass whose dimension does not change (the box is the
     * whole image here); the pass would be the identity anyway. */
    int need_h = ow != sw, need_v = oh != sh;
    coeffs ch = {0}, cv = {0};
    uint8_t *tmp = NULL;
    int32_t *acc = NULL;
    clipvk_status s = CLIPVK_OK;
    if ((need_h && !coeffs_init(&ch, (int)sw, (int)ow, (int)x0, (int)win_w)) ||
        (need_v && !coeffs_init(&cv, (int)sh, (int)oh, (int)y0, (int)win_h))) {
        s = clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "resize: out of host memory");
        goto done;
    }
    /* The source rows the vertical pass reads (all of the window's rows if
     * there is no vertical pass). */
    int row0 = need_v ? cv.lo[0] : (int)y0;
    int row1 = need_v ? cv.lo[win_h - 1] + cv.n[win_h - 1] : (int)(y0 + win_h);
    for (uint32_t i = 0; need_v && i < win_h; i++) { /* bounds are monotonic, but do not rely on it */
        if (cv.lo[i] < row0) row0 = cv.lo[i];
        if (cv.lo[i] + cv.n[i] > row1) row1 = cv.lo[i] + cv.n[i];
    }
    const uint8_t *mid = src + (size_t)row0 * sstride + (need_h ? 0 : (size_t)x0 * 3);
    size_t mid_stride = sstride;
    if (need_h) {
        mid_stride = (size_t)win_w * 3;
        tmp = malloc(mid_stride * (size_t)(row1 - row0));
        if (!tmp) {
            s = clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "resize: out of host memory");
            goto done;
        }
        pass_horizontal(mid, sstride, (uint32_t)(row1 - row0), &ch, win_w, tmp, mid_stride);
        mid = tmp;
    }
    if (need_v) {
        acc = malloc((size_t)win_w * 3 * sizeof *acc);
        if (!acc) {
            s = clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "resize: out of host memory");
            goto done;
        }
        pass_vertical(mid, mid_stride, row0, &cv, win_h, win_w, dst, dstride, acc);
    } else {
        for (uint32_t y = 0; y < win_h; y++) memcpy(dst + y * dstride, mid + y * mid_stride, (size_t)win_w * 3);
    }
done:
    free(acc);
    free(tmp);
    coeffs_free(&ch);
    coeffs_free(&cv);
    return s;
}
