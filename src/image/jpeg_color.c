/* Upsampling and colour conversion of clipvk's JPEG decoder: libjpeg's
 * fancy upsampling and fixed-point YCbCr->RGB, and PIL's CMYK->RGB (see
 * jpeg.c). */
#include "image/jpeg_internal.h"
#include "image/parallel.h"

#include <stdlib.h>
#include <string.h>

/* ---- Output: upsampling and colour conversion, one row at a time */

static int32_t tab_crr[256], tab_cbb[256], tab_crg[256], tab_cbg[256];
static uint8_t tab_clamp[1024];

#define JP_FIX16(x) ((int32_t)((x) * 65536 + 0.5))

static int32_t jp_shr16(int32_t x) { return (int32_t)(((int64_t)x + ((int64_t)1 << 40)) >> 16) - (1 << 24); }

void jp_color_init(void)
{
    for (int i = 0; i < 256; i++) {
        int32_t x = i - 128;
        tab_crr[i] = jp_shr16(JP_FIX16(1.40200) * x + (1 << 15));
        tab_cbb[i] = jp_shr16(JP_FIX16(1.77200) * x + (1 << 15));
        tab_crg[i] = -JP_FIX16(0.71414) * x;
        tab_cbg[i] = -JP_FIX16(0.34414) * x + (1 << 15) + (512 << 16); /* biased: the sum is never negative */
    }
    for (int i = 0; i < 1024; i++) tab_clamp[i] = (uint8_t)(i < 512 ? 0 : i > 767 ? 255 : i - 512);
}

static inline uint8_t jp_clamp(int32_t v) { return tab_clamp[(v + 512) & 1023]; } /* v in -512..511+ */

/* libjpeg's G offset, (cbg + crg) >> 16 rounded down, from the biased table. */
static inline int32_t jp_goff(int cb, int cr) { return ((tab_cbg[cb] + tab_crg[cr]) >> 16) - 512; }

/* ---- Row kernels: libjpeg's fancy upsampling and YCbCr->RGB */

/* h2v2: column sums 3*near + far, then 3:1 across with biases 8 / 7; the
 * edges replicate the outermost column. dw > 2. */
void jp_h2v2_c(const uint8_t *near, const uint8_t *far, int dw, uint8_t *out)
{
    int prev, cur = 3 * near[0] + far[0], next = 3 * near[1] + far[1];
    out[0] = (uint8_t)((4 * cur + 8) >> 4);
    out[1] = (uint8_t)((3 * cur + next + 7) >> 4);
    for (int x = 1; x < dw - 1; x++) {
        prev = cur;
        cur = next;
        next = 3 * near[x + 1] + far[x + 1];
        out[2 * x] = (uint8_t)((3 * cur + prev + 8) >> 4);
        out[2 * x + 1] = (uint8_t)((3 * cur + next + 7) >> 4);
    }
    prev = cur;
    cur = next;
    out[2 * dw - 2] = (uint8_t)((3 * cur + prev + 8) >> 4);
    out[2 * dw - 1] = (uint8_t)((4 * cur + 7) >> 4);
}

/* h2v1: the horizontal triangle filter, biases 1 / 2. dw > 2. */
void jp_h2v1_c(const uint8_t *in, int dw, uint8_t *out)
{
    out[0] = in[0];
    out[1] = (uint8_t)((3 * in[0] + in[1] + 2) >> 2);
    for (int x = 1; x < dw - 1; x++) {
        out[2 * x] = (uint8_t)((3 * in[x] + in[x - 1] + 1) >> 2);
        out[2 * x + 1] = (uint8_t)((3 * in[x] + in[x + 1] + 2) >> 2);
    }
    out[2 * dw - 2] = (uint8_t)((3 * in[dw - 1] + in[dw - 2] + 1) >> 2);
    out[2 * dw - 1] = in[dw - 1];
}

void jp_ycc_rgb_c(const uint8_t *y, const uint8_t *cb, const uint8_t *cr, int w, uint8_t *o)
{
    for (int x = 0; x < w; x++) {
        int yy = y[x], b = cb[x], r = cr[x];
        o[3 * x] = jp_clamp(yy + tab_crr[r]);
        o[3 * x + 1] = jp_clamp(yy + jp_goff(b, r));
        o[3 * x + 2] = jp_clamp(yy + tab_cbb[b]);
    }
}

#ifdef JP_COLOR_SSE2
#include <emmintrin.h>

/* The SSE2 upsamplers work on the column sums of a row padded by one
 * replicated sample at each end (in pad[0 .. dw + 1], 16-bit), so that
 * the edges need no case of their own: the padded neighbour of the first
 * and last columns is the column itself, which is libjpeg's rule. pad has
 * room for dw + 18 values; out for 2 * dw rounded up to 16, plus 16. */
static void jp_fancy_sse2(const int16_t *pad, int dw, uint8_t *out, int bias_even, int bias_odd, int shift)
{
    const __m128i three = _mm_set1_epi16(3), be = _mm_set1_epi16((short)bias_even), bo = _mm_set1_epi16((short)bias_odd);
    int x = 0;
    for (; x + 8 <= dw; x += 8) {
        __m128i p = _mm_loadu_si128((const __m128i *)(pad + x));
        __m128i c = _mm_loadu_si128((const __m128i *)(pad + x + 1));
        __m128i n = _mm_loadu_si128((const __m128i *)(pad + x + 2));
        __m128i c3 = _mm_mullo_epi16(c, three);
        __m128i e = _mm_srli_epi16(_mm_add_epi16(_mm_add_epi16(c3, p), be), shift);
        __m128i o = _mm_srli_epi16(_mm_add_epi16(_mm_add_epi16(c3, n), bo), shift);
        __m128i lo = _mm_unpacklo_epi16(e, o), hi = _mm_unpackhi_epi16(e, o);
        _mm_storeu_si128((__m128i *)(out + 2 * x), _mm_packus_epi16(lo, hi));
    }
    for (; x < dw; x++) {
        int p = pad[x], c = 3 * pad[x + 1], n = pad[x + 2];
        out[2 * x] = (uint8_t)((c + p + bias_even) >> shift);
        out[2 * x + 1] = (uint8_t)((c + n + bias_odd) >> shift);
    }
}

/* pad: dw + 2 int16 of scratch, after the row's output buffer (see jp_row). */
void jp_h2v2_sse2(const uint8_t *near, const uint8_t *far, int dw, uint8_t *out)
{
    int16_t pad[4096 + 2];
    const __m128i zero = _mm_setzero_si128(), three = _mm_set1_epi16(3);
    for (int x0 = 0; x0 < dw; x0 += 4096) { /* in pieces, the scratch on the stack */
        int n = dw - x0 < 4096 ? dw - x0 : 4096;
        const uint8_t *a = near + x0, *b = far + x0;
        int x = 0;
        for (; x + 8 <= n; x += 8) {
            __m128i u = _mm_unpacklo_epi8(_mm_loadl_epi64((const __m128i *)(a + x)), zero);
            __m128i v = _mm_unpacklo_epi8(_mm_loadl_epi64((const __m128i *)(b + x)), zero);
            _mm_storeu_si128((__m128i *)(pad + x + 1), _mm_add_epi16(_mm_mullo_epi16(u, three), v));
        }
        for (; x < n; x++) pad[x + 1] = (int16_t)(3 * a[x] + b[x]);
        pad[0] = x0 ? (int16_t)(3 * a[-1] + b[-1]) : pad[1];
        pad[n + 1] = x0 + n < dw ? (int16_t)(3 * a[n] + b[n]) : pad[n];
        jp_fancy_sse2(pad, n, out + 2 * x0, 8, 7, 4);
    }
}

void jp_h2v1_sse2(const uint8_t *in, int dw, uint8_t *out)
{
    int16_t pad[4096 + 2];
    const __m128i zero = _mm_setzero_si128();
    for (int x0 = 0; x0 < dw; x0 += 4096) {
        int n = dw - x0 < 4096 ? dw - x0 : 4096;
        const uint8_t *a = in + x0;
        int x = 0;
        for (; x + 8 <= n; x += 8)
            _mm_storeu_si128((__m128i *)(pad + x + 1), _mm_unpacklo_epi8(_mm_loadl_epi64((const __m128i *)(a + x)), zero));
        for (; x < n; x++) pad[x + 1] = a[x];
        pad[0] = x0 ? a[-1] : pad[1];
        pad[n + 1] = x0 + n < dw ? a[n] : pad[n];
        jp_fancy_sse2(pad, n, out + 2 * x0, 1, 2, 2);
    }
}

/* Stores 4 pixels (RGB0 in 32-bit lanes) as 12 bytes at o, writing 2 bytes
 * past them (overwritten by the next store, or kept inside the row). */
static inline void jp_store4(__m128i p, uint8_t *o)
{
    const __m128i m1 = _mm_set_epi32(0, 0xFFFFFF, 0, 0xFFFFFF), m2 = _mm_set_epi32(0xFFFF, (int)0xFF000000, 0xFFFF, (int)0xFF000000);
    __m128i c = _mm_or_si128(_mm_and_si128(p, m1), _mm_and_si128(_mm_srli_epi64(p, 8), m2));
    _mm_storel_epi64((__m128i *)o, c);
    _mm_storel_epi64((__m128i *)(o + 6), _mm_unpackhi_epi64(c, c));
}

/* libjpeg's fixed-point YCbCr->RGB without tables: with x = Cb or Cr - 128,
 *   R = Y + x_r + ((26345 x_r + 32768) >> 16)          (FIX(1.402) = 65536 + 26345)
 *   B = Y + 2 x_b + ((-14942 x_b + 32768) >> 16)       (FIX(1.772) = 131072 - 14942)
 *   G = Y - x_r + ((-22554 x_b + 18734 x_r + 32768) >> 16)  (FIX(0.71414) = 65536 - 18734)
 * and (a x + 32768) >> 16 = (((2x * a) >> 16) + 1) >> 1 (mulhi). */
void jp_ycc_rgb_sse2(const uint8_t *y, const uint8_t *cb, const uint8_t *cr, int w, uint8_t *o)
{
    const __m128i zero = _mm_setzero_si128(), c128 = _mm_set1_epi16(128), one = _mm_set1_epi16(1);
    const __m128i kr = _mm_set1_epi16(26345), kb = _mm_set1_epi16(-14942);
    const __m128i kg = _mm_set_epi16(18734, -22554, 18734, -22554, 18734, -22554, 18734, -22554);
    const __m128i half = _mm_set1_epi32(32768);
    int x = 0;
    for (; x + 17 <= w; x += 16) {
        __m128i vy = _mm_loadu_si128((const __m128i *)(y + x));
        __m128i vb = _mm_loadu_si128((const __m128i *)(cb + x));
        __m128i vr = _mm_loadu_si128((const __m128i *)(cr + x));
        __m128i rgb8[3][2];
        for (int h = 0; h < 2; h++) {
            __m128i yy = h ? _mm_unpackhi_epi8(vy, zero) : _mm_unpacklo_epi8(vy, zero);
            __m128i xb = _mm_sub_epi16(h ? _mm_unpackhi_epi8(vb, zero) : _mm_unpacklo_epi8(vb, zero), c128);
            __m128i xr = _mm_sub_epi16(h ? _mm_unpackhi_epi8(vr, zero) : _mm_unpacklo_epi8(vr, zero), c128);
            __m128i r = _mm_srai_epi16(_mm_add_epi16(_mm_mulhi_epi16(_mm_add_epi16(xr, xr), kr), one), 1);
            r = _mm_add_epi16(_mm_add_epi16(r, xr), yy);
            __m128i b = _mm_srai_epi16(_mm_add_epi16(_mm_mulhi_epi16(_mm_add_epi16(xb, xb), kb), one), 1);
            b = _mm_add_epi16(_mm_add_epi16(b, _mm_add_epi16(xb, xb)), yy);
            __m128i g0 = _mm_srai_epi32(_mm_add_epi32(_mm_madd_epi16(_mm_unpacklo_epi16(xb, xr), kg), half), 16);
            __m128i g1 = _mm_srai_epi32(_mm_add_epi32(_mm_madd_epi16(_mm_unpackhi_epi16(xb, xr), kg), half), 16);
            __m128i g = _mm_add_epi16(_mm_sub_epi16(_mm_packs_epi32(g0, g1), xr), yy);
            rgb8[0][h] = r;
            rgb8[1][h] = g;
            rgb8[2][h] = b;
        }
        __m128i R = _mm_packus_epi16(rgb8[0][0], rgb8[0][1]);
        __m128i G = _mm_packus_epi16(rgb8[1][0], rgb8[1][1]);
        __m128i B = _mm_packus_epi16(rgb8[2][0], rgb8[2][1]);
        __m128i rg0 = _mm_unpacklo_epi8(R, G), rg1 = _mm_unpackhi_epi8(R, G);
        __m128i b0 = _mm_unpacklo_epi8(B, zero), b1 = _mm_unpackhi_epi8(B, zero);
        uint8_t *d = o + 3 * x;
        jp_store4(_mm_unpacklo_epi16(rg0, b0), d);
        jp_store4(_mm_unpackhi_epi16(rg0, b0), d + 12);
        jp_store4(_mm_unpacklo_epi16(rg1, b1), d + 24);
        jp_store4(_mm_unpackhi_epi16(rg1, b1), d + 36);
    }
    jp_ycc_rgb_c(y + x, cb + x, cr + x, w - x, o + 3 * x);
}
#define JP_H2V2 jp_h2v2_sse2
#define JP_H2V1 jp_h2v1_sse2
#define JP_YCC jp_ycc_rgb_sse2
#else
#define JP_H2V2 jp_h2v2_c
#define JP_H2V1 jp_h2v1_c
#define JP_YCC jp_ycc_rgb_c
#endif

/* Component c's samples for output row y, upsampled to the full width, in
 * tmp (or straight from the plane). tmp holds the width + 64. */
static const uint8_t *jp_row(const jp_dec *d, const jp_comp *c, int y, uint8_t *tmp)
{
    int rh = d->maxh / c->h, rv = d->maxv / c->v, dw = c->dw, cy = y / rv;
    const uint8_t *near = c->plane + (size_t)cy * c->stride;
    if (rh == 1 && rv == 1) return near;
    if (rv == 2 && (rh == 1 || (rh == 2 && dw > 2))) {
        int fy = (y & 1) ? (cy + 1 < c->dh ? cy + 1 : cy) : (cy > 0 ? cy - 1 : 0);
        const uint8_t *far = c->plane + (size_t)fy * c->stride;
        if (rh == 1) { /* vertical triangle filter; bias 1 above, 2 below */
            int bias = (y & 1) ? 2 : 1;
            for (int x = 0; x < dw; x++) tmp[x] = (uint8_t)((3 * near[x] + far[x] + bias) >> 2);
            return tmp;
        }
        JP_H2V2(near, far, dw, tmp); /* both directions */
        return tmp;
    }
    if (rh == 2 && rv == 1 && dw > 2) { /* horizontal triangle filter */
        JP_H2V1(near, dw, tmp);
        return tmp;
    }
    for (int x = 0; x < d->width; x++) tmp[x] = near[x / rh]; /* replication */
    return tmp;
}

int jp_colour_space(const jp_dec *d)
{
    if (d->ncomp == 1) return CS_GREY;
    if (d->ncomp == 4) return d->adobe && d->adobe_transform != 0 ? CS_YCCK : CS_CMYK;
    if (d->jfif) return CS_YCC;
    if (d->adobe) return d->adobe_transform == 0 ? CS_RGB : CS_YCC;
    if (d->comp[0].id == 'R' && d->comp[1].id == 'G' && d->comp[2].id == 'B') return CS_RGB;
    return CS_YCC;
}

/* PIL: CMYK JPEGs are read inverted ("CMYK;I"), then CMYK->RGB is
 * nk - nk * c / 255 (rounded its way) with nk = 255 - k. */
static inline uint8_t jp_cmyk(int cinv, int k)
{
    int c = 255 - cinv, nk = k, t = c * nk + 128;
    return jp_clamp(nk - (((t >> 8) + t) >> 8));
}

/* Image rows [y0, y1) to RGB; tmp holds 4 rows of width + 64. */
static void jp_output_rows(const jp_dec *d, int y0, int y1, uint8_t *tmp)
{
    int w = d->width, cs = d->cs;
    size_t tmpw = (size_t)w + 64;
    for (int y = y0; y < y1; y++) {
        const uint8_t *r[4];
        for (int i = 0; i < d->ncomp; i++) r[i] = jp_row(d, &d->comp[i], y, tmp + tmpw * (size_t)i);
        uint8_t *o = d->rgb + (size_t)y * (size_t)w * 3;
        switch (cs) {
        case CS_GREY:
            for (int x = 0; x < w; x++) o[3 * x] = o[3 * x + 1] = o[3 * x + 2] = r[0][x];
            break;
        case CS_RGB:
            for (int x = 0; x < w; x++) {
                o[3 * x] = r[0][x];
                o[3 * x + 1] = r[1][x];
                o[3 * x + 2] = r[2][x];
            }
            break;
        case CS_YCC:
            JP_YCC(r[0], r[1], r[2], w, o);
            break;
        case CS_CMYK:
            for (int x = 0; x < w; x++) {
                int k = r[3][x];
                o[3 * x] = jp_cmyk(r[0][x], k);
                o[3 * x + 1] = jp_cmyk(r[1][x], k);
                o[3 * x + 2] = jp_cmyk(r[2][x], k);
            }
            break;
        default: /* YCCK: libjpeg makes CMYK of it as 255 - RGB */
            for (int x = 0; x < w; x++) {
                int yy = r[0][x], cb = r[1][x], cr = r[2][x], k = r[3][x];
                o[3 * x] = jp_cmyk(255 - jp_clamp(yy + tab_crr[cr]), k);
                o[3 * x + 1] = jp_cmyk(255 - jp_clamp(yy + jp_goff(cb, cr)), k);
                o[3 * x + 2] = jp_cmyk(255 - jp_clamp(yy + tab_cbb[cb]), k);
            }
        }
    }
}

/* IDCT unit r: from the ring (a single sequential scan), or a progressive
 * file's coefficients of MCU row r after the last scan. */
static void jp_idct_unit(jp_dec *d, int r)
{
    if (d->ring) {
        for (int i = 0; i < d->ring_ns; i++) {
            jp_comp *c = d->ring_comp[i];
            for (int v = 0; v < d->ring_vv[i]; v++) {
                size_t by = (size_t)r * (size_t)d->ring_vv[i] + (size_t)v;
                for (int bx = 0; bx < d->ring_bw[i]; bx++) {
                    uint8_t *ac;
                    const int16_t *cb = jp_ring_block(d, r, i, v, (size_t)bx, &ac);
                    jp_idct(cb, c->q, c->plane + by * 8 * c->stride + (size_t)bx * 8, c->stride, *ac);
                }
            }
        }
        return;
    }
    for (int i = 0; i < d->ncomp; i++) {
        jp_comp *c = &d->comp[i];
        if (!c->scanned) continue;
        for (int by = r * c->v; by < (r + 1) * c->v && by < c->hb; by++)
            for (int bx = 0; bx < c->wb; bx++) {
                const int16_t *cb = c->coef + ((size_t)by * (size_t)c->bw + (size_t)bx) * 64;
                int ac = 0;
                for (int k = 1; k < 64 && !ac; k++) ac = cb[k] != 0;
                jp_idct(cb, c->q, c->plane + (size_t)by * 8 * c->stride + (size_t)bx * 8, c->stride, ac);
            }
    }
}

/* ---- Several threads per image.
 *
 * Thread 0 (the caller) parses the file and decodes its scans. A
 * single-scan sequential file publishes its rows as its MCU rows are
 * transformed, and every thread (thread 0 too, once the data is decoded)
 * converts chunks of image rows to RGB as soon as the plane rows they read
 * are final. Other files publish everything after the last scan; a
 * progressive file's IDCT is then shared out by MCU rows first. Each chunk
 * and each MCU row is written by one thread only: the result does not
 * depend on the number of threads. */

int jp_output_begin(jp_dec *d)
{
    d->rgb = malloc((size_t)d->width * (size_t)d->height * 3);
    if (!d->rgb) return jp_fail(d, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
    pthread_mutex_lock(&d->lock);
    d->chunk_rows = 8 * d->maxv;
    d->nchunks = (d->height + d->chunk_rows - 1) / d->chunk_rows;
    pthread_cond_broadcast(&d->cond);
    pthread_mutex_unlock(&d->lock);
    return 0;
}

void jp_publish(jp_dec *d, int rows)
{
    pthread_mutex_lock(&d->lock);
    if (rows > d->ready) d->ready = rows;
    pthread_cond_broadcast(&d->cond);
    pthread_mutex_unlock(&d->lock);
}

/* With the lock held: claims the next available IDCT unit and does it
 * (without the lock); returns 0 if there was none. */
static int jp_idct_next(jp_dec *d)
{
    if (d->next_idct >= d->idct_avail) return 0;
    int r = d->next_idct++;
    pthread_mutex_unlock(&d->lock);
    jp_idct_unit(d, r);
    pthread_mutex_lock(&d->lock);
    d->idct_done[r] = 1;
    while (d->idct_prefix < d->idct_units && d->idct_done[d->idct_prefix]) d->idct_prefix++;
    int64_t rows = (int64_t)d->idct_prefix * d->unit_rows;
    if (d->idct_prefix == d->idct_units) d->ready = INT32_MAX; /* every plane final */
    else if (rows > d->ready) d->ready = (int)rows;
    pthread_cond_broadcast(&d->cond);
    return 1;
}

int jp_ring_begin(jp_dec *d, int units)
{
    d->ring_ns = d->ns;
    d->ring_blocks = 0;
    for (int i = 0; i < d->ns; i++) {
        jp_comp *c = d->sc[i];
        d->ring_comp[i] = c;
        d->ring_vv[i] = d->ns == 1 ? 1 : c->v;
        d->ring_bw[i] = d->ns == 1 ? c->wb : d->mcux * c->h;
        d->ring_off[i] = d->ring_blocks;
        d->ring_blocks += (size_t)d->ring_vv[i] * (size_t)d->ring_bw[i];
    }
    d->ring = malloc(JP_RING * d->ring_blocks * 64 * sizeof *d->ring);
    d->ring_ac = malloc(JP_RING * d->ring_blocks);
    d->idct_done = calloc((size_t)units, 1);
    if (!d->ring || !d->ring_ac || !d->idct_done) return jp_fail(d, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
    pthread_mutex_lock(&d->lock);
    d->idct_units = units;
    d->unit_rows = d->ns == 1 ? 8 * d->maxv / d->sc[0]->v : 8 * d->maxv;
    pthread_mutex_unlock(&d->lock);
    return 0;
}

int16_t *jp_ring_block(jp_dec *d, int y, int i, int v, size_t bx, uint8_t **ac)
{
    size_t k = (size_t)(y % JP_RING) * d->ring_blocks + d->ring_off[i] + (size_t)v * (size_t)d->ring_bw[i] + bx;
    *ac = d->ring_ac + k;
    return d->ring + k * 64;
}

void jp_ring_done(jp_dec *d, int y)
{
    pthread_mutex_lock(&d->lock);
    d->idct_avail = y + 1;
    pthread_cond_broadcast(&d->cond);
    /* the slot of unit y + 1 held unit y + 1 - JP_RING: wait until it is
     * transformed, doing units here rather than waiting when there are any
     * (so that this thread alone also finishes) */
    int old = y + 1 - JP_RING;
    while (old >= 0 && !d->idct_done[old])
        if (!jp_idct_next(d)) pthread_cond_wait(&d->cond, &d->lock);
    pthread_mutex_unlock(&d->lock);
}

/* Claims and does IDCT units and output chunks until none are left. */
static void jp_work(jp_dec *d, uint8_t *tmp)
{
    pthread_mutex_lock(&d->lock);
    while (!d->stop) {
        if (jp_idct_next(d)) continue;
        if (d->nchunks >= 0 && d->next_chunk >= d->nchunks) break; /* all claimed */
        if (d->nchunks >= 0) {
            int y0 = d->next_chunk * d->chunk_rows, y1 = y0 + d->chunk_rows;
            if (y1 > d->height) y1 = d->height;
            /* fancy upsampling reads one chroma row below: 2 * maxv rows of margin */
            if (d->ready == INT32_MAX || (int64_t)d->ready >= (int64_t)y1 + 2 * d->maxv) {
                d->next_chunk++;
                pthread_mutex_unlock(&d->lock);
                jp_output_rows(d, y0, y1, tmp);
                pthread_mutex_lock(&d->lock);
                continue;
            }
        }
        pthread_cond_wait(&d->cond, &d->lock);
    }
    pthread_mutex_unlock(&d->lock);
}

typedef struct jp_run_ctx {
    jp_dec *d;
    int (*parse)(jp_dec *, uint64_t);
    uint64_t max_pixels;
    int rc;
} jp_run_ctx;

static void jp_stop(jp_dec *d)
{
    pthread_mutex_lock(&d->lock);
    d->stop = 1;
    pthread_cond_broadcast(&d->cond);
    pthread_mutex_unlock(&d->lock);
}

static void jp_thread(void *arg, unsigned i, unsigned n)
{
    (void)n;
    jp_run_ctx *x = arg;
    jp_dec *d = x->d;
    uint8_t *tmp = NULL;
    if (i > 0) { /* workers wait for the frame header to learn the width */
        pthread_mutex_lock(&d->lock);
        while (!d->stop && d->nchunks < 0) pthread_cond_wait(&d->cond, &d->lock);
        int go = !d->stop;
        pthread_mutex_unlock(&d->lock);
        if (!go) return;
        tmp = malloc(((size_t)d->width + 64) * 4);
        if (tmp) jp_work(d, tmp); /* without scratch, the others do its share */
        free(tmp);
        return;
    }
    x->rc = x->parse(d, x->max_pixels);
    if (!x->rc) {
        /* components no scan covered are mid-grey (zero coefficients), as in libjpeg */
        for (int k = 0; k < d->ncomp; k++)
            if (!d->comp[k].scanned) memset(d->comp[k].plane, 128, (size_t)d->comp[k].bw * (size_t)d->comp[k].bh * 64);
        if (d->progressive && !d->ring && !(d->idct_done = calloc((size_t)d->mcuy, 1))) x->rc = jp_fail(d, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
        if (!x->rc && !(tmp = malloc(((size_t)d->width + 64) * 4))) x->rc = jp_fail(d, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
    }
    if (x->rc) {
        jp_stop(d);
        return;
    }
    pthread_mutex_lock(&d->lock);
    if (d->progressive) {
        d->idct_units = d->idct_avail = d->mcuy;
        d->unit_rows = 8 * d->maxv;
    } else if (d->ring) {
        d->idct_avail = d->idct_units; /* all decoded: the rest are ready when transformed */
    } else {
        d->ready = INT32_MAX;
    }
    pthread_cond_broadcast(&d->cond);
    pthread_mutex_unlock(&d->lock);
    jp_work(d, tmp);
    free(tmp);
}

int jp_run(jp_dec *d, int (*parse)(jp_dec *d, uint64_t max_pixels), uint64_t max_pixels, unsigned threads)
{
    jp_run_ctx x = {d, parse, max_pixels, 0};
    d->nthreads = threads;
    d->nchunks = -1;
    pthread_mutex_init(&d->lock, NULL);
    pthread_cond_init(&d->cond, NULL);
    clipvk_parallel_run(threads, jp_thread, &x);
    pthread_cond_destroy(&d->cond);
    pthread_mutex_destroy(&d->lock);
    free(d->idct_done);
    free(d->ring);
    free(d->ring_ac);
    d->idct_done = NULL;
    d->ring = NULL;
    d->ring_ac = NULL;
    return x.rc;
}
