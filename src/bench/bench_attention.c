/*
 * The attention family of `clipvk bench --kernels`: the fused attention
 * kernel at CLIP's shapes — 50 tokens (ViT-B/32 image tower) and 77 causal
 * tokens (text tower), 8 and 12 heads of 64 dims, batch 1 and 8. Effective
 * GFLOP/s count 4 * B * H * L^2 * hd flops (Q K^T and P V, 2 flops per
 * multiply-add), halved for causal shapes, whose masked half is skipped, so
 * causal and full figures measure the same work rate.
 */
#include "bench/bench.h"

#include <stdlib.h>

typedef struct attention_state {
    const clipvk_buffer *qkv, *o;
    clipvk_attention_params p;
} attention_state;

static clipvk_status record(clipvk_bench_ctx *ctx, void *state, clipvk_error *err)
{
    attention_state *st = state;
    return clipvk_attention(ctx->rt, ctx->cmd, st->qkv, st->qkv, st->qkv, st->o, &st->p, NULL, err);
}

static clipvk_status one_case(clipvk_bench_ctx *ctx, uint32_t batch, uint32_t len, uint32_t heads, int causal,
                              clipvk_error *err)
{
    clipvk_runtime *rt = ctx->rt;
    const uint32_t hd = 64;
    uint64_t d = (uint64_t)heads * hd, rows = (uint64_t)batch * len;
    float *x = malloc(rows * 3 * d * 4);
    clipvk_status s = x ? CLIPVK_OK : clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
    for (uint64_t i = 0; !s && i < rows * 3 * d; i++) x[i] = (float)((i * 40503u) % 1000) * 2e-3f - 1.0f;
    clipvk_buffer qkv = {0}, o = {0};
    if (!s && !(s = clipvk_alloc(rt->tensors, rows * 3 * d * 4, &qkv, err)))
        s = clipvk_upload(rt, &qkv, 0, x, rows * 3 * d * 4, err);
    if (!s) s = clipvk_alloc(rt->tensors, rows * d * 4, &o, err);
    if (!s) {
        attention_state st = {&qkv, &o, clipvk_attention_fused(batch, len, heads, hd, causal)};
        clipvk_bench_case r = {.kernel = "attention", .precision = "fp32",
                          .flops = 4.0 * batch * heads * (double)len * len * hd * (causal ? 0.5 : 1.0)};
        snprintf(r.shape, sizeof r.shape, "b%u L%u h%ux%u%s", batch, len, heads, hd, causal ? " causal" : "");
        if (!(s = clipvk_bench_time(ctx, record, &st, &r, err))) clipvk_bench_report(ctx, &r);
    }
    if (o.block) clipvk_free(rt->tensors, &o);
    if (qkv.block) clipvk_free(rt->tensors, &qkv);
    free(x);
    return s;
}

clipvk_status clipvk_bench_attention(clipvk_bench_ctx *ctx, clipvk_error *err)
{
    static const struct { uint32_t batch, len, heads; int causal; } shapes[] = {
        {1, 50, 8, 0},  {1, 50, 12, 0},  {8, 50, 8, 0},  {8, 50, 12, 0},  /* image tower */
        {1, 77, 8, 1},  {1, 77, 12, 1},  {8, 77, 8, 1},  {8, 77, 12, 1},  /* text tower */
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        clipvk_status s = one_case(ctx, shapes[i].batch, shapes[i].len, shapes[i].heads, shapes[i].causal, err);
        if (s) return s;
    }
    return CLIPVK_OK;
}
