#include "kernels/kernels.h"

clipvk_status clipvk_gather_rows(clipvk_runtime *rt, clipvk_cmd *cmd, const clipvk_buffer *x,
                                 const clipvk_buffer *idx, const clipvk_buffer *y, uint32_t batch, uint32_t len,
                                 uint32_t dim, clipvk_error *err)
{
    struct { uint32_t batch, len, dim; } pc = {batch, len, dim};
    uint32_t wg = 64, gx, gy;
    clipvk_binding b[3] = {clipvk_bind(x, (uint64_t)batch * len * dim * 4, 0), clipvk_bind(idx, batch * 4ull, 0),
                           clipvk_bind(y, (uint64_t)batch * dim * 4, 1)};
    clipvk_grid(((uint64_t)batch * dim + wg - 1) / wg, &gx, &gy);
    return clipvk_run(rt, cmd, "gather_rows", &wg, 1, b, 3, &pc, sizeof pc, gx, gy, 1, err);
}
