#include "kernels/kernels.h"

uint32_t clipvk_layernorm_workgroup(const clipvk_device_caps *c, uint32_t n, int subgroup)
{
    /* CPU devices with subgroup arithmetic: one subgroup per row, so the
     * reduction needs no shared memory and no barrier, which is what costs
     * there (lavapipe: a barrier is a coroutine switch). The shader does not
     * rely on it: its sums hold for any real subgroup width. */
    if (subgroup && c->type == VK_PHYSICAL_DEVICE_TYPE_CPU && c->subgroup_size >= 4 &&
        c->subgroup_size <= c->max_workgroup_invocations)
        return c->subgroup_size;
    /* GPUs: 128 invocations whatever the reported subgroup width (one
     * subgroup was 4-8 invocations per 768-float row on Mali Bifrost);
     * subgroup sums then a shared-memory combine over gl_NumSubgroups, or a
     * shared-memory tree (which needs a power of two). Fewer for short rows
     * or a small invocation limit (the spec's minimum is 128). */
    uint32_t wg = 128;
    while (wg > 32 && (wg > c->max_workgroup_invocations || wg > c->max_workgroup_size[0] || wg / 2 >= n)) wg /= 2;
    return wg;
}

clipvk_status clipvk_layernorm(clipvk_runtime *rt, clipvk_cmd *cmd, const clipvk_buffer *x, uint32_t x_stride,
                               const clipvk_buffer *gamma, const clipvk_buffer *beta, const clipvk_buffer *y,
                               uint32_t y_stride, uint32_t rows, uint32_t n, float eps, clipvk_error *err)
{
    return clipvk_layernorm_variant(rt, cmd, x, x_stride, gamma, beta, y, y_stride, rows, n, eps, -1, err);
}

clipvk_status clipvk_layernorm_variant(clipvk_runtime *rt, clipvk_cmd *cmd, const clipvk_buffer *x, uint32_t x_stride,
                                       const clipvk_buffer *gamma, const clipvk_buffer *beta, const clipvk_buffer *y,
                                       uint32_t y_stride, uint32_t rows, uint32_t n, float eps, int variant,
                                       clipvk_error *err)
{
    if (!x_stride) x_stride = n;
    if (!y_stride) y_stride = n;
    if (!rows || !n) return CLIPVK_OK;
    if (x_stride < n || y_stride < n)
        return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT, "layernorm: stride shorter than the row");
    struct { uint32_t rows, n, x_stride, y_stride; float eps; } pc = {rows, n, x_stride, y_stride, eps};
    const clipvk_device_caps *c = &rt->dev->caps;
    int sg = (c->subgroup_ops & VK_SUBGROUP_FEATURE_ARITHMETIC_BIT) != 0;
    uint32_t vec4 = n % 4 == 0 && x_stride % 4 == 0 && y_stride % 4 == 0;
    /* On CPU devices texel fetches beat storage-buffer loads (see the shader). */
    uint64_t xb_texels = ((uint64_t)(rows - 1) * x_stride + n) / 4;
    int tex = sg && vec4 && c->type == VK_PHYSICAL_DEVICE_TYPE_CPU && xb_texels <= c->max_texel_buffer_elements;
    if (variant >= 0) { /* tests prove every variant on whatever device they run */
        if ((variant >= 1 && !sg) || (variant == 2 && (!vec4 || xb_texels > c->max_texel_buffer_elements)))
            return clipvk_fail(err, CLIPVK_ERROR_UNSUPPORTED, "layernorm variant %d cannot run here", variant);
        sg = variant >= 1;
        tex = variant == 2;
    }
    /* Drivers that reject two views of one binding: the variants with one
     * declaration per binding (the texel one, for CPU devices, views Y twice). */
    int na = (c->quirks & CLIPVK_QUIRK_NO_BINDING_ALIAS) != 0;
    if (na) tex = 0;
    uint32_t spec[2] = {clipvk_layernorm_workgroup(c, n, sg), vec4};
    uint64_t xb = ((uint64_t)(rows - 1) * x_stride + n) * 4, yb = ((uint64_t)(rows - 1) * y_stride + n) * 4;
    clipvk_binding b[4] = {clipvk_bind(x, xb, 0), clipvk_bind(gamma, n * 4ull, 0), clipvk_bind(beta, n * 4ull, 0),
                           clipvk_bind(y, yb, 1)};
    for (int i = 0; tex && i < 3; i++) b[i].texel_format = VK_FORMAT_R32G32B32A32_SFLOAT;
    uint32_t gx, gy;
    clipvk_grid(rows, &gx, &gy);
    const char *name = tex ? "layernorm_sg_tex" : sg ? (na ? "layernorm_sg_na" : "layernorm_sg")
                                                     : (na ? "layernorm_na" : "layernorm");
    return clipvk_run(rt, cmd, name, spec, 2, b, 4, &pc, sizeof pc, gx, gy, 1, err);
}
