#include "kernels/kernels.h"

clipvk_status clipvk_layernorm(clipvk_runtime *rt, clipvk_cmd *cmd, const clipvk_buffer *x, uint32_t x_stride,
                               const clipvk_buffer *gamma, const clipvk_buffer *beta, const clipvk_buffer *y,
                               uint32_t y_stride, uint32_t rows, uint32_t n, float eps, clipvk_error *err)
{
    if (!x_stride) x_stride = n;
    if (!y_stride) y_stride = n;
    if (!rows || !n) return CLIPVK_OK;
    if (x_stride < n || y_stride < n)
        return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT, "layernorm: stride shorter than the row");
    struct { uint32_t rows, n, x_stride, y_stride; float eps; } pc = {rows, n, x_stride, y_stride, eps};
    /* A power of two no wider than the row (the reduction halves it). */
    uint32_t wg = 32;
    while (wg < 256 && wg * 2 <= n && wg * 2 <= rt->dev->caps.max_workgroup_invocations) wg *= 2;
    uint64_t xb = ((uint64_t)(rows - 1) * x_stride + n) * 4, yb = ((uint64_t)(rows - 1) * y_stride + n) * 4;
    clipvk_binding b[4] = {clipvk_bind(x, xb, 0), clipvk_bind(gamma, n * 4ull, 0), clipvk_bind(beta, n * 4ull, 0),
                           clipvk_bind(y, yb, 1)};
    uint32_t gx, gy;
    clipvk_grid(rows, &gx, &gy);
    return clipvk_run(rt, cmd, "layernorm", &wg, 1, b, 4, &pc, sizeof pc, gx, gy, 1, err);
}
