/*
 * JPEG through libjpeg-turbo, set up exactly as Pillow 9.4 sets it up
 * (src/libImaging/JpegDecode.c, src/PIL/JpegImagePlugin.py), so that the
 * pixels are those of PIL's Image.open(path).convert("RGB") by
 * construction: PIL links the same library (Debian's libjpeg62-turbo).
 *  - Defaults left alone, as PIL leaves them: accurate integer IDCT
 *    (JDCT_ISLOW), fancy upsampling, block smoothing, libjpeg's own choice
 *    of the file's colour space (JFIF, Adobe APP14 transform, component ids).
 *  - Output colour space from the number of components, as PIL's mode is:
 *    1 -> L (JCS_GRAYSCALE, then replicated to RGB as convert("RGB") does),
 *    3 -> RGB (JCS_RGB), 4 -> CMYK (JCS_CMYK, read by PIL as "CMYK;I", i.e.
 *    inverted, then PIL's cmyk2rgb). PIL refuses other counts, and 12-bit.
 *  - The data arrive as in PIL: a suspending source that holds the whole
 *    file. Any suspension before the last row is read means the data ended
 *    early, which PIL (LOAD_TRUNCATED_IMAGES = False) refuses as truncated;
 *    a suspension in jpeg_finish_decompress, after every row, PIL accepts.
 *  - libjpeg's warnings (corrupt data it recovers from: restart resync,
 *    bad Huffman codes) are silent, as PIL's output_message is; its errors
 *    longjmp out (error_exit) and become one line naming the file.
 * No global state: the error manager, source and progress monitor live in
 * one allocation per call, so several threads decode at once (batch.c).
 * One image is decoded on one thread: libjpeg-turbo's SIMD does the work.
 *
 * Built with CLIPVK_JPEG=stb (no libjpeg-turbo, e.g. a minimal Android
 * build), JPEG goes through stb_image instead: close to PIL but not exact
 * (docs/PORTABILITY.md).
 */
#include "image/jpeg.h"

#include <stdlib.h>
#include <string.h>

int clipvk_jpeg_is(const void *data, size_t size)
{
    const uint8_t *p = data;
    return size >= 3 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF;
}

#ifndef CLIPVK_JPEG_STB
#include <setjmp.h>
#include <stdio.h> /* jpeglib.h uses FILE without including stdio.h */
#include <jpeglib.h>
#include <jerror.h>

static clipvk_status over_limit(clipvk_error *err, const char *name, uint64_t w, uint64_t h, uint64_t max_pixels)
{
    return clipvk_fail(err, CLIPVK_ERROR_UNSUPPORTED, "%s: %llux%llu image is larger than the limit of %llu pixels",
                       name, (unsigned long long)w, (unsigned long long)h, (unsigned long long)max_pixels);
}

/* A progressive file may carry any number of scans, and libjpeg reworks the
 * whole coefficient buffer for each: a small crafted file with tens of
 * thousands of them takes minutes (libjpeg-turbo's documentation advises a
 * limit, as its own fuzzers and djpeg -maxscans do). Real encoders write
 * about ten; PIL, which sets no limit, would decode such a file slowly. */
#define JPEG_MAX_SCANS 1000

#define TRUNCATED "truncated JPEG (the data ends before the image does)"

typedef struct jpeg_call {
    struct jpeg_decompress_struct cinfo; /* first: error_exit gets &cinfo and finds the rest */
    struct jpeg_error_mgr jerr;
    struct jpeg_source_mgr src;
    struct jpeg_progress_mgr progress;
    jmp_buf jump;
    int code;                   /* libjpeg's message code of the error; -1: too many scans */
    char msg[JMSG_LENGTH_MAX];  /* its text, one line */
    uint8_t *rgb, *row;         /* the image; a CMYK row */
    uint64_t max_pixels;
} jpeg_call;

static void on_error(j_common_ptr ci)
{
    jpeg_call *c = (jpeg_call *)(void *)ci;
    c->code = ci->err->msg_code;
    ci->err->format_message(ci, c->msg);
    longjmp(c->jump, 1);
}

static void on_message(j_common_ptr ci) /* warnings: silent, as in PIL */
{
    (void)ci;
}

static void on_progress(j_common_ptr ci)
{
    jpeg_call *c = (jpeg_call *)(void *)ci;
    if (c->cinfo.input_scan_number > JPEG_MAX_SCANS) {
        c->code = -1;
        snprintf(c->msg, sizeof c->msg, "more than %d scans", JPEG_MAX_SCANS);
        longjmp(c->jump, 1);
    }
}

/* The suspending source, as Pillow's jpeg_buffer_src: the whole file is
 * the buffer, so being asked for more means the file ended early. */
static void src_nothing(j_decompress_ptr ci)
{
    (void)ci;
}

static boolean src_fill(j_decompress_ptr ci)
{
    (void)ci;
    return FALSE; /* suspend */
}

static void src_skip(j_decompress_ptr ci, long n)
{
    struct jpeg_source_mgr *s = ci->src;
    if (n <= 0) return;
    if ((unsigned long)n > s->bytes_in_buffer) n = (long)s->bytes_in_buffer; /* the next read suspends */
    s->next_input_byte += n;
    s->bytes_in_buffer -= (size_t)n;
}

/* PIL reads "CMYK;I" (each byte inverted), then convert("RGB") is
 * Convert.c's cmyk2rgb: nk = 255 - k, each channel nk - MULDIV255(c, nk). */
static void cmyk_row(const uint8_t *in, uint32_t w, uint8_t *out)
{
    for (uint32_t x = 0; x < w; x++, in += 4, out += 3) {
        int nk = in[3]; /* 255 - (255 - k) */
        for (int i = 0; i < 3; i++) {
            int t = (255 - in[i]) * nk + 128;
            out[i] = (uint8_t)(nk - (((t >> 8) + t) >> 8));
        }
    }
}

/* Everything that can longjmp; clipvk_jpeg_decode holds the setjmp. */
static clipvk_status decode(jpeg_call *c, const char *name, const void *data, size_t size, clipvk_error *err)
{
    struct jpeg_decompress_struct *ci = &c->cinfo;
    jpeg_create_decompress(ci); /* clears everything but err */
    c->src.init_source = src_nothing;
    c->src.fill_input_buffer = src_fill;
    c->src.skip_input_data = src_skip;
    c->src.resync_to_restart = jpeg_resync_to_restart;
    c->src.term_source = src_nothing;
    c->src.next_input_byte = data;
    c->src.bytes_in_buffer = size;
    ci->src = &c->src;
    c->progress.progress_monitor = on_progress;
    ci->progress = &c->progress;

    int r;
    do /* as Pillow: tables-only datastreams before the image are read and passed over */
        r = jpeg_read_header(ci, FALSE);
    while (r == JPEG_HEADER_TABLES_ONLY);
    if (r == JPEG_SUSPENDED) return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: " TRUNCATED, name);
    uint64_t w = ci->image_width, h = ci->image_height;
    int nc = ci->num_components;
    if (nc != 1 && nc != 3 && nc != 4) /* JpegImagePlugin's SOF handler */
        return clipvk_fail(err, CLIPVK_ERROR_UNSUPPORTED, "%s: %d-component JPEG is not supported (PIL reads 1, 3 or 4)",
                           name, nc);
    if (w * h > c->max_pixels) return over_limit(err, name, w, h, c->max_pixels);
    if (w * h > SIZE_MAX / 3) return clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "%s: out of host memory", name);
    ci->out_color_space = nc == 1 ? JCS_GRAYSCALE : nc == 3 ? JCS_RGB : JCS_CMYK;
    /* pixel memory only once the size is known to be within the limit */
    c->rgb = malloc((size_t)(w * h * 3));
    if (nc == 4) c->row = malloc((size_t)w * 4);
    if (!c->rgb || (nc == 4 && !c->row))
        return clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "%s: out of host memory", name);
    if (!jpeg_start_decompress(ci)) /* a multi-scan file is read whole here */
        return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: " TRUNCATED, name);
    if (ci->output_width != w || ci->output_height != h || ci->output_components != (nc == 4 ? 4 : nc))
        return clipvk_fail(err, CLIPVK_ERROR_UNSUPPORTED, "%s: libjpeg's output is not the expected shape", name);
    while (ci->output_scanline < h) {
        uint8_t *dst = c->rgb + (size_t)ci->output_scanline * (size_t)w * 3;
        JSAMPROW row = nc == 4 ? c->row : dst;
        if (jpeg_read_scanlines(ci, &row, 1) != 1) return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: " TRUNCATED, name);
        if (nc == 4) cmyk_row(c->row, (uint32_t)w, dst);
        else if (nc == 1) /* L -> RGB in place, from the right end so nothing is read after it is overwritten */
            for (size_t x = (size_t)w; x-- > 0;) dst[3 * x] = dst[3 * x + 1] = dst[3 * x + 2] = dst[x];
    }
    /* Suspending here (no end-of-image marker after the last row) is fine
     * for PIL; an error here (a corrupt marker after the image) is not. */
    (void)jpeg_finish_decompress(ci);
    return CLIPVK_OK;
}

/* libjpeg's error as one line. */
static clipvk_status refuse(jpeg_call *c, const char *name, clipvk_error *err)
{
    uint64_t w = c->cinfo.image_width, h = c->cinfo.image_height;
    if (w * h > c->max_pixels) /* a frame header too large for libjpeg, or damage after it: the size says enough */
        return over_limit(err, name, w, h, c->max_pixels);
    switch (c->code) {
    case JERR_OUT_OF_MEMORY:
        return clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "%s: out of host memory (libjpeg: %s)", name, c->msg);
    case JERR_BAD_PRECISION:
        return clipvk_fail(err, CLIPVK_ERROR_UNSUPPORTED, "%s: %d-bit JPEG is not supported (nor by PIL)", name,
                           c->jerr.msg_parm.i[0]);
    case JERR_SOF_UNSUPPORTED: /* lossless, hierarchical */
    case JERR_NOT_COMPILED:
    case JERR_ARITH_NOTIMPL:
    case JERR_IMAGE_TOO_BIG:
    case JERR_WIDTH_OVERFLOW:
    case JERR_CONVERSION_NOTIMPL:
    case -1:
        return clipvk_fail(err, CLIPVK_ERROR_UNSUPPORTED, "%s: unsupported JPEG: %s", name, c->msg);
    default:
        return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: corrupt JPEG: %s", name, c->msg);
    }
}

clipvk_status clipvk_jpeg_decode(const char *name, const void *data, size_t size, uint64_t max_pixels,
                                 unsigned threads, clipvk_image *out, clipvk_error *err)
{
    (void)threads;
    memset(out, 0, sizeof *out);
    if (!clipvk_jpeg_is(data, size)) return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: not a JPEG file", name);
    /* On the heap, so nothing the longjmp returns past is a local variable
     * changed after setjmp (whose value C would leave indeterminate). */
    jpeg_call *c = calloc(1, sizeof *c);
    if (!c) return clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "%s: out of host memory", name);
    c->max_pixels = max_pixels ? max_pixels : CLIPVK_IMAGE_DEFAULT_MAX_PIXELS;
    c->cinfo.err = jpeg_std_error(&c->jerr);
    c->jerr.error_exit = on_error;
    c->jerr.output_message = on_message;
    clipvk_status st;
    if (setjmp(c->jump)) st = refuse(c, name, err);
    else st = decode(c, name, data, size, err);
    jpeg_destroy_decompress(&c->cinfo); /* safe after any error, and on a never-created (zeroed) object */
    if (!st) {
        out->width = c->cinfo.image_width;
        out->height = c->cinfo.image_height;
        out->stride = (size_t)out->width * 3;
        out->rgb = out->owned = c->rgb;
    } else {
        free(c->rgb);
    }
    free(c->row);
    free(c);
    return st;
}

#else /* CLIPVK_JPEG_STB */

/* stb_image is compiled into decode.c alone (its functions are static
 * there), and decode.c sends JPEGs to stb in this build: the same path. */
clipvk_status clipvk_jpeg_decode(const char *name, const void *data, size_t size, uint64_t max_pixels,
                                 unsigned threads, clipvk_image *out, clipvk_error *err)
{
    memset(out, 0, sizeof *out);
    if (!clipvk_jpeg_is(data, size)) return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: not a JPEG file", name);
    return clipvk_image_decode(name, data, size, max_pixels, threads, out, err);
}

#endif
