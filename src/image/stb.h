/*
 * stb_image as clipvk uses it: the same configuration for the declarations
 * (decode.c) and the implementation (stb_image_impl.c). The symbols are
 * hidden so that libclipvk.so does not clash with an application's own
 * copy of stb_image. JPEG is not among its formats: clipvk decodes JPEG
 * with its own libjpeg-exact decoder (jpeg.c), so stb's JPEG code — and
 * the out-of-bounds reads that Debian 12's stb 2.27 has in it, which
 * upstream fixed in 2.28 — is not compiled at all.
 */
#ifndef CLIPVK_IMAGE_STB_H
#define CLIPVK_IMAGE_STB_H

#define STBI_ONLY_PNG
#define STBI_ONLY_BMP
#define STBI_ONLY_GIF
#define STBI_ONLY_TGA
#define STBI_ONLY_PNM
#define STBI_NO_STDIO
#define STBI_NO_LINEAR
#define STBI_NO_HDR
#if defined(__GNUC__)
#define STBIDEF extern __attribute__((visibility("hidden")))
#endif
#include <stb/stb_image.h>

#endif
