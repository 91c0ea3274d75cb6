/*
 * Bicubic and bilinear resampling bit-exact to Pillow 9.4's ImagingResample
 * for 8-bit images, and its nearest-neighbour resize. The arithmetic below
 * mirrors libImaging/Resample.c (and Geometry.c for nearest) expression by
 * expression (the order of double operations decides the last bit of a
 * coefficient, and so sometimes a pixel); the loops are ours. Integer sums
 * are exact, so their order is free to choose for speed.
 */
#include "image/resize.h"
#include "image/parallel.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__) && !defined(CLIPVK_IMAGE_NO_SIMD)
#include <emmintrin.h>
#define RS_SSE2 1
#endif

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

/* The triangle, as Pillow's bilinear_filter. */
static double bilinear(double x)
{
    if (x < 0.0) x = -x;
    if (x < 1.0) return 1.0 - x;
    return 0.0;
}

/* A convolution filter as Pillow's struct filter: the kernel and its
 * support at scale 1 (widened by the downscale factor, which is what makes
 * Pillow's downscaling antialiased). Both filters share everything else. */
typedef struct rs_filter {
    double (*fn)(double);
    double support;
} rs_filter;

static const rs_filter FILTER_BILINEAR = {bilinear, 1.0}, FILTER_BICUBIC = {bicubic, 2.0};

/* One dimension's filter for the outputs [first, first + count) of an
 * in_size -> out_size resize: for each output, the first input it reads
 * (lo), how many (n), and ksize integer coefficients. */
typedef struct coeffs {
    int ksize;
    int *lo, *n;
    int32_t *k;
    /* For SSE2 (resize_kernels): each coefficient split as kh * 65536 + kl
     * with both halves signed 16-bit, so that _mm_madd_epi16 on 8-bit
     * samples computes the exact 32-bit products in two parts. npairs
     * pairs of taps per output; kp[(i * npairs + q) * 2] is 8 int16 of
     * (kl[2q], kl[2q+1]) repeated, [.. + 1] the same of kh. */
    int npairs;
    int16_t *kp;
} coeffs;

static void coeffs_free(coeffs *c)
{
    free(c->lo);
    free(c->n);
    free(c->k);
    free(c->kp);
}

void clipvk_resize_split_pairs(const int32_t *k, int n, int16_t *kp, int npairs)
{
    for (int q = 0; q < npairs; q++) {
        int16_t *v = kp + (size_t)q * 16;
        for (int j = 0; j < 2; j++) {
            int t = 2 * q + j;
            int32_t kk = t < n ? k[t] : 0;
            int32_t kh = (int32_t)(((int64_t)kk + 32768) >> 16), kl = kk - kh * 65536;
            for (int r = 0; r < 4; r++) {
                v[2 * r + j] = (int16_t)kl;
                v[8 + 2 * r + j] = (int16_t)kh;
            }
        }
    }
}

/* Pillow's precompute_coeffs + normalize_coeffs_8bpc with box = (0, in). */
static int coeffs_init(coeffs *c, const rs_filter *f, int in_size, int out_size, int first, int count)
{
    /* Pillow passes the box as floats and subtracts them as floats. */
    float in0 = 0.0f, in1 = (float)in_size;
    double scale = (double)(in1 - in0) / out_size, filterscale = scale;
    if (filterscale < 1.0) filterscale = 1.0;
    double support = f->support * filterscale;
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
            double v = f->fn((x + xmin - center + 0.5) * ss);
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
    c->npairs = (ksize + 1) / 2;
    c->kp = malloc((size_t)count * (size_t)c->npairs * 2 * 8 * sizeof *c->kp);
    if (!c->kp) {
        coeffs_free(c);
        return 0;
    }
    for (int i = 0; i < count; i++)
        clipvk_resize_split_pairs(c->k + (size_t)i * ksize, c->n[i], c->kp + (size_t)i * c->npairs * 16, c->npairs);
    return 1;
}

static inline uint8_t clip8(int32_t v)
{
    if (v >= (1 << PRECISION_BITS << 8)) return 255;
    if (v <= 0) return 0;
    return (uint8_t)(v >> PRECISION_BITS);
}

/* Horizontal pass, one row: out[x] for the window's columns. */
void clipvk_resize_row_h_c(const uint8_t *in, const int *lo, const int *n, const int32_t *kk, int ksize, uint32_t count,
                           uint8_t *out)
{
    const int32_t half = 1 << (PRECISION_BITS - 1);
    for (uint32_t i = 0; i < count; i++) {
        const int32_t *k = kk + (size_t)i * ksize;
        const uint8_t *p = in + (size_t)lo[i] * 3;
        int32_t s0 = half, s1 = half, s2 = half;
        for (int x = 0, nn = n[i]; x < nn; x++, p += 3) {
            s0 += p[0] * k[x];
            s1 += p[1] * k[x];
            s2 += p[2] * k[x];
        }
        out[i * 3 + 0] = clip8(s0);
        out[i * 3 + 1] = clip8(s1);
        out[i * 3 + 2] = clip8(s2);
    }
}

/* Vertical pass, one output row from n rows `sstride` apart, weights k. */
void clipvk_resize_row_v_c(const uint8_t *src, size_t sstride, int n, const int32_t *k, size_t m, uint8_t *out,
                           int32_t *acc)
{
    const int32_t half = 1 << (PRECISION_BITS - 1);
    for (size_t j = 0; j < m; j++) acc[j] = half;
    for (int t = 0; t < n; t++) { /* tap by tap over the whole row: contiguous inner loop */
        const uint8_t *row = src + (size_t)t * sstride;
        int32_t kt = k[t];
        for (size_t j = 0; j < m; j++) acc[j] += row[j] * kt;
    }
    for (size_t j = 0; j < m; j++) out[j] = clip8(acc[j]);
}

#ifdef RS_SSE2
/* Sums lo + (hi << 16) + half, clipped as clip8, in each 32-bit lane. */
static inline __m128i rs_finish(__m128i lo, __m128i hi)
{
    __m128i v = _mm_add_epi32(_mm_add_epi32(lo, _mm_slli_epi32(hi, 16)), _mm_set1_epi32(1 << (PRECISION_BITS - 1)));
    v = _mm_srai_epi32(v, PRECISION_BITS); /* negative stays negative, >= 2^30 becomes >= 256: */
    v = _mm_packs_epi32(v, v);             /* the saturating packs clip them to 0 and 255 */
    return _mm_packus_epi16(v, v);
}

/* The horizontal pass on 1 or 2 rows (in1 may be NULL): taps in pairs, a
 * pair of pixels (6 bytes, read as 8) as 16-bit (R0 R1 G0 G1 B0 B1 . .)
 * against (k0 k1) in both 16-bit halves of the coefficients. The 8-byte
 * read of a pair must stay inside the row; the taps beyond that point are
 * summed in plain C, modulo 2^32 like the rest (the true sum fits). */
void clipvk_resize_row_h_sse2(const uint8_t *in0, const uint8_t *in1, uint32_t sw, const int *lo, const int *n,
                              const int32_t *kk, int ksize, const int16_t *kp, int npairs, uint32_t count,
                              uint8_t *out0, uint8_t *out1)
{
    const __m128i zero = _mm_setzero_si128();
    for (uint32_t i = 0; i < count; i++) {
        int l = lo[i], nn = n[i];
        /* pairs whose 8-byte read ends inside the row: 3 (l + 2q) + 8 <= 3 sw */
        int pairs = (nn + 1) / 2, safe = ((int)sw - 3 - l) / 2 + 1;
        if ((int)sw - 3 - l < 0) safe = 0;
        if (pairs > safe) pairs = safe;
        const __m128i *kv = (const __m128i *)(kp + (size_t)i * npairs * 16);
        const uint8_t *p0 = in0 + (size_t)l * 3, *p1 = in1 ? in1 + (size_t)l * 3 : p0;
        __m128i a0 = zero, b0 = zero, a1 = zero, b1 = zero;
        for (int q = 0; q < pairs; q++) {
            __m128i kl = _mm_load_si128(kv + 2 * q), kh = _mm_load_si128(kv + 2 * q + 1);
            __m128i u = _mm_unpacklo_epi8(_mm_loadl_epi64((const __m128i *)(p0 + 6 * q)), zero);
            u = _mm_unpacklo_epi16(u, _mm_srli_si128(u, 6));
            a0 = _mm_add_epi32(a0, _mm_madd_epi16(u, kl));
            b0 = _mm_add_epi32(b0, _mm_madd_epi16(u, kh));
            __m128i v = _mm_unpacklo_epi8(_mm_loadl_epi64((const __m128i *)(p1 + 6 * q)), zero);
            v = _mm_unpacklo_epi16(v, _mm_srli_si128(v, 6));
            a1 = _mm_add_epi32(a1, _mm_madd_epi16(v, kl));
            b1 = _mm_add_epi32(b1, _mm_madd_epi16(v, kh));
        }
        int t0 = 2 * pairs;
        if (t0 < nn) { /* the rest in C, into the low halves */
            const int32_t *k = kk + (size_t)i * ksize;
            uint32_t s[2][3] = {{0}};
            for (int r = 0; r < (in1 ? 2 : 1); r++) {
                const uint8_t *p = (r ? p1 : p0) + 3 * t0;
                for (int x = t0; x < nn; x++, p += 3)
                    for (int c = 0; c < 3; c++) s[r][c] += (uint32_t)p[c] * (uint32_t)k[x];
            }
            a0 = _mm_add_epi32(a0, _mm_set_epi32(0, (int)s[0][2], (int)s[0][1], (int)s[0][0]));
            a1 = _mm_add_epi32(a1, _mm_set_epi32(0, (int)s[1][2], (int)s[1][1], (int)s[1][0]));
        }
        uint32_t r0 = (uint32_t)_mm_cvtsi128_si32(rs_finish(a0, b0));
        out0[3 * i] = (uint8_t)r0;
        out0[3 * i + 1] = (uint8_t)(r0 >> 8);
        out0[3 * i + 2] = (uint8_t)(r0 >> 16);
        if (in1) {
            uint32_t r1 = (uint32_t)_mm_cvtsi128_si32(rs_finish(a1, b1));
            out1[3 * i] = (uint8_t)r1;
            out1[3 * i + 1] = (uint8_t)(r1 >> 8);
            out1[3 * i + 2] = (uint8_t)(r1 >> 16);
        }
    }
}

/* The vertical pass: 16 samples at a time, two rows (taps) per madd as
 * in the horizontal pass; kp as there (this output row's pairs). */
void clipvk_resize_row_v_sse2(const uint8_t *src, size_t sstride, int n, const int32_t *k, const int16_t *kp,
                              size_t m, uint8_t *out)
{
    const __m128i zero = _mm_setzero_si128();
    size_t j = 0;
    for (; j + 16 <= m; j += 16) {
        __m128i l[4] = {zero, zero, zero, zero}, h[4] = {zero, zero, zero, zero};
        for (int t = 0; t < n; t += 2) {
            const __m128i *kv = (const __m128i *)(kp + (size_t)(t / 2) * 16);
            __m128i kl = _mm_load_si128(kv), kh = _mm_load_si128(kv + 1);
            __m128i a = _mm_loadu_si128((const __m128i *)(src + (size_t)t * sstride + j));
            /* an odd last tap pairs with itself at weight 0 */
            __m128i b = t + 1 < n ? _mm_loadu_si128((const __m128i *)(src + (size_t)(t + 1) * sstride + j)) : a;
            __m128i a0 = _mm_unpacklo_epi8(a, zero), a1 = _mm_unpackhi_epi8(a, zero);
            __m128i b0 = _mm_unpacklo_epi8(b, zero), b1 = _mm_unpackhi_epi8(b, zero);
            __m128i p[4] = {_mm_unpacklo_epi16(a0, b0), _mm_unpackhi_epi16(a0, b0), _mm_unpacklo_epi16(a1, b1),
                            _mm_unpackhi_epi16(a1, b1)};
            for (int e = 0; e < 4; e++) {
                l[e] = _mm_add_epi32(l[e], _mm_madd_epi16(p[e], kl));
                h[e] = _mm_add_epi32(h[e], _mm_madd_epi16(p[e], kh));
            }
        }
        __m128i half = _mm_set1_epi32(1 << (PRECISION_BITS - 1)), v[4];
        for (int e = 0; e < 4; e++)
            v[e] = _mm_srai_epi32(_mm_add_epi32(_mm_add_epi32(l[e], _mm_slli_epi32(h[e], 16)), half), PRECISION_BITS);
        __m128i w = _mm_packus_epi16(_mm_packs_epi32(v[0], v[1]), _mm_packs_epi32(v[2], v[3]));
        _mm_storeu_si128((__m128i *)(out + j), w);
    }
    const int32_t half = 1 << (PRECISION_BITS - 1);
    for (; j < m; j++) {
        uint32_t s = (uint32_t)half;
        for (int t = 0; t < n; t++) s += (uint32_t)src[(size_t)t * sstride + j] * (uint32_t)k[t];
        out[j] = clip8((int32_t)s);
    }
}
#endif

/* The passes, split into bands of rows over the threads. */
typedef struct rs_job {
    const uint8_t *src;
    size_t sstride;
    uint32_t sw, rows;
    const coeffs *c;
    uint32_t count, width;
    uint8_t *dst;
    size_t dstride;
    int row0;
    int32_t *acc; /* width * 3 per thread */
} rs_job;

static void rs_horizontal(void *arg, unsigned t, unsigned nt)
{
    const rs_job *j = arg;
    uint32_t y0 = (uint32_t)((uint64_t)j->rows * t / nt), y1 = (uint32_t)((uint64_t)j->rows * (t + 1) / nt);
#ifdef RS_SSE2
    for (uint32_t y = y0; y < y1; y += 2) {
        int two = y + 1 < y1;
        clipvk_resize_row_h_sse2(j->src + y * j->sstride, two ? j->src + (y + 1) * j->sstride : NULL, j->sw, j->c->lo,
                                 j->c->n, j->c->k, j->c->ksize, j->c->kp, j->c->npairs, j->count, j->dst + y * j->dstride,
                                 two ? j->dst + (y + 1) * j->dstride : NULL);
    }
#else
    for (uint32_t y = y0; y < y1; y++)
        clipvk_resize_row_h_c(j->src + y * j->sstride, j->c->lo, j->c->n, j->c->k, j->c->ksize, j->count,
                              j->dst + y * j->dstride);
#endif
}

static void rs_vertical(void *arg, unsigned t, unsigned nt)
{
    const rs_job *j = arg;
    uint32_t i0 = (uint32_t)((uint64_t)j->count * t / nt), i1 = (uint32_t)((uint64_t)j->count * (t + 1) / nt);
    size_t m = (size_t)j->width * 3;
    for (uint32_t i = i0; i < i1; i++) {
        const uint8_t *rows = j->src + (size_t)(j->c->lo[i] - j->row0) * j->sstride;
#ifdef RS_SSE2
        (void)m;
        clipvk_resize_row_v_sse2(rows, j->sstride, j->c->n[i], j->c->k + (size_t)i * j->c->ksize,
                                 j->c->kp + (size_t)i * j->c->npairs * 16, m, j->dst + i * j->dstride);
#else
        clipvk_resize_row_v_c(rows, j->sstride, j->c->n[i], j->c->k + (size_t)i * j->c->ksize, m,
                              j->dst + i * j->dstride, j->acc + m * t);
#endif
    }
}

/* Pillow's NEAREST is no convolution: Image.resize runs it as an affine
 * transform (_imaging.c _resize -> ImagingScaleAffine), whose source
 * coordinate starts at scale / 2 and steps by adding the scale in double,
 * truncated. The sums are repeated here from 0 so that a window gets the
 * same coordinates as the full result (and at scale 1 they are the
 * identity, as Pillow's copy of an unresized image). A coordinate past the
 * image (not seen for a whole-image box, but Pillow checks) stays black. */
static clipvk_status resize_nearest(const uint8_t *src, uint32_t sw, uint32_t sh, size_t sstride, uint32_t ow,
                                    uint32_t oh, uint32_t x0, uint32_t y0, uint32_t win_w, uint32_t win_h,
                                    uint8_t *dst, size_t dstride, clipvk_error *err)
{
    int *xin = malloc((size_t)win_w * sizeof *xin);
    if (!xin) return clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "resize: out of host memory");
    /* Pillow: a[0] = (double)(box[2] - box[0]) / xsize with a float box */
    double ax = (double)((float)sw - 0.0f) / ow, ay = (double)((float)sh - 0.0f) / oh;
    double xo = 0.0 + ax * 0.5, yo = 0.0 + ay * 0.5;
    for (uint32_t x = 0; x < x0 + win_w; x++, xo += ax)
        if (x >= x0) xin[x - x0] = xo < 0.0 || (int64_t)xo >= sw ? -1 : (int)xo;
    for (uint32_t y = 0; y < y0 + win_h; y++, yo += ay) {
        if (y < y0) continue;
        uint8_t *out = dst + (size_t)(y - y0) * dstride;
        int64_t yi = yo < 0.0 ? -1 : (int64_t)yo;
        const uint8_t *in = yi >= 0 && yi < sh ? src + (size_t)yi * sstride : NULL;
        for (uint32_t x = 0; x < win_w; x++) {
            if (in && xin[x] >= 0) memcpy(out + 3 * x, in + 3 * (size_t)xin[x], 3);
            else memset(out + 3 * x, 0, 3);
        }
    }
    free(xin);
    return CLIPVK_OK;
}

clipvk_status clipvk_resize(const uint8_t *src, uint32_t sw, uint32_t sh, size_t sstride, clipvk_resample filter,
                            uint32_t ow, uint32_t oh, uint32_t x0, uint32_t y0, uint32_t win_w, uint32_t win_h,
                            uint8_t *dst, size_t dstride, unsigned threads, clipvk_error *err)
{
    if (!sw || !sh || !ow || !oh || sw > INT32_MAX / 4 || sh > INT32_MAX / 4 || ow > INT32_MAX / 4 ||
        oh > INT32_MAX / 4 || x0 > ow || win_w > ow - x0 || y0 > oh || win_h > oh - y0)
        return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT, "resize: bad size %ux%u -> %ux%u (window %ux%u at %u,%u)",
                           sw, sh, ow, oh, win_w, win_h, x0, y0);
    const rs_filter *f = filter == CLIPVK_RESAMPLE_BICUBIC ? &FILTER_BICUBIC
                         : filter == CLIPVK_RESAMPLE_BILINEAR ? &FILTER_BILINEAR
                                                              : NULL;
    if (!f && filter != CLIPVK_RESAMPLE_NEAREST)
        return clipvk_fail(err, CLIPVK_ERROR_UNSUPPORTED, "resize: resample filter %d is not supported", (int)filter);
    if (!win_w || !win_h) return CLIPVK_OK;
    if (!f) return resize_nearest(src, sw, sh, sstride, ow, oh, x0, y0, win_w, win_h, dst, dstride, err);
    /* Pillow skips a pass whose dimension does not change (the box is the
     * whole image here); the pass would be the identity anyway. */
    int need_h = ow != sw, need_v = oh != sh;
    coeffs ch = {0}, cv = {0};
    uint8_t *tmp = NULL;
    int32_t *acc = NULL;
    clipvk_status s = CLIPVK_OK;
    if ((need_h && !coeffs_init(&ch, f, (int)sw, (int)ow, (int)x0, (int)win_w)) ||
        (need_v && !coeffs_init(&cv, f, (int)sh, (int)oh, (int)y0, (int)win_h))) {
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
    /* threads by the work: input rows x window columns, about */
    unsigned nt = clipvk_image_threads(threads, (uint64_t)(row1 - row0) * sw);
    if (need_h) {
        mid_stride = (size_t)win_w * 3;
        tmp = malloc(mid_stride * (size_t)(row1 - row0));
        if (!tmp) {
            s = clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "resize: out of host memory");
            goto done;
        }
        rs_job j = {.src = mid, .sstride = sstride, .sw = sw, .rows = (uint32_t)(row1 - row0), .c = &ch,
                    .count = win_w, .dst = tmp, .dstride = mid_stride};
        clipvk_parallel_run(nt, rs_horizontal, &j);
        mid = tmp;
    }
    if (need_v) {
        unsigned vt = win_h >= 64 ? nt : 1;
        acc = malloc((size_t)win_w * 3 * vt * sizeof *acc);
        if (!acc) {
            s = clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "resize: out of host memory");
            goto done;
        }
        rs_job j = {.src = mid, .sstride = mid_stride, .c = &cv, .count = win_h, .width = win_w, .dst = dst,
                    .dstride = dstride, .row0 = row0, .acc = acc};
        clipvk_parallel_run(vt, rs_vertical, &j);
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
