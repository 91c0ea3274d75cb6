#include "kernels/kernels.h"

clipvk_status clipvk_token_embed(clipvk_runtime *rt, clipvk_cmd *cmd, const clipvk_buffer *ids,
                                  const clipvk_buffer *table, clipvk_precision prec, uint32_t vocab,
                                  const clipvk_buffer *pos, const clipvk_buffer *x, uint32_t batch, uint32_t len,
                                  uint32_t dim, clipvk_error *err)
{
    const char *shader = prec == CLIPVK_PRECISION_FP16 ? "token_embed_f16" : "token_embed_f32";
    uint64_t row_bytes = (uint64_t)dim * clipvk_precision_bytes(prec);
    /* Rows per slice: what one binding may cover, at an offset the device can bind. */
    uint64_t range = rt->dev->caps.max_storage_buffer_range;
    uint64_t align = rt->dev->caps.min_storage_buffer_offset_alignment ? rt->dev->caps.min_storage_buffer_offset_alignment : 1;
    uint64_t rows = range / row_bytes;
    while (rows > 1 && (rows * row_bytes) % align) rows--;
    if (!rows || (prec == CLIPVK_PRECISION_FP16 && dim % 2))
        return clipvk_fail(err, CLIPVK_ERROR_UNSUPPORTED, "token_embed: rows of %u cannot be bound", dim);
    clipvk_status s = clipvk_check_size(table, vocab * row_bytes, "token_embed table", err);
    if (s) return s;
    uint64_t out = (uint64_t)batch * len * dim;
    uint32_t wg = 64, gx, gy;
    clipvk_grid((out + wg - 1) / wg, &gx, &gy);
    for (uint64_t row0 = 0; row0 < vocab; row0 += rows) {
        uint64_t n = vocab - row0 < rows ? vocab - row0 : rows;
        struct { uint32_t tokens, len, dim, row0, nrows; } pc = {batch * len, len, dim, (uint32_t)row0, (uint32_t)n};
        clipvk_binding b[4] = {clipvk_bind(ids, (uint64_t)batch * len * 4, 0),
                               {.buf = table, .offset = row0 * row_bytes, .size = n * row_bytes},
                               clipvk_bind(pos, (uint64_t)len * dim * 4, 0), clipvk_bind(x, out * 4, 1)};
        const clipvk_pipeline *p;
        if ((s = clipvk_pipeline_get(rt->pipelines, shader, &wg, 1, 4, sizeof pc, &p, err)) ||
            (s = clipvk_cmd_dispatch(cmd, p, b, 4, &pc, gx, gy, 1, shader, err)))
            return s;
    }
    return CLIPVK_OK;
}
