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
 *
 * This file reads the markers and builds the Huffman tables; the
 * entropy-coded data is in jpeg_scan.c, the IDCT in jpeg_idct.c, upsampling
 * and colour in jpeg_color.c, the state they share in jpeg_internal.h.
 */
#include "image/jpeg_internal.h"
#include "image/parallel.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

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

/* ---- Markers */

int jp_fail(jp_dec *d, clipvk_status s, const char *why)
{
    if (!d->why) {
        d->why = why;
        d->status = s;
    }
    return -1;
}

const uint8_t *jp_find_marker(const uint8_t *p, const uint8_t *end)
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
    return jp_output_begin(d);
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
    }
    if (d->scans == 0) d->cs = jp_colour_space(d); /* libjpeg decides at the first scan header */
    if (!d->progressive) { /* libjpeg warns about other values and decodes sequentially */
        d->ss = 0;
        d->se = 63;
        d->ah = d->al = 0; /* (a stray Ah once skipped the DC table check below: fuzz_image) */
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
        if (!mp) return jp_fail(d, CLIPVK_ERROR_FORMAT, JP_TRUNCATED);
        int m = mp[1];
        pos = (size_t)(mp + 2 - d->data);
        if (m == 0xD9) break;
        if ((m >= 0xD0 && m <= 0xD7) || m == 0x01) continue; /* parameterless */
        if (m == 0xD8) return jp_fail(d, CLIPVK_ERROR_FORMAT, "second start-of-image marker");
        if (d->size - pos < 2) return jp_fail(d, CLIPVK_ERROR_FORMAT, JP_TRUNCATED);
        size_t len = (size_t)(d->data[pos] << 8 | d->data[pos + 1]);
        if (len < 2) return jp_fail(d, CLIPVK_ERROR_FORMAT, "bad marker segment length");
        if (d->size - pos < len) return jp_fail(d, CLIPVK_ERROR_FORMAT, JP_TRUNCATED);
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

static void jp_init_once(void)
{
    jp_color_init();
    jp_zigzag_init();
    jp_idct_init();
}

int clipvk_jpeg_is(const void *data, size_t size)
{
    const uint8_t *p = data;
    return size >= 3 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF;
}

/* The frame's size from its header, found by skipping marker segments
 * (only to choose the number of threads: jp_parse reads it properly). */
static int jp_peek_size(const uint8_t *p, size_t n, int *w, int *h)
{
    size_t i = 2;
    while (i + 4 <= n) {
        if (p[i] != 0xFF) return 0;
        int m = p[i + 1];
        if (m == 0xFF) {
            i++;
            continue;
        }
        if (m == 0xD8 || m == 0xD9 || m == 0xDA) return 0;
        if ((m >= 0xD0 && m <= 0xD7) || m == 0x01) {
            i += 2;
            continue;
        }
        size_t len = (size_t)(p[i + 2] << 8 | p[i + 3]);
        if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) {
            if (len < 7 || i + 9 > n) return 0;
            *h = p[i + 5] << 8 | p[i + 6];
            *w = p[i + 7] << 8 | p[i + 8];
            return 1;
        }
        if (len < 2) return 0;
        i += 2 + len;
    }
    return 0;
}

clipvk_status clipvk_jpeg_decode(const char *name, const void *data, size_t size, uint64_t max_pixels,
                                 unsigned threads, clipvk_image *out, clipvk_error *err)
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
    clipvk_status st = CLIPVK_OK;
    int pw, ph;
    unsigned nt = jp_peek_size(d->data, d->size, &pw, &ph) ? clipvk_image_threads(threads, (uint64_t)pw * (uint64_t)ph) : 1;
    jp_run(d, jp_parse, max_pixels, nt);
    uint8_t *rgb = d->why ? NULL : d->rgb;
    if (!rgb) free(d->rgb);
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
