/* The caller's RGBA / BGRA / RGB pixels as the RGB image preprocessing takes. */
#include "image/image.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

clipvk_status clipvk_image_from_pixels(const char *what, const void *data, uint32_t width, uint32_t height,
                                       size_t stride, clipvk_pixel_format format, clipvk_image *out, clipvk_error *err)
{
    memset(out, 0, sizeof *out);
    if (format == CLIPVK_PIXELS_RGB8) return clipvk_image_from_rgb8(data, width, height, stride, out, err);
    if (format != CLIPVK_PIXELS_RGBA8 && format != CLIPVK_PIXELS_BGRA8)
        return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT, "%s: unknown pixel format %d", what, (int)format);
    const char *fmt = format == CLIPVK_PIXELS_RGBA8 ? "RGBA8" : "BGRA8";
    if (!data || !width || !height || stride / 4 < width)
        return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT,
                           "%s: bad %s buffer (%ux%u, stride %zu: need a pixel and stride >= 4 * width)", what, fmt,
                           width, height, stride);
    if (stride > (SIZE_MAX >> 1) / height || (size_t)width * 3 > SIZE_MAX / height)
        return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT, "%s: %ux%u with stride %zu is larger than any buffer",
                           what, width, height, stride);
    uint8_t *rgb = malloc((size_t)width * 3 * height);
    if (!rgb) return clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "%s: out of host memory", what);
    /* RGBA: R at byte 0; BGRA: R at byte 2. */
    size_t r = format == CLIPVK_PIXELS_RGBA8 ? 0 : 2, b = 2 - r;
    for (uint32_t y = 0; y < height; y++) {
        const uint8_t *src = (const uint8_t *)data + (size_t)y * stride;
        uint8_t *dst = rgb + (size_t)y * width * 3;
        for (uint32_t x = 0; x < width; x++, src += 4, dst += 3) {
            dst[0] = src[r];
            dst[1] = src[1];
            dst[2] = src[b];
        }
    }
    out->width = width;
    out->height = height;
    out->stride = (size_t)width * 3;
    out->rgb = rgb;
    out->owned = rgb;
    return CLIPVK_OK;
}
