/*
 * stb_image as clipvk uses it, compiled into the one file that calls it
 * (decode.c) with every function static: neither library then defines an
 * stbi_* symbol that could clash with an application's own copy of
 * stb_image, and the static library, which has no visibility to hide
 * behind, exports none either. stb's own code is not held to clipvk's
 * warning flags. JPEG is not among its formats: clipvk decodes JPEG with
 * libjpeg-turbo, as PIL does (jpeg.c), so stb's JPEG code — and the
 * out-of-bounds reads that Debian 12's stb 2.27 has in it, which upstream
 * fixed in 2.28 — is not compiled at all, except in a CLIPVK_JPEG=stb
 * build (no libjpeg-turbo; use stb 2.28 or later there).
 */
#ifndef CLIPVK_IMAGE_STB_H
#define CLIPVK_IMAGE_STB_H

#define STBI_ONLY_PNG
#define STBI_ONLY_BMP
#define STBI_ONLY_GIF
#define STBI_ONLY_TGA
#define STBI_ONLY_PNM
#ifdef CLIPVK_JPEG_STB
#define STBI_ONLY_JPEG
#endif
#define STBI_NO_STDIO
#define STBI_NO_LINEAR
#define STBI_NO_HDR
#define STB_IMAGE_STATIC
/* Debian's stb 2.27 declares stbi_set_unpremultiply_on_load_thread but
 * defines it as stbi__unpremultiply_on_load_thread; static, the mismatch
 * is a "declared but never defined" warning. One name for both. */
#define stbi_set_unpremultiply_on_load_thread stbi__unpremultiply_on_load_thread
#define STB_IMAGE_IMPLEMENTATION
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#pragma GCC diagnostic ignored "-Wmisleading-indentation"
#pragma GCC diagnostic ignored "-Wshift-negative-value"
#pragma GCC diagnostic ignored "-Wtype-limits"
#endif
#include <stb/stb_image.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

#endif
