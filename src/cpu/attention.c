/*
 * Multi-head attention on the CPU (attention.comp's job): one task per
 * batch row and head. For each query: its scores against the keys it may
 * see (scaled, the maximum subtracted), their softmax, then the weighted
 * sum of those keys' values. Written out rather than handed to the GEMM
 * library: a query's result then depends on its own keys alone, summed in
 * key order, so a text gives the same bits whatever the length its batch
 * was cut to (net.c pads a batch to its longest row) — GEMM libraries block
 * their sums by the matrix shape. Attention is a few percent of a tower's
 * work at CLIP's lengths. Scores live in the worker's scratch (len floats).
 */
#include "cpu/cpu_internal.h"

#include <math.h>

typedef struct job {
    clipvk_cpu *cpu;
    const clipvk_cpu_attention *a;
    int failed;
} job;

#define LANES 16

/* q . k over n values in LANES partial sums, then those in a fixed order:
 * vectorised without reassociating anything. */
static float dot(const float *q, const float *k, uint32_t n)
{
    float part[LANES] = {0};
    uint32_t i = 0;
    for (; i + LANES <= n; i += LANES)
        for (uint32_t l = 0; l < LANES; l++) part[l] += q[i + l] * k[i + l];
    for (; i < n; i++) part[i % LANES] += q[i] * k[i];
    float s = 0.0f;
    for (uint32_t l = 0; l < LANES; l++) s += part[l];
    return s;
}

static void run_head(void *ctx, uint32_t task, uint32_t worker)
{
    job *j = ctx;
    const clipvk_cpu_attention *a = j->a;
    uint32_t b = task / a->heads, h = task % a->heads, hd = a->head_dim;
    uint32_t keys = a->len;
    if (a->key_lengths && a->key_lengths[b] < keys) keys = a->key_lengths[b];
    if (!keys) keys = 1; /* the caller refuses empty rows; never divide by an empty sum */
    float *p = clipvk_cpu_scratch(j->cpu, worker, (size_t)keys * sizeof(float));
    if (!p) {
        j->failed = 1;
        return;
    }
    const float *k = a->k + (size_t)b * a->len * a->kv_stride + a->k_col + (size_t)h * hd;
    const float *v = a->v + (size_t)b * a->len * a->kv_stride + a->v_col + (size_t)h * hd;
    for (uint32_t i = 0; i < a->q_len; i++) {
        const float *q = a->q + ((size_t)b * a->q_len + i) * a->q_stride + a->q_col + (size_t)h * hd;
        float *o = a->o + ((size_t)b * a->q_len + i) * a->o_stride + (size_t)h * hd;
        uint32_t seen = a->causal && i + 1 < keys ? i + 1 : keys;
        float top = -INFINITY;
        for (uint32_t t = 0; t < seen; t++) {
            p[t] = dot(q, k + (size_t)t * a->kv_stride, hd) * a->scale;
            if (p[t] > top) top = p[t];
        }
        float sum = 0.0f;
        for (uint32_t t = 0; t < seen; t++) {
            p[t] = expf(p[t] - top);
            sum += p[t];
        }
        float inv = 1.0f / sum;
        for (uint32_t d = 0; d < hd; d++) o[d] = 0.0f;
        for (uint32_t t = 0; t < seen; t++) {
            const float *vt = v + (size_t)t * a->kv_stride;
            float w = p[t] * inv;
            for (uint32_t d = 0; d < hd; d++) o[d] += w * vt[d];
        }
    }
}

clipvk_status clipvk_cpu_attention_run(clipvk_cpu *cpu, const clipvk_cpu_attention *a, clipvk_error *err)
{
    if (a->causal && a->q_len != a->len)
        return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT, "attention: a causal mask needs as many queries as keys");
    job j = {.cpu = cpu, .a = a};
    clipvk_cpu_parallel(cpu, a->batch * a->heads, run_head, &j);
    if (j.failed) return clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "out of host memory (attention scratch)");
    return CLIPVK_OK;
}
