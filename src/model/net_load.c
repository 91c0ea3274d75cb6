/*
 * Loading: config.json, then every tensor the config implies, checked by
 * name, shape and dtype before anything is uploaded, then uploaded one at a
 * time (converted to the storage precision on the way, so host memory stays
 * near one tensor beyond the mapped file).
 */
#include "model/net_internal.h"
#include "model/safetensors.h"
#include "model/source.h"
#include "model/tensors.h"
#include "util/half.h"
#include "platform/platform.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct loader {
    clipvk_net *m;
    clipvk_safetensors *st;
    const char *file;        /* for messages */
    float *tmp;              /* conversion buffer */
    uint64_t tmp_count;
} loader;

static void shape_str(char *buf, size_t n, const uint64_t *shape, uint32_t ndim)
{
    size_t len = (size_t)snprintf(buf, n, "[");
    for (uint32_t i = 0; i < ndim && len < n; i++)
        len += (size_t)snprintf(buf + len, n - len, "%s%llu", i ? ", " : "", (unsigned long long)shape[i]);
    if (len < n) snprintf(buf + len, n - len, "]");
}

/* The tensor `name` with exactly the given shape and a float dtype. */
static clipvk_status expect(loader *L, const char *name, const uint64_t *shape, uint32_t ndim,
                            const clipvk_tensor_info **out, clipvk_error *err)
{
    const clipvk_tensor_info *t = clipvk_safetensors_find(L->st, name);
    if (!t) return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: tensor '%s' is missing", L->file, name);
    if (t->dtype != CLIPVK_DTYPE_F32 && t->dtype != CLIPVK_DTYPE_F16 && t->dtype != CLIPVK_DTYPE_BF16)
        return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: tensor '%s' has dtype %s, expected F32, F16 or BF16", L->file,
                           name, clipvk_dtype_name(t->dtype));
    int same = t->ndim == ndim;
    for (uint32_t i = 0; same && i < ndim; i++) same = t->shape[i] == shape[i];
    if (!same) {
        char want[96], got[96];
        shape_str(want, sizeof want, shape, ndim);
        shape_str(got, sizeof got, t->shape, t->ndim);
        return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: tensor '%s' has shape %s, expected %s (config.json and weights disagree?)",
                           L->file, name, got, want);
    }
    *out = t;
    return CLIPVK_OK;
}

/* Reads a checked tensor as f32 into L->tmp (+ offset elements). */
static clipvk_status read_f32(loader *L, const char *name, const uint64_t *shape, uint32_t ndim, uint64_t offset,
                              clipvk_error *err)
{
    const clipvk_tensor_info *t = NULL;
    clipvk_status s = expect(L, name, shape, ndim, &t, err);
    if (s) return s;
    if (offset + t->count > L->tmp_count) {
        float *n = realloc(L->tmp, (offset + t->count) * sizeof *n);
        if (!n) return clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "out of host memory reading '%s'", name);
        L->tmp = n;
        L->tmp_count = offset + t->count;
    }
    return clipvk_tensor_to_f32(t, 0, t->count, L->tmp + offset, err);
}

static clipvk_status upload_f32(loader *L, const float *data, uint64_t count, clipvk_buffer *out, clipvk_error *err)
{
    clipvk_runtime *rt = L->m->rt;
    clipvk_status s = clipvk_alloc(rt->tensors, count * 4, out, err);
    if (s) return s;
    return clipvk_upload(rt, out, 0, data, count * 4, err);
}

/* A vector or matrix kept in f32 on the device (norms, biases, embeddings). */
static clipvk_status load_f32(loader *L, const char *name, const uint64_t *shape, uint32_t ndim, clipvk_buffer *out,
                              clipvk_error *err)
{
    clipvk_status s = read_f32(L, name, shape, ndim, 0, err);
    uint64_t count = 1;
    for (uint32_t i = 0; i < ndim; i++) count *= shape[i];
    return s ? s : upload_f32(L, L->tmp, count, out, err);
}

static clipvk_status load_norm(loader *L, const char *prefix, uint32_t d, clipvk_layernorm_params *n, clipvk_error *err)
{
    char name[256];
    uint64_t shape[1] = {d};
    clipvk_status s;
    snprintf(name, sizeof name, "%s.weight", prefix);
    if ((s = load_f32(L, name, shape, 1, &n->gamma, err))) return s;
    snprintf(name, sizeof name, "%s.bias", prefix);
    return load_f32(L, name, shape, 1, &n->beta, err);
}

/* Loads the Linear layers named prefixes[0..n) ("x.q_proj", ...) stacked
 * along the output dimension into one layer (the fused QKV projection). */
static clipvk_status load_linear(loader *L, const char *const *prefixes, uint32_t n, uint32_t in, uint32_t out,
                                 int bias, clipvk_linear *lin, clipvk_error *err)
{
    char name[256];
    uint64_t wshape[2] = {out, in}, bshape[1] = {out};
    clipvk_status s;
    for (uint32_t i = 0; i < n; i++) {
        snprintf(name, sizeof name, "%s.weight", prefixes[i]);
        if ((s = read_f32(L, name, wshape, 2, (uint64_t)i * out * in, err))) return s;
    }
    /* the biases follow the weights in the same conversion buffer */
    uint64_t boff = (uint64_t)n * out * in;
    for (uint32_t i = 0; bias && i < n; i++) {
        snprintf(name, sizeof name, "%s.bias", prefixes[i]);
        if ((s = read_f32(L, name, bshape, 1, boff + (uint64_t)i * out, err))) return s;
    }
    return clipvk_matmul_weights_upload(L->m->rt, L->tmp, bias ? L->tmp + boff : NULL, out * n, in, L->m->precision,
                                        lin, err);
}

static clipvk_status load_layers(loader *L, const char *tower, clipvk_tower *t, clipvk_error *err)
{
    const clipvk_tower_config *c = t->cfg;
    t->layers = calloc(c->layers, sizeof *t->layers);
    if (!t->layers) return clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
    for (uint32_t i = 0; i < c->layers; i++) {
        clipvk_layer *ly = &t->layers[i];
        char p[6][160];
        const char *suffix[6] = {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.out_proj",
                                 "mlp.fc1", "mlp.fc2"};
        for (int k = 0; k < 6; k++) snprintf(p[k], sizeof p[k], "%s.encoder.layers.%u.%s", tower, i, suffix[k]);
        const char *qkv[3] = {p[0], p[1], p[2]}, *o[1] = {p[3]}, *f1[1] = {p[4]}, *f2[1] = {p[5]};
        char n1[160], n2[160];
        snprintf(n1, sizeof n1, "%s.encoder.layers.%u.layer_norm1", tower, i);
        snprintf(n2, sizeof n2, "%s.encoder.layers.%u.layer_norm2", tower, i);
        clipvk_status s;
        if ((s = load_norm(L, n1, c->hidden, &ly->ln1, err)) ||
            (s = load_linear(L, qkv, 3, c->hidden, c->hidden, 1, &ly->qkv, err)) ||
            (s = load_linear(L, o, 1, c->hidden, c->hidden, 1, &ly->out_proj, err)) ||
            (s = load_norm(L, n2, c->hidden, &ly->ln2, err)) ||
            (s = load_linear(L, f1, 1, c->hidden, c->intermediate, 1, &ly->fc1, err)) ||
            (s = load_linear(L, f2, 1, c->intermediate, c->hidden, 1, &ly->fc2, err)))
            return s;
    }
    return CLIPVK_OK;
}

static clipvk_status load_vision(loader *L, clipvk_error *err)
{
    clipvk_net *m = L->m;
    clipvk_tower *t = &m->vision;
    const clipvk_tower_config *c = &m->cfg.vision;
    t->cfg = c;
    uint32_t d = c->hidden, p = c->patch_size, tokens = clipvk_vision_tokens(c);
    uint64_t s_cls[1] = {d}, s_pos[2] = {tokens, d}, s_patch[4] = {d, c->channels, p, p};
    clipvk_status s;
    if ((s = load_f32(L, "vision_model.embeddings.class_embedding", s_cls, 1, &t->class_embed, err)) ||
        (s = load_f32(L, "vision_model.embeddings.position_embedding.weight", s_pos, 2, &t->pos_embed, err)) ||
        (s = read_f32(L, "vision_model.embeddings.patch_embedding.weight", s_patch, 4, 0, err)))
        return s;
    /* The convolution weight [D, C, p, p] is the matmul weight [D, C*p*p]
     * for patches unfolded in (c, y, x) order. */
    if ((s = clipvk_matmul_weights_upload(m->rt, L->tmp, NULL, d, c->channels * p * p, m->precision, &t->patch_embed,
                                          err)))
        return s;
    const char *proj[1] = {"visual_projection"};
    if ((s = load_norm(L, "vision_model.pre_layrnorm", d, &t->ln_pre, err)) ||
        (s = load_layers(L, "vision_model", t, err)) ||
        (s = load_norm(L, "vision_model.post_layernorm", d, &t->ln_post, err)) ||
        (s = load_linear(L, proj, 1, d, m->cfg.projection_dim, 0, &t->projection, err)))
        return s;
    return CLIPVK_OK;
}

static clipvk_status load_text(loader *L, clipvk_error *err)
{
    clipvk_net *m = L->m;
    clipvk_tower *t = &m->text;
    const clipvk_tower_config *c = &m->cfg.text;
    t->cfg = c;
    uint32_t d = c->hidden;
    uint64_t s_tok[2] = {c->vocab, d}, s_pos[2] = {c->context, d};
    clipvk_status s;
    if ((s = load_f32(L, "text_model.embeddings.position_embedding.weight", s_pos, 2, &t->pos_embed, err)) ||
        (s = read_f32(L, "text_model.embeddings.token_embedding.weight", s_tok, 2, 0, err)))
        return s;
    uint64_t count = (uint64_t)c->vocab * d;
    if (m->precision == CLIPVK_PRECISION_FP16) {
        uint16_t *h = (uint16_t *)L->tmp; /* converted in place: each half lands before its source float */
        for (uint64_t i = 0; i < count; i++) h[i] = clipvk_f32_to_f16(L->tmp[i]);
        if ((s = clipvk_alloc(m->rt->tensors, count * 2, &t->token_embed, err)) ||
            (s = clipvk_upload(m->rt, &t->token_embed, 0, h, count * 2, err)))
            return s;
    } else if ((s = upload_f32(L, L->tmp, count, &t->token_embed, err))) {
        return s;
    }
    const char *proj[1] = {"text_projection"};
    if ((s = load_layers(L, "text_model", t, err)) ||
        (s = load_norm(L, "text_model.final_layer_norm", d, &t->ln_post, err)) ||
        (s = load_linear(L, proj, 1, d, m->cfg.projection_dim, 0, &t->projection, err)))
        return s;
    return CLIPVK_OK;
}

typedef struct check_state {
    loader *L;
    clipvk_error *err;
    clipvk_status s;
} check_state;

static int check_one(const clipvk_tensor_spec *t, void *user)
{
    check_state *c = user;
    const clipvk_tensor_info *info;
    uint64_t one[1] = {1};
    /* logit_scale is saved as a scalar [] by PyTorch, as [1] by some converters */
    const clipvk_tensor_info *ls = t->ndim ? NULL : clipvk_safetensors_find(c->L->st, t->name);
    if (ls && ls->ndim == 1) c->s = expect(c->L, t->name, one, 1, &info, c->err);
    else c->s = expect(c->L, t->name, t->shape, t->ndim, &info, c->err);
    return c->s != CLIPVK_OK;
}

clipvk_status clipvk_net_load(clipvk_runtime *rt, const char *dir, const clipvk_net_options *opt,
                                clipvk_net **out, clipvk_error *err)
{
    *out = NULL;
    clipvk_path_info st;
    if (clipvk_path_info_get(dir, 1, &st) != 0 || st.kind != CLIPVK_PATH_DIR)
        return clipvk_fail(err, CLIPVK_ERROR_IO, "%s: not a model folder (no such directory)", dir);
    clipvk_model_source src = {.dir = dir};
    return clipvk_net_load_source(rt, &src, opt, out, err);
}

/* The weights: a folder's model.safetensors (mapped) or sharded index, or
 * the application's buffer (read in place: it only has to live as long as
 * the load). */
static clipvk_status open_weights(const clipvk_model_source *src, char *path, size_t size, clipvk_safetensors **st,
                                  clipvk_error *err)
{
    clipvk_source_path(src, "model.safetensors", path, size);
    if (!src->dir) {
        const clipvk_model_file *f = clipvk_source_buffer(src, "model.safetensors");
        if (f) return clipvk_safetensors_open_memory(f->data, f->size, path, st, err);
        if (clipvk_source_buffer(src, "model.safetensors.index.json"))
            return clipvk_fail(err, CLIPVK_ERROR_UNSUPPORTED,
                               "sharded weights (model.safetensors.index.json) cannot be loaded from memory: "
                               "give one model.safetensors");
        return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT, "%s: not given (no buffer of that name)", path);
    }
    if (!clipvk_source_has(src, "model.safetensors")) {
        clipvk_source_path(src, "model.safetensors.index.json", path, size);
        if (!clipvk_source_has(src, "model.safetensors.index.json"))
            return clipvk_fail(err, CLIPVK_ERROR_IO, "%s: no model.safetensors (or model.safetensors.index.json)",
                               src->dir);
    }
    return clipvk_safetensors_open(path, st, err);
}

clipvk_status clipvk_net_load_source(clipvk_runtime *rt, const clipvk_model_source *src, const clipvk_net_options *opt,
                                     clipvk_net **out, clipvk_error *err)
{
    *out = NULL;
    clipvk_net_options defaults = {.precision = -1};
    if (!opt) opt = &defaults;
    clipvk_net *m = calloc(1, sizeof *m);
    if (!m) return clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
    m->rt = rt;
    m->towers = opt->towers ? opt->towers : CLIPVK_TOWERS_BOTH;
    m->max_batch = opt->max_batch ? opt->max_batch : 8;
    m->fp16_inputs = opt->fp16_inputs;
    /* fp16 weights on every device: the kernels read halves as uints and
     * unpack them (unpackHalf2x16), which needs no 16-bit storage feature,
     * so Adreno 5xx, older Mali and PowerVR halve their weight memory and
     * bandwidth too. */
    m->precision = opt->precision >= 0 ? (clipvk_precision)opt->precision : CLIPVK_PRECISION_FP16;
    char path[4096];
    loader L = {.m = m};
    clipvk_status s;
    char *config = NULL;
    clipvk_source_path(src, "config.json", path, sizeof path);
    if ((s = clipvk_source_read(src, "config.json", 16u << 20, &config, NULL, err)) ||
        (s = clipvk_config_parse(path, config, &m->cfg, err)))
        goto fail;
    if ((s = open_weights(src, path, sizeof path, &L.st, err))) goto fail;
    L.file = path;
    /* Every tensor the config implies, checked before anything is uploaded. */
    check_state cs = {&L, err, CLIPVK_OK};
    clipvk_model_tensors(&m->cfg, m->towers, check_one, &cs);
    if ((s = cs.s)) goto fail;
    uint64_t scalar[1] = {1};
    const clipvk_tensor_info *ls = clipvk_safetensors_find(L.st, "logit_scale");
    if (!ls) {
        s = clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: tensor 'logit_scale' is missing", L.file);
        goto fail;
    }
    if ((s = read_f32(&L, "logit_scale", scalar, ls->ndim ? 1 : 0, 0, err))) goto fail; /* shape [] or [1] */
    m->logit_scale = L.tmp[0];
    if (!isfinite(m->logit_scale)) {
        s = clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: logit_scale is not finite", L.file);
        goto fail;
    }
    if ((m->towers & CLIPVK_TOWERS_IMAGE) && (s = load_vision(&L, err))) goto fail;
    if ((m->towers & CLIPVK_TOWERS_TEXT) && (s = load_text(&L, err))) goto fail;
    free(L.tmp);
    free(config);
    clipvk_safetensors_close(L.st);
    *out = m;
    return CLIPVK_OK;
fail:
    free(L.tmp);
    free(config);
    clipvk_safetensors_close(L.st);
    clipvk_net_destroy(m);
    return s;
}
