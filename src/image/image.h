/*
 * Images as clipvk's preprocessing sees them: 8-bit RGB, rows `stride`
 * bytes apart. Decoding (decode.c) turns every accepted file into this the
 * way PIL's Image.open(path).convert("RGB") does, so that what follows can
 * be bit-exact to the reference; preprocess.c resizes, crops and
 * normalises; batch.c does both for many files on several threads.
 */
#ifndef CLIPVK_IMAGE_IMAGE_H
#define CLIPVK_IMAGE_IMAGE_H

#include <stddef.h>
#include <stdint.h>
#include "util/error.h"

/* Images with more pixels than this are refused before any pixel memory is
 * allocated, unless the caller gives its own limit. */
#define CLIPVK_IMAGE_DEFAULT_MAX_PIXELS (16384ull * 16384ull)
/* Image files larger than this are refused before they are read. */
#define CLIPVK_IMAGE_MAX_FILE_BYTES (1ull << 30)

typedef struct clipvk_image {
    uint32_t width, height;
    size_t stride;      /* bytes from one row to the next, >= 3 * width */
    const uint8_t *rgb; /* row-major R, G, B bytes */
    uint8_t *owned;     /* what clipvk_image_free releases; NULL for a view */
} clipvk_image;

/* Decodes an image file: JPEG (baseline and progressive), PNG (1-16 bit,
 * grey, palette, alpha), BMP, GIF (first frame), TGA, binary PNM (P5/P6).
 * Grey becomes RGB, alpha is dropped without compositing and 16-bit samples
 * become 8-bit, each as PIL 9.4's convert("RGB") does. max_pixels = 0 means
 * CLIPVK_IMAGE_DEFAULT_MAX_PIXELS. Failures name the file. A large JPEG is
 * decoded on up to `threads` threads (0: one per core; image/parallel.h). */
clipvk_status clipvk_image_load(const char *path, uint64_t max_pixels, unsigned threads, clipvk_image *out,
                                clipvk_error *err);

/* The same for an image already in memory; `name` is used in messages. */
clipvk_status clipvk_image_decode(const char *name, const void *data, size_t size, uint64_t max_pixels,
                                  unsigned threads, clipvk_image *out, clipvk_error *err);

/* Wraps the caller's RGB8 pixels (rows `stride` bytes apart, stride >=
 * 3 * width) without copying: the buffer must outlive the image. */
clipvk_status clipvk_image_from_rgb8(const uint8_t *rgb, uint32_t width, uint32_t height, size_t stride,
                                     clipvk_image *out, clipvk_error *err);

/* The caller's pixels in any clipvk_pixel_format (clipvk.h): RGB8 is
 * wrapped without copying (the buffer must outlive the image), RGBA8 and
 * BGRA8 are copied to packed RGB with the alpha dropped (as PIL's
 * convert("RGB")). `what` names the image in messages. */
clipvk_status clipvk_image_from_pixels(const char *what, const void *data, uint32_t width, uint32_t height,
                                       size_t stride, clipvk_pixel_format format, clipvk_image *out, clipvk_error *err);

/* Releases what clipvk_image_load/decode allocated; safe on views and on a
 * zeroed image. */
void clipvk_image_free(clipvk_image *img);

#endif
