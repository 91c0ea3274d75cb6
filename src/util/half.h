/* IEEE binary16 <-> binary32, as the GPU's unpackHalf2x16 reads them. */
#ifndef CLIPVK_HALF_H
#define CLIPVK_HALF_H

#include <stddef.h>
#include <stdint.h>

/* Rounds to nearest even; overflow gives infinity, NaN stays NaN. */
uint16_t clipvk_f32_to_f16(float f);
float clipvk_f16_to_f32(uint16_t h);

#endif
