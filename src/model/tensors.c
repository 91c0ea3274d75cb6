#include "model/tensors.h"
#include "model/net_internal.h"
#include "families/family.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int clipvk_model_units(const clipvk_model_config *c, int towers, struct clipvk_net *m, clipvk_unit_visit visit,
                       void *user)
{
    return c->family->units(c, towers, m, visit, user);
}

static int spec(int (*visit)(const clipvk_tensor_spec *, void *), void *user, const char *prefix, const char *suffix,
                uint32_t ndim, const uint64_t *shape)
{
    clipvk_tensor_spec t = {.ndim = ndim};
    snprintf(t.name, sizeof t.name, "%s%s", prefix, suffix ? suffix : "");
    for (uint32_t i = 0; i < ndim && i < 4; i++) t.shape[i] = shape[i];
    return visit(&t, user);
}

int clipvk_unit_tensors(const clipvk_unit *u, int (*visit)(const clipvk_tensor_spec *t, void *user), void *user)
{
    const char *ws = u->wsuffix ? u->wsuffix : ".weight", *bs = u->bsuffix ? u->bsuffix : ".bias";
    int r = 0;
    switch (u->kind) {
    case CLIPVK_UNIT_SCALAR:
        return spec(visit, user, u->name[0], NULL, 0, u->shape);
    case CLIPVK_UNIT_HOST:
    case CLIPVK_UNIT_BUFFER:
    case CLIPVK_UNIT_TABLE:
        return spec(visit, user, u->name[0], NULL, u->ndim, u->shape);
    case CLIPVK_UNIT_NORM:
        return spec(visit, user, u->name[0], ws, 1, u->shape) || spec(visit, user, u->name[0], bs, 1, u->shape);
    case CLIPVK_UNIT_LINEAR:
    case CLIPVK_UNIT_PATCH:
        for (uint32_t i = 0; i < u->parts && !r; i++) r = spec(visit, user, u->name[i], ws, u->ndim, u->shape);
        for (uint32_t i = 0; u->bias && i < u->parts && !r; i++) r = spec(visit, user, u->name[i], bs, 1, u->shape);
        return r;
    }
    return 0;
}

typedef struct tensor_walk {
    int (*visit)(const clipvk_tensor_spec *, void *);
    void *user;
} tensor_walk;

static int unit_to_tensors(const clipvk_unit *u, void *user)
{
    tensor_walk *w = user;
    return clipvk_unit_tensors(u, w->visit, w->user);
}

int clipvk_model_tensors(const clipvk_model_config *c, int towers,
                         int (*visit)(const clipvk_tensor_spec *t, void *user), void *user)
{
    tensor_walk w = {visit, user};
    return clipvk_model_units(c, towers, NULL, unit_to_tensors, &w);
}

int clipvk_unit_emit(clipvk_unit_visit visit, void *user, const clipvk_unit *proto, const char *fmt, ...)
{
    clipvk_unit u = *proto;
    if (!u.parts) u.parts = 1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(u.name[0], sizeof u.name[0], fmt, ap);
    va_end(ap);
    return visit(&u, user);
}

int clipvk_units_encoder(const char *tower, const clipvk_tower_config *c, clipvk_layer *layers,
                         clipvk_unit_visit visit, void *user)
{
    uint64_t d = c->hidden, f = c->intermediate;
    int r = 0;
    for (uint32_t i = 0; i < c->layers && !r; i++) {
        clipvk_layer *l = layers ? &layers[i] : NULL;
        char p[CLIPVK_TENSOR_NAME - 32]; /* room for the longest suffix */
        snprintf(p, sizeof p, "%s.encoder.layers.%u", tower, i);
        clipvk_unit qkv = {.kind = CLIPVK_UNIT_LINEAR, .parts = 3, .bias = 1, .ndim = 2, .shape = {d, d},
                           .dest = l ? &l->qkv : NULL};
        static const char *const proj[3] = {"q_proj", "k_proj", "v_proj"};
        for (int k = 0; k < 3; k++) snprintf(qkv.name[k], sizeof qkv.name[k], "%s.self_attn.%s", p, proj[k]);
        r = clipvk_unit_emit(visit, user, &(clipvk_unit){.kind = CLIPVK_UNIT_NORM, .shape = {d}, .dest = l ? &l->ln1 : NULL},
                             "%s.layer_norm1", p) ||
            visit(&qkv, user) ||
            clipvk_unit_emit(visit, user,
                             &(clipvk_unit){.kind = CLIPVK_UNIT_LINEAR, .bias = 1, .ndim = 2, .shape = {d, d},
                                            .dest = l ? &l->out_proj : NULL},
                             "%s.self_attn.out_proj", p) ||
            clipvk_unit_emit(visit, user, &(clipvk_unit){.kind = CLIPVK_UNIT_NORM, .shape = {d}, .dest = l ? &l->ln2 : NULL},
                             "%s.layer_norm2", p) ||
            clipvk_unit_emit(visit, user,
                             &(clipvk_unit){.kind = CLIPVK_UNIT_LINEAR, .bias = 1, .ndim = 2, .shape = {f, d},
                                            .dest = l ? &l->fc1 : NULL},
                             "%s.mlp.fc1", p) ||
            clipvk_unit_emit(visit, user,
                             &(clipvk_unit){.kind = CLIPVK_UNIT_LINEAR, .bias = 1, .ndim = 2, .shape = {d, f},
                                            .dest = l ? &l->fc2 : NULL},
                             "%s.mlp.fc2", p);
    }
    return r;
}
