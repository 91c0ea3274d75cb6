/* The pieces of a loaded model, shared by the loader and the two towers. */
#ifndef CLIPVK_NET_INTERNAL_H
#define CLIPVK_NET_INTERNAL_H

#include "model/net.h"

/* A Linear layer: y = x W^T + b, W (and b) as the matmul kernel stores them. */
typedef clipvk_matmul_weights clipvk_linear;

typedef struct clipvk_layernorm_params {
    clipvk_buffer gamma, beta;
} clipvk_layernorm_params;

typedef struct clipvk_layer {
    clipvk_layernorm_params ln1, ln2;
    clipvk_linear qkv;     /* q, k, v projections fused: out = 3 * hidden */
    clipvk_linear out_proj, fc1, fc2;
} clipvk_layer;

/* Activations of one tower for up to max_batch inputs. */
typedef struct clipvk_arena {
    uint32_t batch, tokens;           /* sized for batch x tokens rows */
    clipvk_buffer input;              /* pixels [B, C, S, S] or ids [B, L] int32 */
    clipvk_buffer pool_idx;           /* text: pooled position per row, int32 [B] */
    clipvk_buffer patches;            /* vision: unfolded pixels [B * np, C * p * p] */
    clipvk_buffer h, a, qkv, mlp;     /* residual stream, normed / attention out, QKV, MLP hidden */
    clipvk_buffer pooled, normed, out;/* [B, D], [B, D], [B, proj] */
    clipvk_buffer probe, head_q;      /* attention pooling: the probe per row [B, D], its q (k, v) [B, 3D] */
    uint32_t key_len_at;              /* key_mask: float index in qkv of the rows' lengths [B] */
} clipvk_arena;

/* A recorded forward pass for one pair of batch sizes (images, texts; either
 * may be 0) and text length, replayed on every call with those sizes. */
typedef struct clipvk_recording {
    uint32_t images, texts, text_len;
    clipvk_cmd *cmd;
} clipvk_recording;

#define CLIPVK_RECORDINGS 4

/* SigLIP's vision head: a learned probe attends to every token through
 * PyTorch's MultiheadAttention (q, k, v packed in one in_proj), then
 * y + fc2(act(fc1(ln(y)))). */
typedef struct clipvk_map_head {
    float *probe;                 /* [D] on the host: copied to each row of arena.probe */
    clipvk_linear in_proj;        /* [3D, D]: q, k, v */
    clipvk_linear out_proj;
    clipvk_layernorm_params ln;
    clipvk_linear fc1, fc2;
} clipvk_map_head;

typedef struct clipvk_tower {
    const clipvk_tower_config *cfg;
    clipvk_layer *layers;
    clipvk_layernorm_params ln_pre;   /* vision with pre_norm: pre_layrnorm */
    clipvk_layernorm_params ln_post;  /* vision: post_layernorm; text: final_layer_norm */
    clipvk_linear projection;         /* CLIP: visual/text_projection (no bias); SigLIP text: head */
    clipvk_linear patch_embed;        /* vision: the convolution as [D, C*p*p] (SigLIP: with bias) */
    clipvk_map_head map;              /* vision with map_head */
    clipvk_buffer class_embed;        /* vision [D] */
    clipvk_buffer pos_embed;          /* [tokens, D] */
    clipvk_buffer token_embed;        /* text [vocab, D] in the model precision */
    float *pos_host, *type_host;      /* BERT: position and token-type tables until finish() combines them */
    clipvk_arena arena;
} clipvk_tower;

struct clipvk_net {
    clipvk_runtime *rt;
    clipvk_model_config cfg;
    clipvk_precision precision;
    int fp16_inputs;            /* clipvk_net_options.fp16_inputs */
    int towers;
    uint32_t max_batch;
    float logit_scale;
    float logit_bias;           /* sigmoid scoring; 0 otherwise */
    clipvk_tower vision, text;
    clipvk_recording rec[CLIPVK_RECORDINGS];
    uint32_t next_rec;
};

/*
 * One graph, two executors. encoder.c walks a tower once, as data says
 * (its config's flags, its weights); each operation goes through the
 * executor: exec_vulkan.c records a dispatch into a command, exec_cpu.c
 * runs src/cpu/'s kernel at once. No model logic lives in an executor.
 */
typedef struct clipvk_exec clipvk_exec;
typedef struct clipvk_exec_ops {
    /* y = act(x Wᵀ + b) + residual over rows (residual NULL: none; may be y) */
    clipvk_status (*linear)(const clipvk_exec *e, const clipvk_buffer *x, const clipvk_linear *l, clipvk_activation act,
                            const clipvk_buffer *residual, const clipvk_buffer *y, uint32_t rows, clipvk_error *err);
    /* rows of n, x rows x_stride floats apart (0: n), y dense */
    clipvk_status (*layernorm)(const clipvk_exec *e, const clipvk_buffer *x, uint32_t x_stride,
                               const clipvk_layernorm_params *p, const clipvk_buffer *y, uint32_t rows, uint32_t n,
                               float eps, clipvk_error *err);
    clipvk_status (*attention)(const clipvk_exec *e, const clipvk_buffer *q, const clipvk_buffer *kv,
                               const clipvk_buffer *o, const clipvk_attention_params *p, clipvk_error *err);
    clipvk_status (*patchify)(const clipvk_exec *e, const clipvk_buffer *x, const clipvk_buffer *p, uint32_t batch,
                              uint32_t channels, uint32_t size, uint32_t patch, clipvk_error *err);
    clipvk_status (*vision_embed)(const clipvk_exec *e, const clipvk_buffer *emb, const clipvk_buffer *cls,
                                  const clipvk_buffer *pos, const clipvk_buffer *x, uint32_t batch, uint32_t patches,
                                  uint32_t dim, clipvk_error *err);
    clipvk_status (*token_embed)(const clipvk_exec *e, const clipvk_buffer *ids, const clipvk_buffer *table,
                                 uint32_t vocab, const clipvk_buffer *pos, const clipvk_buffer *x, uint32_t batch,
                                 uint32_t len, uint32_t dim, clipvk_error *err);
    clipvk_status (*gather_rows)(const clipvk_exec *e, const clipvk_buffer *x, const clipvk_buffer *idx,
                                 const clipvk_buffer *y, uint32_t batch, uint32_t len, uint32_t dim, clipvk_error *err);
} clipvk_exec_ops;

struct clipvk_exec {
    const clipvk_exec_ops *ops;
    clipvk_net *m;
    clipvk_cmd *cmd; /* Vulkan: the command being recorded */
};

extern const clipvk_exec_ops clipvk_exec_vulkan;
extern const clipvk_exec_ops clipvk_exec_cpu;

/* The tower's forward pass for `batch` inputs, through e. */
clipvk_status clipvk_vision_forward(const clipvk_exec *e, uint32_t batch, clipvk_error *err);
/* Text rows of len tokens (len <= the context). */
clipvk_status clipvk_text_forward(const clipvk_exec *e, uint32_t batch, uint32_t len, clipvk_error *err);

#endif
