/*
 * config: a Hugging Face CLIPModel's config.json — the sizes of both towers,
 * their activation and LayerNorm epsilon, the projection width and the
 * pooling token. Missing fields take the defaults of Hugging Face's
 * CLIPTextConfig / CLIPVisionConfig / CLIPConfig.
 */
#ifndef CLIPVK_CONFIG_H
#define CLIPVK_CONFIG_H

#include <stdint.h>
#include "kernels/kernels.h" /* clipvk_activation */
#include "util/error.h"


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
} clipvk_tower_config;

typedef struct clipvk_model_config {
    clipvk_tower_config text, vision;
    uint32_t projection_dim;
} clipvk_model_config;

/* Reads and validates config.json (sizes positive and sane, heads dividing
 * the width, a known activation). */
clipvk_status clipvk_config_load(const char *path, clipvk_model_config *c, clipvk_error *err);
/* The same for the NUL-terminated text of a config.json (`path` names it in
 * messages). */
clipvk_status clipvk_config_parse(const char *path, const char *json, clipvk_model_config *c, clipvk_error *err);

/* Vision tokens: patches plus the class token. */
static inline uint32_t clipvk_vision_tokens(const clipvk_tower_config *v)
{
    uint32_t g = v->image_size / v->patch_size;
    return g * g + 1;
}

#endif
