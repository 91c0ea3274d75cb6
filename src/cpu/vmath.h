/*
 * exp and erf for the CPU kernels' element-wise loops, written so that the
 * compiler vectorises them (no calls, no branches; libm's expf is a call per
 * element and would cost a tower as much as its GEMMs' epilogues many times
 * over; the loops need -fno-trapping-math to be if-converted: CMakeLists.txt).
 * Accuracy, measured against float64 over [-87, 88] and [-6, 6]: exp within
 * 8.4e-8 relative (Cephes' polynomial after range reduction by ln 2), erf
 * within 4.7e-7 absolute (Abramowitz & Stegun 7.1.26, as shaders/matmul_io.glsl).
 */
#ifndef CLIPVK_CPU_VMATH_H
#define CLIPVK_CPU_VMATH_H

#include <stdint.h>
#include <string.h>

static inline float clipvk_expf(float x)
{
    x = x < -87.0f ? -87.0f : x;
    x = x > 88.0f ? 88.0f : x;
    /* round to the nearest integer by adding and taking away 1.5 * 2^23
     * (branch-free; GCC does not vectorise a select feeding a conversion) */
    float n = (x * 1.44269504f + 12582912.0f) - 12582912.0f;
    float r = x - n * 0.693359375f - n * -2.12194440e-4f; /* ln 2 in two parts */
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    int32_t e = ((int32_t)n + 127) << 23; /* 2^n: n in [-126, 127] after the clamp */
    float s;
    memcpy(&s, &e, sizeof s);
    return p * s;
}

static inline float clipvk_erff(float x)
{
    float z = __builtin_fabsf(x);
    float t = 1.0f / (1.0f + 0.3275911f * z);
    float y = 1.0f - (((((1.061405429f * t - 1.453152027f) * t) + 1.421413741f) * t - 0.284496736f) * t + 0.254829592f) *
                         t * clipvk_expf(-z * z);
    return __builtin_copysignf(y, x);
}

#endif
