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
#include "families/family.h"
#include "model/torch_bin.h"
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

/* Whether `name` is a tensor of encoder layer N > 0 of which the file has
 * no tensor at all, while it has layer 0's twin: then the file holds fewer
 * layers than config.json says, which the message should tell rather than
 * leave to be guessed (one tensor missing from a layer is another fault). */
static int more_layers_than_weights(loader *L, const char *name)
{
    const char *at = strstr(name, ".layers.");
    if (!at) return 0;
    const char *digits = at + 8, *end = digits;
    while (*end >= '0' && *end <= '9') end++;
    if (end == digits || *end != '.' || (end - digits == 1 && *digits == '0')) return 0;
    size_t layer_prefix = (size_t)(end - name) + 1; /* "...layers.N." */
    for (uint32_t i = 0; i < clipvk_safetensors_count(L->st); i++)
        if (!strncmp(clipvk_safetensors_at(L->st, i)->name, name, layer_prefix)) return 0;
    char twin[512];
    int n = snprintf(twin, sizeof twin, "%.*s0%s", (int)(digits - name), name, end);
    return n > 0 && (size_t)n < sizeof twin && clipvk_safetensors_find(L->st, twin);
}

/* The tensor `name` with exactly the given shape and a float dtype. */
static clipvk_status expect(loader *L, const char *name, const uint64_t *shape, uint32_t ndim,
                            const clipvk_tensor_info **out, clipvk_error *err)
{
    const clipvk_tensor_info *t = clipvk_safetensors_find(L->st, name);
    if (!t)
        return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: tensor '%s' is missing%s", L->file, name,
                           more_layers_than_weights(L, name)
                               ? " (config.json's num_hidden_layers is more than the weights hold?)" : "");
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

/* A tensor's name: a unit's prefix and a suffix. */
static const char *tensor_name(char *buf, size_t n, const char *prefix, const char *suffix)
{
    snprintf(buf, n, "%s%s", prefix, suffix ? suffix : "");
    return buf;
}

/* Places one unit (model/tensors.h) where it points. */
static clipvk_status load_unit(loader *L, const clipvk_unit *u, clipvk_error *err)
{
    clipvk_net *m = L->m;
    const char *ws = u->wsuffix ? u->wsuffix : ".weight", *bs = u->bsuffix ? u->bsuffix : ".bias";
    char name[CLIPVK_TENSOR_NAME + 16];
    uint64_t count = 1;
    for (uint32_t i = 0; i < u->ndim; i++) count *= u->shape[i];
    clipvk_status s;
    switch (u->kind) {
    case CLIPVK_UNIT_SCALAR: {
        /* saved as a scalar [] by PyTorch, as [1] by some converters */
        const clipvk_tensor_info *t = clipvk_safetensors_find(L->st, u->name[0]);
        uint64_t one[1] = {1};
        if ((s = read_f32(L, u->name[0], one, t && t->ndim ? 1 : 0, 0, err))) return s;
        if (!isfinite(L->tmp[0])) return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: %s is not finite", L->file, u->name[0]);
        *(float *)u->dest = L->tmp[0];
        return CLIPVK_OK;
    }
    case CLIPVK_UNIT_HOST: {
        if ((s = read_f32(L, u->name[0], u->shape, u->ndim, 0, err))) return s;
        float *h = malloc(count * sizeof *h);
        if (!h) return clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "out of host memory reading '%s'", u->name[0]);
        memcpy(h, L->tmp, count * sizeof *h);
        *(float **)u->dest = h;
        return CLIPVK_OK;
    }
    case CLIPVK_UNIT_BUFFER:
        if ((s = read_f32(L, u->name[0], u->shape, u->ndim, 0, err))) return s;
        return upload_f32(L, L->tmp, count, u->dest, err);
    case CLIPVK_UNIT_TABLE:
        if ((s = read_f32(L, u->name[0], u->shape, u->ndim, 0, err))) return s;
        if (m->precision == CLIPVK_PRECISION_FP16) {
            uint16_t *h = (uint16_t *)L->tmp; /* converted in place: each half lands before its source float */
            for (uint64_t i = 0; i < count; i++) h[i] = clipvk_f32_to_f16(L->tmp[i]);
            if ((s = clipvk_alloc(m->rt->tensors, count * 2, u->dest, err))) return s;
            return clipvk_upload(m->rt, u->dest, 0, h, count * 2, err);
        }
        return upload_f32(L, L->tmp, count, u->dest, err);
    case CLIPVK_UNIT_NORM: {
        clipvk_layernorm_params *n = u->dest;
        if ((s = read_f32(L, tensor_name(name, sizeof name, u->name[0], ws), u->shape, 1, 0, err)) ||
            (s = upload_f32(L, L->tmp, u->shape[0], &n->gamma, err)) ||
            (s = read_f32(L, tensor_name(name, sizeof name, u->name[0], bs), u->shape, 1, 0, err)))
            return s;
        return upload_f32(L, L->tmp, u->shape[0], &n->beta, err);
    }
    case CLIPVK_UNIT_LINEAR:
    case CLIPVK_UNIT_PATCH: {
        /* The parts' weights stacked along the output dimension (the fused
         * QKV projection), then their biases, in one conversion buffer. A
         * convolution weight [D, C, p, p] is the matmul weight [D, C*p*p] for
         * patches unfolded in (c, y, x) order. */
        uint64_t out = u->shape[0], in = count / out, bshape[1] = {out};
        for (uint32_t i = 0; i < u->parts; i++)
            if ((s = read_f32(L, tensor_name(name, sizeof name, u->name[i], ws), u->shape, u->ndim, i * count, err)))
                return s;
        uint64_t boff = u->parts * count;
        for (uint32_t i = 0; u->bias && i < u->parts; i++)
            if ((s = read_f32(L, tensor_name(name, sizeof name, u->name[i], bs), bshape, 1, boff + i * out, err)))
                return s;
        return clipvk_matmul_weights_upload(m->rt, L->tmp, u->bias ? L->tmp + boff : NULL, (uint32_t)(out * u->parts),
                                            (uint32_t)in, m->precision, u->dest, err);
    }
    }
    return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT, "unknown weight unit kind %d", (int)u->kind);
}

typedef struct unit_state {
    loader *L;
    clipvk_error *err;
    clipvk_status s;
} unit_state;

static int check_one(const clipvk_tensor_spec *t, void *user)
{
    unit_state *c = user;
    const clipvk_tensor_info *info;
    uint64_t one[1] = {1};
    /* a scalar may be stored as [] or [1] */
    const clipvk_tensor_info *ls = t->ndim ? NULL : clipvk_safetensors_find(c->L->st, t->name);
    if (ls && ls->ndim == 1) c->s = expect(c->L, t->name, one, 1, &info, c->err);
    else c->s = expect(c->L, t->name, t->shape, t->ndim, &info, c->err);
    return c->s != CLIPVK_OK;
}

static int check_unit(const clipvk_unit *u, void *user) { return clipvk_unit_tensors(u, check_one, user); }

static int load_one(const clipvk_unit *u, void *user)
{
    unit_state *c = user;
    c->s = load_unit(c->L, u, c->err);
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
        if ((f = clipvk_source_buffer(src, "pytorch_model.bin"))) {
            clipvk_source_path(src, "pytorch_model.bin", path, size);
            return clipvk_safetensors_open_torch_memory(f->data, f->size, path, st, err);
        }
        if (clipvk_source_buffer(src, "model.safetensors.index.json"))
            return clipvk_fail(err, CLIPVK_ERROR_UNSUPPORTED,
                               "sharded weights (model.safetensors.index.json) cannot be loaded from memory: "
                               "give one model.safetensors");
        return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT, "%s: not given (no buffer of that name)", path);
    }
    if (!clipvk_source_has(src, "model.safetensors")) {
        clipvk_source_path(src, "model.safetensors.index.json", path, size);
        if (!clipvk_source_has(src, "model.safetensors.index.json")) {
            /* the hub's older layout (OFA-Sys/chinese-clip-*): torch.save's zip, its pickle never run */
            clipvk_source_path(src, "pytorch_model.bin", path, size);
            if (clipvk_source_has(src, "pytorch_model.bin")) return clipvk_safetensors_open_torch(path, st, err);
            return clipvk_fail(err, CLIPVK_ERROR_IO,
                               "%s: no model.safetensors (or model.safetensors.index.json, or pytorch_model.bin)", src->dir);
        }
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
    /* Every tensor of every unit, checked before anything is uploaded. */
    unit_state us = {&L, err, CLIPVK_OK};
    clipvk_model_units(&m->cfg, m->towers, NULL, check_unit, &us);
    if ((s = us.s)) goto fail;
    clipvk_tower *towers[2] = {&m->vision, &m->text};
    const clipvk_tower_config *cfgs[2] = {&m->cfg.vision, &m->cfg.text};
    for (int i = 0; i < 2; i++) {
        towers[i]->cfg = cfgs[i];
        if (!(m->towers & (i ? CLIPVK_TOWERS_TEXT : CLIPVK_TOWERS_IMAGE))) continue;
        if (!(towers[i]->layers = calloc(cfgs[i]->layers, sizeof *towers[i]->layers))) {
            s = clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
            goto fail;
        }
    }
    clipvk_model_units(&m->cfg, m->towers, m, load_one, &us);
    if ((s = us.s) || (m->cfg.family->finish && (s = m->cfg.family->finish(m, err)))) goto fail;
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
