/*
 * Chinese-CLIP (`model_type` "chinese_clip", Hugging Face's ChineseCLIPModel;
 * OFA-Sys's cn_clip): CLIP's vision tower with a BERT (RoBERTa-wwm) text tower.
 *   text:   word + position + token-type-0 embeddings, embeddings.LayerNorm
 *           (eps 1e-12, in fp32 like every LayerNorm here), post-LN layers
 *           (attention, add, LayerNorm; erf-GELU FFN, add, LayerNorm) with
 *           [PAD] (id 0) masked as keys, pooled at [CLS] (position 0) with no
 *           pooler and no final norm, text_projection (no bias)
 *   vision: CLIP's
 *   scores: softmax over labels of exp(logit_scale) * cos
 * Texts are cn_clip's 52 tokens ([CLS] + 50 pieces + [SEP], zero-padded);
 * the position table has max_position_embeddings (512) rows. Missing keys
 * take ChineseCLIPTextConfig / ChineseCLIPVisionConfig's defaults.
 */
#include "families/family.h"
#include "model/net_internal.h"

#include <cjson/cJSON.h>
#include <stdlib.h>

/* cn_clip.clip.tokenize's default context_length. */
#define CN_CLIP_CONTEXT 52

static clipvk_status parse(const char *path, const cJSON *root, clipvk_model_config *c, clipvk_error *err)
{
    c->text = (clipvk_tower_config){.hidden = 768, .intermediate = 3072, .heads = 12, .layers = 12,
                                    .act = CLIPVK_ACT_GELU, .eps = 1e-12f, .vocab = 30522, .positions = 512,
                                    .context = CN_CLIP_CONTEXT, .pre_norm = 1, .post_ln = 1, .key_mask = 1,
                                    .pool = CLIPVK_POOL_FIRST, .has_projection = 1};
    c->vision = (clipvk_tower_config){.hidden = 768, .intermediate = 3072, .heads = 12, .layers = 12,
                                      .act = CLIPVK_ACT_QUICK_GELU, .eps = 1e-5f, .image_size = 224, .patch_size = 32,
                                      .channels = 3, .class_token = 1, .pre_norm = 1, .final_norm = 1,
                                      .has_projection = 1};
    c->projection_dim = 512;
    c->scoring = CLIPVK_SCORING_SOFTMAX;
    const cJSON *t = clipvk_config_sub(root, "text_config"), *v = clipvk_config_sub(root, "vision_config");
    clipvk_tower_config *tc = &c->text, *vc = &c->vision;
    clipvk_status s;
    if ((s = clipvk_config_text(path, t, tc, &tc->positions, err)) ||
        (s = clipvk_config_u32(path, "text_config.", t, "type_vocab_size", 1, 1024, &tc->type_vocab, err)) ||
        (s = clipvk_config_vision(path, v, vc, err)) ||
        (s = clipvk_config_u32(path, "", root, "projection_dim", 1, 16384, &c->projection_dim, err)))
        return s;
    if (tc->positions < tc->context)
        tc->context = tc->positions; /* a smaller table than cn_clip's texts: texts as long as it allows */
    return CLIPVK_OK;
}

#define AT(x) (m ? (void *)&(x) : NULL)

/* BERT's layer names, mapped onto the shared layer (ln1 after attention,
 * ln2 after the FFN: see encoder.c's post-LN layer). */
static int bert_layers(const clipvk_tower_config *c, clipvk_layer *layers, clipvk_unit_visit visit, void *user)
{
    uint64_t d = c->hidden, f = c->intermediate;
    int r = 0;
    for (uint32_t i = 0; i < c->layers && !r; i++) {
        clipvk_layer *l = layers ? &layers[i] : NULL;
        char p[CLIPVK_TENSOR_NAME - 48];
        snprintf(p, sizeof p, "text_model.encoder.layer.%u", i);
        clipvk_unit qkv = {.kind = CLIPVK_UNIT_LINEAR, .parts = 3, .bias = 1, .ndim = 2, .shape = {d, d},
                           .dest = l ? &l->qkv : NULL};
        static const char *const proj[3] = {"query", "key", "value"};
        for (int k = 0; k < 3; k++) snprintf(qkv.name[k], sizeof qkv.name[k], "%s.attention.self.%s", p, proj[k]);
        r = visit(&qkv, user) ||
            clipvk_unit_emit(visit, user,
                             &(clipvk_unit){.kind = CLIPVK_UNIT_LINEAR, .bias = 1, .ndim = 2, .shape = {d, d},
                                            .dest = l ? &l->out_proj : NULL},
                             "%s.attention.output.dense", p) ||
            clipvk_unit_emit(visit, user, &(clipvk_unit){.kind = CLIPVK_UNIT_NORM, .shape = {d}, .dest = l ? &l->ln1 : NULL},
                             "%s.attention.output.LayerNorm", p) ||
            clipvk_unit_emit(visit, user,
                             &(clipvk_unit){.kind = CLIPVK_UNIT_LINEAR, .bias = 1, .ndim = 2, .shape = {f, d},
                                            .dest = l ? &l->fc1 : NULL},
                             "%s.intermediate.dense", p) ||
            clipvk_unit_emit(visit, user,
                             &(clipvk_unit){.kind = CLIPVK_UNIT_LINEAR, .bias = 1, .ndim = 2, .shape = {d, f},
                                            .dest = l ? &l->fc2 : NULL},
                             "%s.output.dense", p) ||
            clipvk_unit_emit(visit, user, &(clipvk_unit){.kind = CLIPVK_UNIT_NORM, .shape = {d}, .dest = l ? &l->ln2 : NULL},
                             "%s.output.LayerNorm", p);
    }
    return r;
}

static int units(const clipvk_model_config *c, int towers, clipvk_net *m, clipvk_unit_visit visit, void *user)
{
    const clipvk_tower_config *t = &c->text;
    clipvk_tower *tt = m ? &m->text : NULL;
    int r = clipvk_unit_emit(visit, user, &(clipvk_unit){.kind = CLIPVK_UNIT_SCALAR, .dest = AT(m->logit_scale)},
                             "logit_scale");
    if (!r && (towers & 1)) r = clipvk_units_clip_vision(c, m, visit, user); /* CLIPVK_TOWERS_IMAGE */
    if (!r && (towers & 2)) {                                                /* CLIPVK_TOWERS_TEXT */
        uint64_t d = t->hidden;
        r = clipvk_unit_emit(visit, user,
                             &(clipvk_unit){.kind = CLIPVK_UNIT_TABLE, .ndim = 2, .shape = {t->vocab, d},
                                            .dest = AT(tt->token_embed)},
                             "text_model.embeddings.word_embeddings.weight") ||
            clipvk_unit_emit(visit, user,
                             &(clipvk_unit){.kind = CLIPVK_UNIT_HOST, .ndim = 2, .shape = {t->positions, d},
                                            .dest = AT(tt->pos_host)},
                             "text_model.embeddings.position_embeddings.weight") ||
            clipvk_unit_emit(visit, user,
                             &(clipvk_unit){.kind = CLIPVK_UNIT_HOST, .ndim = 2, .shape = {t->type_vocab, d},
                                            .dest = AT(tt->type_host)},
                             "text_model.embeddings.token_type_embeddings.weight") ||
            clipvk_unit_emit(visit, user, &(clipvk_unit){.kind = CLIPVK_UNIT_NORM, .shape = {d}, .dest = AT(tt->ln_pre)},
                             "text_model.embeddings.LayerNorm") ||
            bert_layers(t, tt ? tt->layers : NULL, visit, user) ||
            clipvk_unit_emit(visit, user,
                             &(clipvk_unit){.kind = CLIPVK_UNIT_LINEAR, .ndim = 2, .shape = {c->projection_dim, d},
                                            .dest = AT(tt->projection)},
                             "text_projection");
    }
    return r;
}
#undef AT

/* Every text has token type 0, so its row is added to the positions once
 * here: the embedding kernel then adds word + position as for CLIP. Only the
 * context's rows are uploaded. */
static clipvk_status finish(clipvk_net *m, clipvk_error *err)
{
    clipvk_tower *t = &m->text;
    if (!(m->towers & CLIPVK_TOWERS_TEXT)) return CLIPVK_OK;
    uint32_t d = t->cfg->hidden, rows = t->cfg->context;
    for (uint64_t i = 0; i < (uint64_t)rows * d; i++) t->pos_host[i] += t->type_host[i % d];
    clipvk_status s = clipvk_alloc(m->rt->tensors, (uint64_t)rows * d * 4, &t->pos_embed, err);
    if (!s) s = clipvk_upload(m->rt, &t->pos_embed, 0, t->pos_host, (uint64_t)rows * d * 4, err);
    free(t->pos_host), free(t->type_host);
    t->pos_host = t->type_host = NULL;
    return s;
}

/* "A photo of a {}.": clipvk's own Chinese default, the CLIP prompt's
 * counterpart; --templates gives others. */
const clipvk_family clipvk_family_chinese_clip = {"chinese_clip", "chinese_clip", parse, units,
                                                  clipvk_preprocess_config_chinese_clip, "一张{}的照片。", finish};
