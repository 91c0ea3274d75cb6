/*
 * CLIP (`model_type` "clip", Hugging Face's CLIPModel): OpenAI's, LAION's,
 * MetaCLIP, DFN and the other checkpoints in that layout.
 *   vision: patches (no bias) after a class token, plus positions,
 *           pre_layrnorm, encoder, post_layernorm of the class token,
 *           visual_projection (no bias)
 *   text:   tokens plus positions, causal encoder, final_layer_norm,
 *           pooled at the end-of-text token, text_projection (no bias)
 *   scores: softmax over labels of exp(logit_scale) * cos
 * Missing config.json keys take CLIPTextConfig / CLIPVisionConfig /
 * CLIPConfig's defaults.
 */
#include "families/family.h"
#include "model/net_internal.h"

#include <cjson/cJSON.h>
#include <math.h>

static clipvk_status parse(const char *path, const cJSON *root, clipvk_model_config *c, clipvk_error *err)
{
    /* Hugging Face's defaults (openai/clip-vit-base-patch32's shapes;
     * eos_token_id 49407 as CLIPTextConfig has had it since transformers 4.31). */
    c->text = (clipvk_tower_config){.hidden = 512, .intermediate = 2048, .heads = 8, .layers = 12,
                                    .act = CLIPVK_ACT_QUICK_GELU, .eps = 1e-5f, .vocab = 49408, .context = 77,
                                    .eos_token_id = 49407, .causal = 1, .final_norm = 1, .has_projection = 1};
    c->vision = (clipvk_tower_config){.hidden = 768, .intermediate = 3072, .heads = 12, .layers = 12,
                                      .act = CLIPVK_ACT_QUICK_GELU, .eps = 1e-5f, .image_size = 224, .patch_size = 32,
                                      .channels = 3, .class_token = 1, .pre_norm = 1, .final_norm = 1,
                                      .has_projection = 1};
    c->projection_dim = 512;
    c->scoring = CLIPVK_SCORING_SOFTMAX;
    const cJSON *t = clipvk_config_sub(root, "text_config"), *v = clipvk_config_sub(root, "vision_config");
    clipvk_tower_config *tc = &c->text, *vc = &c->vision;
    clipvk_status s;
    if ((s = clipvk_config_text(path, t, tc, &tc->context, err)) ||
        (s = clipvk_config_vision(path, v, vc, err)) ||
        (s = clipvk_config_u32(path, "", root, "projection_dim", 1, 16384, &c->projection_dim, err)))
        return s;
    const cJSON *eos = t ? cJSON_GetObjectItemCaseSensitive(t, "eos_token_id") : NULL;
    if (eos && !cJSON_IsNull(eos)) {
        /* Bounded before the conversion: a double beyond int64's range (1e30)
         * converts to an undefined value. Token ids are int32. */
        if (!cJSON_IsNumber(eos) || !(eos->valuedouble >= 0 && eos->valuedouble <= INT32_MAX) ||
            eos->valuedouble != floor(eos->valuedouble))
            return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: text_config.eos_token_id must be an integer in [0, %d]",
                               path, INT32_MAX);
        tc->eos_token_id = (int64_t)eos->valuedouble;
    }
    return CLIPVK_OK;
}

#define AT(x) (m ? (void *)&(x) : NULL)

int clipvk_units_clip_vision(const clipvk_model_config *c, clipvk_net *m, clipvk_unit_visit visit, void *user)
{
    const clipvk_tower_config *v = &c->vision;
    clipvk_tower *vt = m ? &m->vision : NULL;
    uint64_t d = v->hidden, P = c->projection_dim;
    return clipvk_unit_emit(visit, user,
                            &(clipvk_unit){.kind = CLIPVK_UNIT_BUFFER, .ndim = 1, .shape = {d}, .dest = AT(vt->class_embed)},
                            "vision_model.embeddings.class_embedding") ||
           clipvk_unit_emit(visit, user,
                            &(clipvk_unit){.kind = CLIPVK_UNIT_PATCH, .ndim = 4,
                                           .shape = {d, v->channels, v->patch_size, v->patch_size},
                                           .dest = AT(vt->patch_embed)},
                            "vision_model.embeddings.patch_embedding") ||
           clipvk_unit_emit(visit, user,
                            &(clipvk_unit){.kind = CLIPVK_UNIT_BUFFER, .ndim = 2, .shape = {clipvk_vision_tokens(v), d},
                                           .dest = AT(vt->pos_embed)},
                            "vision_model.embeddings.position_embedding.weight") ||
           clipvk_unit_emit(visit, user, &(clipvk_unit){.kind = CLIPVK_UNIT_NORM, .shape = {d}, .dest = AT(vt->ln_pre)},
                            "vision_model.pre_layrnorm") ||
           clipvk_units_encoder("vision_model", v, vt ? vt->layers : NULL, visit, user) ||
           clipvk_unit_emit(visit, user, &(clipvk_unit){.kind = CLIPVK_UNIT_NORM, .shape = {d}, .dest = AT(vt->ln_post)},
                            "vision_model.post_layernorm") ||
           clipvk_unit_emit(visit, user,
                            &(clipvk_unit){.kind = CLIPVK_UNIT_LINEAR, .ndim = 2, .shape = {P, d},
                                           .dest = AT(vt->projection)},
                            "visual_projection");
}

int clipvk_units_clip_text(const clipvk_model_config *c, clipvk_net *m, const char *projection, int bias,
                           clipvk_unit_visit visit, void *user)
{
    const clipvk_tower_config *t = &c->text;
    clipvk_tower *tt = m ? &m->text : NULL;
    uint64_t d = t->hidden;
    return clipvk_unit_emit(visit, user,
                            &(clipvk_unit){.kind = CLIPVK_UNIT_TABLE, .ndim = 2, .shape = {t->vocab, d},
                                           .dest = AT(tt->token_embed)},
                            "text_model.embeddings.token_embedding.weight") ||
           clipvk_unit_emit(visit, user,
                            &(clipvk_unit){.kind = CLIPVK_UNIT_BUFFER, .ndim = 2, .shape = {t->context, d},
                                           .dest = AT(tt->pos_embed)},
                            "text_model.embeddings.position_embedding.weight") ||
           clipvk_units_encoder("text_model", t, tt ? tt->layers : NULL, visit, user) ||
           clipvk_unit_emit(visit, user, &(clipvk_unit){.kind = CLIPVK_UNIT_NORM, .shape = {d}, .dest = AT(tt->ln_post)},
                            "text_model.final_layer_norm") ||
           clipvk_unit_emit(visit, user,
                            &(clipvk_unit){.kind = CLIPVK_UNIT_LINEAR, .bias = bias, .ndim = 2,
                                           .shape = {c->projection_dim, d}, .dest = AT(tt->projection)},
                            "%s", projection);
}

static int units(const clipvk_model_config *c, int towers, clipvk_net *m, clipvk_unit_visit visit, void *user)
{
    int r = clipvk_unit_emit(visit, user, &(clipvk_unit){.kind = CLIPVK_UNIT_SCALAR, .dest = AT(m->logit_scale)},
                             "logit_scale");
    if (!r && (towers & 1)) r = clipvk_units_clip_vision(c, m, visit, user); /* CLIPVK_TOWERS_IMAGE */
    if (!r && (towers & 2)) r = clipvk_units_clip_text(c, m, "text_projection", 0, visit, user); /* CLIPVK_TOWERS_TEXT */
    return r;
}
#undef AT

const clipvk_family clipvk_family_clip = {"clip", "clip", parse, units, clipvk_preprocess_config_default,
                                          "a photo of a {}.", NULL};
