/*
 * matmul: host side of shaders/matmul.comp — weight packing and upload, the
 * per-device tiling configuration, and the dispatch with its bindings.
 */
#include "kernels/kernels.h"
#include "util/half.h"

#include <stdlib.h>
#include <string.h>

#define KP_ALIGN 8 /* K is padded to this: the kernel reads 8 values of K at a time */

static uint32_t padded_k(uint32_t k) { return (k + KP_ALIGN - 1) / KP_ALIGN * KP_ALIGN; }

uint64_t clipvk_matmul_packed_bytes(uint32_t n, uint32_t k, clipvk_precision prec)
{
    return (uint64_t)n * padded_k(k) * clipvk_precision_bytes(prec);
}

void clipvk_matmul_pack(const float *w_nk, uint32_t n, uint32_t k, clipvk_precision prec, void *dst)
{
    uint32_t kp = padded_k(k);
    for (uint32_t r = 0; r < n; r++) {
        const float *src = w_nk + (size_t)r * k;
        if (prec == CLIPVK_PRECISION_FP16) {
            uint16_t *d = (uint16_t *)dst + (size_t)r * kp;
            for (uint32_t i = 0; i < k; i++) d[i] = clipvk_f32_to_f16(src[i]);
            for (uint32_t i = k; i < kp; i++) d[i] = 0;
        } else {
            float *d = (float *)dst + (size_t)r * kp;
            memcpy(d, src, (size_t)k * 4);
            for (uint32_t i = k; i < kp; i++) d[i] = 0.0f;
        }
    }
}

/* The bias follows the packed weights (a multiple of 16 bytes, so it starts
 * on a texel); the buffer ends on a whole 16-byte texel for texel views. */
static uint64_t weights_bytes(uint32_t n, uint32_t k, clipvk_precision prec, int has_bias)
{
    return clipvk_matmul_packed_bytes(n, k, prec) + (has_bias ? ((uint64_t)n * 4 + 15) / 16 * 16 : 0);
}

clipvk_status clipvk_matmul_weights_upload(clipvk_runtime *rt, const float *w_nk, const float *bias, uint32_t n,
                                           uint32_t k, clipvk_precision prec, clipvk_matmul_weights *out,
                                           clipvk_error *err)
{
    memset(out, 0, sizeof *out);
    if (!n || !k || !w_nk) return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT, "matmul weights: empty [%u, %u]", n, k);
    uint64_t wbytes = clipvk_matmul_packed_bytes(n, k, prec), bytes = weights_bytes(n, k, prec, bias != NULL);
    char *packed = calloc(1, bytes);
    if (!packed) return clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
    clipvk_matmul_pack(w_nk, n, k, prec, packed);
    if (bias) memcpy(packed + wbytes, bias, (size_t)n * 4);
    clipvk_status s = clipvk_alloc(rt->tensors, bytes, &out->w, err);
    if (!s) s = clipvk_upload(rt, &out->w, 0, packed, bytes, err);
    free(packed);
    if (s) {
        clipvk_matmul_weights_free(rt, out);
        return s;
    }
    out->has_bias = bias != NULL;
    out->n = n;
    out->k = k;
    out->kp = padded_k(k);
    out->precision = prec;
    return CLIPVK_OK;
}

void clipvk_matmul_weights_free(clipvk_runtime *rt, clipvk_matmul_weights *w)
{
    if (w->w.block) clipvk_free(rt->tensors, &w->w);
    memset(w, 0, sizeof *w);
}

clipvk_matmul_config clipvk_matmul_default_config(const clipvk_device_caps *caps)
{
    clipvk_matmul_config c = {0};
    c.coop = clipvk_matmul_coop_default(caps);
    if (caps->type == VK_PHYSICAL_DEVICE_TYPE_CPU) {
        /* CPU implementations (lavapipe, SwiftShader) run a workgroup on one
         * thread, its invocations as the lanes of one SIMD vector: a
         * workgroup of one subgroup needs no barrier, and big register tiles
         * amortise each load over TM*TN*8 multiply-adds. Measured on
         * lavapipe (docs/PERF.md): 8x4 tiles 44 GFLOP/s, 16x8 66, 16x16 74,
         * but 16x16 takes 3.5x longer to compile (1.8 s per pipeline, once:
         * Mesa caches it on disk); shared memory only adds coroutine switches. */
        c.texel = 1;
        c.shared = 0;
        c.wg = caps->subgroup_size >= 4 && caps->subgroup_size <= 64 ? caps->subgroup_size : 8;
        c.tm = 16;
        c.tn = 8;
        c.wgn = 1;
        c.bk = 8;
        return c;
    }
    /* GPUs. With fp16 weights and fp16 inputs allowed, cooperative matrices
     * where the device has them (matmul_coop.c); otherwise, and for fp32:
     * 64x64 tiles over 256 invocations (4x4 outputs each) staged in
     * 8 KiB of shared memory; 32x32 over 64 invocations where the device
     * allows fewer invocations or little shared memory. Storage buffers,
     * which most GPUs read well and which have no texel-count limit; texel
     * buffers where the driver reads storage buffers without the L1 cache
     * (Adreno: device_quirks.c). */
    c.texel = (caps->quirks & CLIPVK_QUIRK_STORAGE_BUFFER_NO_L1) != 0;
    c.shared = 1;
    c.tm = c.tn = 4;
    c.bk = 16;
    if (caps->max_workgroup_invocations >= 256 && caps->max_workgroup_size[0] >= 256 &&
        caps->max_shared_memory >= 4 * c.bk * (64 + 64)) {
        c.wg = 256;
        c.wgn = 16;
    } else {
        c.wg = 64;
        c.wgn = 8;
        c.bk = 8;
    }
    return c;
}

/* Register tiles: the rows per workgroup for M rows. A workgroup computes
 * TM rows whatever M is, so one image (M = 50) with TM = 16 computes 64.
 * Smaller tiles waste less but amortise each W fetch over fewer rows: on
 * lavapipe (TN = 8) the time per computed row goes as 720 / TM + 282 (fitted
 * to 16, 13 and 10 rows at M = 50, docs/PERF.md). Of a few sizes, so a model
 * compiles few pipelines, the one with the least estimated time, if it saves
 * more than 10 % (the estimate's error: at M = 100, 13 rows were estimated 4 %
 * faster than 16 and measured no faster). Every element is summed in the same
 * order whatever TM is, so results do not change with it. */
static double row_tile_cost(uint32_t m, uint32_t tm)
{
    return (double)((m + tm - 1) / tm * tm) * (720.0 / tm + 282.0);
}

static uint32_t register_row_tile(uint32_t m, uint32_t tm_max)
{
    static const uint32_t sizes[] = {16, 13, 10, 8};
    uint32_t best = tm_max;
    double best_cost = 0.9 * row_tile_cost(m, tm_max);
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        uint32_t tm = sizes[i] < tm_max ? sizes[i] : tm_max;
        if (row_tile_cost(m, tm) < best_cost) best = tm, best_cost = row_tile_cost(m, tm);
    }
    return best;
}

static uint32_t shared_bytes(const clipvk_matmul_config *c)
{
    return c->shared ? 4 * c->bk * ((c->wg / c->wgn) * c->tm + c->wgn * c->tn) + 8 : 8;
}

clipvk_status clipvk_matmul_check_config(const clipvk_device_caps *caps, const clipvk_matmul_config *c,
                                         clipvk_error *err)
{
    /* The config's own shape before the device's limits, so a malformed
     * config is INVALID_ARGUMENT on every device and UNSUPPORTED means a
     * well-formed one this device cannot run (clipvk_matmul_coop_check orders
     * the cooperative-matrix part the same way). */
    if (!c->wg) return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT, "matmul: a workgroup of 0 invocations");
    if (c->tm < 1 || c->tm > 16 || c->tn < 1 || c->tn > 16)
        return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT, "matmul: tile %ux%u per invocation outside 1..16", c->tm,
                           c->tn);
    if (c->shared && (!c->wgn || c->wg % c->wgn || !c->bk || c->bk % 8))
        return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT,
                           "matmul: wgn %u must divide wg %u and bk %u be a multiple of 8", c->wgn, c->wg, c->bk);
    if (c->wg > caps->max_workgroup_invocations || c->wg > caps->max_workgroup_size[0])
        return clipvk_fail(err, CLIPVK_ERROR_UNSUPPORTED, "matmul: workgroup of %u invocations exceeds the device's %u",
                           c->wg, caps->max_workgroup_invocations);
    if (c->shared && shared_bytes(c) > caps->max_shared_memory)
        return clipvk_fail(err, CLIPVK_ERROR_UNSUPPORTED, "matmul: tiles need %u bytes of shared memory, device has %u",
                           shared_bytes(c), caps->max_shared_memory);
    return clipvk_matmul_coop_check(caps, &c->coop, err);
}

/* Binds rows [0, rows) of a strided matrix view: the binding starts at the
 * byte offset at or below the matrix's first element that the device can
 * bind (align), and *base says where the matrix starts inside it, in floats. */
static clipvk_binding bind_matrix(const clipvk_matrix *v, uint32_t stride, uint32_t rows, uint32_t cols, uint64_t align,
                                  int write, VkFormat texel, uint32_t *base)
{
    if (align < 4) align = 4;
    uint64_t first = v->offset * 4, start = first / align * align;
    uint64_t end = (v->offset + (uint64_t)(rows - 1) * stride + cols) * 4;
    *base = (uint32_t)((first - start) / 4);
    return (clipvk_binding){.buf = v->buf, .offset = start, .size = end - start, .write = write, .texel_format = texel};
}

clipvk_status clipvk_matmul(clipvk_runtime *rt, clipvk_cmd *cmd, const clipvk_matmul_args *a, clipvk_error *err)
{
    const clipvk_device_caps *caps = &rt->dev->caps;
    const clipvk_matmul_weights *w = a->w;
    if (!w || !w->w.buffer) return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT, "matmul: no weights");
    if (!a->x.buf || !a->y.buf) return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT, "matmul: no input or output");
    if (a->act > CLIPVK_ACT_GELU_TANH) return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT, "matmul: unknown activation %d", (int)a->act);
    uint32_t M = a->m, N = w->n, K = w->k;
    uint32_t xs = a->x.stride ? a->x.stride : K, ys = a->y.stride ? a->y.stride : N;
    int has_res = a->residual.buf != NULL;
    uint32_t rs = has_res && a->residual.stride ? a->residual.stride : ys;
    if (xs < K || ys < N || rs < N)
        return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT, "matmul: a row stride is shorter than its row");
    if (!M) return CLIPVK_OK;
    clipvk_matmul_config c = a->config ? *a->config : clipvk_matmul_default_config(caps);
    clipvk_status s = clipvk_matmul_check_config(caps, &c, err);
    if (s) return s;
    if (!c.shared) c.wgn = 1, c.bk = 8; /* unused by register tiles; keeps the pipeline key canonical */
    if (!a->config && !c.shared) c.tm = register_row_tile(M, c.tm);

    /* X can be read 4 floats at a time when every row starts on a multiple of 4. */
    uint32_t xvec = a->x.offset % 4 == 0 && xs % 4 == 0 && K % 4 == 0;
    int f16 = w->precision == CLIPVK_PRECISION_FP16;
    uint64_t w_bytes = weights_bytes(N, K, w->precision, w->has_bias); /* the binding: W and the bias */
    uint64_t x_elems = (uint64_t)(M - 1) * xs + K + 4; /* + the alignment remainder, at most */
    int coop = clipvk_matmul_coop_applies(&c.coop, w->precision, a->fp16_inputs);
    int texel = !coop && c.texel && w_bytes / 16 <= caps->max_texel_buffer_elements &&
                (xvec ? x_elems / 4 : x_elems) <= caps->max_texel_buffer_elements;

    struct { uint32_t M, N, K, KP, x_base, x_stride, y_base, y_stride, r_base, r_stride, bias_base; } pc = {
        M, N, K, w->kp, 0, xs, 0, ys, 0, rs, (uint32_t)(clipvk_matmul_packed_bytes(N, K, w->precision) / 4)};
    uint64_t salign = caps->min_storage_buffer_offset_alignment;
    uint64_t talign = caps->min_texel_buffer_offset_alignment;
    if (talign < 16) talign = 16; /* RGBA texels: the view must start on a texel */
    /* X, W (+ bias), R, Y: at most 4 storage buffers, the per-stage minimum
     * every device allows (with texel buffers, 2). */
    clipvk_binding b[4];
    if (texel) {
        b[0] = bind_matrix(&a->x, xs, M, K, xvec ? talign : caps->min_texel_buffer_offset_alignment, 0,
                           xvec ? VK_FORMAT_R32G32B32A32_SFLOAT : VK_FORMAT_R32_SFLOAT, &pc.x_base);
        b[1] = (clipvk_binding){.buf = &w->w, .size = w_bytes,
                                .texel_format = f16 ? VK_FORMAT_R32G32B32A32_UINT : VK_FORMAT_R32G32B32A32_SFLOAT};
    } else {
        b[0] = bind_matrix(&a->x, xs, M, K, salign, 0, VK_FORMAT_UNDEFINED, &pc.x_base);
        b[1] = clipvk_bind(&w->w, w_bytes, 0);
    }
    /* Absent residual: bind a few bytes of the weights; the shader never reads them. */
    clipvk_binding dummy = {.buf = &w->w, .size = 16};
    b[2] = has_res ? bind_matrix(&a->residual, rs, M, N, salign, 0, VK_FORMAT_UNDEFINED, &pc.r_base) : dummy;
    b[3] = bind_matrix(&a->y, ys, M, N, salign, 1, VK_FORMAT_UNDEFINED, &pc.y_base);

    if (coop) {
        uint32_t epilogue[4] = {xvec, (uint32_t)w->has_bias, (uint32_t)a->act, (uint32_t)has_res};
        return clipvk_matmul_coop_run(rt, cmd, &c.coop, b, &pc, sizeof pc, M, N, epilogue, err);
    }
    uint32_t spec[11] = {c.wg, c.tm, c.tn, c.shared, c.wgn, c.bk, xvec, (uint32_t)w->has_bias,
                         (uint32_t)a->act, (uint32_t)has_res, K % 8 != 0};
    uint32_t tile_m = c.shared ? (c.wg / c.wgn) * c.tm : c.tm;
    uint32_t tile_n = c.shared ? c.wgn * c.tn : c.wg * c.tn;
    uint32_t gx = (N + tile_n - 1) / tile_n, gy = (M + tile_m - 1) / tile_m;
    static const char *names[2][2] = {{"matmul_buf_f32", "matmul_buf_f16"}, {"matmul_tex_f32", "matmul_tex_f16"}};
    return clipvk_run(rt, cmd, names[texel][f16], spec, 11, b, 4, &pc, sizeof pc, gx, gy, 1, err);
}
