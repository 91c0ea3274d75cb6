/*
 * The layernorm family of `clipvk bench --kernels`: every encoder layer
 * normalises its rows twice — ViT-B image tower rows of 768 (50 per image,
 * 400 for a batch of 8), text rows of 512 (77 per text). GB/s counts one
 * read and one write of the rows (the kernel reads them twice; the second
 * read hits the cache).
 */
#include "bench/bench.h"

#include <stdlib.h>

typedef struct layernorm_state {
    const clipvk_buffer *x, *g, *b, *y;
    uint32_t rows, n;
    int variant;
} layernorm_state;

static clipvk_status record(clipvk_bench_ctx *ctx, void *state, clipvk_error *err)
{
    layernorm_state *s = state;
    return clipvk_layernorm_variant(ctx->rt, ctx->cmd, s->x, 0, s->g, s->b, s->y, 0, s->rows, s->n, 1e-5f, s->variant,
                                    err);
}

static clipvk_status one_case(clipvk_bench_ctx *ctx, uint32_t rows, uint32_t n, clipvk_error *err)
{
    clipvk_runtime *rt = ctx->rt;
    size_t count = (size_t)rows * n;
    float *host = malloc(count * 4);
    clipvk_status s = host ? CLIPVK_OK : clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
    for (size_t i = 0; !s && i < count; i++) host[i] = (float)((i * 40503u) % 1000) * 2e-3f - 1.0f;
    clipvk_buffer x = {0}, y = {0}, g = {0}, b = {0};
    if (!s && !(s = clipvk_alloc(rt->tensors, count * 4, &x, err))) s = clipvk_upload(rt, &x, 0, host, count * 4, err);
    if (!s) s = clipvk_alloc(rt->tensors, count * 4, &y, err);
    if (!s && !(s = clipvk_alloc(rt->tensors, n * 4, &g, err))) s = clipvk_upload(rt, &g, 0, host, n * 4, err);
    if (!s && !(s = clipvk_alloc(rt->tensors, n * 4, &b, err))) s = clipvk_upload(rt, &b, 0, host, n * 4, err);
    if (!s) {
        /* --config variant=0|1|2 forces a shader variant (see clipvk_layernorm_variant) */
        uint32_t variant = UINT32_MAX;
        clipvk_bench_config_value(ctx, "variant", &variant);
        layernorm_state st = {&x, &g, &b, &y, rows, n, variant == UINT32_MAX ? -1 : (int)variant};
        /* "GFLOP/s" column: here billions of elements normalised per second */
        clipvk_bench_case r = {.kernel = "layernorm", .precision = "fp32", .flops = (double)count};
        snprintf(r.shape, sizeof r.shape, "%ux%u", rows, n);
        if (!(s = clipvk_bench_time(ctx, record, &st, &r, err))) clipvk_bench_report(ctx, &r);
    }
    clipvk_buffer *all[] = {&x, &y, &g, &b};
    for (int i = 0; i < 4; i++)
        if (all[i]->block) clipvk_free(rt->tensors, all[i]);
    free(host);
    return s;
}

clipvk_status clipvk_bench_layernorm(clipvk_bench_ctx *ctx, clipvk_error *err)
{
    static const struct { uint32_t rows, n; } shapes[] = {{50, 768}, {400, 768}, {77, 512}, {616, 512}};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        clipvk_status s = one_case(ctx, shapes[i].rows, shapes[i].n, err);
        if (s) return s;
    }
    return CLIPVK_OK;
}
