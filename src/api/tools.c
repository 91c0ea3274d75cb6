/* The public API's host-only tools: UTF-8 checking, template sets, the
 * tokenizer and the image preprocessing without a model, the cache folder
 * and the demo model. */
#include "api/api_internal.h"
#include "api/templates.h"
#include "model/demo_model.h"
#include "text/utf8.h"
#include "util/file.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int clipvk_utf8_valid(const char *s, size_t n, size_t *bad_offset, const char **why)
{
    size_t bad = 0;
    const char *reason = "out of host memory";
    uint32_t *cp = s || !n ? malloc((n ? n : 1) * sizeof *cp) : NULL;
    int ok = cp && clipvk_utf8_decode((const unsigned char *)s, n, cp, &bad, &reason) != (size_t)-1;
    free(cp);
    if (!s && n) reason = "NULL text";
    if (!ok && bad_offset) *bad_offset = bad;
    if (!ok && why) *why = reason;
    return ok;
}

static const char *const default_template[1] = {CLIPVK_DEFAULT_TEMPLATE};

const char *const *clipvk_templates(const char *name, uint32_t *n)
{
    uint32_t count = 0;
    const char *const *t = NULL;
    if (name && !strcmp(name, "imagenet")) t = clipvk_imagenet_templates, count = CLIPVK_IMAGENET_TEMPLATES;
    else if (name && !strcmp(name, "zh")) t = clipvk_zh_templates, count = CLIPVK_ZH_TEMPLATES;
    else if (name && !strcmp(name, "default")) t = default_template, count = 1;
    if (n) *n = count;
    return t;
}

/* ---- the tokenizer alone */

struct clipvk_text_tokenizer {
    clipvk_api_tokenizer tok;
    uint32_t context;
    clipvk_error err;
};

clipvk_status clipvk_text_tokenizer_open(const char *vocab_json, const char *merges_txt, clipvk_text_tokenizer **out)
{
    if (!out) return CLIPVK_ERROR_INVALID_ARGUMENT;
    clipvk_text_tokenizer *t = *out = calloc(1, sizeof *t);
    if (!t) return CLIPVK_ERROR_OUT_OF_HOST_MEMORY;
    t->context = 77;
    if (!vocab_json || !merges_txt)
        return clipvk_fail(&t->err, CLIPVK_ERROR_INVALID_ARGUMENT, "clipvk_text_tokenizer_open: NULL path");
    return clipvk_tokenizer_create(vocab_json, merges_txt, &t->tok.bpe, &t->err);
}

clipvk_status clipvk_text_tokenizer_open_folder(const char *dir, clipvk_text_tokenizer **out)
{
    if (!out) return CLIPVK_ERROR_INVALID_ARGUMENT;
    clipvk_text_tokenizer *t = *out = calloc(1, sizeof *t);
    if (!t) return CLIPVK_ERROR_OUT_OF_HOST_MEMORY;
    t->context = 77;
    if (!dir) return clipvk_fail(&t->err, CLIPVK_ERROR_INVALID_ARGUMENT, "clipvk_text_tokenizer_open_folder: NULL path");
    clipvk_model_source src = {.dir = dir};
    clipvk_status s;
    if (clipvk_source_has(&src, "config.json")) { /* the context length, with the family's defaults */
        char path[4096];
        clipvk_model_config cfg;
        clipvk_source_path(&src, "config.json", path, sizeof path);
        if ((s = clipvk_config_load(path, &cfg, &t->err))) return s;
        t->context = cfg.text.context;
    }
    return clipvk_api_tokenizer_load(&src, 0, &t->tok, &t->err);
}

uint32_t clipvk_text_tokenizer_context(const clipvk_text_tokenizer *t) { return t ? t->context : 0; }

void clipvk_text_tokenizer_close(clipvk_text_tokenizer *t)
{
    if (!t) return;
    clipvk_api_tokenizer_free(&t->tok);
    free(t);
}

const char *clipvk_text_tokenizer_last_error(const clipvk_text_tokenizer *t) { return t ? t->err.msg : "no tokenizer"; }

clipvk_status clipvk_text_tokenizer_encode(clipvk_text_tokenizer *t, const char *text, size_t len, uint32_t context_length,
                                           int32_t *ids, uint32_t *n)
{
    if (!t) return CLIPVK_ERROR_INVALID_ARGUMENT;
    if (!t->tok.bpe && !t->tok.spm && !t->tok.wp) return clipvk_fail(&t->err, CLIPVK_ERROR_INVALID_ARGUMENT, "the tokenizer did not open");
    if ((!text && len) || !ids || context_length < 2)
        return clipvk_fail(&t->err, CLIPVK_ERROR_INVALID_ARGUMENT,
                           "clipvk_text_tokenizer_encode: NULL text or ids, or a context under 2");
    uint32_t count;
    clipvk_status s = clipvk_api_tokenizer_encode(&t->tok, text ? text : "", len, context_length, ids, &count, &t->err);
    if (!s && n) *n = count;
    return s;
}

clipvk_status clipvk_text_tokenizer_pieces(clipvk_text_tokenizer *t, const char *text, size_t len,
                                           uint32_t context_length,
                                           void (*visit)(const char *piece, size_t n, int32_t id, void *user), void *user)
{
    if (!t) return CLIPVK_ERROR_INVALID_ARGUMENT;
    if (!t->tok.wp)
        return clipvk_fail(&t->err, CLIPVK_ERROR_UNSUPPORTED,
                           "pieces are shown for WordPiece (BERT) tokenizers only; this one gives ids");
    if ((!text && len) || !visit || context_length < 2)
        return clipvk_fail(&t->err, CLIPVK_ERROR_INVALID_ARGUMENT,
                           "clipvk_text_tokenizer_pieces: NULL text or visit, or a context under 2");
    return clipvk_wordpiece_pieces(t->tok.wp, text ? text : "", len, context_length, visit, user, &t->err);
}

/* ---- the image preprocessing alone */

struct clipvk_image_preprocessor {
    clipvk_preprocess_config cfg;
    clipvk_image_preprocessor_options o;
    int ready;
    clipvk_error err, *file_errs;  /* file_errs: the last files call's, [n_files] */
    size_t n_files;
};

void clipvk_image_preprocessor_options_init(clipvk_image_preprocessor_options *o)
{
    if (o) memset(o, 0, sizeof *o);
}

clipvk_status clipvk_image_preprocessor_open(const char *config_json, const clipvk_image_preprocessor_options *o,
                                             clipvk_image_preprocessor **out)
{
    if (!out) return CLIPVK_ERROR_INVALID_ARGUMENT;
    clipvk_image_preprocessor *p = *out = calloc(1, sizeof *p);
    if (!p) return CLIPVK_ERROR_OUT_OF_HOST_MEMORY;
    if (o) p->o = *o;
    if (!p->o.max_pixels) p->o.max_pixels = CLIPVK_DEFAULT_MAX_IMAGE_PIXELS;
    if (!config_json) return clipvk_fail(&p->err, CLIPVK_ERROR_INVALID_ARGUMENT, "clipvk_image_preprocessor_open: NULL path");
    clipvk_status s = clipvk_preprocess_config_load(config_json, &p->cfg, &p->err);
    if (s) return s;
    p->cfg.crop = p->o.crop_hf ? CLIPVK_CROP_HF : CLIPVK_CROP_REFERENCE;
    if (p->o.raw) p->cfg.do_rescale = p->cfg.do_normalize = 0;
    p->ready = 1;
    return CLIPVK_OK;
}

void clipvk_image_preprocessor_close(clipvk_image_preprocessor *p)
{
    if (!p) return;
    free(p->file_errs);
    free(p);
}

const char *clipvk_image_preprocessor_last_error(const clipvk_image_preprocessor *p)
{
    return p ? p->err.msg : "no preprocessor";
}

void clipvk_image_preprocessor_size(const clipvk_image_preprocessor *p, uint32_t *h, uint32_t *w)
{
    uint32_t oh = 0, ow = 0;
    if (p && p->ready) clipvk_preprocess_output_size(&p->cfg, &oh, &ow);
    if (h) *h = oh;
    if (w) *w = ow;
}

static clipvk_status ready(clipvk_image_preprocessor *p)
{
    if (!p) return CLIPVK_ERROR_INVALID_ARGUMENT;
    return p->ready ? CLIPVK_OK : clipvk_fail(&p->err, CLIPVK_ERROR_INVALID_ARGUMENT, "the preprocessor did not open");
}

clipvk_status clipvk_image_preprocessor_files(clipvk_image_preprocessor *p, const char *const *paths, size_t n, float *out,
                                              clipvk_status *status)
{
    clipvk_status s = ready(p);
    if (s) return s;
    if (n && (!paths || !out)) return clipvk_fail(&p->err, CLIPVK_ERROR_INVALID_ARGUMENT, "NULL paths or out");
    for (size_t i = 0; i < n; i++)
        if (!paths[i]) return clipvk_fail(&p->err, CLIPVK_ERROR_INVALID_ARGUMENT, "path %zu is NULL", i);
    free(p->file_errs);
    p->n_files = 0;
    clipvk_status *st = calloc(n ? n : 1, sizeof *st);
    if (!st || !(p->file_errs = calloc(n ? n : 1, sizeof *p->file_errs))) {
        free(st);
        return clipvk_fail(&p->err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "out of host memory for %zu images", n);
    }
    p->n_files = n;
    s = clipvk_preprocess_files(paths, n, p->o.max_pixels, &p->cfg, p->o.threads, out, st, p->file_errs);
    for (size_t i = 0; s && i < n; i++)
        if (st[i]) {
            p->err = p->file_errs[i];
            break;
        }
    if (status) memcpy(status, st, n * sizeof *st);
    free(st);
    return s;
}

const char *clipvk_image_preprocessor_file_error(const clipvk_image_preprocessor *p, size_t i)
{
    return p && i < p->n_files ? p->file_errs[i].msg : "";
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

clipvk_status clipvk_image_preprocessor_file_timed(clipvk_image_preprocessor *p, const char *path, float *out,
                                                   clipvk_image_timing *timing)
{
    clipvk_status s = ready(p);
    if (s) return s;
    if (!path || !out) return clipvk_fail(&p->err, CLIPVK_ERROR_INVALID_ARGUMENT, "NULL path or out");
    clipvk_image img;
    double t0 = now_ms();
    if ((s = clipvk_image_load(path, p->o.max_pixels, p->o.threads, &img, &p->err))) return s;
    double t1 = now_ms();
    clipvk_error err = {0};
    s = clipvk_preprocess(&img, &p->cfg, p->o.threads, out, &err);
    double t2 = now_ms();
    if (s) clipvk_fail(&p->err, s, "%s: %s", path, err.msg);
    else if (timing) *timing = (clipvk_image_timing){img.width, img.height, t1 - t0, t2 - t1};
    clipvk_image_free(&img);
    return s;
}

/* ---- files */

clipvk_status clipvk_cache_folder(const char *sub, char *out, size_t size)
{
    if (!out || !size) return CLIPVK_ERROR_INVALID_ARGUMENT;
    return clipvk_cache_dir(NULL, sub, out, size) ? CLIPVK_ERROR_IO : CLIPVK_OK;
}

clipvk_status clipvk_write_demo_model(const char *dir, const char *shapes, char *error, size_t error_size)
{
    clipvk_error err = {0};
    clipvk_status s = dir ? clipvk_demo_model_write(dir, shapes, &err)
                          : clipvk_fail(&err, CLIPVK_ERROR_INVALID_ARGUMENT, "clipvk_write_demo_model: NULL folder");
    if (error && error_size) snprintf(error, error_size, "%s", s ? err.msg : "");
    return s;
}
