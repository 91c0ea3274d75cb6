/*
 * config: a model folder's config.json — which family it is, the sizes of
 * both towers, their activation and LayerNorm epsilon, the embedding width,
 * and the shape of the graph the family builds (class token or attention
 * pooling, causal text or not, where text is pooled, how scores are made).
 * Missing fields take the family's defaults (Hugging Face's CLIPConfig,
 * SiglipConfig, ...): see src/families/.
 */
#ifndef CLIPVK_CONFIG_H
#define CLIPVK_CONFIG_H

#include <stdint.h>
#include "kernels/kernels.h" /* clipvk_activation */
#include "util/error.h"
#include "clipvk.h" /* clipvk_scoring */

struct clipvk_family;

/* Where a text row is pooled. */
typedef enum clipvk_text_pool {
    CLIPVK_POOL_EOS = 0, /* the end-of-text token (CLIP) */
    CLIPVK_POOL_LAST,    /* the last position, padding or not (SigLIP) */
    CLIPVK_POOL_FIRST,   /* position 0, [CLS] (BERT) */
} clipvk_text_pool;

typedef struct clipvk_tower_config {
    uint32_t hidden;        /* hidden_size */
    uint32_t intermediate;  /* intermediate_size */
    uint32_t heads;         /* num_attention_heads */
    uint32_t layers;        /* num_hidden_layers */
    clipvk_activation act;  /* hidden_act */
    float eps;              /* layer_norm_eps */
    /* text only */
    uint32_t vocab;         /* vocab_size */
    uint32_t context;       /* max_position_embeddings */
    int64_t eos_token_id;   /* 2 means the legacy rule: pool at the largest id */
    /* vision only */
    uint32_t image_size, patch_size, channels;

    /* The graph, as the family builds it. */
    uint32_t class_token;   /* vision: a class token leads the sequence and is pooled (CLIP) */
    int pre_norm;           /* a LayerNorm before the encoder (CLIP's pre_layrnorm; BERT's embeddings.LayerNorm) */
    int post_ln;            /* layers are post-LN (BERT: LayerNorm after each residual add), else pre-LN */
    int map_head;           /* vision: attention pooling by a learned probe, then an MLP (SigLIP) */
    int causal;             /* text: causal mask (CLIP), else bidirectional */
    int key_mask;           /* text: padding (id 0) masked as keys (BERT); else pads are attended to (SigLIP) */
    clipvk_text_pool pool;  /* text: where a row is pooled */
    uint32_t positions;     /* text: rows of the position table (BERT 512); 0: the context */
    uint32_t type_vocab;    /* text: BERT's token types (type_vocab_size) */
    int final_norm;         /* a LayerNorm on the pooled rows (CLIP, SigLIP; BERT's layers end in one) */
    int proj_bias;          /* the projection (SigLIP: text head) has a bias */
    int has_projection;     /* a projection after pooling (CLIP both, SigLIP text) */
} clipvk_tower_config;

typedef struct clipvk_model_config {
    const struct clipvk_family *family;
    clipvk_tower_config text, vision;
    uint32_t projection_dim; /* the embedding width both towers end in */
    clipvk_scoring scoring;
} clipvk_model_config;

/* Reads and validates config.json (sizes positive and sane, heads dividing
 * the width, a known activation and model_type). */
clipvk_status clipvk_config_load(const char *path, clipvk_model_config *c, clipvk_error *err);
/* The same for the NUL-terminated text of a config.json (`path` names it in
 * messages). */
clipvk_status clipvk_config_parse(const char *path, const char *json, clipvk_model_config *c, clipvk_error *err);

/* Vision tokens: patches plus the class token, if any. */
static inline uint32_t clipvk_vision_tokens(const clipvk_tower_config *v)
{
    uint32_t g = v->image_size / v->patch_size;
    return g * g + v->class_token;
}

/* ---- for the families' parsers (config.c) */
struct cJSON;
/* Reads an integer field into *v if present; checks range [lo, hi]. `tower`
 * prefixes the key in messages ("text_config."). */
clipvk_status clipvk_config_u32(const char *path, const char *tower, const struct cJSON *o, const char *key,
                                uint32_t lo, uint32_t hi, uint32_t *v, clipvk_error *err);
/* hidden_size, intermediate_size, heads, layers, hidden_act, layer_norm_eps:
 * the fields every transformer tower has. */
clipvk_status clipvk_config_tower(const char *path, const char *tower, const struct cJSON *o, clipvk_tower_config *t,
                                  clipvk_error *err);
/* The vision tower's fields: the common ones, image_size, patch_size,
 * num_channels. */
clipvk_status clipvk_config_vision(const char *path, const struct cJSON *v, clipvk_tower_config *vc, clipvk_error *err);
/* The text tower's fields: the common ones, vocab_size, and
 * max_position_embeddings into *positions (the context, or with BERT the
 * table's rows, which may outnumber the context). */
clipvk_status clipvk_config_text(const char *path, const struct cJSON *t, clipvk_tower_config *tc, uint32_t *positions,
                                 clipvk_error *err);
/* The sub-config object: "text_config_dict" when present (Hugging Face's
 * CLIPConfig prefers it), else "text_config". */
const struct cJSON *clipvk_config_sub(const struct cJSON *root, const char *name);

#endif
