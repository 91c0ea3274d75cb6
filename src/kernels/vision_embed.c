#include "kernels/kernels.h"

clipvk_status clipvk_vision_embed(clipvk_runtime *rt, clipvk_cmd *cmd, const clipvk_buffer *e,
                                  const clipvk_buffer *cls, const clipvk_buffer *pos, const clipvk_buffer *x,
                                  uint32_t batch, uint32_t patches, uint32_t dim, clipvk_error *err)
{
    uint32_t has_cls = cls != NULL, seq = patches + has_cls;
    struct { uint32_t batch, patches, dim, has_cls; } pc = {batch, patches, dim, has_cls};
    uint64_t out = (uint64_t)batch * seq * dim;
    uint32_t wg = 64, gx, gy;
    /* Without a class token the shader never reads binding 1: pos stands in
     * for it, so the layout stays one pipeline. */
    clipvk_binding b[4] = {clipvk_bind(e, (uint64_t)batch * patches * dim * 4, 0),
                           clipvk_bind(has_cls ? cls : pos, dim * 4ull, 0),
                           clipvk_bind(pos, (uint64_t)seq * dim * 4, 0), clipvk_bind(x, out * 4, 1)};
    clipvk_grid((out + wg - 1) / wg, &gx, &gy);
    return clipvk_run(rt, cmd, "vision_embed", &wg, 1, b, 4, &pc, sizeof pc, gx, gy, 1, err);
}
