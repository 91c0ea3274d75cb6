/* similarity.comp: the scores of a search, query by embedding dot products. */
#include "kernels/kernels.h"

#define SIMILARITY_MAX_QN 8 /* running sums per invocation; more queries take more dispatches */

uint64_t clipvk_similarity_max_rows(const clipvk_device_caps *caps, uint32_t dim)
{
    uint64_t row_bytes = (uint64_t)dim * 4;
    uint64_t align = caps->min_storage_buffer_offset_alignment ? caps->min_storage_buffer_offset_alignment : 1;
    uint64_t rows = dim ? caps->max_storage_buffer_range / row_bytes : 0;
    /* A slice must start at an offset the device can bind. */
    while (rows > 1 && (rows * row_bytes) % align) rows--;
    return rows;
}

clipvk_status clipvk_similarity(clipvk_runtime *rt, clipvk_cmd *cmd, const clipvk_buffer *e, uint32_t n, uint32_t dim,
                                const clipvk_buffer *q, uint32_t nq, const clipvk_buffer *s, clipvk_error *err)
{
    if (!n || !nq) return CLIPVK_OK;
    if (!dim) return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT, "similarity: dim is 0");
    const clipvk_device_caps *caps = &rt->dev->caps;
    uint64_t row_bytes = (uint64_t)dim * 4, slice = clipvk_similarity_max_rows(caps, dim);
    if (!slice) return clipvk_fail(err, CLIPVK_ERROR_UNSUPPORTED, "similarity: rows of %u floats cannot be bound", dim);
    clipvk_status st;
    if ((st = clipvk_check_size(e, n * row_bytes, "similarity E", err)) ||
        (st = clipvk_check_size(q, (uint64_t)nq * row_bytes, "similarity Q", err)) ||
        (st = clipvk_check_size(s, (uint64_t)nq * n * 4, "similarity S", err)))
        return st;
    int vec4 = dim % 4 == 0;
    const char *shader = vec4 ? "similarity_vec4" : "similarity";
    /* lavapipe runs a workgroup on one thread, 8 lanes wide: small groups spread
     * the rows over more threads (as in attention.c); GPUs want wider groups. */
    uint32_t wg = caps->type == VK_PHYSICAL_DEVICE_TYPE_CPU ? 8 : 64;
    for (uint64_t row0 = 0; row0 < n; row0 += slice) {
        uint32_t rows = (uint32_t)(n - row0 < slice ? n - row0 : slice), gx, gy;
        clipvk_grid((rows + wg - 1) / wg, &gx, &gy);
        for (uint32_t q0 = 0; q0 < nq; q0 += SIMILARITY_MAX_QN) {
            uint32_t spec[2] = {wg, nq - q0 < SIMILARITY_MAX_QN ? nq - q0 : SIMILARITY_MAX_QN};
            struct { uint32_t n, dimv, q0, s_stride, s_col; } pc = {rows, vec4 ? dim / 4 : dim, q0, n, (uint32_t)row0};
            clipvk_binding b[3] = {{.buf = e, .offset = row0 * row_bytes, .size = rows * row_bytes},
                                   clipvk_bind(q, (uint64_t)nq * row_bytes, 0),
                                   clipvk_bind(s, (uint64_t)nq * n * 4, 1)};
            if ((st = clipvk_run(rt, cmd, shader, spec, 2, b, 3, &pc, sizeof pc, gx, gy, 1, err))) return st;
        }
    }
    return CLIPVK_OK;
}
