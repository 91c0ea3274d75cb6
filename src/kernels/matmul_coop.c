/*
 * matmul_coop: host side of shaders/matmul_coop.comp — the cooperative-matrix
 * (tensor core) tiling of matmul: its default for a device, its checks and
 * its dispatch. Argument checking, bindings and the push constants are
 * matmul.c's, shared with the other tilings.
 *
 * Only VK_NV_cooperative_matrix is driven: Debian 12's glslang (12.0) cannot
 * compile GL_KHR_cooperative_matrix, and its Vulkan headers (1.3.239) predate
 * VK_KHR_cooperative_matrix. NVIDIA drivers expose the NV extension; AMD and
 * Intel (KHR only) take the shared-memory tiles of matmul.comp.
 */
#include "kernels/kernels.h"

/* Shared memory of a tiling, in bytes: the fp16 X and W tiles with rows
 * padded by 8 halves, and the f32 accumulator tile with rows padded by 4. */
static uint32_t coop_shared_bytes(const clipvk_matmul_coop *c)
{
    uint32_t bm = c->warps_m * c->frags_m * c->m, bn = c->warps_n * c->frags_n * c->n;
    return 2 * (bm + bn) * (c->bk + 8) + 4 * bm * (bn + 4);
}

clipvk_matmul_coop clipvk_matmul_coop_default(const clipvk_device_caps *caps)
{
    clipvk_matmul_coop c = {0};
    if (caps->coopmat_emulated) /* NVIDIA's shape and tiling, to see what they would compute */
        return (clipvk_matmul_coop){CLIPVK_COOP_EMULATED, 32, 16, 8, 16, 2, 2, 2, 4, 32};
    if (!caps->cooperative_matrix_nv) return c;
    /* 2 x 2 subgroups, each with a 32 x 32 corner of a 64 x 64 tile (NVIDIA's
     * 16x8x16 fragments: 2 x 4 of them), 32 values of K per stage; 27.5 KiB of
     * shared memory. Smaller tiles where the device has less. */
    c.mode = CLIPVK_COOP_NV;
    c.lanes = caps->subgroup_size;
    c.m = caps->coopmat_m, c.n = caps->coopmat_n, c.k = caps->coopmat_k;
    c.warps_m = c.warps_n = 2;
    c.frags_m = c.m < 32 ? 32 / c.m : 1;
    c.frags_n = c.n < 32 ? 32 / c.n : 1;
    c.bk = c.k >= 32 ? c.k : 32 / c.k * c.k;
    while (coop_shared_bytes(&c) > caps->max_shared_memory && (c.frags_m > 1 || c.frags_n > 1)) {
        if (c.frags_n >= c.frags_m) c.frags_n = (c.frags_n + 1) / 2;
        else c.frags_m = (c.frags_m + 1) / 2;
    }
    if (clipvk_matmul_coop_check(caps, &c, NULL)) c.mode = CLIPVK_COOP_OFF;
    return c;
}

int clipvk_matmul_coop_applies(const clipvk_matmul_coop *c, clipvk_precision weights, int fp16_inputs)
{
    return c->mode != CLIPVK_COOP_OFF && weights == CLIPVK_PRECISION_FP16 && fp16_inputs;
}

clipvk_status clipvk_matmul_coop_check(const clipvk_device_caps *caps, const clipvk_matmul_coop *c, clipvk_error *err)
{
    if (c->mode == CLIPVK_COOP_OFF) return CLIPVK_OK;
    if (c->mode != CLIPVK_COOP_NV && c->mode != CLIPVK_COOP_EMULATED)
        return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT, "matmul: unknown cooperative-matrix mode %u", c->mode);
    /* The tiling's own shape before what the device has: a malformed tiling
     * is wrong on every device (INVALID_ARGUMENT), and the answer must not
     * turn into UNSUPPORTED on a device without fp16 math or NV fragments. */
    if (!c->lanes || !c->m || !c->n || !c->k || (c->m * c->n) % c->lanes || !c->warps_m || !c->warps_n ||
        !c->frags_m || !c->frags_n || c->frags_m * c->frags_n > 64)
        return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT,
                           "matmul: bad fragment tiling (%ux%ux%u, %u lanes, %ux%u subgroups of %ux%u fragments)", c->m,
                           c->n, c->k, c->lanes, c->warps_m, c->warps_n, c->frags_m, c->frags_n);
    if (!c->bk || c->bk % c->k || c->bk % 8)
        return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT, "matmul: K per stage %u must be a multiple of %u and 8",
                           c->bk, c->k);
    if (c->mode == CLIPVK_COOP_NV) {
        if (!caps->cooperative_matrix_nv)
            return clipvk_fail(err, CLIPVK_ERROR_UNSUPPORTED,
                               "matmul: the device has no usable VK_NV_cooperative_matrix");
        if (c->m != caps->coopmat_m || c->n != caps->coopmat_n || c->k != caps->coopmat_k ||
            c->lanes != caps->subgroup_size)
            return clipvk_fail(err, CLIPVK_ERROR_UNSUPPORTED,
                               "matmul: fragments %ux%ux%u over %u lanes; the device has %ux%ux%u over %u", c->m, c->n,
                               c->k, c->lanes, caps->coopmat_m, caps->coopmat_n, caps->coopmat_k, caps->subgroup_size);
    } else if (!caps->shader_float16) {
        return clipvk_fail(err, CLIPVK_ERROR_UNSUPPORTED, "matmul: emulated fragments need fp16 arithmetic");
    }
    uint32_t wg = c->lanes * c->warps_m * c->warps_n;
    if (wg > caps->max_workgroup_invocations || wg > caps->max_workgroup_size[0])
        return clipvk_fail(err, CLIPVK_ERROR_UNSUPPORTED, "matmul: workgroup of %u invocations exceeds the device's %u",
                           wg, caps->max_workgroup_invocations);
    if (coop_shared_bytes(c) > caps->max_shared_memory)
        return clipvk_fail(err, CLIPVK_ERROR_UNSUPPORTED, "matmul: tiles need %u bytes of shared memory, device has %u",
                           coop_shared_bytes(c), caps->max_shared_memory);
    return CLIPVK_OK;
}

clipvk_status clipvk_matmul_coop_run(clipvk_runtime *rt, clipvk_cmd *cmd, const clipvk_matmul_coop *c,
                                     const clipvk_binding b[4], const void *push, uint32_t push_size, uint32_t m,
                                     uint32_t n, const uint32_t epilogue[4], clipvk_error *err)
{
    uint32_t spec[13] = {c->lanes * c->warps_m * c->warps_n, c->lanes, c->m, c->n, c->k, c->warps_m, c->frags_m,
                         c->frags_n, c->bk, epilogue[0], epilogue[1], epilogue[2], epilogue[3]};
    uint32_t bm = c->warps_m * c->frags_m * c->m, bn = c->warps_n * c->frags_n * c->n;
    const char *shader = c->mode == CLIPVK_COOP_NV ? "matmul_coop_nv" : "matmul_coop_emu";
    return clipvk_run(rt, cmd, shader, spec, 13, b, 4, push, push_size, (n + bn - 1) / bn, (m + bm - 1) / bm, 1, err);
}
