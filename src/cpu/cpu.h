/*
 * The native CPU backend's kernels: what the shaders compute, in C, on a
 * small thread pool. One file per kernel family, mirroring src/kernels/
 * (matmul.c, attention.c, layernorm.c, embed.c for the row gathers and the
 * patch unfold); pool.c is the thread pool, gemm.c the GEMM providers.
 *
 * Nothing here knows Vulkan: tensors are plain row-major f32 pointers
 * (weights may be IEEE halves), so the model's CPU executor hands over the
 * host addresses of its buffers. Every kernel splits its work into tasks
 * that write disjoint rows, so results never depend on the thread count.
 */
#ifndef CLIPVK_CPU_H
#define CLIPVK_CPU_H

#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

typedef struct clipvk_cpu clipvk_cpu;

typedef struct clipvk_cpu_options {
    uint32_t threads;   /* threads, the caller's included; 0: one per core */
    /* The GEMM to use (gemm.c): NULL or "" $CLIPVK_GEMM, else oneDNN
     * (libdnnl.so.2) on x86 where it loads, else clipvk's own kernel;
     * "onednn", "builtin", "builtin-narrow" or "openblas" (a sequential
     * build) to insist on one, or a path to a CBLAS library (one exporting
     * cblas_sgemm). */
    const char *gemm;
} clipvk_cpu_options;

clipvk_status clipvk_cpu_create(const clipvk_cpu_options *o, clipvk_cpu **out, clipvk_error *err);
void clipvk_cpu_destroy(clipvk_cpu *cpu);

uint32_t clipvk_cpu_threads(const clipvk_cpu *cpu);
/* "oneDNN", "OpenBLAS (path)", "CBLAS (path)", "builtin", "builtin (narrow)" */
const char *clipvk_cpu_gemm_name(const clipvk_cpu *cpu);
/* What the processor offers that the kernels use: "AVX-512", "AVX2", "SSE2", "NEON", "portable". */
const char *clipvk_cpu_isa(const clipvk_cpu *cpu);
/* The processor's name ("Intel(R) Xeon(R) ..."), or "" when unknown. */
const char *clipvk_cpu_model_name(const clipvk_cpu *cpu);

/* ---- pool.c: runs fn(ctx, task, worker) for task = 0 .. tasks-1 on the
 * calling thread (worker 0) and the pool's workers, and returns when all
 * are done. worker < threads names the thread (for per-thread scratch).
 * Not reentrant: one parallel loop at a time per clipvk_cpu, as a context
 * is used by one thread at a time (clipvk.h). */
typedef void (*clipvk_cpu_task_fn)(void *ctx, uint32_t task, uint32_t worker);
void clipvk_cpu_parallel(clipvk_cpu *cpu, uint32_t tasks, clipvk_cpu_task_fn fn, void *ctx);

/* Scratch memory of worker w, at least `bytes` (grown on demand, kept for
 * the next call); NULL when out of memory. Only worker w may use it. */
float *clipvk_cpu_scratch(clipvk_cpu *cpu, uint32_t w, size_t bytes);

/* ---- gemm.c: C[m, n] = A[m, k] · op(B) (+ C when accumulate), row-major,
 * single-threaded (callers split the work), op(B) = Bᵀ with B [n, k] when
 * b_trans, else B [k, n]. */
void clipvk_cpu_sgemm(const clipvk_cpu *cpu, int b_trans, uint32_t m, uint32_t n, uint32_t k, const float *a,
                      size_t lda, const float *b, size_t ldb, float *c, size_t ldc, int accumulate);

/* IEEE halves to floats (F16C / NEON where the processor has them). */
void clipvk_cpu_widen(const clipvk_cpu *cpu, const uint16_t *src, float *dst, size_t n);

/* ---- matmul.c: Y = act(X·Wᵀ + b) + R, a Linear layer. W [n, k] with rows
 * kp apart (kp >= k), f32 or IEEE halves (fp16; widened block by block
 * while packing, so the weights stay halves in memory); bias [n] or NULL;
 * R [m, n] or NULL, and may be Y. Strides in floats. */
typedef enum clipvk_cpu_act {
    CLIPVK_CPU_ACT_NONE = 0,
    CLIPVK_CPU_ACT_QUICK_GELU = 1,
    CLIPVK_CPU_ACT_GELU = 2,
    CLIPVK_CPU_ACT_GELU_TANH = 3,
} clipvk_cpu_act;

typedef struct clipvk_cpu_linear {
    const float *x;
    size_t x_stride;
    const void *w;      /* [n, kp] */
    int w_fp16;
    uint32_t kp;
    const float *bias;
    float *y;
    size_t y_stride;
    const float *r;
    size_t r_stride;
    uint32_t m, n, k;
    clipvk_cpu_act act;
} clipvk_cpu_linear;

clipvk_status clipvk_cpu_matmul(clipvk_cpu *cpu, const clipvk_cpu_linear *l, clipvk_error *err);

/* ---- attention.c: softmax(Q Kᵀ · scale + mask) V per batch and head, as
 * attention.comp computes it (kernels.h's clipvk_attention_params). */
typedef struct clipvk_cpu_attention {
    const float *q, *k, *v;
    float *o;
    uint32_t batch, len, heads, head_dim, q_len;
    size_t q_stride, kv_stride, o_stride;  /* floats between rows */
    uint32_t q_col, k_col, v_col;          /* where head 0 starts in a row */
    float scale;
    int causal;
    const uint32_t *key_lengths;           /* [batch] or NULL: batch b sees its first key_lengths[b] keys */
} clipvk_cpu_attention;

clipvk_status clipvk_cpu_attention_run(clipvk_cpu *cpu, const clipvk_cpu_attention *a, clipvk_error *err);

/* ---- layernorm.c: Y = LN(X) * gamma + beta over rows of n (strides in floats). */
void clipvk_cpu_layernorm(clipvk_cpu *cpu, const float *x, size_t x_stride, const float *gamma, const float *beta,
                          float *y, size_t y_stride, uint32_t rows, uint32_t n, float eps);

/* ---- embed.c: the row gathers around the transformer (patchify.comp,
 * vision_embed.comp, token_embed.comp, gather_rows.comp). */
/* X [batch, channels, size, size] -> P [batch * G * G, channels * p * p], G = size / p */
void clipvk_cpu_patchify(clipvk_cpu *cpu, const float *x, float *p, uint32_t batch, uint32_t channels,
                         uint32_t size, uint32_t patch);
/* X[b] = [cls; E[b]] + pos (cls NULL: E[b] + pos), E [batch * patches, dim] */
void clipvk_cpu_vision_embed(clipvk_cpu *cpu, const float *e, const float *cls, const float *pos, float *x,
                             uint32_t batch, uint32_t patches, uint32_t dim);
/* X[b, t] = table[ids[b, t]] + pos[t], table f32 or halves; ids checked by the caller */
void clipvk_cpu_token_embed(clipvk_cpu *cpu, const int32_t *ids, const void *table, int table_fp16,
                            const float *pos, float *x, uint32_t batch, uint32_t len, uint32_t dim);
/* Y[b] = X[b, idx[b]], X [batch, len, dim] */
void clipvk_cpu_gather_rows(clipvk_cpu *cpu, const float *x, const int32_t *idx, float *y, uint32_t batch,
                            uint32_t len, uint32_t dim);

#endif
