/* Benchmark of the fused attention kernel, for `clipvk bench --kernels`. */
#ifndef CLIPVK_BENCH_ATTENTION_H
#define CLIPVK_BENCH_ATTENTION_H

#include <stdio.h>

#include "core/runtime.h"

/* Times clipvk_attention at CLIP's shapes (50 tokens: ViT-B/32 image, 77
 * causal: text; 8 and 12 heads of 64 dims; batch 1 and 8) with the device's
 * tiling: the median of `iters` runs (GPU timestamps where the device has
 * them, else the wall clock around each submit). Writes one line per shape
 * to out, as text or (json) one JSON object per line. Returns 0, or 1 after
 * printing the error to stderr. */
int bench_attention(clipvk_runtime *rt, int iters, int json, FILE *out);

#endif
