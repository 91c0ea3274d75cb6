/*
 * The pieces of clipvk's JPEG decoder (jpeg.c: markers and Huffman tables;
 * jpeg_scan.c: entropy-coded data; jpeg_idct.c: the inverse DCT;
 * jpeg_color.c: upsampling and colour conversion) and the decoder state
 * they share.
 */
#ifndef CLIPVK_JPEG_INTERNAL_H
#define CLIPVK_JPEG_INTERNAL_H

#include "image/jpeg.h"

#include <pthread.h>
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
    /* Output (jpeg_color.c): the RGB pixels, written in chunks of image rows
     * by every thread of the decode while the calling thread decodes the
     * entropy-coded data; the fields below `lock` are shared under it. */
    uint8_t *rgb;
    int cs;                 /* colour space, fixed at the first scan */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int ready;              /* image rows whose samples are final in every plane (INT32_MAX: all) */
    int stop;               /* no more output: failed, or every chunk claimed */
    int nchunks, next_chunk, chunk_rows; /* nchunks < 0: the frame is not known yet */
    /* IDCT units: MCU rows (block rows of a one-component scan) whose
     * coefficients wait for the IDCT: a progressive file's after its last
     * scan; a single sequential scan's, on several threads, in a ring of
     * JP_RING units that thread 0 fills and every thread empties. */
    int idct_units, idct_avail, next_idct, idct_prefix, unit_rows;
    uint8_t *idct_done;
    unsigned nthreads;
    int16_t *ring;         /* JP_RING slots of ring_blocks blocks */
    uint8_t *ring_ac;      /* per block: any AC coefficient nonzero */
    size_t ring_blocks;
    int ring_ns, ring_vv[4], ring_bw[4];
    size_t ring_off[4];
    jp_comp *ring_comp[4];
} jp_dec;

#define JP_RING 16

#define JP_TRUNCATED "truncated JPEG (the data ends before the end-of-image marker)"

/* Records a failure (the first one wins); returns -1. */
int jp_fail(jp_dec *d, clipvk_status s, const char *why);
/* From p, the next marker as libjpeg's next_marker finds it (skipping any
 * bytes that are not one): returns a pointer to its last 0xFF, or NULL at the
 * end of the data. */
const uint8_t *jp_find_marker(const uint8_t *p, const uint8_t *end);

/* jpeg_scan.c: zigzag order -> natural index, 80 entries (see jp_zigzag_init). */
extern uint8_t jp_zz[80];
void jp_zigzag_init(void);
/* Decodes the scan whose header jp_sos has read and whose entropy-coded data
 * starts at *pos; leaves *pos where the search for the next marker resumes.
 * Returns 0 or -1 (jp_fail). */
int jp_scan(jp_dec *d, size_t *pos);

/* jpeg_idct.c: dequantises and inverse-transforms one block of coefficients
 * (natural order) into 8x8 samples at out (rows `stride` apart); ac == 0
 * when only the DC coefficient is non-zero. */
void jp_idct(const int16_t *in, const int16_t *q, uint8_t *out, size_t stride, int ac);
void jp_idct_init(void);

/* jpeg_color.c: the decoded planes upsampled and converted to RGB. */
void jp_color_init(void);
int jp_colour_space(const jp_dec *d);
/* Sets up the output once the frame header is read (allocates d->rgb). */
int jp_output_begin(jp_dec *d);
/* The sequential decoder says that image rows [0, rows) of every plane are final. */
void jp_publish(jp_dec *d, int rows);
/* Several threads, single sequential scan: sets up the ring for the scan
 * in d->sc (0, or -1 out of memory); jp_ring_block is where block (v, bx)
 * of scan component i of unit y goes; jp_ring_done hands unit y to the
 * IDCT and returns when the slot of unit y + 1 is free. */
int jp_ring_begin(jp_dec *d, int units);
int16_t *jp_ring_block(jp_dec *d, int y, int i, int v, size_t bx, uint8_t **ac);
void jp_ring_done(jp_dec *d, int y);
/* Decodes (jp_parse, on the calling thread) and converts to RGB on `threads`
 * threads; returns 0 or -1 (d->why says why). */
int jp_run(jp_dec *d, int (*parse)(jp_dec *d, uint64_t max_pixels), uint64_t max_pixels, unsigned threads);

/* Row kernels (jpeg_color.c), plain C and, where built, SSE2; the same
 * results (tests/test_image_kernels.c checks them against each other). */
void jp_h2v2_c(const uint8_t *near, const uint8_t *far, int dw, uint8_t *out);
void jp_h2v1_c(const uint8_t *in, int dw, uint8_t *out);
void jp_ycc_rgb_c(const uint8_t *y, const uint8_t *cb, const uint8_t *cr, int w, uint8_t *rgb);
#if defined(__SSE2__) && !defined(CLIPVK_IMAGE_NO_SIMD)
#define JP_COLOR_SSE2 1
void jp_h2v2_sse2(const uint8_t *near, const uint8_t *far, int dw, uint8_t *out);
void jp_h2v1_sse2(const uint8_t *in, int dw, uint8_t *out);
void jp_ycc_rgb_sse2(const uint8_t *y, const uint8_t *cb, const uint8_t *cr, int w, uint8_t *rgb);
#endif

#endif
