#include "kernels/kernels.h"

clipvk_status clipvk_add(clipvk_runtime *rt, clipvk_cmd *cmd, const clipvk_buffer *a, const clipvk_buffer *b,
                         const clipvk_buffer *y, uint64_t n, clipvk_error *err)
{
    if (!n) return CLIPVK_OK;
    if (n > UINT32_MAX) return clipvk_fail(err, CLIPVK_ERROR_UNSUPPORTED, "add: %llu elements", (unsigned long long)n);
    uint32_t wg = 64, pc = (uint32_t)n;
    /* Y may be A: bind it once as written so the tracker sees one range. */
    clipvk_binding bind[3] = {clipvk_bind(a, n * 4, a == y), clipvk_bind(b, n * 4, 0), clipvk_bind(y, n * 4, 1)};
    uint32_t gx, gy;
    clipvk_grid((n + 4 * wg - 1) / (4 * wg), &gx, &gy);
    return clipvk_run(rt, cmd, "add", &wg, 1, bind, 3, &pc, sizeof pc, gx, gy, 1, err);
}
