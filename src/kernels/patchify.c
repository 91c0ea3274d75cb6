#include "kernels/kernels.h"

clipvk_status clipvk_patchify(clipvk_runtime *rt, clipvk_cmd *cmd, const clipvk_buffer *x, const clipvk_buffer *p,
                              uint32_t batch, uint32_t channels, uint32_t height, uint32_t width, uint32_t patch,
                              clipvk_error *err)
{
    if (!patch || height < patch || width < patch || height / patch != width / patch)
        return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT, "patchify: %ux%u image does not hold a square grid of %u-pixel patches",
                           width, height, patch);
    uint32_t grid = height / patch;
    struct { uint32_t batch, channels, height, width, patch, grid; } pc = {batch, channels, height, width, patch, grid};
    uint64_t out = (uint64_t)batch * grid * grid * channels * patch * patch;
    uint32_t wg = 64, gx, gy;
    clipvk_binding b[2] = {clipvk_bind(x, (uint64_t)batch * channels * height * width * 4, 0),
                           clipvk_bind(p, out * 4, 1)};
    clipvk_grid((out + wg - 1) / wg, &gx, &gy);
    return clipvk_run(rt, cmd, "patchify", &wg, 1, b, 2, &pc, sizeof pc, gx, gy, 1, err);
}
