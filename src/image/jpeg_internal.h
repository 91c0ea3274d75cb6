/*
 * The pieces of clipvk's JPEG decoder (jpeg.c: markers and entropy-coded
 * data; jpeg_idct.c: the inverse DCT; jpeg_color.c: upsampling and colour
 * conversion) and the decoder state they share.
 */
#ifndef CLIPVK_JPEG_INTERNAL_H
#define CLIPVK_JPEG_INTERNAL_H

#include "image/jpeg.h"

#include <stddef.h>
#include <stdint.h>

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

/* Records a failure (the first one wins); returns -1. */
int jp_fail(jp_dec *d, clipvk_status s, const char *why);

/* jpeg_idct.c: dequantises and inverse-transforms one block of coefficients
 * (natural order) into 8x8 samples at out (rows `stride` apart); ac == 0
 * when only the DC coefficient is non-zero. */
void jp_idct(const int16_t *in, const int16_t *q, uint8_t *out, size_t stride, int ac);
void jp_idct_init(void);

/* jpeg_color.c: the decoded planes upsampled and converted to RGB. */
void jp_color_init(void);
void jp_finish_planes(jp_dec *d);
int jp_output(jp_dec *d, uint8_t *rgb);

#endif
