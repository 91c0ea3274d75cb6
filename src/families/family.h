/*
 * family: what makes a model family itself — the model_type it answers to,
 * its config.json fields and defaults, its weights (as units: model/tensors.h)
 * and, through the graph flags it sets in the config, its embeddings, pooling,
 * text pooling and scoring. Adding a family is one file here plus its
 * tokenizer; nothing else names a family.
 */
#ifndef CLIPVK_FAMILY_H
#define CLIPVK_FAMILY_H

#include "model/config.h"
#include "model/tensors.h"
#include "image/preprocess.h"

struct cJSON;
struct clipvk_net;

typedef struct clipvk_family {
    const char *name;        /* "clip", "siglip": what clipvk_model_family reports */
    const char *model_type;  /* config.json's model_type */
    /* Fills c (c->family set, the rest zero) from config.json's root object,
     * with the family's defaults for what it lacks. */
    clipvk_status (*parse)(const char *path, const struct cJSON *root, clipvk_model_config *c, clipvk_error *err);
    /* The units of the given towers (see clipvk_model_units). */
    int (*units)(const clipvk_model_config *c, int towers, struct clipvk_net *m, clipvk_unit_visit visit, void *user);
    /* The preprocessing of a folder without preprocessor_config.json, at
     * the model's image size. */
    void (*preprocess_defaults)(clipvk_preprocess_config *cfg, uint32_t size);
    /* The zero-shot prompt when the caller gives none, "{}" the label. */
    const char *default_template;
    /* After every unit is placed (NULL: nothing to do): what needs several
     * units at once (BERT: positions plus the token-type row). */
    clipvk_status (*finish)(struct clipvk_net *m, clipvk_error *err);
} clipvk_family;

extern const clipvk_family clipvk_family_clip;
extern const clipvk_family clipvk_family_siglip;
extern const clipvk_family clipvk_family_chinese_clip;

/* CLIP's vision tower (class token, pre_layrnorm, encoder, post_layernorm,
 * visual_projection), which Chinese-CLIP shares. */
int clipvk_units_clip_vision(const clipvk_model_config *c, struct clipvk_net *m, clipvk_unit_visit visit, void *user);
/* CLIP's text tower (token and position tables, encoder, final_layer_norm)
 * ending in the Linear `projection` (with a bias or not), which SigLIP shares. */
int clipvk_units_clip_text(const clipvk_model_config *c, struct clipvk_net *m, const char *projection, int bias,
                           clipvk_unit_visit visit, void *user);

/* The family whose model_type is `model_type` (NULL: CLIP, as configs
 * without one are OpenAI's), or NULL when none is. */
const clipvk_family *clipvk_family_find(const char *model_type);
/* The model_types clipvk knows, "clip, siglip", into out (for messages). */
const char *clipvk_family_list(char *out, size_t size);

#endif
