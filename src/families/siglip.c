/*
 * SigLIP (`model_type` "siglip", Hugging Face's SiglipModel), and SigLIP 2's
 * fixed-resolution checkpoints, which are the same graph.
 *   vision: patches (with bias) plus positions, no class token and no
 *           pre-LayerNorm, encoder, post_layernorm on every token, then the
 *           MAP head: a learned probe attends to all tokens (PyTorch's
 *           MultiheadAttention, in_proj packed [3D, D]), out_proj, and
 *           y + mlp(layernorm(y)). No projection.
 *   text:   tokens plus positions, encoder with NO mask (pads are attended
 *           to, as SigLIP was trained), final_layer_norm, pooled at the last
 *           position, head (Linear with bias).
 *   scores: sigmoid(exp(logit_scale) * cos + logit_bias), per pair.
 * Missing keys take SiglipTextConfig / SiglipVisionConfig's defaults; hub
 * configs are sparse and rely on them.
 */
#include "families/family.h"
#include "model/net_internal.h"

#include <cjson/cJSON.h>

static clipvk_status parse(const char *path, const cJSON *root, clipvk_model_config *c, clipvk_error *err)
{
    c->text = (clipvk_tower_config){.hidden = 768, .intermediate = 3072, .heads = 12, .layers = 12,
                                    .act = CLIPVK_ACT_GELU_TANH, .eps = 1e-6f, .vocab = 32000, .context = 64,
                                    .causal = 0, .pool = CLIPVK_POOL_LAST, .final_norm = 1, .proj_bias = 1,
                                    .has_projection = 1};
    c->vision = (clipvk_tower_config){.hidden = 768, .intermediate = 3072, .heads = 12, .layers = 12,
                                      .act = CLIPVK_ACT_GELU_TANH, .eps = 1e-6f, .image_size = 224, .patch_size = 16,
                                      .channels = 3, .map_head = 1, .final_norm = 1};
    c->scoring = CLIPVK_SCORING_SIGMOID;
    const cJSON *t = clipvk_config_sub(root, "text_config"), *v = clipvk_config_sub(root, "vision_config");
    clipvk_tower_config *tc = &c->text, *vc = &c->vision;
    clipvk_status s;
    if ((s = clipvk_config_text(path, t, tc, &tc->context, err)) ||
        (s = clipvk_config_vision(path, v, vc, err)))
        return s;
    /* The image embedding is the MAP head's output, vision hidden wide; the
     * text head must end there too (projection_size, default hidden_size). */
    uint32_t text_out = tc->hidden;
    if ((s = clipvk_config_u32(path, "text_config.", t, "projection_size", 1, 16384, &text_out, err))) return s;
    c->projection_dim = vc->hidden;
    if (text_out != vc->hidden)
        return clipvk_fail(err, CLIPVK_ERROR_FORMAT,
                           "%s: the text head ends %u wide (text_config.projection_size) but images embed %u wide "
                           "(vision_config.hidden_size)",
                           path, text_out, vc->hidden);
    return CLIPVK_OK;
}

static int units(const clipvk_model_config *c, int towers, clipvk_net *m, clipvk_unit_visit visit, void *user)
{
    const clipvk_tower_config *v = &c->vision;
    clipvk_tower *vt = m ? &m->vision : NULL;
#define AT(x) (m ? (void *)&(x) : NULL)
    int r = clipvk_unit_emit(visit, user, &(clipvk_unit){.kind = CLIPVK_UNIT_SCALAR, .dest = AT(m->logit_scale)},
                             "logit_scale") ||
            clipvk_unit_emit(visit, user, &(clipvk_unit){.kind = CLIPVK_UNIT_SCALAR, .dest = AT(m->logit_bias)},
                             "logit_bias");
    if (!r && (towers & 1)) { /* CLIPVK_TOWERS_IMAGE */
        uint64_t d = v->hidden, f = v->intermediate;
        r = clipvk_unit_emit(visit, user,
                             &(clipvk_unit){.kind = CLIPVK_UNIT_PATCH, .bias = 1, .ndim = 4,
                                            .shape = {d, v->channels, v->patch_size, v->patch_size},
                                            .dest = AT(vt->patch_embed)},
                             "vision_model.embeddings.patch_embedding") ||
            clipvk_unit_emit(visit, user,
                             &(clipvk_unit){.kind = CLIPVK_UNIT_BUFFER, .ndim = 2, .shape = {clipvk_vision_tokens(v), d},
                                            .dest = AT(vt->pos_embed)},
                             "vision_model.embeddings.position_embedding.weight") ||
            clipvk_units_encoder("vision_model", v, vt ? vt->layers : NULL, visit, user) ||
            clipvk_unit_emit(visit, user, &(clipvk_unit){.kind = CLIPVK_UNIT_NORM, .shape = {d}, .dest = AT(vt->ln_post)},
                             "vision_model.post_layernorm") ||
            clipvk_unit_emit(visit, user,
                             &(clipvk_unit){.kind = CLIPVK_UNIT_HOST, .ndim = 3, .shape = {1, 1, d},
                                            .dest = AT(vt->map.probe)},
                             "vision_model.head.probe") ||
            clipvk_unit_emit(visit, user,
                             &(clipvk_unit){.kind = CLIPVK_UNIT_LINEAR, .bias = 1, .ndim = 2, .shape = {3 * d, d},
                                            .wsuffix = "_weight", .bsuffix = "_bias", .dest = AT(vt->map.in_proj)},
                             "vision_model.head.attention.in_proj") ||
            clipvk_unit_emit(visit, user,
                             &(clipvk_unit){.kind = CLIPVK_UNIT_LINEAR, .bias = 1, .ndim = 2, .shape = {d, d},
                                            .dest = AT(vt->map.out_proj)},
                             "vision_model.head.attention.out_proj") ||
            clipvk_unit_emit(visit, user, &(clipvk_unit){.kind = CLIPVK_UNIT_NORM, .shape = {d}, .dest = AT(vt->map.ln)},
                             "vision_model.head.layernorm") ||
            clipvk_unit_emit(visit, user,
                             &(clipvk_unit){.kind = CLIPVK_UNIT_LINEAR, .bias = 1, .ndim = 2, .shape = {f, d},
                                            .dest = AT(vt->map.fc1)},
                             "vision_model.head.mlp.fc1") ||
            clipvk_unit_emit(visit, user,
                             &(clipvk_unit){.kind = CLIPVK_UNIT_LINEAR, .bias = 1, .ndim = 2, .shape = {d, f},
                                            .dest = AT(vt->map.fc2)},
                             "vision_model.head.mlp.fc2");
    }
    /* the text tower is CLIP's, without a mask, ending in a head with a bias */
    if (!r && (towers & 2)) r = clipvk_units_clip_text(c, m, "text_model.head", 1, visit, user);
#undef AT
    return r;
}

const clipvk_family clipvk_family_siglip = {"siglip", "siglip", parse, units, clipvk_preprocess_config_siglip,
                                            "a photo of a {}.", NULL};
