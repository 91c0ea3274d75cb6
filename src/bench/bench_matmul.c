/*
 * The matmul family of `clipvk bench --kernels`: CLIP's Linear layers —
 * ViT-B image tower (50 tokens per image, 400 = a batch of 8) at 768 wide
 * with a 3072 MLP, text tower (77 tokens) at 512 wide with a 2048 MLP — with
 * fp32 and fp16 weights, bias on, no activation; on devices with cooperative
 * matrices also "fp16x": fp16 weights and fp16 inputs on them (--tensor-cores).
 */
#include "bench/bench.h"

#include <stdlib.h>

typedef struct matmul_state {
    clipvk_matmul_args args;
} matmul_state;

static clipvk_status record(clipvk_bench_ctx *ctx, void *state, clipvk_error *err)
{
    return clipvk_matmul(ctx->rt, ctx->cmd, &((matmul_state *)state)->args, err);
}

static clipvk_status one_case(clipvk_bench_ctx *ctx, uint32_t m, uint32_t k, uint32_t n, clipvk_precision prec,
                              int fp16_inputs, clipvk_error *err)
{
    clipvk_runtime *rt = ctx->rt;
    float *w = malloc((size_t)n * k * 4), *b = malloc((size_t)n * 4), *x = malloc((size_t)m * k * 4);
    clipvk_status s = CLIPVK_OK;
    if (!w || !b || !x) s = clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
    /* Deterministic, small values: timing does not depend on them, but
     * denormals or NaN could. */
    for (size_t i = 0; !s && i < (size_t)n * k; i++) w[i] = (float)((i * 2654435761u) % 1000) * 1e-3f - 0.5f;
    for (size_t i = 0; !s && i < (size_t)m * k; i++) x[i] = (float)((i * 40503u) % 1000) * 1e-3f - 0.5f;
    for (size_t i = 0; !s && i < n; i++) b[i] = 0.01f * (float)(i % 7);
    clipvk_matmul_weights mw = {0};
    clipvk_buffer bx = {0}, by = {0};
    if (!s) s = clipvk_matmul_weights_upload(rt, w, b, n, k, prec, &mw, err);
    if (!s && !(s = clipvk_alloc(rt->tensors, (uint64_t)m * k * 4, &bx, err)))
        s = clipvk_upload(rt, &bx, 0, x, (size_t)m * k * 4, err);
    if (!s) s = clipvk_alloc(rt->tensors, (uint64_t)m * n * 4, &by, err);
    if (!s) {
        matmul_state st = {.args = {.x = {&bx, 0, 0}, .w = &mw, .y = {&by, 0, 0}, .m = m, .fp16_inputs = fp16_inputs}};
        /* --config overrides the device's default tiling, key by key */
        clipvk_matmul_config c = clipvk_matmul_default_config(&rt->dev->caps);
        clipvk_bench_config_value(ctx, "texel", &c.texel);
        clipvk_bench_config_value(ctx, "shared", &c.shared);
        clipvk_bench_config_value(ctx, "wg", &c.wg);
        clipvk_bench_config_value(ctx, "tm", &c.tm);
        clipvk_bench_config_value(ctx, "tn", &c.tn);
        clipvk_bench_config_value(ctx, "wgn", &c.wgn);
        clipvk_bench_config_value(ctx, "bk", &c.bk);
        /* the cooperative-matrix tiling (fp16x rows) */
        clipvk_bench_config_value(ctx, "warps_m", &c.coop.warps_m);
        clipvk_bench_config_value(ctx, "warps_n", &c.coop.warps_n);
        clipvk_bench_config_value(ctx, "frags_m", &c.coop.frags_m);
        clipvk_bench_config_value(ctx, "frags_n", &c.coop.frags_n);
        clipvk_bench_config_value(ctx, "coop_bk", &c.coop.bk);
        st.args.config = &c;
        clipvk_bench_case r = {.kernel = "matmul",
                          .precision = fp16_inputs ? "fp16x" : prec == CLIPVK_PRECISION_FP16 ? "fp16" : "fp32",
                          .flops = 2.0 * m * n * k};
        snprintf(r.shape, sizeof r.shape, "%ux%u->%u", m, k, n);
        if (!(s = clipvk_bench_time(ctx, record, &st, &r, err))) clipvk_bench_report(ctx, &r);
    }
    if (by.block) clipvk_free(rt->tensors, &by);
    if (bx.block) clipvk_free(rt->tensors, &bx);
    clipvk_matmul_weights_free(rt, &mw);
    free(w), free(b), free(x);
    return s;
}

clipvk_status clipvk_bench_matmul(clipvk_bench_ctx *ctx, clipvk_error *err)
{
    static const struct { uint32_t m, k, n; } shapes[] = {
        {50, 768, 768},   {50, 768, 3072},  {50, 3072, 768},   /* image tower, one image */
        {400, 768, 768},  {400, 768, 3072}, {400, 3072, 768},  /* image tower, 8 images */
        {77, 512, 512},   {77, 512, 2048},  {77, 2048, 512},   /* text tower, one text */
        {400, 512, 512},  {400, 512, 2048}, {400, 2048, 512},  /* text tower, ~5 texts */
    };
    uint32_t only_m = 0, only_prec = 3; /* --config m=ROWS,prec=0|1|2 (fp32, fp16, fp16x) narrow the sweep */
    clipvk_bench_config_value(ctx, "m", &only_m);
    clipvk_bench_config_value(ctx, "prec", &only_prec);
    int coop = clipvk_matmul_default_config(&ctx->rt->dev->caps).coop.mode != CLIPVK_COOP_OFF;
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        for (int p = 0; p < 2 + coop; p++) {
            if ((only_m && shapes[i].m != only_m) || (only_prec < 3 && (uint32_t)p != only_prec)) continue;
            clipvk_status s = one_case(ctx, shapes[i].m, shapes[i].k, shapes[i].n,
                                       p ? CLIPVK_PRECISION_FP16 : CLIPVK_PRECISION_FP32, p == 2, err);
            if (s) return s;
        }
    return CLIPVK_OK;
}
