#include "kernels/kernels.h"

clipvk_status clipvk_l2norm(clipvk_runtime *rt, clipvk_cmd *cmd, const clipvk_buffer *x, const clipvk_buffer *y,
                            uint32_t rows, uint32_t n, clipvk_error *err)
{
    if (!rows || !n) return CLIPVK_OK;
    struct { uint32_t rows, n; } pc = {rows, n};
    uint32_t wg = 64, gx, gy;
    uint64_t bytes = (uint64_t)rows * n * 4;
    clipvk_binding b[2] = {clipvk_bind(x, bytes, x == y), clipvk_bind(y, bytes, 1)};
    clipvk_grid(rows, &gx, &gy);
    return clipvk_run(rt, cmd, "l2norm", &wg, 1, b, 2, &pc, sizeof pc, gx, gy, 1, err);
}
