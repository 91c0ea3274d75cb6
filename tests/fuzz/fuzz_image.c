/* Fuzzes image decoding (every format clipvk accepts: JPEG, PNG, BMP, GIF,
 * TGA, PNM, through libjpeg-turbo, stb_image and our own PNM and checks) and then CLIP's
 * preprocessing at 224. The pixel limit is 2^20 so that headers claiming
 * huge sizes are refused at once rather than decoded slowly. */
#include "fuzz.h"
#include "image/image.h"
#include "image/preprocess.h"

#include <stdlib.h>

#define FUZZ_MAX_PIXELS (1u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static float out[3 * 224 * 224];
    clipvk_image img;
    clipvk_error err;
    if (clipvk_image_decode("fuzz.img", data, size, FUZZ_MAX_PIXELS, 1, &img, &err)) return 0;
    if (!img.width || !img.height || (uint64_t)img.width * img.height > FUZZ_MAX_PIXELS) abort();
    clipvk_preprocess_config cfg;
    clipvk_preprocess_config_default(&cfg, 224);
    (void)clipvk_preprocess(&img, &cfg, 1, out, &err);
    clipvk_image_free(&img);
    return 0;
}
