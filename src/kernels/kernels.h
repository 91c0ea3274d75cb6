/*
 * Host wrappers of the compute kernels, one per shader (shaders/X.comp ↔
 * src/kernels/X.c). Each records its dispatches into a clipvk_cmd; nothing
 * runs until the command is submitted. Tensors are row-major f32 unless a
 * precision is named; weights may be stored as fp16 (clipvk_precision).
 */
#ifndef CLIPVK_KERNELS_H
#define CLIPVK_KERNELS_H

#include "core/runtime.h"


/* Bytes one element of a weight takes in the given storage precision. */
static inline uint32_t clipvk_precision_bytes(clipvk_precision p) { return p == CLIPVK_PRECISION_FP16 ? 2 : 4; }

/* ---- helpers shared by the wrappers (kernel.c) */

/* Binds the first `bytes` of buf. */
clipvk_binding clipvk_bind(const clipvk_buffer *buf, VkDeviceSize bytes, int write);
/* Spreads n workgroups over x and y (x at most 65535); shaders recover the
 * index as gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x and skip
 * the surplus. */
void clipvk_grid(uint64_t n, uint32_t *gx, uint32_t *gy);
/* Fails unless buf holds at least `bytes`. */
clipvk_status clipvk_check_size(const clipvk_buffer *buf, uint64_t bytes, const char *what, clipvk_error *err);
/* Gets the pipeline (shader, spec) and records one dispatch of it. */
clipvk_status clipvk_run(clipvk_runtime *rt, clipvk_cmd *cmd, const char *shader, const uint32_t *spec,
                         uint32_t nspec, const clipvk_binding *b, uint32_t nb, const void *push, uint32_t push_size,
                         uint32_t gx, uint32_t gy, uint32_t gz, clipvk_error *err);
/* The same with subgroups pinned to subgroup_size (0: not pinned): see
 * clipvk_pipeline_get_pinned. */
clipvk_status clipvk_run_pinned(clipvk_runtime *rt, clipvk_cmd *cmd, const char *shader, const uint32_t *spec,
                                uint32_t nspec, uint32_t subgroup_size, const clipvk_binding *b, uint32_t nb,
                                const void *push, uint32_t push_size, uint32_t gx, uint32_t gy, uint32_t gz,
                                clipvk_error *err);

/* ---- layernorm.comp: Y = LN(X) * gamma + beta over rows of n. X and Y have
 * row strides (in floats) x_stride and y_stride (0: n). */
clipvk_status clipvk_layernorm(clipvk_runtime *rt, clipvk_cmd *cmd, const clipvk_buffer *x, uint32_t x_stride,
                               const clipvk_buffer *gamma, const clipvk_buffer *beta, const clipvk_buffer *y,
                               uint32_t y_stride, uint32_t rows, uint32_t n, float eps, clipvk_error *err);
/* The workgroup size layernorm uses on this device for rows of n (subgroup:
 * the subgroup-reduction variant): one subgroup on CPU devices, else up to 128
 * invocations, independent of the reported subgroup width. */
uint32_t clipvk_layernorm_workgroup(const clipvk_device_caps *caps, uint32_t n, int subgroup);
/* The same with the shader variant forced (tests): -1 the device's choice,
 * 0 shared-memory reduction, 1 subgroup reduction, 2 subgroup + texel reads
 * (needs n and the strides multiples of 4). */
clipvk_status clipvk_layernorm_variant(clipvk_runtime *rt, clipvk_cmd *cmd, const clipvk_buffer *x, uint32_t x_stride,
                                       const clipvk_buffer *gamma, const clipvk_buffer *beta, const clipvk_buffer *y,
                                       uint32_t y_stride, uint32_t rows, uint32_t n, float eps, int variant,
                                       clipvk_error *err);

/* ---- add.comp: Y = A + B over n floats (Y may be A). */
clipvk_status clipvk_add(clipvk_runtime *rt, clipvk_cmd *cmd, const clipvk_buffer *a, const clipvk_buffer *b,
                         const clipvk_buffer *y, uint64_t n, clipvk_error *err);

/* ---- patchify.comp: X [batch, channels, height, width] -> P [batch*G*G, channels*p*p], G = height / p. */
clipvk_status clipvk_patchify(clipvk_runtime *rt, clipvk_cmd *cmd, const clipvk_buffer *x, const clipvk_buffer *p,
                              uint32_t batch, uint32_t channels, uint32_t height, uint32_t width, uint32_t patch,
                              clipvk_error *err);

/* ---- vision_embed.comp: X[b] = [cls; E[b]] + pos, E [batch*patches, dim];
 * cls NULL (SigLIP): X[b] = E[b] + pos. */
clipvk_status clipvk_vision_embed(clipvk_runtime *rt, clipvk_cmd *cmd, const clipvk_buffer *e,
                                  const clipvk_buffer *cls, const clipvk_buffer *pos, const clipvk_buffer *x,
                                  uint32_t batch, uint32_t patches, uint32_t dim, clipvk_error *err);

/* ---- token_embed.comp: X[b, t] = table[ids[b, t]] + pos[t]; table [vocab, dim] in
 * `prec`, bound in slices that fit the device's storage-buffer range. */
clipvk_status clipvk_token_embed(clipvk_runtime *rt, clipvk_cmd *cmd, const clipvk_buffer *ids,
                                  const clipvk_buffer *table, clipvk_precision prec, uint32_t vocab,
                                  const clipvk_buffer *pos, const clipvk_buffer *x, uint32_t batch, uint32_t len,
                                  uint32_t dim, clipvk_error *err);

/* ---- gather_rows.comp: Y[b] = X[b, idx[b]], X [batch, len, dim]. */
clipvk_status clipvk_gather_rows(clipvk_runtime *rt, clipvk_cmd *cmd, const clipvk_buffer *x,
                                 const clipvk_buffer *idx, const clipvk_buffer *y, uint32_t batch, uint32_t len,
                                 uint32_t dim, clipvk_error *err);

/* ---- l2norm.comp: Y[r] = X[r] / |X[r]| (Y may be X). */
clipvk_status clipvk_l2norm(clipvk_runtime *rt, clipvk_cmd *cmd, const clipvk_buffer *x, const clipvk_buffer *y,
                            uint32_t rows, uint32_t n, clipvk_error *err);

/* ---- similarity.comp: S[q, r] = dot(Q[q], E[r]) for q < nq, r < n; E [n, dim] at the
 * start of e (bound in slices that fit the device's storage-buffer range), Q [nq, dim],
 * S [nq, n], which must fit one binding (callers scan large collections in blocks). */
clipvk_status clipvk_similarity(clipvk_runtime *rt, clipvk_cmd *cmd, const clipvk_buffer *e, uint32_t n, uint32_t dim,
                                const clipvk_buffer *q, uint32_t nq, const clipvk_buffer *s, clipvk_error *err);
/* Rows of dim floats one binding of E may cover (0: not even one). */
uint64_t clipvk_similarity_max_rows(const clipvk_device_caps *caps, uint32_t dim);

/* ---- attention.comp: fused multi-head attention with an online softmax,
 * O[b, i, h] = softmax_j(Q[b, i, h] . K[b, j, h] * scale + mask) V[b, j, h]
 * for every batch b, head h and query i; with causal, query i sees keys
 * j <= i. The L x L scores are never stored. Rows (b, t) of K and V are
 * b * len + t, rows (b, i) of Q and O are b * q_len + i.
 * head_dim: a multiple of 8 from 8 to 128; len: 1 or more. */
typedef struct clipvk_attention_params {
    uint32_t batch, len, heads, head_dim;
    uint32_t q_len;               /* queries per batch; 0: len (self-attention) */
    uint32_t in_stride;           /* floats from one row of K and V (and Q) to the next */
    uint32_t q_stride;            /* floats between rows of Q; 0: in_stride */
    uint32_t q_col, k_col, v_col; /* column where head 0 of Q, K, V starts in its row */
    uint32_t out_stride;          /* floats between rows of O; 0: heads * head_dim */
    float scale;                  /* on the scores; 0: 1 / sqrt(head_dim) */
    int causal;                   /* needs q_len == len */
    /* Padding masks (BERT): batch b attends only to its first K[b] keys,
     * K a uint32 [batch] stored in q's buffer at float index key_len_at,
     * past the Q rows it covers. Ignored unless key_lengths is set. */
    int key_lengths;
    uint32_t key_len_at;
} clipvk_attention_params;

/* The parameters for one fused activation QKV [batch, len, 3 * D], D =
 * heads * head_dim (Q, K, V at columns 0, D, 2D), and O [batch, len, D]. */
/* p with its defaults made explicit (q_len, q_stride, out_stride, scale)
 * into *out, after checking what every backend needs of them: the heads'
 * columns fit the rows, causal has as many queries as keys, O's rows hold
 * every head, the scale is finite. */
clipvk_status clipvk_attention_resolve(const clipvk_attention_params *p, clipvk_attention_params *out,
                                       clipvk_error *err);

clipvk_attention_params clipvk_attention_fused(uint32_t batch, uint32_t len, uint32_t heads, uint32_t head_dim,
                                               int causal);

/* How attention.comp is tiled (its specialization constants). */
typedef struct clipvk_attention_tiling {
    uint32_t workgroup; /* invocations per workgroup */
    uint32_t key_block; /* keys per block of the online softmax (1..32) */
    uint32_t split;     /* invocations per query, a power of 2 dividing head_dim and workgroup */
    uint32_t shared_kv; /* 1: stage K/V blocks in shared memory (GPUs); 0: read them directly (CPUs) */
    uint32_t dim_chunk; /* head dims unrolled per loop step; 0: all */
    uint32_t vec4;      /* read K/V as vec4s (direct reads, split 1) when rows and columns allow */
    uint32_t subgroups; /* split > 1: 1 = partial scores meet through subgroup shuffles in pipelines
                         * with a pinned subgroup width (needs caps.subgroup_size_control); 0 = through
                         * shared memory, whatever the width */
} clipvk_attention_tiling;

/* The subgroup width attention pins for tiling t (subgroups = 1), or 0 when
 * the device cannot pin one that fits (no subgroup size control, shuffles,
 * or a width >= split dividing the workgroup). */
uint32_t clipvk_attention_pinned_width(const clipvk_device_caps *caps, const clipvk_attention_tiling *t);

/* The tiling for this device and head dim: per device class, see attention.c. */
clipvk_status clipvk_attention_tiling_for(const clipvk_device_caps *caps, uint32_t head_dim,
                                          clipvk_attention_tiling *out, clipvk_error *err);

/* Records the attention of q, k, v (may be one and the same buffer) into o,
 * which must not overlap them. tiling: NULL for clipvk_attention_tiling_for;
 * tests and benchmarks pass others. */
clipvk_status clipvk_attention(clipvk_runtime *rt, clipvk_cmd *cmd, const clipvk_buffer *q, const clipvk_buffer *k,
                               const clipvk_buffer *v, const clipvk_buffer *o, const clipvk_attention_params *p,
                               const clipvk_attention_tiling *tiling, clipvk_error *err);

/* ---- matmul.comp: Y = act(X·Wᵀ + b) + R, a PyTorch Linear layer (W [N, K])
 * with an optional fused epilogue; fp32 accumulation whatever the weights'
 * storage precision. */

typedef enum clipvk_activation {
    CLIPVK_ACT_NONE = 0,
    CLIPVK_ACT_QUICK_GELU = 1, /* x * sigmoid(1.702 x): OpenAI's CLIP weights */
    CLIPVK_ACT_GELU = 2,       /* x * Phi(x) with erf: some LAION models */
    CLIPVK_ACT_GELU_TANH = 3,  /* Phi by its tanh approximation: SigLIP's gelu_pytorch_tanh */
} clipvk_activation;

/* A Linear layer's weights in the layout matmul reads: row n of W [N, K] at
 * element n * kp, kp = K rounded up to 8 with zeros, in f32 or f16 (IEEE
 * halves). Rows are the Linear layout's, so a loader needs no transpose; the
 * padding lets the kernel read 8 values of K (two 16-byte texels in f32, one
 * in f16) without a bounds check. */
typedef struct clipvk_matmul_weights {
    /* The packed W, then (has_bias) the bias [N] f32 at byte
     * clipvk_matmul_packed_bytes(n, k, precision): one binding for both, so
     * matmul fits the 4 storage buffers per stage some devices allow. */
    clipvk_buffer w;
    int has_bias;
    uint32_t n, k, kp;
    clipvk_precision precision;
} clipvk_matmul_weights;

/* Bytes of the packed weights, and the packing itself on the host (dst holds
 * clipvk_matmul_packed_bytes), for loaders that upload on their own. */
uint64_t clipvk_matmul_packed_bytes(uint32_t n, uint32_t k, clipvk_precision prec);
void clipvk_matmul_pack(const float *w_nk, uint32_t n, uint32_t k, clipvk_precision prec, void *dst);

/* Packs w_nk [N, K] (and bias [N], or NULL) and uploads them to a new buffer. */
clipvk_status clipvk_matmul_weights_upload(clipvk_runtime *rt, const float *w_nk, const float *bias, uint32_t n,
                                           uint32_t k, clipvk_precision prec, clipvk_matmul_weights *out,
                                           clipvk_error *err);
void clipvk_matmul_weights_free(clipvk_runtime *rt, clipvk_matmul_weights *w);

/* Cooperative-matrix tiling (shaders/matmul_coop.comp): used for fp16
 * weights when the caller allows fp16 inputs (clipvk_matmul_args.fp16_inputs). */
enum {
    CLIPVK_COOP_OFF = 0,
    CLIPVK_COOP_NV = 1,       /* VK_NV_cooperative_matrix (the device's fragment shape and subgroup size) */
    CLIPVK_COOP_EMULATED = 2, /* the same shader with plain-loop fragments: any device, for tests */
};
typedef struct clipvk_matmul_coop {
    uint32_t mode;             /* CLIPVK_COOP_* */
    uint32_t lanes;            /* invocations per subgroup (NV: the device's subgroup size) */
    uint32_t m, n, k;          /* fragment shape (NV: the device's) */
    uint32_t warps_m, warps_n; /* subgroups per workgroup along M and N */
    uint32_t frags_m, frags_n; /* accumulator fragments per subgroup */
    uint32_t bk;               /* K per stage, a multiple of k and of 8 */
} clipvk_matmul_coop;

/* NV on devices that have it, else off. */
clipvk_matmul_coop clipvk_matmul_coop_default(const clipvk_device_caps *caps);
/* Whether matmul takes this tiling: fp16 weights, fp16 inputs allowed and a
 * mode on (what the model's numerics and the tests' reference depend on). */
int clipvk_matmul_coop_applies(const clipvk_matmul_coop *c, clipvk_precision weights, int fp16_inputs);
/* Fails, saying why, when the device cannot run c. */
clipvk_status clipvk_matmul_coop_check(const clipvk_device_caps *caps, const clipvk_matmul_coop *c, clipvk_error *err);
/* Records one dispatch of the coop shader (for matmul.c, which checked the
 * arguments and made the bindings); epilogue: XVEC, HAS_BIAS, ACT, HAS_RES. */
clipvk_status clipvk_matmul_coop_run(clipvk_runtime *rt, clipvk_cmd *cmd, const clipvk_matmul_coop *c,
                                     const clipvk_binding b[4], const void *push, uint32_t push_size, uint32_t m,
                                     uint32_t n, const uint32_t epilogue[4], clipvk_error *err);

/* How matmul tiles the work (see shaders/matmul.comp). */
typedef struct clipvk_matmul_config {
    uint32_t texel;  /* read X and W through uniform texel buffers (storage buffers where a
                      * view would exceed the device's texel-buffer limits) */
    uint32_t shared; /* stage tiles in shared memory; 0: register tiles only */
    uint32_t wg;     /* invocations per workgroup */
    uint32_t tm, tn; /* outputs per invocation: rows x columns, 1..16 each (big tiles compile slowly) */
    uint32_t wgn;    /* shared: invocations along N (divides wg) */
    uint32_t bk;     /* shared: values of K per stage, a multiple of 8 */
    clipvk_matmul_coop coop; /* fp16 weights with fp16_inputs allowed, when mode is not off */
} clipvk_matmul_config;

/* The configuration for a device: register tiles and texel buffers on CPU
 * devices, shared-memory tiles on GPUs. */
clipvk_matmul_config clipvk_matmul_default_config(const clipvk_device_caps *caps);
/* Fails, saying why, when the device cannot run c. */
clipvk_status clipvk_matmul_check_config(const clipvk_device_caps *caps, const clipvk_matmul_config *c,
                                         clipvk_error *err);

/* A row-major f32 matrix in a buffer: element (r, c) at float offset + r * stride + c. */
typedef struct clipvk_matrix {
    const clipvk_buffer *buf;
    uint64_t offset;  /* in floats */
    uint32_t stride;  /* in floats; 0: the row length */
} clipvk_matrix;

typedef struct clipvk_matmul_args {
    clipvk_matrix x;                    /* X [m, w->k] */
    const clipvk_matmul_weights *w;     /* W [N, K] and bias (added when present) */
    clipvk_matrix y;                    /* Y [m, w->n]: a column slice of a wider buffer via stride */
    uint32_t m;
    clipvk_activation act;
    clipvk_matrix residual;             /* R [m, N] added after act; buf NULL: none; may be y (in place) */
    const clipvk_matmul_config *config; /* NULL: clipvk_matmul_default_config */
    int fp16_inputs;                    /* with fp16 weights, X may be rounded to fp16 where that
                                         * is faster (cooperative matrices); 0: fp32 products */
} clipvk_matmul_args;

/* Records Y = act(X·Wᵀ + b) + R. X must not overlap Y. */
clipvk_status clipvk_matmul(clipvk_runtime *rt, clipvk_cmd *cmd, const clipvk_matmul_args *a, clipvk_error *err);

#endif
