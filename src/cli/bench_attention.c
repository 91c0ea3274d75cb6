/*
 * bench_attention: the fused attention kernel at CLIP's shapes. Effective
 * GFLOP/s count 4 * B * H * L^2 * hd flops (Q K^T and P V, 2 flops per
 * multiply-add) and half that for causal shapes, whose masked half is
 * skipped — so causal and full figures measure the same work rate.
 */
#include "cli/bench_attention.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernels/kernels.h"

static double wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct shape {
    uint32_t batch, len, heads, hd;
    int causal;
} shape;

/* Median ms of iters runs of one shape; < 0 on failure (message in err). */
static double time_shape(clipvk_runtime *rt, clipvk_cmd *cmd, int gpu_timer, const shape *s, int iters,
                         clipvk_error *err)
{
    uint64_t d = (uint64_t)s->heads * s->hd, rows = (uint64_t)s->batch * s->len;
    clipvk_buffer qkv = {0}, o = {0};
    double result = -1, *ms = calloc((size_t)iters, sizeof *ms);
    float *host = malloc(rows * 3 * d * 4);
    if (!ms || !host) {
        clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
        goto done;
    }
    /* Finite data in [-1, 1) so the timing sees ordinary exponents. */
    for (uint64_t i = 0; i < rows * 3 * d; i++) host[i] = (float)((i * 2654435761u) % 2048) / 1024.0f - 1.0f;
    if (clipvk_alloc(rt->tensors, rows * 3 * d * 4, &qkv, err) || clipvk_alloc(rt->tensors, rows * d * 4, &o, err) ||
        clipvk_upload(rt, &qkv, 0, host, rows * 3 * d * 4, err))
        goto done;
    clipvk_attention_params p = clipvk_attention_fused(s->batch, s->len, s->heads, s->hd, s->causal);
    if (clipvk_cmd_begin(cmd, err) || clipvk_attention(rt, cmd, &qkv, &qkv, &qkv, &o, &p, NULL, err) ||
        clipvk_cmd_end(cmd, err))
        goto done;
    if (clipvk_cmd_submit(cmd, err)) goto done; /* warm-up: pipeline compilation on lazy drivers */
    for (int i = 0; i < iters; i++) {
        double t0 = wall_ms();
        if (clipvk_cmd_submit(cmd, err)) goto done;
        ms[i] = wall_ms() - t0;
        uint32_t n = 0;
        const clipvk_timing *t = gpu_timer ? clipvk_cmd_timings(cmd, &n) : NULL;
        if (n >= 1) ms[i] = t[0].ms;
    }
    qsort(ms, (size_t)iters, sizeof *ms, cmp_double);
    result = ms[iters / 2];
done:
    if (o.buffer) clipvk_free(rt->tensors, &o);
    if (qkv.buffer) clipvk_free(rt->tensors, &qkv);
    free(host);
    free(ms);
    return result;
}

int bench_attention(clipvk_runtime *rt, int iters, int json, FILE *out)
{
    static const shape shapes[] = {
        {1, 50, 8, 64, 0}, {1, 50, 12, 64, 0}, {8, 50, 8, 64, 0}, {8, 50, 12, 64, 0},
        {1, 77, 8, 64, 1}, {1, 77, 12, 64, 1}, {8, 77, 8, 64, 1}, {8, 77, 12, 64, 1},
    };
    if (iters < 1) iters = 1;
    clipvk_error err = {0};
    clipvk_cmd *cmd;
    int gpu_timer = rt->dev->caps.timestamp_period > 0;
    if (clipvk_cmd_create(rt->dev, gpu_timer, &cmd, &err)) {
        fprintf(stderr, "clipvk: bench attention: %s\n", err.msg);
        return 1;
    }
    clipvk_attention_tiling t;
    if (clipvk_attention_tiling_for(&rt->dev->caps, 64, &t, &err)) {
        fprintf(stderr, "clipvk: bench attention: %s\n", err.msg);
        clipvk_cmd_destroy(cmd);
        return 1;
    }
    const char *timer = gpu_timer ? "gpu-timestamps" : "wall-clock";
    if (!json)
        fprintf(out, "attention (hd 64, tiling wg %u kb %u split %u shared_kv %u; median of %d, %s; causal flops halved)\n",
                t.workgroup, t.key_block, t.split, t.shared_kv, iters, timer);
    int rc = 0;
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        const shape *s = &shapes[i];
        double ms = time_shape(rt, cmd, gpu_timer, s, iters, &err);
        if (ms < 0) {
            fprintf(stderr, "clipvk: bench attention b=%u L=%u h=%u: %s\n", s->batch, s->len, s->heads, err.msg);
            rc = 1;
            break;
        }
        double flops = 4.0 * s->batch * s->heads * (double)s->len * s->len * s->hd * (s->causal ? 0.5 : 1.0);
        double gflops = ms > 0 ? flops / ms / 1e6 : 0;
        if (json)
            fprintf(out,
                    "{\"kernel\":\"attention\",\"batch\":%u,\"len\":%u,\"heads\":%u,\"head_dim\":%u,\"causal\":%s,"
                    "\"ms\":%.4f,\"gflops\":%.3f,\"flops_causal_halved\":true,\"timer\":\"%s\",\"iters\":%d}\n",
                    s->batch, s->len, s->heads, s->hd, s->causal ? "true" : "false", ms, gflops, timer, iters);
        else
            fprintf(out, "  attention b=%u L=%-3u h=%-2u hd=%u %-6s %9.3f ms %8.2f GFLOP/s\n", s->batch, s->len,
                    s->heads, s->hd, s->causal ? "causal" : "full", ms, gflops);
    }
    clipvk_cmd_destroy(cmd);
    return rc;
}
