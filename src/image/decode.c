/*
 * Decoding with stb_image, then the conversions PIL 9.4 makes when a file
 * is opened and converted to RGB, where they differ from stb's:
 *  - 16-bit grey PNG opens in PIL as mode "I" (the 16-bit value as an
 *    integer) and convert("RGB") clamps it to 0..255 — it does not scale.
 *    16-bit RGB, RGBA and grey+alpha PNGs keep the high byte, as stb does.
 *  - PNM with maxval other than 255 (8-bit) or 65535 (16-bit) is rescaled
 *    by PIL to round(v / maxval * max) with round-half-even; stb does not
 *    rescale. 16-bit grey PNM is mode "I" again (clamped). PNM is simple
 *    enough that we read its samples ourselves (pnm_decode).
 * JPEG does not go through stb: its IDCT, chroma upsampling and colour
 * conversion are not libjpeg-turbo's, which PIL uses, so jpeg.c decodes
 * JPEG with libjpeg-turbo set up as PIL sets it up (exact to PIL, truncated
 * files refused as PIL refuses them).
 */
#include "image/image.h"
#include "image/jpeg.h"
#include "image/stb.h"
#include "util/file.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A PNG chunk whose length runs past the end of the file: stb 2.27 grows its
 * IDAT buffer to the claimed length (up to 2 GiB from a 100-byte file)
 * before it finds the data missing. PIL refuses such files as truncated,
 * and so do we, before stb sees them. Chunks are walked up to IEND. */
static int png_truncated(const uint8_t *p, size_t n)
{
    size_t i = 8;
    while (n - i >= 8) {
        uint64_t len = (uint64_t)p[i] << 24 | (uint64_t)p[i + 1] << 16 | (uint64_t)p[i + 2] << 8 | p[i + 3];
        if (len + 12 > n - i) return 1; /* length, type, data, CRC */
        if (!memcmp(p + i + 4, "IEND", 4)) return 0;
        i += 12 + (size_t)len;
    }
    return 0; /* no IEND: stb refuses that itself */
}

/* Binary PNM header: magic 5 (grey) or 6 (RGB), maxval, and where the
 * samples start. Returns 0 if this is not a P5/P6 file stb would read. */
typedef struct pnm_header {
    int magic;
    unsigned long width, height, maxval;
    size_t data;
} pnm_header;

static int pnm_number(const uint8_t *p, size_t n, size_t *i, unsigned long *v)
{
    for (;;) { /* whitespace and # comments, as the format allows */
        while (*i < n && (p[*i] == ' ' || (p[*i] >= '\t' && p[*i] <= '\r'))) (*i)++;
        if (*i < n && p[*i] == '#') {
            while (*i < n && p[*i] != '\n' && p[*i] != '\r') (*i)++;
            continue;
        }
        break;
    }
    if (*i >= n || p[*i] < '0' || p[*i] > '9') return 0;
    unsigned long x = 0;
    while (*i < n && p[*i] >= '0' && p[*i] <= '9') {
        if (x > 100000000ul) return 0;
        x = x * 10 + (unsigned long)(p[(*i)++] - '0');
    }
    *v = x;
    return 1;
}

static int pnm_parse(const uint8_t *p, size_t n, pnm_header *h)
{
    if (n < 3 || p[0] != 'P' || (p[1] != '5' && p[1] != '6')) return 0;
    size_t i = 2;
    h->magic = p[1] - '0';
    if (!pnm_number(p, n, &i, &h->width) || !pnm_number(p, n, &i, &h->height) || !pnm_number(p, n, &i, &h->maxval))
        return 0;
    h->data = i + 1; /* exactly one whitespace byte after maxval */
    return 1;
}

/* Python's round() of a double: half to even, the default rounding mode. */
static unsigned long pil_rescale(unsigned long v, unsigned long maxval, unsigned long out_max)
{
    double r = nearbyint((double)v / (double)maxval * (double)out_max);
    return r >= (double)out_max ? out_max : (unsigned long)r;
}

/* P5/P6 samples (length already checked) to RGB8 as PIL 9.4 reads them:
 * maxval 255 as is; other 8-bit maxvals and 16-bit RGB rescaled to 0..255;
 * 16-bit grey is mode I (rescaled to 0..65535 unless maxval is 65535), and
 * convert("RGB") then clamps it. Our own loop: stb 2.27 reads 16-bit PNM
 * samples in the wrong byte order. */
static void pnm_decode(const pnm_header *h, const uint8_t *d, size_t npix, uint8_t *rgb)
{
    int ch = h->magic == 6 ? 3 : 1, wide = h->maxval > 255;
    for (size_t i = 0; i < npix * (size_t)ch; i++) {
        unsigned long v = wide ? (unsigned long)d[2 * i] << 8 | d[2 * i + 1] : d[i];
        if (ch == 3 || !wide) v = h->maxval == 255 ? (v > 255 ? 255 : v) : pil_rescale(v, h->maxval, 255);
        else if (h->maxval != 65535) v = pil_rescale(v, h->maxval, 65535);
        uint8_t b = v > 255 ? 255 : (uint8_t)v;
        if (ch == 3) rgb[i] = b;
        else rgb[i * 3] = rgb[i * 3 + 1] = rgb[i * 3 + 2] = b;
    }
}

/* stb's failure reasons are terse identifiers ("outofdata"): say the
 * common ones in words, and keep stb's word for the rest. */
static clipvk_status fail_stb(clipvk_error *err, const char *name)
{
    static const struct {
        const char *stb, *words;
    } known[] = {
        {"outofdata", "the file is truncated"},
        {"bad zlib header", "corrupt compressed data"},
        {"bad huffman code", "corrupt compressed data"},
        {"bad codelengths", "corrupt compressed data"},
        {"bad dist", "corrupt compressed data"},
        {"not enough pixels", "the file is truncated"},
        {"bad CRC", "corrupt data (checksum mismatch)"},
        {"outofmem", "out of host memory"},
    };
    const char *why = stbi_failure_reason();
    if (!why || !*why) why = "corrupt or truncated";
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (!strcmp(why, known[i].stb)) return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: cannot decode image: %s (%s)",
                                                           name, known[i].words, why);
    return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: cannot decode image: %s", name, why);
}

clipvk_status clipvk_image_decode(const char *name, const void *data, size_t size, uint64_t max_pixels,
                                  unsigned threads, clipvk_image *out, clipvk_error *err)
{
    memset(out, 0, sizeof *out);
    const uint8_t *p = data;
    if (!max_pixels) max_pixels = CLIPVK_IMAGE_DEFAULT_MAX_PIXELS;
    if (size == 0) return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: empty file", name);
    if (size > INT32_MAX) return clipvk_fail(err, CLIPVK_ERROR_UNSUPPORTED, "%s: image file larger than 2 GiB", name);
#ifndef CLIPVK_JPEG_STB
    if (clipvk_jpeg_is(p, size)) return clipvk_jpeg_decode(name, p, size, max_pixels, threads, out, err);
#else /* stb decodes JPEG too (docs/PORTABILITY.md), on one thread as every format it reads */
    (void)threads;
#endif
    int len = (int)size, w, h, comp;
    /* stb itself refuses PNGs over 2^30 / channels pixels, with a message that
     * does not say why: check the header's size here first. */
    if (size >= 24 && !memcmp(p, "\x89PNG\r\n\x1a\n", 8)) {
        uint64_t pw = (uint64_t)p[16] << 24 | p[17] << 16 | p[18] << 8 | p[19];
        uint64_t ph = (uint64_t)p[20] << 24 | p[21] << 16 | p[22] << 8 | p[23];
        if (pw * ph > max_pixels)
            return clipvk_fail(err, CLIPVK_ERROR_UNSUPPORTED, "%s: %llux%llu image is larger than the limit of %llu pixels",
                               name, (unsigned long long)pw, (unsigned long long)ph, (unsigned long long)max_pixels);
        if (png_truncated(p, size))
            return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: cannot decode image: truncated PNG (a chunk runs past the end of the file)", name);
    }
    /* A binary PNM header is ours to check first: stb 2.27 parses its
     * numbers into an int without an overflow check (undefined behaviour for
     * a width of 2222222222). pnm_number refuses anything above 10^9. */
    pnm_header pnm;
    int is_pnm = pnm_parse(p, size, &pnm);
    if (!is_pnm && size >= 2 && p[0] == 'P' && (p[1] == '5' || p[1] == '6'))
        return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: malformed PNM header", name);
    /* stbi_info reads only the header: the size check below happens before
     * any pixel memory exists. */
    int is_png = size >= 8 && !memcmp(p, "\x89PNG\r\n\x1a\n", 8);
    if (!stbi_info_from_memory(p, len, &w, &h, &comp)) {
        const char *why = stbi_failure_reason() ? stbi_failure_reason() : "unknown format";
        /* the signature says what it was meant to be: "unknown image type" would mislead */
        if (is_png || clipvk_jpeg_is(p, size))
            return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: truncated or corrupt %s (its header cannot be read: %s)",
                               name, is_png ? "PNG" : "JPEG", why);
        return clipvk_fail(err, CLIPVK_ERROR_FORMAT,
                           "%s: not an image clipvk can read (JPEG, PNG, BMP, GIF, TGA, binary PNM): %s", name, why);
    }
    if (w <= 0 || h <= 0) return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: image has no pixels", name);
    if ((uint64_t)w * (uint64_t)h > max_pixels)
        return clipvk_fail(err, CLIPVK_ERROR_UNSUPPORTED, "%s: %dx%d image is larger than the limit of %llu pixels",
                           name, w, h, (unsigned long long)max_pixels);
    if (is_pnm && pnm.maxval == 0) return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: PNM maxval is 0", name);
    if (is_pnm) { /* stb pads a short PNM with zeros; PIL refuses it */
        uint64_t need = (uint64_t)w * (uint64_t)h * (pnm.magic == 6 ? 3u : 1u) * (pnm.maxval > 255 ? 2u : 1u);
        if (pnm.data > size || size - pnm.data < need)
            return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: truncated PNM (%llu bytes of pixels, %llu expected)",
                               name, (unsigned long long)(pnm.data > size ? 0 : size - pnm.data),
                               (unsigned long long)need);
    }
    size_t npix = (size_t)w * (size_t)h;
    uint8_t *rgb = NULL;
    if (is_pnm) {
        if (pnm.width != (unsigned long)w || pnm.height != (unsigned long)h)
            return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: malformed PNM header", name);
        rgb = malloc(npix * 3);
        if (!rgb) return clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "%s: out of host memory", name);
        pnm_decode(&pnm, p + pnm.data, npix, rgb);
    } else if (comp == 1 && stbi_is_16_bit_from_memory(p, len)) {
        int gw, gh, gc;
        uint16_t *v = stbi_load_16_from_memory(p, len, &gw, &gh, &gc, 1);
        if (!v) return fail_stb(err, name);
        if (gw != w || gh != h) {
            stbi_image_free(v);
            return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: header and data disagree on the size", name);
        }
        rgb = malloc(npix * 3);
        if (!rgb) {
            stbi_image_free(v);
            return clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "%s: out of host memory", name);
        }
        for (size_t i = 0; i < npix; i++) /* mode I -> RGB clamps */
            rgb[i * 3] = rgb[i * 3 + 1] = rgb[i * 3 + 2] = v[i] > 255 ? 255 : (uint8_t)v[i];
        stbi_image_free(v);
    } else {
        int gw, gh, gc;
        uint8_t *v = stbi_load_from_memory(p, len, &gw, &gh, &gc, 3);
        if (!v) return fail_stb(err, name);
        if (gw != w || gh != h) {
            stbi_image_free(v);
            return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: header and data disagree on the size", name);
        }
        /* stb allocates with malloc (STBI_MALLOC), so the buffer can be ours. */
        rgb = v;
    }
    out->width = (uint32_t)w;
    out->height = (uint32_t)h;
    out->stride = (size_t)w * 3;
    out->rgb = rgb;
    out->owned = rgb;
    return CLIPVK_OK;
}

clipvk_status clipvk_image_load(const char *path, uint64_t max_pixels, unsigned threads, clipvk_image *out,
                                clipvk_error *err)
{
    memset(out, 0, sizeof *out);
    char *data;
    size_t size;
    clipvk_status s = clipvk_read_file(path, CLIPVK_IMAGE_MAX_FILE_BYTES, &data, &size, err);
    if (s) return s;
    s = clipvk_image_decode(path, data, size, max_pixels, threads, out, err);
    free(data);
    return s;
}

clipvk_status clipvk_image_from_rgb8(const uint8_t *rgb, uint32_t width, uint32_t height, size_t stride,
                                     clipvk_image *out, clipvk_error *err)
{
    memset(out, 0, sizeof *out);
    if (!rgb || !width || !height || stride < (size_t)width * 3)
        return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT,
                           "RGB8 image: bad buffer (%ux%u, stride %zu: need a pixel and stride >= 3 * width)", width,
                           height, stride);
    /* a buffer of stride * height bytes must be addressable at all */
    if (stride > (SIZE_MAX >> 1) / height)
        return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT,
                           "RGB8 image: %ux%u with stride %zu is larger than any buffer", width, height, stride);
    out->width = width;
    out->height = height;
    out->stride = stride;
    out->rgb = rgb;
    return CLIPVK_OK;
}

void clipvk_image_free(clipvk_image *img)
{
    if (!img) return;
    free(img->owned);
    memset(img, 0, sizeof *img);
}
