/*
 * JPEG decoding (jpeg.c): libjpeg-turbo set up as PIL 9.4 sets it up, so
 * the pixels are PIL's Image.open(path).convert("RGB") bit for bit.
 */
#ifndef CLIPVK_IMAGE_JPEG_H
#define CLIPVK_IMAGE_JPEG_H

#include <stddef.h>
#include <stdint.h>
#include "image/image.h"
#include "util/error.h"

/* Does the data start like a JPEG file (SOI followed by a marker)? */
int clipvk_jpeg_is(const void *data, size_t size);

/* Decodes a JPEG file to RGB8 (out->owned holds the pixels). Images with
 * more than max_pixels pixels (nonzero) are refused from the frame header,
 * before any pixel memory is allocated. Errors name `name` in one line.
 * `threads` is kept for the callers: libjpeg-turbo decodes one image on
 * the calling thread (several images decode at once on several threads). */
clipvk_status clipvk_jpeg_decode(const char *name, const void *data, size_t size, uint64_t max_pixels,
                                 unsigned threads, clipvk_image *out, clipvk_error *err);

#endif
