/*
 * Pillow's Image.resize(size, Image.BICUBIC) for RGB8 images, bit-exact to
 * Pillow 9.4 (libImaging/Resample.c): the antialiased cubic (a = -0.5)
 * whose support widens with the downscale factor, coefficients rounded to
 * 22-bit integers, a horizontal pass then a vertical one, each rounded and
 * clamped to 8 bits, and a pass skipped when its dimension is unchanged.
 * This is what torchvision's Resize does to a PIL image, and so what the
 * reference CLIP preprocessing computes.
 */
#ifndef CLIPVK_IMAGE_RESIZE_H
#define CLIPVK_IMAGE_RESIZE_H

#include <stddef.h>
#include <stdint.h>
#include "util/error.h"

/* Resizes the sw x sh RGB8 image at src (rows sstride bytes apart) to
 * ow x oh, but computes only the window of the result that starts at
 * (x0, y0) and is win_w x win_h — each output pixel depends only on its own
 * coefficients, so a window is bit-identical to the same region of the full
 * result, and a centre crop need not pay for the pixels it discards. The
 * window is written to dst, rows dstride bytes apart. */
clipvk_status clipvk_resize_bicubic(const uint8_t *src, uint32_t sw, uint32_t sh, size_t sstride, uint32_t ow,
                                    uint32_t oh, uint32_t x0, uint32_t y0, uint32_t win_w, uint32_t win_h,
                                    uint8_t *dst, size_t dstride, clipvk_error *err);

#endif
