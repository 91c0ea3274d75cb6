/*
 * clipvk's own JPEG decoder. CLIP's reference preprocessing starts from
 * PIL's Image.open(path).convert("RGB"), and PIL 9.4 decodes JPEG with
 * libjpeg-turbo 2.1 in its default configuration; stb_image's decoder
 * (IDCT, chroma upsampling, colour conversion) differs from it by a few
 * steps here and there, which is why JPEG has its own code. Written from
 * ITU-T T.81 and the documented behaviour of libjpeg's default
 * decompression, and checked against PIL for exact equality
 * (tests/test_jpeg.py), this reproduces:
 *  - the accurate integer IDCT ("islow": the Loeffler-Ligtenberg-Moschytz
 *    factorisation in 13-bit fixed point, two passes with 2 extra bits kept
 *    between them, rounding descales) with the saturating behaviour of
 *    libjpeg-turbo's SIMD version, which is what runs on x86-64;
 *  - "fancy" upsampling: the triangle filter for 2x1 and 2x2 (and 1x2)
 *    chroma with libjpeg's alternating rounding biases, the edges
 *    replicated at the component's own width and height, plain replication
 *    for other integral factors and for chroma 2 samples wide or less;
 *  - YCbCr->RGB in 16-bit fixed point with libjpeg's rounding, and its rules
 *    for the colour space (JFIF, Adobe APP14 transform, component ids);
 *  - CMYK / YCCK through PIL's "CMYK;I" raw mode and its CMYK->RGB formula;
 *  - libjpeg's handling of damaged entropy data: a bad Huffman code
 *    decodes as 0, data that stops early (a marker) reads as zero bits and
 *    leaves the rest of the restart interval zero, restart markers are
 *    resynchronised as jpeg_resync_to_restart does, missing Huffman tables
 *    default to the standard ones (T.81 K.3).
 * Baseline, extended (8-bit) and progressive Huffman JPEGs are read;
 * arithmetic coding, 12-bit, lossless and hierarchical files are refused.
 * A file that ends before its end-of-image marker is refused as truncated
 * (PIL refuses it too). Not reproduced: libjpeg's block smoothing, which
 * only applies to progressive files whose scans leave low-frequency
 * coefficients unrefined (never the case for files that complete their
 * scan script).
 *
 * Every read is bounds-checked: markers by their length against the data,
 * entropy-coded data by the reader (which feeds zeros past the end), table
 * and component indices against their ranges, Huffman tables as libjpeg
 * checks them.
 */
#include "image/jpeg.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define JP_FAST 9 /* Huffman codes up to this long decode with one lookup */

typedef struct jp_huff {
    uint16_t fast[1 << JP_FAST]; /* (length << 8) | symbol for short codes; 0: longer code */
    int32_t maxcode[18];         /* largest code of each length, -1 if none */
    int32_t valoff[18];          /* vals index of a code of length l: code + valoff[l] */
    uint8_t vals[256];
    uint8_t defined, bad;
} jp_huff;

typedef struct jp_comp {
    int id, h, v, tq;
    int dw, dh;         /* the component's samples inside the image */
    int wb, hb;         /* blocks covering dw x dh: a non-interleaved scan's extent */
    int bw, bh;         /* blocks in the MCU-padded plane */
    size_t stride;      /* bw * 8 */
    uint8_t *plane;     /* bw*8 x bh*8 samples */
    int16_t *coef;      /* progressive: bw * bh blocks of 64, natural order */
    int16_t q[64];      /* quantisation table latched at the component's first scan, natural order */
    int latched, scanned;
    int td, ta;         /* this scan's Huffman tables */
    int32_t pred;       /* DC predictor */
} jp_comp;

typedef struct jp_bits {
    const uint8_t *p, *end;
    uint64_t buf; /* MSB-aligned; below the real bits, zeros */
    int n;        /* real bits in buf */
    int hit;      /* 1: stopped at a marker (p at its 0xFF), 2: at the end of the data */
    int empty;    /* a bit past the data was consumed (libjpeg's insufficient_data) */
} jp_bits;

enum { CS_GREY, CS_YCC, CS_RGB, CS_CMYK, CS_YCCK };

typedef struct jp_dec {
    const uint8_t *data;
    size_t size;
    const char *why;
    clipvk_status status;
    int over_limit; /* the frame is larger than max_pixels */
    int have_sof, progressive, width, height, ncomp, maxh, maxv, mcux, mcuy;
    jp_comp comp[4];
    int16_t qt[4][64];
    uint8_t qt_defined[4];
    jp_huff dc[4], ac[4];
    int restart_interval;
    int jfif, adobe, adobe_transform;
    int scans, single_scan, done_single;
    /* the current scan */
    int ns, ss, se, ah, al;
    jp_comp *sc[4];
    jp_bits bits;
    uint32_t eobrun;
    int next_rst, togo;
} jp_dec;

/* Zigzag position -> natural (row-major) index, with 16 extra entries
 * pointing at the last coefficient so that a damaged run that overshoots
 * the block lands there, as in libjpeg. */
static uint8_t jp_zz[80];

static void jp_init_zigzag(void)
{
    int k = 0;
    for (int s = 0; s < 15; s++) {       /* anti-diagonals r + c = s */
        for (int i = 0; i <= s; i++) {
            int r = (s & 1) ? i : s - i; /* odd diagonals go down, even ones up */
            int c = s - r;
            if (r < 8 && c < 8) jp_zz[k++] = (uint8_t)(r * 8 + c);
        }
    }
    for (; k < 80; k++) jp_zz[k] = 63;
}

/* ---- Huffman tables */

/* T.81 Annex K.3: the tables libjpeg-turbo falls back to when a file
 * defines none (motion-JPEG frames). Counts of codes of length 1..16, then
 * the symbols. */
static const uint8_t std_dc_counts[2][16] = {{0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0},
                                             {0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0}};
static const uint8_t std_ac_counts[2][16] = {{0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 125},
                                             {0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 119}};
static const uint8_t std_ac_vals[2][162] = {
    {0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x07, 0x22, 0x71,
     0x14, 0x32, 0x81, 0x91, 0xa1, 0x08, 0x23, 0x42, 0xb1, 0xc1, 0x15, 0x52, 0xd1, 0xf0, 0x24, 0x33, 0x62, 0x72,
     0x82, 0x09, 0x0a, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x34, 0x35, 0x36, 0x37,
     0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59,
     0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x83,
     0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3,
     0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3,
     0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe1, 0xe2,
     0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa},
    {0x00, 0x01, 0x02, 0x03, 0x11, 0x04, 0x05, 0x21, 0x31, 0x06, 0x12, 0x41, 0x51, 0x07, 0x61, 0x71, 0x13, 0x22,
     0x32, 0x81, 0x08, 0x14, 0x42, 0x91, 0xa1, 0xb1, 0xc1, 0x09, 0x23, 0x33, 0x52, 0xf0, 0x15, 0x62, 0x72, 0xd1,
     0x0a, 0x16, 0x24, 0x34, 0xe1, 0x25, 0xf1, 0x17, 0x18, 0x19, 0x1a, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x35, 0x36,
     0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58,
     0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a,
     0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a,
     0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba,
     0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda,
     0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa}};

/* Builds the canonical code (T.81 C.2) from counts[0..15] (codes of length
 * 1..16) and symbols. Marks the table bad where libjpeg refuses it: more
 * than 256 symbols, codes that overflow their length (an all-ones code
 * included), DC symbols over 15. */
static void jp_huff_build(jp_huff *t, const uint8_t counts[16], const uint8_t *vals, int nvals, int is_dc)
{
    memset(t, 0, sizeof *t);
    t->defined = 1;
    memcpy(t->vals, vals, (size_t)nvals);
    int32_t code = 0;
    int k = 0;
    for (int l = 1; l <= 16; l++) {
        int c = counts[l - 1];
        if (code + c >= (1 << l)) { /* checked before the codes index the lookup table */
            t->bad = 1;
            return;
        }
        t->valoff[l] = k - code;
        for (int i = 0; i < c; i++, k++, code++) {
            if (l <= JP_FAST) {
                int shift = JP_FAST - l;
                for (int j = 0; j < (1 << shift); j++)
                    t->fast[(code << shift) + j] = (uint16_t)(l << 8 | vals[k]);
            }
        }
        t->maxcode[l] = c ? code - 1 : -1;
        code <<= 1;
    }
    t->maxcode[17] = INT32_MAX; /* any 17-bit prefix ends the search: a bad code */
    if (is_dc)
        for (int i = 0; i < nvals; i++)
            if (vals[i] > 15) t->bad = 1;
}

/* ---- Entropy-coded data */

static inline void jb_fill(jp_bits *b)
{
    while (b->n <= 56 && !b->hit) {
        const uint8_t *p = b->p;
        if (p >= b->end) {
            b->hit = 2;
            return;
        }
        unsigned c = *p++;
        if (c == 0xFF) { /* stuffed zero, fill bytes, or a marker */
            while (p < b->end && *p == 0xFF) p++;
            if (p < b->end && *p == 0) {
                p++;
            } else {
                b->hit = p < b->end ? 1 : 2;
                b->p = p - 1;
                return;
            }
        }
        b->p = p;
        b->buf |= (uint64_t)c << (56 - b->n);
        b->n += 8;
    }
}

static inline void jb_skip(jp_bits *b, int k)
{
    if (k > b->n) { /* zeros past the data */
        b->empty = 1;
        b->buf = 0;
        b->n = 0;
    } else {
        b->buf <<= k;
        b->n -= k;
    }
}

static inline int jb_get(jp_bits *b, int k) /* 0 < k <= 16 */
{
    if (b->n < k) jb_fill(b);
    int v = (int)(b->buf >> (64 - k));
    jb_skip(b, k);
    return v;
}

static inline int jb_extend(int v, int s) { return v < (1 << (s - 1)) ? v + 1 - (1 << s) : v; }

/* One Huffman symbol. A code longer than 16 bits is libjpeg's "bad code":
 * 17 bits are consumed and the symbol is 0. */
static inline int jb_huff(jp_bits *b, const jp_huff *t)
{
    if (b->n < 32) jb_fill(b);
    unsigned e = t->fast[b->buf >> (64 - JP_FAST)];
    if (e) {
        jb_skip(b, (int)(e >> 8));
        return (int)(e & 0xFF);
    }
    int32_t code = (int32_t)(b->buf >> (64 - 17));
    int l = JP_FAST + 1;
    while ((code >> (17 - l)) > t->maxcode[l]) l++;
    jb_skip(b, l);
    if (l > 16) return 0;
    return t->vals[((code >> (17 - l)) + t->valoff[l]) & 0xFF];
}

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
static void jp_idct(const int16_t *in, const int16_t *q, uint8_t *out, size_t stride, int ac)
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

/* ---- Scans */

static int jp_fail(jp_dec *d, clipvk_status s, const char *why)
{
    if (!d->why) {
        d->why = why;
        d->status = s;
    }
    return -1;
}

#define TRUNCATED "truncated JPEG (the data ends before the end-of-image marker)"

/* From p, the next marker as libjpeg's next_marker finds it (skipping any
 * bytes that are not one): returns a pointer to its last 0xFF, or NULL at the
 * end of the data. */
static const uint8_t *jp_find_marker(const uint8_t *p, const uint8_t *end)
{
    for (;;) {
        while (p < end && *p != 0xFF) p++;
        const uint8_t *q = p;
        while (q < end && *q == 0xFF) q++;
        if (q >= end) return NULL;
        if (*q != 0) return q - 1;
        p = q + 1;
    }
}

/* libjpeg's process_restart with jpeg_resync_to_restart's decisions. */
static int jp_restart(jp_dec *d)
{
    jp_bits *b = &d->bits;
    const uint8_t *p = b->p;
    b->buf = 0;
    b->n = 0;
    if (b->hit == 2) return jp_fail(d, CLIPVK_ERROR_FORMAT, TRUNCATED);
    if (!b->hit) p = jp_find_marker(p, b->end);
    for (;;) {
        if (!p) return jp_fail(d, CLIPVK_ERROR_FORMAT, TRUNCATED);
        int m = p[1], want = d->next_rst, action;
        if (m == 0xD0 + want) action = 1;
        else if (m < 0xC0) action = 2; /* not a valid marker: look further */
        else if (m < 0xD0 || m > 0xD7) action = 3; /* a real marker: leave it, empty segments follow */
        else if (m == 0xD0 + ((want + 1) & 7) || m == 0xD0 + ((want + 2) & 7)) action = 3;
        else if (m == 0xD0 + ((want - 1) & 7) || m == 0xD0 + ((want - 2) & 7)) action = 2;
        else action = 1;
        if (action == 1) {
            b->p = p + 2;
            b->hit = 0;
            b->empty = 0;
            break;
        }
        if (action == 3) {
            b->p = p;
            b->hit = 1;
            break;
        }
        p = jp_find_marker(p + 2, b->end);
    }
    d->next_rst = (d->next_rst + 1) & 7;
    for (int i = 0; i < d->ns; i++) d->sc[i]->pred = 0;
    d->eobrun = 0;
    d->togo = d->restart_interval;
    return 0;
}

/* Sequential: one block's coefficients; returns whether any AC is nonzero. */
static int jp_block_seq(jp_bits *b, const jp_huff *dc, const jp_huff *ac, int32_t *pred, int16_t *blk)
{
    memset(blk, 0, 64 * sizeof *blk);
    int s = jb_huff(b, dc), diff = 0, nz = 0;
    if (s) diff = jb_extend(jb_get(b, s), s);
    *pred = (int32_t)((uint32_t)*pred + (uint32_t)diff);
    blk[0] = (int16_t)(uint16_t)(uint32_t)*pred;
    for (int k = 1; k < 64; k++) {
        int rs = jb_huff(b, ac), r = rs >> 4;
        s = rs & 15;
        if (s) {
            k += r;
            blk[jp_zz[k]] = (int16_t)jb_extend(jb_get(b, s), s);
            nz = 1;
        } else {
            if (r != 15) break;
            k += 15;
        }
    }
    return nz;
}

static void jp_dc_first(jp_dec *d, jp_comp *c, int16_t *blk)
{
    jp_bits *b = &d->bits;
    int s = jb_huff(b, &d->dc[c->td]), diff = 0;
    if (s) diff = jb_extend(jb_get(b, s), s);
    c->pred = (int32_t)((uint32_t)c->pred + (uint32_t)diff);
    blk[0] = (int16_t)(uint16_t)((uint32_t)c->pred << d->al);
}

static void jp_ac_first(jp_dec *d, jp_comp *c, int16_t *blk)
{
    jp_bits *b = &d->bits;
    if (d->eobrun) {
        d->eobrun--;
        return;
    }
    const jp_huff *t = &d->ac[c->ta];
    for (int k = d->ss; k <= d->se; k++) {
        int rs = jb_huff(b, t), r = rs >> 4, s = rs & 15;
        if (s) {
            k += r;
            blk[jp_zz[k]] = (int16_t)(uint16_t)((uint32_t)jb_extend(jb_get(b, s), s) << d->al);
        } else if (r == 15) {
            k += 15;
        } else {
            d->eobrun = 1u << r;
            if (r) d->eobrun += (uint32_t)jb_get(b, r);
            d->eobrun--;
            break;
        }
    }
}

/* A correction bit for an already-nonzero coefficient (T.81 G.1.2.3). */
static inline void jp_refine(jp_bits *b, int16_t *x, int p1)
{
    if (jb_get(b, 1) && !(*x & p1)) *x = (int16_t)(*x >= 0 ? *x + p1 : *x - p1);
}

static void jp_ac_refine(jp_dec *d, jp_comp *c, int16_t *blk)
{
    jp_bits *b = &d->bits;
    const jp_huff *t = &d->ac[c->ta];
    int p1 = 1 << d->al, k = d->ss, se = d->se;
    if (!d->eobrun) {
        for (; k <= se; k++) {
            int rs = jb_huff(b, t), r = rs >> 4, s = rs & 15, val = 0;
            if (s) {
                val = jb_get(b, 1) ? p1 : -p1;
            } else if (r != 15) {
                d->eobrun = 1u << r;
                if (r) d->eobrun += (uint32_t)jb_get(b, r);
                break;
            }
            /* skip r zero coefficients (refining the nonzero ones passed) */
            do {
                int16_t *x = blk + jp_zz[k];
                if (*x) jp_refine(b, x, p1);
                else if (--r < 0) break;
                k++;
            } while (k <= se);
            if (val) blk[jp_zz[k]] = (int16_t)val;
        }
    }
    if (d->eobrun) {
        for (; k <= se; k++) {
            int16_t *x = blk + jp_zz[k];
            if (*x) jp_refine(b, x, p1);
        }
        d->eobrun--;
    }
}

/* Decodes the scan whose entropy-coded data starts at *pos; leaves *pos where
 * the search for the next marker resumes. */
static int jp_scan(jp_dec *d, size_t *pos)
{
    jp_bits *b = &d->bits;
    memset(b, 0, sizeof *b);
    b->p = d->data + *pos;
    b->end = d->data + d->size;
    d->eobrun = 0;
    d->next_rst = 0;
    d->togo = d->restart_interval;
    for (int i = 0; i < d->ns; i++) d->sc[i]->pred = 0;
    int mx, my;
    if (d->ns == 1) {
        mx = d->sc[0]->wb;
        my = d->sc[0]->hb;
    } else {
        mx = d->mcux;
        my = d->mcuy;
    }
    int16_t blk[64];
    for (int y = 0; y < my; y++) {
        for (int x = 0; x < mx; x++) {
            if (d->restart_interval) {
                if (d->togo == 0 && jp_restart(d)) return -1;
                d->togo--;
            }
            if (b->hit == 2) return jp_fail(d, CLIPVK_ERROR_FORMAT, TRUNCATED);
            int skip = b->empty; /* out of data: the rest of the interval stays zero */
            if (skip && d->progressive) continue;
            for (int i = 0; i < d->ns; i++) {
                jp_comp *c = d->sc[i];
                int nh = d->ns == 1 ? 1 : c->h, nv = d->ns == 1 ? 1 : c->v;
                for (int v = 0; v < nv; v++) {
                    for (int h = 0; h < nh; h++) {
                        size_t bx = d->ns == 1 ? (size_t)x : (size_t)x * (size_t)c->h + (size_t)h;
                        size_t by = d->ns == 1 ? (size_t)y : (size_t)y * (size_t)c->v + (size_t)v;
                        if (!d->progressive) {
                            int ac = 0;
                            if (skip) memset(blk, 0, sizeof blk);
                            else ac = jp_block_seq(b, &d->dc[c->td], &d->ac[c->ta], &c->pred, blk);
                            jp_idct(blk, c->q, c->plane + by * 8 * c->stride + bx * 8, c->stride, ac);
                            continue;
                        }
                        int16_t *cb = c->coef + (by * (size_t)c->bw + bx) * 64;
                        if (d->ss == 0) {
                            if (d->ah == 0) jp_dc_first(d, c, cb);
                            else if (jb_get(b, 1)) cb[0] = (int16_t)(cb[0] | (1 << d->al));
                        } else if (d->ah == 0) {
                            jp_ac_first(d, c, cb);
                        } else {
                            jp_ac_refine(d, c, cb);
                        }
                    }
                }
            }
        }
    }
    if (b->hit == 2) return jp_fail(d, CLIPVK_ERROR_FORMAT, TRUNCATED);
    *pos = (size_t)(b->p - d->data);
    return 0;
}

/* ---- Markers */

static int jp_sof(jp_dec *d, const uint8_t *s, size_t len, int marker, uint64_t max_pixels)
{
    if (d->have_sof) return jp_fail(d, CLIPVK_ERROR_FORMAT, "more than one frame header (SOF)");
    if (len < 6) return jp_fail(d, CLIPVK_ERROR_FORMAT, "bad frame header length");
    if (s[0] != 8)
        return jp_fail(d, CLIPVK_ERROR_UNSUPPORTED,
                       s[0] == 12 ? "12-bit JPEG is not supported" : "unsupported JPEG sample precision");
    d->height = s[1] << 8 | s[2];
    d->width = s[3] << 8 | s[4];
    d->ncomp = s[5];
    if (len != 6 + 3 * (size_t)d->ncomp) return jp_fail(d, CLIPVK_ERROR_FORMAT, "bad frame header length");
    if (!d->width || !d->height) return jp_fail(d, CLIPVK_ERROR_FORMAT, "image has no pixels (or uses a DNL marker)");
    if (d->ncomp != 1 && d->ncomp != 3 && d->ncomp != 4)
        return jp_fail(d, CLIPVK_ERROR_UNSUPPORTED, "only 1-, 3- and 4-component JPEGs are supported");
    d->progressive = marker == 0xC2;
    d->maxh = d->maxv = 1;
    for (int i = 0; i < d->ncomp; i++) {
        jp_comp *c = &d->comp[i];
        c->id = s[6 + 3 * i];
        c->h = s[7 + 3 * i] >> 4;
        c->v = s[7 + 3 * i] & 15;
        c->tq = s[8 + 3 * i];
        if (c->h < 1 || c->h > 4 || c->v < 1 || c->v > 4)
            return jp_fail(d, CLIPVK_ERROR_FORMAT, "bad sampling factors");
        if (c->tq > 3) return jp_fail(d, CLIPVK_ERROR_FORMAT, "bad quantization table index");
        if (c->h > d->maxh) d->maxh = c->h;
        if (c->v > d->maxv) d->maxv = c->v;
    }
    d->have_sof = 1;
    if ((uint64_t)d->width * (uint64_t)d->height > max_pixels) {
        d->over_limit = 1;
        return jp_fail(d, CLIPVK_ERROR_UNSUPPORTED, "image too large");
    }
    for (int i = 0; i < d->ncomp; i++)
        if (d->maxh % d->comp[i].h || d->maxv % d->comp[i].v)
            return jp_fail(d, CLIPVK_ERROR_UNSUPPORTED, "fractional chroma sampling is not supported");
    d->mcux = (d->width + 8 * d->maxh - 1) / (8 * d->maxh);
    d->mcuy = (d->height + 8 * d->maxv - 1) / (8 * d->maxv);
    for (int i = 0; i < d->ncomp; i++) {
        jp_comp *c = &d->comp[i];
        c->dw = (int)(((int64_t)d->width * c->h + d->maxh - 1) / d->maxh);
        c->dh = (int)(((int64_t)d->height * c->v + d->maxv - 1) / d->maxv);
        c->wb = (c->dw + 7) / 8;
        c->hb = (c->dh + 7) / 8;
        c->bw = d->mcux * c->h;
        c->bh = d->mcuy * c->v;
        c->stride = (size_t)c->bw * 8;
        size_t blocks = (size_t)c->bw * (size_t)c->bh;
        c->plane = malloc(blocks * 64);
        if (!c->plane) return jp_fail(d, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
        if (d->progressive) {
            c->coef = calloc(blocks, 64 * sizeof(int16_t));
            if (!c->coef) return jp_fail(d, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
        }
    }
    return 0;
}

static int jp_dht(jp_dec *d, const uint8_t *s, size_t len)
{
    while (len > 0) {
        if (len < 17) return jp_fail(d, CLIPVK_ERROR_FORMAT, "bad Huffman table segment");
        int tc = s[0] >> 4, th = s[0] & 15, n = 0;
        for (int i = 1; i <= 16; i++) n += s[i];
        if (tc > 1 || th > 3) return jp_fail(d, CLIPVK_ERROR_FORMAT, "bad Huffman table index");
        if (n > 256 || (size_t)n > len - 17) return jp_fail(d, CLIPVK_ERROR_FORMAT, "bad Huffman table");
        jp_huff_build(tc ? &d->ac[th] : &d->dc[th], s + 1, s + 17, n, !tc);
        s += 17 + n;
        len -= 17 + (size_t)n;
    }
    return 0;
}

static int jp_dqt(jp_dec *d, const uint8_t *s, size_t len)
{
    while (len > 0) {
        int pq = s[0] >> 4, tq = s[0] & 15;
        size_t need = 1 + (pq ? 128u : 64u);
        if (tq > 3 || pq > 1) return jp_fail(d, CLIPVK_ERROR_FORMAT, "bad quantization table");
        if (len < need) return jp_fail(d, CLIPVK_ERROR_FORMAT, "bad quantization table length");
        for (int k = 0; k < 64; k++) {
            unsigned v = pq ? (unsigned)(s[1 + 2 * k] << 8 | s[2 + 2 * k]) : s[1 + k];
            d->qt[tq][jp_zz[k]] = (int16_t)(uint16_t)v;
        }
        d->qt_defined[tq] = 1;
        s += need;
        len -= need;
    }
    return 0;
}

static int jp_sos(jp_dec *d, const uint8_t *s, size_t len)
{
    if (!d->have_sof) return jp_fail(d, CLIPVK_ERROR_FORMAT, "scan before the frame header");
    if (len < 1) return jp_fail(d, CLIPVK_ERROR_FORMAT, "bad scan header");
    int ns = s[0];
    if (ns < 1 || ns > 4 || len != 4 + 2 * (size_t)ns) return jp_fail(d, CLIPVK_ERROR_FORMAT, "bad scan header");
    d->ns = ns;
    int blocks = 0;
    for (int i = 0; i < ns; i++) {
        int id = s[1 + 2 * i], j;
        for (j = 0; j < d->ncomp && d->comp[j].id != id; j++) {}
        if (j == d->ncomp) return jp_fail(d, CLIPVK_ERROR_FORMAT, "scan names an unknown component");
        for (int k = 0; k < i; k++)
            if (d->sc[k] == &d->comp[j]) return jp_fail(d, CLIPVK_ERROR_FORMAT, "scan names a component twice");
        jp_comp *c = &d->comp[j];
        d->sc[i] = c;
        c->td = s[2 + 2 * i] >> 4;
        c->ta = s[2 + 2 * i] & 15;
        blocks += c->h * c->v;
    }
    d->ss = s[1 + 2 * ns];
    d->se = s[2 + 2 * ns];
    d->ah = s[3 + 2 * ns] >> 4;
    d->al = s[3 + 2 * ns] & 15;
    if (ns > 1 && blocks > 10) return jp_fail(d, CLIPVK_ERROR_FORMAT, "too many blocks in an MCU");
    if (d->progressive) {
        int bad = d->ss == 0 ? d->se != 0 : (d->ss > d->se || d->se > 63 || ns != 1);
        if (d->ah && d->al != d->ah - 1) bad = 1;
        if (d->al > 13) bad = 1;
        if (bad) return jp_fail(d, CLIPVK_ERROR_FORMAT, "bad progressive scan parameters");
    } else {
        if (d->scans == 0) d->single_scan = ns == d->ncomp;
        d->ss = 0;
        d->se = 63;
    }
    for (int i = 0; i < ns; i++) {
        jp_comp *c = d->sc[i];
        int need_dc = d->ss == 0 && d->ah == 0, need_ac = d->se > 0;
        if (c->td > 3 || c->ta > 3) return jp_fail(d, CLIPVK_ERROR_FORMAT, "bad Huffman table index");
        if ((need_dc && !d->dc[c->td].defined) || (need_ac && !d->ac[c->ta].defined))
            return jp_fail(d, CLIPVK_ERROR_FORMAT, "scan uses an undefined Huffman table");
        if ((need_dc && d->dc[c->td].bad) || (need_ac && d->ac[c->ta].bad))
            return jp_fail(d, CLIPVK_ERROR_FORMAT, "bad Huffman table");
        if (!c->latched) {
            if (!d->qt_defined[c->tq]) return jp_fail(d, CLIPVK_ERROR_FORMAT, "scan uses an undefined quantization table");
            memcpy(c->q, d->qt[c->tq], sizeof c->q);
            c->latched = 1;
        }
        c->scanned = 1;
    }
    return 0;
}

static void jp_app(jp_dec *d, int marker, const uint8_t *s, size_t len)
{
    if (marker == 0xE0 && len >= 14 && !memcmp(s, "JFIF", 5)) d->jfif = 1;
    if (marker == 0xEE && len >= 12 && !memcmp(s, "Adobe", 5)) {
        d->adobe = 1;
        d->adobe_transform = s[11];
    }
}

/* Walks the markers from SOI to EOI, decoding each scan. */
static int jp_parse(jp_dec *d, uint64_t max_pixels)
{
    const uint8_t *end = d->data + d->size;
    size_t pos = 2;
    for (;;) {
        const uint8_t *mp = jp_find_marker(d->data + pos, end);
        if (!mp) return jp_fail(d, CLIPVK_ERROR_FORMAT, TRUNCATED);
        int m = mp[1];
        pos = (size_t)(mp + 2 - d->data);
        if (m == 0xD9) break;
        if ((m >= 0xD0 && m <= 0xD7) || m == 0x01) continue; /* parameterless */
        if (m == 0xD8) return jp_fail(d, CLIPVK_ERROR_FORMAT, "second start-of-image marker");
        if (d->size - pos < 2) return jp_fail(d, CLIPVK_ERROR_FORMAT, TRUNCATED);
        size_t len = (size_t)(d->data[pos] << 8 | d->data[pos + 1]);
        if (len < 2) return jp_fail(d, CLIPVK_ERROR_FORMAT, "bad marker segment length");
        if (d->size - pos < len) return jp_fail(d, CLIPVK_ERROR_FORMAT, TRUNCATED);
        const uint8_t *s = d->data + pos + 2;
        len -= 2;
        pos += len + 2;
        int r = 0;
        switch (m) {
        case 0xC0: case 0xC1: case 0xC2: r = jp_sof(d, s, len, m, max_pixels); break;
        case 0xC3: case 0xC7: case 0xCB: case 0xCF: r = jp_fail(d, CLIPVK_ERROR_UNSUPPORTED, "lossless JPEG is not supported"); break;
        case 0xC5: case 0xC6: case 0xCD: case 0xCE:
            r = jp_fail(d, CLIPVK_ERROR_UNSUPPORTED, "hierarchical JPEG is not supported");
            break;
        case 0xC9: case 0xCA:
            r = jp_fail(d, CLIPVK_ERROR_UNSUPPORTED, "arithmetic-coded JPEG is not supported");
            break;
        case 0xC4: r = jp_dht(d, s, len); break;
        case 0xDB: r = jp_dqt(d, s, len); break;
        case 0xDD:
            if (len != 2) r = jp_fail(d, CLIPVK_ERROR_FORMAT, "bad restart interval segment");
            else d->restart_interval = s[0] << 8 | s[1];
            break;
        case 0xDA:
            if (d->done_single) break; /* libjpeg reads nothing after a complete single scan */
            r = jp_sos(d, s, len);
            if (!r) r = jp_scan(d, &pos);
            d->scans++;
            if (!d->progressive && d->single_scan) d->done_single = 1;
            break;
        case 0xCC: case 0xDC: case 0xFE: break; /* DAC (arithmetic only), DNL, COM */
        default:
            if (m >= 0xE0 && m <= 0xEF) jp_app(d, m, s, len);
            else r = jp_fail(d, CLIPVK_ERROR_FORMAT, "unknown marker");
        }
        if (r) return r;
    }
    if (!d->have_sof || d->scans == 0) return jp_fail(d, CLIPVK_ERROR_FORMAT, "no image data before the end-of-image marker");
    return 0;
}

/* ---- Output: upsampling and colour conversion, one row at a time */

static int32_t tab_crr[256], tab_cbb[256], tab_crg[256], tab_cbg[256];
static uint8_t tab_clamp[1024];

#define JP_FIX16(x) ((int32_t)((x) * 65536 + 0.5))

static int32_t jp_shr16(int32_t x) { return (int32_t)(((int64_t)x + ((int64_t)1 << 40)) >> 16) - (1 << 24); }

static void jp_init_tables(void)
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

/* Component c's samples for output row y, upsampled to the full width, in
 * tmp (or straight from the plane). */
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
        /* both directions: column sums 3*near + far, then 3:1 across with biases 8 / 7 */
        int prev, cur = 3 * near[0] + far[0], next = 3 * near[1] + far[1];
        tmp[0] = (uint8_t)((4 * cur + 8) >> 4);
        tmp[1] = (uint8_t)((3 * cur + next + 7) >> 4);
        for (int x = 1; x < dw - 1; x++) {
            prev = cur;
            cur = next;
            next = 3 * near[x + 1] + far[x + 1];
            tmp[2 * x] = (uint8_t)((3 * cur + prev + 8) >> 4);
            tmp[2 * x + 1] = (uint8_t)((3 * cur + next + 7) >> 4);
        }
        prev = cur;
        cur = next;
        tmp[2 * dw - 2] = (uint8_t)((3 * cur + prev + 8) >> 4);
        tmp[2 * dw - 1] = (uint8_t)((4 * cur + 7) >> 4);
        return tmp;
    }
    if (rh == 2 && rv == 1 && dw > 2) { /* horizontal triangle filter */
        tmp[0] = near[0];
        tmp[1] = (uint8_t)((3 * near[0] + near[1] + 2) >> 2);
        for (int x = 1; x < dw - 1; x++) {
            tmp[2 * x] = (uint8_t)((3 * near[x] + near[x - 1] + 1) >> 2);
            tmp[2 * x + 1] = (uint8_t)((3 * near[x] + near[x + 1] + 2) >> 2);
        }
        tmp[2 * dw - 2] = (uint8_t)((3 * near[dw - 1] + near[dw - 2] + 1) >> 2);
        tmp[2 * dw - 1] = near[dw - 1];
        return tmp;
    }
    for (int x = 0; x < d->width; x++) tmp[x] = near[x / rh]; /* replication */
    return tmp;
}

static int jp_colour_space(const jp_dec *d)
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

static int jp_output(jp_dec *d, uint8_t *rgb)
{
    int w = d->width, cs = jp_colour_space(d);
    size_t tmpw = (size_t)w + 64;
    uint8_t *tmp = malloc(tmpw * 4);
    if (!tmp) return jp_fail(d, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
    for (int y = 0; y < d->height; y++) {
        const uint8_t *r[4];
        for (int i = 0; i < d->ncomp; i++) r[i] = jp_row(d, &d->comp[i], y, tmp + tmpw * (size_t)i);
        uint8_t *o = rgb + (size_t)y * (size_t)w * 3;
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
            for (int x = 0; x < w; x++) {
                int yy = r[0][x], cb = r[1][x], cr = r[2][x];
                o[3 * x] = jp_clamp(yy + tab_crr[cr]);
                o[3 * x + 1] = jp_clamp(yy + jp_goff(cb, cr));
                o[3 * x + 2] = jp_clamp(yy + tab_cbb[cb]);
            }
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
    free(tmp);
    return 0;
}

/* After the last scan: progressive coefficients through the IDCT; components
 * no scan covered are mid-grey (zero coefficients), as in libjpeg. */
static void jp_finish_planes(jp_dec *d)
{
    for (int i = 0; i < d->ncomp; i++) {
        jp_comp *c = &d->comp[i];
        if (!c->scanned) {
            memset(c->plane, 128, (size_t)c->bw * (size_t)c->bh * 64);
            continue;
        }
        if (!d->progressive) continue;
        for (int by = 0; by < c->hb; by++)
            for (int bx = 0; bx < c->wb; bx++) {
                const int16_t *cb = c->coef + ((size_t)by * (size_t)c->bw + (size_t)bx) * 64;
                int ac = 0;
                for (int k = 1; k < 64 && !ac; k++) ac = cb[k] != 0;
                jp_idct(cb, c->q, c->plane + (size_t)by * 8 * c->stride + (size_t)bx * 8, c->stride, ac);
            }
    }
}

static void jp_init_once(void)
{
    jp_init_tables();
    jp_init_zigzag();
#ifdef JP_SSE2
    jp_init_matrix();
#endif
}

int clipvk_jpeg_is(const void *data, size_t size)
{
    const uint8_t *p = data;
    return size >= 3 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF;
}

clipvk_status clipvk_jpeg_decode(const char *name, const void *data, size_t size, uint64_t max_pixels,
                                 clipvk_image *out, clipvk_error *err)
{
    memset(out, 0, sizeof *out);
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, jp_init_once);
    if (!clipvk_jpeg_is(data, size)) return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: not a JPEG file", name);
    if (!max_pixels) max_pixels = CLIPVK_IMAGE_DEFAULT_MAX_PIXELS;
    jp_dec *d = calloc(1, sizeof *d);
    if (!d) return clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "%s: out of host memory", name);
    d->data = data;
    d->size = size;
    for (int i = 0; i < 2; i++) {
        uint8_t dcv[12];
        for (int k = 0; k < 12; k++) dcv[k] = (uint8_t)k;
        jp_huff_build(&d->dc[i], std_dc_counts[i], dcv, 12, 1);
        jp_huff_build(&d->ac[i], std_ac_counts[i], std_ac_vals[i], 162, 0);
    }
    uint8_t *rgb = NULL;
    clipvk_status st = CLIPVK_OK;
    if (jp_parse(d, max_pixels) == 0) {
        jp_finish_planes(d);
        rgb = malloc((size_t)d->width * (size_t)d->height * 3);
        if (!rgb) jp_fail(d, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
        else if (jp_output(d, rgb)) {
            free(rgb);
            rgb = NULL;
        }
    }
    if (d->over_limit)
        st = clipvk_fail(err, CLIPVK_ERROR_UNSUPPORTED, "%s: %dx%d image is larger than the limit of %llu pixels", name,
                         d->width, d->height, (unsigned long long)max_pixels);
    else if (d->why)
        st = clipvk_fail(err, d->status, "%s: %s%s", name, d->status == CLIPVK_ERROR_FORMAT && strncmp(d->why, "trunc", 5) ? "corrupt JPEG: " : "", d->why);
    if (!st) {
        out->width = (uint32_t)d->width;
        out->height = (uint32_t)d->height;
        out->stride = (size_t)d->width * 3;
        out->rgb = rgb;
        out->owned = rgb;
    }
    for (int i = 0; i < 4; i++) {
        free(d->comp[i].plane);
        free(d->comp[i].coef);
    }
    free(d);
    return st;
}
