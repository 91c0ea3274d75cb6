/*
 * Multi-head attention on the CPU (attention.comp's job): one task per
 * batch row and head computes S = Q Kᵀ with the GEMM provider into its
 * scratch, the softmax of each row of S in place (scaled, masked, the
 * maximum subtracted), then O = P V straight into its head's columns of O.
 * Unlike the shader (an online softmax over key blocks, for GPUs' small
 * memories) the scores are stored: q_len x len floats per task are a few
 * hundred KiB at CLIP's lengths.
 */
#include "cpu/cpu_internal.h"

#include <math.h>

typedef struct job {
    clipvk_cpu *cpu;
    const clipvk_cpu_attention *a;
    int failed;
} job;

static void run_head(void *ctx, uint32_t task, uint32_t worker)
{
    job *j = ctx;
    const clipvk_cpu_attention *a = j->a;
    uint32_t b = task / a->heads, h = task % a->heads, hd = a->head_dim;
    uint32_t keys = a->len;
    if (a->key_lengths && a->key_lengths[b] < keys) keys = a->key_lengths[b];
    if (!keys) keys = 1; /* the caller refuses empty rows; never divide by an empty sum */
    float *s = clipvk_cpu_scratch(j->cpu, worker, (size_t)a->q_len * keys * sizeof(float));
    if (!s) {
        j->failed = 1;
        return;
    }
    const float *q = a->q + (size_t)b * a->q_len * a->q_stride + a->q_col + (size_t)h * hd;
    const float *k = a->k + (size_t)b * a->len * a->kv_stride + a->k_col + (size_t)h * hd;
    const float *v = a->v + (size_t)b * a->len * a->kv_stride + a->v_col + (size_t)h * hd;
    float *o = a->o + (size_t)b * a->q_len * a->o_stride + (size_t)h * hd;
    clipvk_cpu_sgemm(j->cpu, 1, a->q_len, keys, hd, q, a->q_stride, k, a->kv_stride, s, keys, 0);
    for (uint32_t i = 0; i < a->q_len; i++) {
        float *row = s + (size_t)i * keys;
        uint32_t seen = a->causal && i + 1 < keys ? i + 1 : keys;
        float top = -INFINITY;
        for (uint32_t t = 0; t < seen; t++) {
            row[t] *= a->scale;
            if (row[t] > top) top = row[t];
        }
        float sum = 0.0f;
        for (uint32_t t = 0; t < seen; t++) {
            row[t] = expf(row[t] - top);
            sum += row[t];
        }
        float inv = 1.0f / sum;
        for (uint32_t t = 0; t < seen; t++) row[t] *= inv;
        for (uint32_t t = seen; t < keys; t++) row[t] = 0.0f;
    }
    clipvk_cpu_sgemm(j->cpu, 0, a->q_len, hd, keys, s, keys, v, a->kv_stride, o, a->o_stride, 0);
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
