/*
 * Pillow's Image.resize(size, filter) for RGB8 images, bit-exact to Pillow
 * 9.4. BICUBIC and BILINEAR (libImaging/Resample.c): the antialiased cubic
 * (a = -0.5, support 2) or triangle (support 1), the support widened by the
 * downscale factor, coefficients rounded to 22-bit integers, a horizontal
 * pass then a vertical one, each rounded and clamped to 8 bits, and a pass
 * skipped when its dimension is unchanged. NEAREST: Pillow's affine scaling
 * (Geometry.c). Bicubic is what torchvision's Resize does to a PIL image for
 * CLIP and what SigLIP's processor does; SigLIP 2's is bilinear.
 */
#ifndef CLIPVK_IMAGE_RESIZE_H
#define CLIPVK_IMAGE_RESIZE_H

#include <stddef.h>
#include <stdint.h>
#include "util/error.h"

/* PIL's filter numbers, as preprocessor_config.json's "resample" gives them
 * (LANCZOS 1, BOX 4 and HAMMING 5 are not implemented). */
typedef enum clipvk_resample {
    CLIPVK_RESAMPLE_NEAREST = 0,
    CLIPVK_RESAMPLE_BILINEAR = 2,
    CLIPVK_RESAMPLE_BICUBIC = 3
} clipvk_resample;

/* Resizes the sw x sh RGB8 image at src (rows sstride bytes apart) to
 * ow x oh with `filter`, but computes only the window of the result that starts at
 * (x0, y0) and is win_w x win_h — each output pixel depends only on its own
 * coefficients, so a window is bit-identical to the same region of the full
 * result, and a centre crop need not pay for the pixels it discards. The
 * window is written to dst, rows dstride bytes apart. A large image is
 * resized on up to `threads` threads (0: one per core), in bands of rows;
 * the result does not depend on the number. */
clipvk_status clipvk_resize(const uint8_t *src, uint32_t sw, uint32_t sh, size_t sstride, clipvk_resample filter,
                            uint32_t ow, uint32_t oh, uint32_t x0, uint32_t y0, uint32_t win_w, uint32_t win_h,
                            uint8_t *dst, size_t dstride, unsigned threads, clipvk_error *err);

/* The row kernels (tests/test_image_kernels.c compares them): the
 * horizontal pass on one row, the vertical pass for one output row. kk:
 * `ksize` coefficients per output; see resize.c for kp and npairs. */
void clipvk_resize_row_h_c(const uint8_t *in, const int *lo, const int *n, const int32_t *kk, int ksize, uint32_t count,
                           uint8_t *out);
void clipvk_resize_row_v_c(const uint8_t *src, size_t sstride, int n, const int32_t *k, size_t m, uint8_t *out,
                           int32_t *acc);
/* n coefficients (|k| < 2^31 - 2^15) as npairs pairs of taps, each pair
 * 16 int16: (kl, kl') x 4 then (kh, kh') x 4, k = kh * 65536 + kl; taps
 * from n on weigh 0. kp: 16-byte aligned. */
void clipvk_resize_split_pairs(const int32_t *k, int n, int16_t *kp, int npairs);
#if defined(__SSE2__) && !defined(CLIPVK_IMAGE_NO_SIMD)
void clipvk_resize_row_h_sse2(const uint8_t *in0, const uint8_t *in1, uint32_t sw, const int *lo, const int *n,
                              const int32_t *kk, int ksize, const int16_t *kp, int npairs, uint32_t count,
                              uint8_t *out0, uint8_t *out1);
void clipvk_resize_row_v_sse2(const uint8_t *src, size_t sstride, int n, const int32_t *k, const int16_t *kp,
                              size_t m, uint8_t *out);
#endif

#endif
