/*
 * clipvk_model: a loaded CLIP folder with its tokenizer and preprocessing,
 * and the embedding calls of the public API.
 */
#include "api/api_internal.h"
#include "model/fingerprint.h"
#include "families/family.h"
#include "api/templates.h"
#include "platform/platform.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FILE_CHUNK 32 /* images decoded per step while the device embeds the previous step's */

/* Every public entry point checks its handles first. */
#define CHECK_MODEL(m)                                                                          \
    do {                                                                                        \
        if (!(m) || !(m)->ctx) return CLIPVK_ERROR_INVALID_ARGUMENT;                            \
    } while (0)
/* A lost device fails every call that would use it, before any work. */
#define CHECK_LIVE(m)                                                                           \
    do {                                                                                        \
        clipvk_status live_ = clipvk_api_live((m)->ctx);                                        \
        if (live_) return live_;                                                                \
    } while (0)
#define CHECK_ARG(m, cond, ...)                                                                 \
    do {                                                                                        \
        if (!(cond)) return clipvk_api_fail((m)->ctx, CLIPVK_ERROR_INVALID_ARGUMENT, __VA_ARGS__); \
    } while (0)

void clipvk_model_options_init(clipvk_model_options *o)
{
    if (!o) return;
    memset(o, 0, sizeof *o);
    o->precision = CLIPVK_PRECISION_AUTO;
}

/* One loader for a folder and for the application's buffers: every file
 * is read through src (model/source.h). */
static clipvk_status model_load(clipvk_context *ctx, const clipvk_model_source *src, int folder, const char *fn,
                                const clipvk_model_options *o, clipvk_model **out)
{
    if (!ctx || !out) return CLIPVK_ERROR_INVALID_ARGUMENT;
    *out = NULL;
    if (!ctx->rt) return clipvk_api_fail(ctx, CLIPVK_ERROR_NO_DEVICE, "the context has no device: %s", ctx->err.msg);
    clipvk_status s = clipvk_api_live(ctx);
    if (s) return s;
    if (folder && !src->dir) return clipvk_api_fail(ctx, CLIPVK_ERROR_INVALID_ARGUMENT, "clipvk_model_load: no folder");
    clipvk_model_options defaults;
    clipvk_model_options_init(&defaults);
    if (!o) o = &defaults;
    if (o->towers < 0 || o->towers > CLIPVK_TOWERS_BOTH || o->precision < CLIPVK_PRECISION_AUTO ||
        o->precision > CLIPVK_PRECISION_FP16 || o->max_batch > 4096 || o->tensor_cores < 0 || o->tensor_cores > 1)
        return clipvk_api_fail(ctx, CLIPVK_ERROR_INVALID_ARGUMENT, "%s: bad options", fn);
    if (o->tensor_cores && o->precision == CLIPVK_PRECISION_FP32)
        return clipvk_api_fail(ctx, CLIPVK_ERROR_INVALID_ARGUMENT, "%s: tensor cores need fp16 weights, not fp32 precision",
                               fn);
    if ((s = clipvk_source_check(src, &ctx->err))) return s;
    clipvk_model *m = calloc(1, sizeof *m);
    if (!m) return clipvk_api_fail(ctx, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
    m->ctx = ctx;
    m->max_pixels = o->max_image_pixels;
    if (src->dir && !(m->dir = strdup(src->dir))) {
        free(m);
        return clipvk_api_fail(ctx, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
    }
    clipvk_net_options no = {.towers = o->towers, .precision = o->precision, .max_batch = o->max_batch,
                             .fp16_inputs = o->tensor_cores};
    s = src->dir ? clipvk_net_load(ctx->rt, src->dir, &no, &m->net, &ctx->err)
                 : clipvk_net_load_source(ctx->rt, src, &no, &m->net, &ctx->err);
    char path[4096];
    int towers = s ? 0 : clipvk_net_towers(m->net);
    if (!s && (towers & CLIPVK_TOWERS_TEXT))
        s = clipvk_api_tokenizer_load(src, clipvk_net_get_config(m->net)->text.vocab, &m->tok, &ctx->err);
    if (!s && (towers & CLIPVK_TOWERS_IMAGE)) {
        const clipvk_model_config *cfg = clipvk_net_get_config(m->net);
        const clipvk_tower_config *v = &cfg->vision;
        clipvk_source_path(src, "preprocessor_config.json", path, sizeof path);
        /* Folders may lack it: the family's defaults at the model's size. */
        cfg->family->preprocess_defaults(&m->pre, v->image_size);
        if (clipvk_source_has(src, "preprocessor_config.json")) {
            char *text = NULL;
            if (!(s = clipvk_source_read(src, "preprocessor_config.json", 1u << 20, &text, NULL, &ctx->err)))
                s = clipvk_preprocess_config_parse(path, text, &m->pre, &ctx->err);
            free(text);
        }
        uint32_t h, w;
        clipvk_preprocess_output_size(&m->pre, &h, &w);
        if (!s && (h != v->image_size || w != v->image_size))
            s = clipvk_api_fail(ctx, CLIPVK_ERROR_FORMAT, "%s gives %ux%u images but the model takes %ux%u", path, w, h,
                                v->image_size, v->image_size);
    }
    if (!s && !src->dir) {
        /* The buffers live only during this call: the fingerprint is taken
         * now, the same value a folder of these files gives. */
        const clipvk_model_file *c = clipvk_source_buffer(src, "config.json"),
                                *w = clipvk_source_buffer(src, "model.safetensors");
        if (!w) w = clipvk_source_buffer(src, "pytorch_model.bin"); /* the weights loaded: one of the two */
        snprintf(m->fingerprint, sizeof m->fingerprint, "%016llx",
                 (unsigned long long)clipvk_model_fingerprint_buffers(c->data, c->size, w->data, w->size));
    }
    if (s) {
        clipvk_model_free(m);
        return s;
    }
    *out = m;
    return CLIPVK_OK;
}

clipvk_status clipvk_model_load(clipvk_context *ctx, const char *dir, const clipvk_model_options *o, clipvk_model **out)
{
    clipvk_model_source src = {.dir = dir};
    return model_load(ctx, &src, 1, "clipvk_model_load", o, out);
}

clipvk_status clipvk_model_load_memory(clipvk_context *ctx, const clipvk_model_file *files, uint32_t n,
                                       const clipvk_model_options *o, clipvk_model **out)
{
    clipvk_model_source src = {.files = files, .n = n};
    return model_load(ctx, &src, 0, "clipvk_model_load_memory", o, out);
}

void clipvk_model_free(clipvk_model *m)
{
    if (!m) return;
    clipvk_api_tokenizer_free(&m->tok);
    clipvk_net_destroy(m->net);
    free(m->dir);
    free(m->profile);
    free(m);
}

uint32_t clipvk_model_embedding_dim(const clipvk_model *m)
{
    return m && m->net ? clipvk_net_get_config(m->net)->projection_dim : 0;
}

uint32_t clipvk_model_image_size(const clipvk_model *m)
{
    return m && m->net ? clipvk_net_get_config(m->net)->vision.image_size : 0;
}

uint32_t clipvk_model_context_length(const clipvk_model *m)
{
    return m && m->net ? clipvk_net_get_config(m->net)->text.context : 0;
}

clipvk_scoring clipvk_model_scoring(const clipvk_model *m)
{
    return m && m->net ? clipvk_net_get_config(m->net)->scoring : CLIPVK_SCORING_SOFTMAX;
}

float clipvk_model_logit_bias(const clipvk_model *m) { return m && m->net ? clipvk_net_logit_bias(m->net) : 0.0f; }

const char *clipvk_model_default_template(const clipvk_model *m)
{
    return m && m->net ? clipvk_net_get_config(m->net)->family->default_template : CLIPVK_DEFAULT_TEMPLATE;
}

const char *clipvk_model_family(const clipvk_model *m)
{
    return m && m->net ? clipvk_net_get_config(m->net)->family->name : "";
}

float clipvk_model_logit_scale(const clipvk_model *m)
{
    return m && m->net ? expf(clipvk_net_logit_scale(m->net)) : 0.0f;
}

const char *clipvk_model_numerics(const clipvk_model *m)
{
    return m && m->net ? clipvk_net_numerics(m->net) : "";
}

clipvk_status clipvk_model_fingerprint(clipvk_model *m, char out[17])
{
    CHECK_MODEL(m);
    CHECK_ARG(m, out, "clipvk_model_fingerprint: NULL out");
    if (!m->fingerprint[0]) {
        uint64_t h;
        clipvk_status s = clipvk_model_fingerprint_files(m->dir, m->ctx->cache_dir, &h, &m->ctx->err);
        if (s) return s;
        snprintf(m->fingerprint, sizeof m->fingerprint, "%016llx", (unsigned long long)h);
    }
    memcpy(out, m->fingerprint, 17);
    return CLIPVK_OK;
}

static clipvk_status need(clipvk_model *m, int tower)
{
    if (clipvk_net_towers(m->net) & tower) return CLIPVK_OK;
    return clipvk_api_fail(m->ctx, CLIPVK_ERROR_INVALID_ARGUMENT, "the model was loaded without its %s tower",
                           tower == CLIPVK_TOWERS_IMAGE ? "image" : "text");
}

clipvk_status clipvk_tokenize(clipvk_model *m, const char *text, int32_t *ids, uint32_t *n)
{
    CHECK_MODEL(m);
    CHECK_ARG(m, text && ids, "clipvk_tokenize: NULL text or ids");
    clipvk_status s = need(m, CLIPVK_TOWERS_TEXT);
    uint32_t count = 0;
    uint32_t context = clipvk_model_context_length(m);
    if (!s) s = clipvk_api_tokenizer_encode(&m->tok, text, strlen(text), context, ids, &count, &m->ctx->err);
    if (n) *n = count;
    return s;
}

clipvk_status clipvk_preprocess_file(clipvk_model *m, const char *path, float *pixels)
{
    CHECK_MODEL(m);
    CHECK_ARG(m, path && pixels, "clipvk_preprocess_file: NULL path or pixels");
    clipvk_status s = need(m, CLIPVK_TOWERS_IMAGE);
    clipvk_image img;
    if (s || (s = clipvk_image_load(path, m->max_pixels, 0, &img, &m->ctx->err))) return s;
    s = clipvk_preprocess(&img, &m->pre, 0, pixels, &m->ctx->err);
    clipvk_image_free(&img);
    return s;
}

clipvk_status clipvk_preprocess_image(clipvk_model *m, const clipvk_image_view *image, float *pixels)
{
    CHECK_MODEL(m);
    CHECK_ARG(m, image && image->data && pixels, "clipvk_preprocess_image: NULL image or pixels");
    clipvk_status s = need(m, CLIPVK_TOWERS_IMAGE);
    if (s) return s;
    const char *what = image->format == CLIPVK_PIXELS_RGB8    ? "RGB8 image"
                       : image->format == CLIPVK_PIXELS_RGBA8 ? "RGBA8 image"
                       : image->format == CLIPVK_PIXELS_BGRA8 ? "BGRA8 image"
                                                              : "image";
    /* the same limit as files, checked before any copy: resizing allocates in proportion to the pixels */
    uint64_t limit = m->max_pixels ? m->max_pixels : CLIPVK_IMAGE_DEFAULT_MAX_PIXELS;
    if (image->width && image->height && (uint64_t)image->width * image->height > limit &&
        image->format != CLIPVK_PIXELS_RGB8) /* RGB8: after the buffer checks, as before */
        return clipvk_api_fail(m->ctx, CLIPVK_ERROR_UNSUPPORTED, "%s: %ux%u is larger than the limit of %llu pixels", what,
                               image->width, image->height, (unsigned long long)limit);
    clipvk_image img;
    if ((s = clipvk_image_from_pixels(what, image->data, image->width, image->height, image->stride_bytes, image->format,
                                      &img, &m->ctx->err)))
        return s;
    if ((uint64_t)image->width * image->height > limit) {
        clipvk_image_free(&img);
        return clipvk_api_fail(m->ctx, CLIPVK_ERROR_UNSUPPORTED, "%s: %ux%u is larger than the limit of %llu pixels", what,
                               image->width, image->height, (unsigned long long)limit);
    }
    s = clipvk_preprocess(&img, &m->pre, 0, pixels, &m->ctx->err);
    clipvk_image_free(&img);
    return s;
}

static clipvk_image_view rgb8_view(const clipvk_rgb8 *image)
{
    return (clipvk_image_view){image->pixels, image->width, image->height, image->stride, CLIPVK_PIXELS_RGB8};
}

clipvk_status clipvk_preprocess_rgb8(clipvk_model *m, const clipvk_rgb8 *image, float *pixels)
{
    CHECK_MODEL(m);
    CHECK_ARG(m, image && image->pixels && pixels, "clipvk_preprocess_rgb8: NULL image or pixels");
    clipvk_image_view v = rgb8_view(image);
    return clipvk_preprocess_image(m, &v, pixels);
}

static size_t image_floats(const clipvk_model *m)
{
    size_t s = clipvk_model_image_size(m);
    return 3 * s * s;
}

clipvk_status clipvk_embed_pixels(clipvk_model *m, const float *pixels, uint32_t n, int normalize, float *out)
{
    CHECK_MODEL(m);
    CHECK_LIVE(m);
    CHECK_ARG(m, (pixels && out) || n == 0, "clipvk_embed_pixels: NULL pixels or out");
    clipvk_status s = need(m, CLIPVK_TOWERS_IMAGE);
    /* NaN or infinity would come out as an embedding of NaNs, silently */
    size_t per = s ? 0 : image_floats(m);
    for (size_t i = 0; !s && i < (size_t)n * per; i++)
        if (!isfinite(pixels[i]))
            s = clipvk_api_fail(m->ctx, CLIPVK_ERROR_INVALID_ARGUMENT, "image %zu: pixel value %zu is not finite (%g)",
                                i / per, i % per, (double)pixels[i]);
    return s ? s : clipvk_net_encode_images(m->net, pixels, n, normalize, out, &m->ctx->err);
}

/* Each image preprocessed on the host, then embedded FILE_CHUNK at a time;
 * image(i) gives the i-th as a view. */
static clipvk_status embed_views(clipvk_model *m, const void *images, uint32_t n, int normalize, float *out,
                                 clipvk_image_view (*image)(const void *, uint32_t))
{
    clipvk_status s = need(m, CLIPVK_TOWERS_IMAGE);
    if (s) return s;
    size_t per = image_floats(m), dim = clipvk_model_embedding_dim(m);
    float *px = malloc(FILE_CHUNK * per * sizeof *px);
    if (!px) return clipvk_api_fail(m->ctx, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
    for (uint32_t done = 0; done < n && !s; done += FILE_CHUNK) {
        uint32_t k = n - done < FILE_CHUNK ? n - done : FILE_CHUNK;
        for (uint32_t i = 0; i < k && !s; i++) {
            clipvk_image_view v = image(images, done + i);
            s = clipvk_preprocess_image(m, &v, px + i * per);
        }
        if (!s) s = clipvk_net_encode_images(m->net, px, k, normalize, out + done * dim, &m->ctx->err);
    }
    free(px);
    return s;
}

static clipvk_image_view view_at(const void *images, uint32_t i)
{
    return ((const clipvk_image_view *)images)[i];
}

static clipvk_image_view rgb8_at(const void *images, uint32_t i)
{
    return rgb8_view(&((const clipvk_rgb8 *)images)[i]);
}

clipvk_status clipvk_embed_images(clipvk_model *m, const clipvk_image_view *images, uint32_t n, int normalize,
                                  float *out)
{
    CHECK_MODEL(m);
    CHECK_LIVE(m);
    CHECK_ARG(m, (images && out) || n == 0, "clipvk_embed_images: NULL images or out");
    return embed_views(m, images, n, normalize, out, view_at);
}

clipvk_status clipvk_embed_rgb8(clipvk_model *m, const clipvk_rgb8 *images, uint32_t n, int normalize, float *out)
{
    CHECK_MODEL(m);
    CHECK_LIVE(m);
    CHECK_ARG(m, (images && out) || n == 0, "clipvk_embed_rgb8: NULL images or out");
    for (uint32_t i = 0; i < n; i++) CHECK_ARG(m, images[i].pixels, "clipvk_embed_rgb8: image %u has NULL pixels", i);
    return embed_views(m, images, n, normalize, out, rgb8_at);
}

/* Decoding of the next chunk runs on its own thread while the device embeds
 * the current one. */
typedef struct decode_job {
    const char *const *paths;
    size_t n;
    const clipvk_preprocess_config *cfg;
    uint64_t max_pixels;
    float *out;
    clipvk_status *status;
    clipvk_error *errs;
} decode_job;

static void *decode_thread(void *arg)
{
    decode_job *j = arg;
    clipvk_preprocess_files(j->paths, j->n, j->max_pixels, j->cfg, 0, j->out, j->status, j->errs);
    return NULL;
}

clipvk_status clipvk_embed_files(clipvk_model *m, const char *const *paths, uint32_t n, int normalize, float *out,
                                 clipvk_status *status)
{
    return clipvk_api_embed_files(m, paths, n, normalize, out, status, NULL);
}

clipvk_status clipvk_api_embed_files(clipvk_model *m, const char *const *paths, uint32_t n, int normalize, float *out,
                                     clipvk_status *status, clipvk_error *file_errors)
{
    CHECK_MODEL(m);
    CHECK_LIVE(m);
    CHECK_ARG(m, (paths && out) || n == 0, "clipvk_embed_files: NULL paths or out");
    for (uint32_t i = 0; i < n; i++) CHECK_ARG(m, paths[i], "clipvk_embed_files: path %u is NULL", i);
    clipvk_status s = need(m, CLIPVK_TOWERS_IMAGE);
    if (s || n == 0) return s;
    size_t per = image_floats(m), dim = clipvk_model_embedding_dim(m);
    float *px[2] = {malloc(FILE_CHUNK * per * sizeof(float)), malloc(FILE_CHUNK * per * sizeof(float))};
    clipvk_status *st = malloc(n * sizeof *st);
    clipvk_error *errs = malloc(FILE_CHUNK * 2 * sizeof *errs);
    if (!px[0] || !px[1] || !st || !errs) {
        free(px[0]), free(px[1]), free(st), free(errs);
        return clipvk_api_fail(m->ctx, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
    }
    decode_job job = {paths, n < FILE_CHUNK ? n : FILE_CHUNK, &m->pre, m->max_pixels, px[0], st, errs};
    decode_thread(&job); /* the first chunk has nothing to overlap with */
    clipvk_status first_bad = CLIPVK_OK;
    for (uint32_t done = 0, cur = 0; done < n && !s; done += FILE_CHUNK, cur ^= 1) {
        uint32_t k = n - done < FILE_CHUNK ? n - done : FILE_CHUNK;
        pthread_t th;
        int threaded = 0;
        uint32_t next = done + k;
        if (next < n) {
            job = (decode_job){paths + next, n - next < FILE_CHUNK ? n - next : FILE_CHUNK, &m->pre, m->max_pixels, px[cur ^ 1],
                               st + next, errs + (cur ^ 1) * FILE_CHUNK};
            threaded = pthread_create(&th, NULL, decode_thread, &job) == 0;
        }
        for (uint32_t i = 0; file_errors && i < k; i++)
            if (st[done + i]) file_errors[done + i] = errs[cur * FILE_CHUNK + i];
        for (uint32_t i = 0; i < k; i++)
            if (st[done + i] && !first_bad) {
                first_bad = st[done + i];
                clipvk_api_fail(m->ctx, first_bad, "%s", errs[cur * FILE_CHUNK + i].msg);
            }
        if (first_bad && !status) s = first_bad;
        if (!s) s = clipvk_net_encode_images(m->net, px[cur], k, normalize, out + done * dim, &m->ctx->err);
        for (uint32_t i = 0; !s && i < k; i++)
            if (st[done + i]) memset(out + (done + i) * dim, 0, dim * sizeof *out);
        if (threaded) pthread_join(th, NULL);
        else if (next < n) decode_thread(&job);
    }
    if (status && !s) memcpy(status, st, n * sizeof *st);
    free(px[0]), free(px[1]), free(st), free(errs);
    return s ? s : status ? CLIPVK_OK : first_bad;
}

clipvk_status clipvk_embed_tokens(clipvk_model *m, const int32_t *ids, uint32_t n, uint32_t len, int normalize,
                                  float *out)
{
    CHECK_MODEL(m);
    CHECK_LIVE(m);
    CHECK_ARG(m, (ids && out) || n == 0, "clipvk_embed_tokens: NULL ids or out");
    clipvk_status s = need(m, CLIPVK_TOWERS_TEXT);
    return s ? s : clipvk_net_encode_texts(m->net, ids, n, len, normalize, out, &m->ctx->err);
}

clipvk_status clipvk_embed_texts(clipvk_model *m, const char *const *texts, uint32_t n, int normalize, float *out)
{
    CHECK_MODEL(m);
    CHECK_LIVE(m);
    CHECK_ARG(m, (texts && out) || n == 0, "clipvk_embed_texts: NULL texts or out");
    for (uint32_t i = 0; i < n; i++) CHECK_ARG(m, texts[i], "clipvk_embed_texts: text %u is NULL", i);
    clipvk_status s = need(m, CLIPVK_TOWERS_TEXT);
    if (s || n == 0) return s;
    uint32_t L = clipvk_model_context_length(m);
    int32_t *ids = malloc((size_t)n * L * sizeof *ids);
    if (!ids) return clipvk_api_fail(m->ctx, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
    for (uint32_t i = 0; i < n && !s; i++) {
        if ((s = clipvk_tokenize(m, texts[i], ids + (size_t)i * L, NULL)))
            snprintf(m->ctx->err.msg + strlen(m->ctx->err.msg), sizeof m->ctx->err.msg - strlen(m->ctx->err.msg),
                     " (text %u)", i);
    }
    if (!s) s = clipvk_net_encode_texts(m->net, ids, n, L, normalize, out, &m->ctx->err);
    free(ids);
    return s;
}

clipvk_context *clipvk_model_context(const clipvk_model *m)
{
    return m ? m->ctx : NULL;
}
