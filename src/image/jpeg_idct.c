/* The inverse DCT of clipvk's JPEG decoder: libjpeg's accurate integer
 * algorithm ("islow"), in plain C and, on x86-64, the same transform with
 * SSE2 — both exact to libjpeg-turbo (see jpeg.c). */
#include "image/jpeg_internal.h"

#include <string.h>

/* ---- The IDCT */

/* 13-bit fixed-point constants of the factorisation. */
#define JK(x) ((uint32_t)((x) * 8192 + 0.5))
#define K0298 JK(0.298631336)
#define K0390 JK(0.390180644)
#define K0541 JK(0.541196100)
#define K0765 JK(0.765366865)
#define K0899 JK(0.899976223)
#define K1175 JK(1.175875602)
#define K1501 JK(1.501321110)
#define K1847 JK(1.847759065)
#define K1961 JK(1.961570560)
#define K2053 JK(2.053119869)
#define K2562 JK(2.562915447)
#define K3072 JK(3.072711026)

/* One 8-point inverse DCT on v[0], v[s], ..., v[7s], scaled by 8192 * sqrt(8)
 * / 8 ... i.e. the fixed-point sums before descaling. Arithmetic modulo
 * 2^32 (no undefined overflow on damaged data); inputs are int16, so the
 * true sums fit in int32 and the casts back are exact. */
static inline void jp_idct8(const int32_t *v, int s, int32_t o[8])
{
    uint32_t e0 = (uint32_t)v[0], e2 = (uint32_t)v[2 * s], e4 = (uint32_t)v[4 * s], e6 = (uint32_t)v[6 * s];
    uint32_t o1 = (uint32_t)v[s], o3 = (uint32_t)v[3 * s], o5 = (uint32_t)v[5 * s], o7 = (uint32_t)v[7 * s];
    /* even half: (e0, e4) butterfly, (e2, e6) rotation */
    uint32_t rot = (e2 + e6) * K0541;
    uint32_t r2 = rot - e6 * K1847, r6 = rot + e2 * K0765;
    uint32_t s04 = (e0 + e4) << 13, d04 = (e0 - e4) << 13;
    uint32_t p0 = s04 + r6, p3 = s04 - r6, p1 = d04 + r2, p2 = d04 - r2;
    /* odd half */
    uint32_t a = o7 + o1, b = o5 + o3, c = o7 + o3, d = o5 + o1;
    uint32_t z = (c + d) * K1175;
    a *= 0u - K0899;
    b *= 0u - K2562;
    c = c * (0u - K1961) + z;
    d = d * (0u - K0390) + z;
    uint32_t q7 = o7 * K0298 + a + c, q5 = o5 * K2053 + b + d;
    uint32_t q3 = o3 * K3072 + b + c, q1 = o1 * K1501 + a + d;
    o[0] = (int32_t)(p0 + q1);
    o[7] = (int32_t)(p0 - q1);
    o[1] = (int32_t)(p1 + q3);
    o[6] = (int32_t)(p1 - q3);
    o[2] = (int32_t)(p2 + q5);
    o[5] = (int32_t)(p2 - q5);
    o[3] = (int32_t)(p3 + q7);
    o[4] = (int32_t)(p3 - q7);
}

static inline int32_t jp_sat16(int32_t x) { return x < -32768 ? -32768 : x > 32767 ? 32767 : x; }


#if defined(__SSE2__) && !defined(CLIPVK_JPEG_NO_SIMD)
#include <emmintrin.h>
#define JP_SSE2 1
/* The same transform as a matrix: jp_mpair[i][p] holds the weights of inputs
 * 2p and 2p+1 in output i (taken from jp_idct8 itself, so the two agree),
 * for _mm_madd_epi16 on interleaved input rows. The weights fit in 16 bits
 * and, with 16-bit inputs, every partial sum in 32. */
static __m128i jp_mpair[8][4];

static void jp_init_matrix(void)
{
    int16_t m[8][8];
    for (int j = 0; j < 8; j++) {
        int32_t v[8] = {0}, o[8];
        v[j] = 1;
        jp_idct8(v, 1, o);
        for (int i = 0; i < 8; i++) m[i][j] = (int16_t)o[i];
    }
    for (int i = 0; i < 8; i++)
        for (int p = 0; p < 4; p++) jp_mpair[i][p] = _mm_set1_epi32((int)((uint32_t)(uint16_t)m[i][2 * p + 1] << 16 | (uint16_t)m[i][2 * p]));
}

/* One pass over 8 lanes: out[i] = saturate16((sum_j M[i][j] in[j] + round) >> shift). */
static inline void jp_pass_sse2(const __m128i in[8], __m128i out[8], int shift)
{
    __m128i lo[4], hi[4], rnd = _mm_set1_epi32(1 << (shift - 1));
    for (int p = 0; p < 4; p++) {
        lo[p] = _mm_unpacklo_epi16(in[2 * p], in[2 * p + 1]);
        hi[p] = _mm_unpackhi_epi16(in[2 * p], in[2 * p + 1]);
    }
    for (int i = 0; i < 8; i++) {
        __m128i a = rnd, b = rnd;
        for (int p = 0; p < 4; p++) {
            a = _mm_add_epi32(a, _mm_madd_epi16(lo[p], jp_mpair[i][p]));
            b = _mm_add_epi32(b, _mm_madd_epi16(hi[p], jp_mpair[i][p]));
        }
        out[i] = _mm_packs_epi32(_mm_srai_epi32(a, shift), _mm_srai_epi32(b, shift));
    }
}

static inline void jp_transpose_sse2(__m128i r[8])
{
    __m128i a0 = _mm_unpacklo_epi16(r[0], r[1]), a1 = _mm_unpackhi_epi16(r[0], r[1]);
    __m128i a2 = _mm_unpacklo_epi16(r[2], r[3]), a3 = _mm_unpackhi_epi16(r[2], r[3]);
    __m128i a4 = _mm_unpacklo_epi16(r[4], r[5]), a5 = _mm_unpackhi_epi16(r[4], r[5]);
    __m128i a6 = _mm_unpacklo_epi16(r[6], r[7]), a7 = _mm_unpackhi_epi16(r[6], r[7]);
    __m128i b0 = _mm_unpacklo_epi32(a0, a2), b1 = _mm_unpackhi_epi32(a0, a2);
    __m128i b2 = _mm_unpacklo_epi32(a1, a3), b3 = _mm_unpackhi_epi32(a1, a3);
    __m128i b4 = _mm_unpacklo_epi32(a4, a6), b5 = _mm_unpackhi_epi32(a4, a6);
    __m128i b6 = _mm_unpacklo_epi32(a5, a7), b7 = _mm_unpackhi_epi32(a5, a7);
    r[0] = _mm_unpacklo_epi64(b0, b4);
    r[1] = _mm_unpackhi_epi64(b0, b4);
    r[2] = _mm_unpacklo_epi64(b1, b5);
    r[3] = _mm_unpackhi_epi64(b1, b5);
    r[4] = _mm_unpacklo_epi64(b2, b6);
    r[5] = _mm_unpackhi_epi64(b2, b6);
    r[6] = _mm_unpacklo_epi64(b3, b7);
    r[7] = _mm_unpackhi_epi64(b3, b7);
}

/* Columns first (pass 1, lanes are columns), then rows on the transposed
 * intermediate; the result is transposed back and saturated to bytes. */
static void jp_idct_sse2(const int16_t *in, const int16_t *q, uint8_t *out, size_t stride)
{
    __m128i x[8], w[8];
    for (int r = 0; r < 8; r++)
        x[r] = _mm_mullo_epi16(_mm_loadu_si128((const __m128i *)(in + 8 * r)), _mm_loadu_si128((const __m128i *)(q + 8 * r)));
    jp_pass_sse2(x, w, 11);
    jp_transpose_sse2(w);
    jp_pass_sse2(w, x, 18);
    jp_transpose_sse2(x);
    __m128i bias = _mm_set1_epi8((char)0x80);
    for (int r = 0; r < 8; r += 2) {
        __m128i b = _mm_xor_si128(_mm_packs_epi16(x[r], x[r + 1]), bias);
        _mm_storel_epi64((__m128i *)(out + (size_t)r * stride), b);
        _mm_storel_epi64((__m128i *)(out + (size_t)(r + 1) * stride), _mm_srli_si128(b, 8));
    }
}
#endif

#ifndef JP_SSE2
static inline uint8_t jp_out(int32_t x) /* final descale, +128, range limit */
{
    x = (x + (1 << 17)) >> 18;
    return (uint8_t)(x < -128 ? 0 : x > 127 ? 255 : x + 128);
}

/* The plain C version: the butterflies above, column pass then row pass. */
static void jp_idct_c(const int16_t *in, const int16_t *q, uint8_t *out, size_t stride)
{
    int32_t dq[64], ws[64], o[8];
    for (int i = 0; i < 64; i++) dq[i] = (int16_t)(uint16_t)((unsigned)in[i] * (unsigned)q[i]);
    for (int c = 0; c < 8; c++) {
        const int32_t *col = dq + c;
        if (!(col[8] | col[16] | col[24] | col[32] | col[40] | col[48] | col[56])) {
            for (int r = 0; r < 8; r++) ws[r * 8 + c] = jp_sat16(col[0] * 4);
            continue;
        }
        jp_idct8(col, 8, o);
        for (int r = 0; r < 8; r++) ws[r * 8 + c] = jp_sat16((o[r] + (1 << 10)) >> 11);
    }
    for (int r = 0; r < 8; r++) {
        const int32_t *row = ws + r * 8;
        uint8_t *dst = out + (size_t)r * stride;
        if (!(row[1] | row[2] | row[3] | row[4] | row[5] | row[6] | row[7])) {
            memset(dst, jp_out(row[0] * 8192), 8);
            continue;
        }
        jp_idct8(row, 1, o);
        for (int c = 0; c < 8; c++) dst[c] = jp_out(o[c]);
    }
}
#endif

/* Dequantises and inverse-transforms one block (natural order) into 8x8
 * samples. Products are kept to 16 bits and the first pass's results
 * saturated to 16 bits, as libjpeg-turbo's SIMD code does (the same as its
 * C code on any real image). `ac`: whether any AC coefficient is nonzero. */
void jp_idct(const int16_t *in, const int16_t *q, uint8_t *out, size_t stride, int ac)
{
    if (!ac) { /* DC only: a flat block */
        int32_t dc = jp_sat16((int16_t)(uint16_t)((unsigned)in[0] * (unsigned)q[0]) * 4);
        int32_t x = (dc + 16) >> 5;
        uint8_t v = (uint8_t)(x < -128 ? 0 : x > 127 ? 255 : x + 128);
        for (int r = 0; r < 8; r++) memset(out + (size_t)r * stride, v, 8);
        return;
    }
#ifdef JP_SSE2
    jp_idct_sse2(in, q, out, stride);
#else
    jp_idct_c(in, q, out, stride);
#endif
}

void jp_idct_init(void)
{
#ifdef JP_SSE2
    jp_init_matrix();
#endif
}
