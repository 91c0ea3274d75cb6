#include "model/tensors.h"

#include <stdio.h>
#include <stdarg.h>

typedef struct walker {
    int (*visit)(const clipvk_tensor_spec *, void *);
    void *user;
} walker;

static int emit(const walker *w, uint32_t ndim, uint64_t d0, uint64_t d1, uint64_t d2, uint64_t d3, const char *fmt,
                ...)
{
    clipvk_tensor_spec t = {.ndim = ndim, .shape = {d0, d1, d2, d3}};
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t.name, sizeof t.name, fmt, ap);
    va_end(ap);
    return w->visit(&t, w->user);
}

static int layers(const walker *w, const char *tower, const clipvk_tower_config *c)
{
    static const char *const proj[4] = {"q_proj", "k_proj", "v_proj", "out_proj"};
    uint64_t d = c->hidden, f = c->intermediate;
    int r = 0;
    for (uint32_t i = 0; i < c->layers && !r; i++) {
        for (int k = 0; k < 4 && !r; k++)
            r = emit(w, 2, d, d, 0, 0, "%s.encoder.layers.%u.self_attn.%s.weight", tower, i, proj[k]) ||
                emit(w, 1, d, 0, 0, 0, "%s.encoder.layers.%u.self_attn.%s.bias", tower, i, proj[k]);
        for (int n = 1; n <= 2 && !r; n++)
            r = emit(w, 1, d, 0, 0, 0, "%s.encoder.layers.%u.layer_norm%d.weight", tower, i, n) ||
                emit(w, 1, d, 0, 0, 0, "%s.encoder.layers.%u.layer_norm%d.bias", tower, i, n);
        if (!r)
            r = emit(w, 2, f, d, 0, 0, "%s.encoder.layers.%u.mlp.fc1.weight", tower, i) ||
                emit(w, 1, f, 0, 0, 0, "%s.encoder.layers.%u.mlp.fc1.bias", tower, i) ||
                emit(w, 2, d, f, 0, 0, "%s.encoder.layers.%u.mlp.fc2.weight", tower, i) ||
                emit(w, 1, d, 0, 0, 0, "%s.encoder.layers.%u.mlp.fc2.bias", tower, i);
    }
    return r;
}

int clipvk_model_tensors(const clipvk_model_config *c, int towers,
                         int (*visit)(const clipvk_tensor_spec *t, void *user), void *user)
{
    walker w = {visit, user};
    const clipvk_tower_config *v = &c->vision, *t = &c->text;
    uint64_t P = c->projection_dim;
    int r = emit(&w, 0, 0, 0, 0, 0, "logit_scale");
    if (!r && (towers & 1)) { /* CLIPVK_TOWERS_IMAGE */
        uint64_t d = v->hidden;
        r = emit(&w, 1, d, 0, 0, 0, "vision_model.embeddings.class_embedding") ||
            emit(&w, 4, d, v->channels, v->patch_size, v->patch_size, "vision_model.embeddings.patch_embedding.weight") ||
            emit(&w, 2, clipvk_vision_tokens(v), d, 0, 0, "vision_model.embeddings.position_embedding.weight") ||
            emit(&w, 1, d, 0, 0, 0, "vision_model.pre_layrnorm.weight") ||
            emit(&w, 1, d, 0, 0, 0, "vision_model.pre_layrnorm.bias") || layers(&w, "vision_model", v) ||
            emit(&w, 1, d, 0, 0, 0, "vision_model.post_layernorm.weight") ||
            emit(&w, 1, d, 0, 0, 0, "vision_model.post_layernorm.bias") ||
            emit(&w, 2, P, d, 0, 0, "visual_projection.weight");
    }
    if (!r && (towers & 2)) { /* CLIPVK_TOWERS_TEXT */
        uint64_t d = t->hidden;
        r = emit(&w, 2, t->vocab, d, 0, 0, "text_model.embeddings.token_embedding.weight") ||
            emit(&w, 2, t->context, d, 0, 0, "text_model.embeddings.position_embedding.weight") ||
            layers(&w, "text_model", t) || emit(&w, 1, d, 0, 0, 0, "text_model.final_layer_norm.weight") ||
            emit(&w, 1, d, 0, 0, 0, "text_model.final_layer_norm.bias") ||
            emit(&w, 2, P, d, 0, 0, "text_projection.weight");
    }
    return r;
}
