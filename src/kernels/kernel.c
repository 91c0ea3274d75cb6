/* What every kernel wrapper does: bind ranges, size grids, dispatch. */
#include "kernels/kernels.h"

clipvk_binding clipvk_bind(const clipvk_buffer *buf, VkDeviceSize bytes, int write)
{
    return (clipvk_binding){.buf = buf, .offset = 0, .size = bytes, .write = write};
}

void clipvk_grid(uint64_t n, uint32_t *gx, uint32_t *gy)
{
    if (n == 0) {
        *gx = *gy = 0;
        return;
    }
    *gx = n < 65535 ? (uint32_t)n : 65535;
    *gy = (uint32_t)((n + *gx - 1) / *gx);
}

clipvk_status clipvk_check_size(const clipvk_buffer *buf, uint64_t bytes, const char *what, clipvk_error *err)
{
    if (!buf || !buf->buffer) return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT, "%s: no buffer", what);
    if (buf->size < bytes)
        return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT, "%s: buffer holds %llu bytes, %llu needed", what,
                           (unsigned long long)buf->size, (unsigned long long)bytes);
    return CLIPVK_OK;
}

clipvk_status clipvk_run(clipvk_runtime *rt, clipvk_cmd *cmd, const char *shader, const uint32_t *spec,
                         uint32_t nspec, const clipvk_binding *b, uint32_t nb, const void *push, uint32_t push_size,
                         uint32_t gx, uint32_t gy, uint32_t gz, clipvk_error *err)
{
    return clipvk_run_pinned(rt, cmd, shader, spec, nspec, 0, b, nb, push, push_size, gx, gy, gz, err);
}

clipvk_status clipvk_run_pinned(clipvk_runtime *rt, clipvk_cmd *cmd, const char *shader, const uint32_t *spec,
                                uint32_t nspec, uint32_t subgroup_size, const clipvk_binding *b, uint32_t nb,
                                const void *push, uint32_t push_size, uint32_t gx, uint32_t gy, uint32_t gz,
                                clipvk_error *err)
{
    for (uint32_t i = 0; i < nb; i++) {
        clipvk_status s = clipvk_check_size(b[i].buf, b[i].offset + b[i].size, shader, err);
        if (s) return s;
    }
    uint32_t texel_mask = 0;
    for (uint32_t i = 0; i < nb; i++)
        if (b[i].texel_format != VK_FORMAT_UNDEFINED) texel_mask |= 1u << i;
    const clipvk_pipeline *p;
    clipvk_status s = clipvk_pipeline_get_pinned(rt->pipelines, shader, spec, nspec, nb, texel_mask, push_size, subgroup_size,
                                                 &p, err);
    if (s) return s;
    return clipvk_cmd_dispatch(cmd, p, b, nb, push, gx, gy, gz, shader, err);
}
