/*
 * The one translation unit that compiles stb_image (Debian's libstb-dev
 * ships it as a header). Only the formats clipvk accepts are built in (see
 * stb.h); PSD, HDR and PIC are left out to keep the attack surface small.
 * stb's own code is not held to clipvk's warning flags.
 */
#if defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#pragma GCC diagnostic ignored "-Wmisleading-indentation"
#pragma GCC diagnostic ignored "-Wshift-negative-value"
#pragma GCC diagnostic ignored "-Wtype-limits"
#endif

#define STB_IMAGE_IMPLEMENTATION
#include "image/stb.h"
