/*
 * Multi-head attention on the CPU (attention.comp's job): one task per
 * batch row and head. The head's keys are first transposed into scratch
 * (Kᵀ [head_dim, keys]); then for each query its scores against the keys
 * it may see, accumulated over the head dims in order with the keys side
 * by side (a loop the compiler vectorises along the keys), scaled, the
 * maximum subtracted, their softmax, and the weighted sum of the values.
 * Written out rather than handed to the GEMM library where a mask applies
 * (causal or padded texts): a query's result then depends on its own keys
 * alone, summed in a fixed order, so a text gives the same bits whatever
 * the length its batch was cut to (net.c pads a batch to its longest row),
 * where GEMM libraries block their sums by the matrix shape. Unmasked
 * attention has fixed shapes and goes through the GEMM (run_head_gemm).
 */
#include "cpu/cpu_internal.h"
#include "cpu/vmath.h"

#include <math.h>

typedef struct job {
    clipvk_cpu *cpu;
    const clipvk_cpu_attention *a;
    int failed;
} job;

/* Softmax of the rows of S [rows, n] in place, scaled first. */
CLIPVK_CLONES
static void softmax_rows(float *s, uint32_t rows, uint32_t n, float scale)
{
    for (uint32_t i = 0; i < rows; i++) {
        float *p = s + (size_t)i * n, top = -INFINITY, sum = 0.0f;
        for (uint32_t t = 0; t < n; t++) {
            p[t] *= scale;
            top = p[t] > top ? p[t] : top;
        }
        for (uint32_t t = 0; t < n; t++) {
            p[t] = clipvk_expf(p[t] - top);
            sum += p[t];
        }
        float inv = 1.0f / sum;
        for (uint32_t t = 0; t < n; t++) p[t] *= inv;
    }
}

CLIPVK_CLONES
static void head(const clipvk_cpu_attention *a, uint32_t b, uint32_t h, uint32_t keys, float *kt, float *p)
{
    uint32_t hd = a->head_dim;
    const float *k = a->k + (size_t)b * a->len * a->kv_stride + a->k_col + (size_t)h * hd;
    const float *v = a->v + (size_t)b * a->len * a->kv_stride + a->v_col + (size_t)h * hd;
    for (uint32_t t = 0; t < keys; t++)
        for (uint32_t d = 0; d < hd; d++) kt[(size_t)d * keys + t] = k[(size_t)t * a->kv_stride + d];
    for (uint32_t i = 0; i < a->q_len; i++) {
        const float *q = a->q + ((size_t)b * a->q_len + i) * a->q_stride + a->q_col + (size_t)h * hd;
        float *restrict o = a->o + ((size_t)b * a->q_len + i) * a->o_stride + (size_t)h * hd;
        uint32_t seen = a->causal && i + 1 < keys ? i + 1 : keys;
        for (uint32_t t = 0; t < seen; t++) p[t] = 0.0f;
        for (uint32_t d = 0; d < hd; d++) {
            const float *restrict row = kt + (size_t)d * keys;
            float qd = q[d];
            for (uint32_t t = 0; t < seen; t++) p[t] += qd * row[t];
        }
        softmax_rows(p, 1, seen, a->scale);
        for (uint32_t d = 0; d < hd; d++) o[d] = 0.0f;
        for (uint32_t t = 0; t < seen; t++) {
            const float *restrict vt = v + (size_t)t * a->kv_stride;
            for (uint32_t d = 0; d < hd; d++) o[d] += p[t] * vt[d];
        }
    }
}

/* Without a mask (image towers, SigLIP's text, attention pooling) every
 * call has the same shapes whatever the batch, so the GEMM library may do
 * the products: S = Q Kᵀ, its softmax, O = S V. */
static void run_head_gemm(void *ctx, uint32_t task, uint32_t worker)
{
    job *j = ctx;
    const clipvk_cpu_attention *a = j->a;
    uint32_t b = task / a->heads, h = task % a->heads, hd = a->head_dim;
    float *s = clipvk_cpu_scratch(j->cpu, worker, (size_t)a->q_len * a->len * sizeof(float));
    if (!s) {
        j->failed = 1;
        return;
    }
    const float *q = a->q + (size_t)b * a->q_len * a->q_stride + a->q_col + (size_t)h * hd;
    const float *k = a->k + (size_t)b * a->len * a->kv_stride + a->k_col + (size_t)h * hd;
    const float *v = a->v + (size_t)b * a->len * a->kv_stride + a->v_col + (size_t)h * hd;
    float *o = a->o + (size_t)b * a->q_len * a->o_stride + (size_t)h * hd;
    clipvk_cpu_sgemm(j->cpu, 1, a->q_len, a->len, hd, q, a->q_stride, k, a->kv_stride, s, a->len, 0);
    softmax_rows(s, a->q_len, a->len, a->scale);
    clipvk_cpu_sgemm(j->cpu, 0, a->q_len, hd, a->len, s, a->len, v, a->kv_stride, o, a->o_stride, 0);
}

static void run_head(void *ctx, uint32_t task, uint32_t worker)
{
    job *j = ctx;
    const clipvk_cpu_attention *a = j->a;
    uint32_t b = task / a->heads, h = task % a->heads;
    uint32_t keys = a->len;
    if (a->key_lengths && a->key_lengths[b] < keys) keys = a->key_lengths[b];
    if (!keys) keys = 1; /* the caller refuses empty rows; never divide by an empty sum */
    float *kt = clipvk_cpu_scratch(j->cpu, worker, ((size_t)a->head_dim + 1) * keys * sizeof(float));
    if (!kt) {
        j->failed = 1;
        return;
    }
    head(a, b, h, keys, kt, kt + (size_t)a->head_dim * keys);
}

clipvk_status clipvk_cpu_attention_run(clipvk_cpu *cpu, const clipvk_cpu_attention *a, clipvk_error *err)
{
    if (a->causal && a->q_len != a->len)
        return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT, "attention: a causal mask needs as many queries as keys");
    job j = {.cpu = cpu, .a = a};
    clipvk_cpu_parallel(cpu, a->batch * a->heads, a->causal || a->key_lengths ? run_head : run_head_gemm, &j);
    if (j.failed) return clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "out of host memory (attention scratch)");
    return CLIPVK_OK;
}
