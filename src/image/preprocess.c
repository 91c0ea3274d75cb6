/*
 * Resize, centre crop, rescale and normalise, as OpenAI's reference
 * (torchvision on PIL images) and Hugging Face's SiglipImageProcessor
 * compute them; see preprocess.h.
 */
#include "image/preprocess.h"
#include "image/resize.h"
#include "util/file.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Resized sizes beyond this are refused (a 1 x 10^6 image at 224 would
 * otherwise ask for a 224 x 2.24e8 intermediate geometry). */
#define MAX_RESIZED_SIDE (1u << 24)
#define MAX_CONFIG_SIDE 16384u

void clipvk_preprocess_config_default(clipvk_preprocess_config *cfg, uint32_t size)
{
    *cfg = (clipvk_preprocess_config){
        .do_resize = 1,
        .resize_shortest = 1,
        .shortest = size,
        .resize_w = size,
        .resize_h = size,
        .do_center_crop = 1,
        .crop_w = size,
        .crop_h = size,
        .do_rescale = 1,
        .rescale_factor = 1.0 / 255.0,
        .do_normalize = 1,
        /* OpenAI CLIP's (clip/clip.py _transform) */
        .mean = {0.48145466f, 0.4578275f, 0.40821073f},
        .std = {0.26862954f, 0.26130258f, 0.27577711f},
        .crop = CLIPVK_CROP_REFERENCE,
        .resample = CLIPVK_RESAMPLE_BICUBIC,
    };
}

void clipvk_preprocess_config_siglip(clipvk_preprocess_config *cfg, uint32_t size)
{
    clipvk_preprocess_config_default(cfg, size);
    /* SiglipImageProcessor.__init__: size {height, width} 224, no crop at
     * all, IMAGENET_STANDARD_MEAN / _STD */
    cfg->resize_shortest = 0;
    cfg->do_center_crop = 0;
    for (int c = 0; c < 3; c++) cfg->mean[c] = cfg->std[c] = 0.5f;
}

void clipvk_preprocess_config_chinese_clip(clipvk_preprocess_config *cfg, uint32_t size)
{
    clipvk_preprocess_config_default(cfg, size);
    /* ChineseCLIPImageProcessor: resize straight to size x size (cn_clip's
     * image_transform), OpenAI's mean and std; its default centre crop of
     * the same size changes nothing, and the hub's files turn it off */
    cfg->resize_shortest = 0;
    cfg->do_center_crop = 0;
}

typedef enum processor_kind { KIND_CLIP, KIND_SIGLIP, KIND_CHINESE_CLIP } processor_kind;

/* Which processor's defaults and rules apply: image_processor_type, else
 * the older feature_extractor_type. */
static clipvk_status processor_kind_of(const char *path, const cJSON *root, processor_kind *kind, clipvk_error *err)
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(root, "image_processor_type");
    if (!cJSON_IsString(t)) t = cJSON_GetObjectItemCaseSensitive(root, "feature_extractor_type");
    const char *name = cJSON_IsString(t) ? t->valuestring : "";
    *kind = KIND_CLIP;
    /* The Fast variants resize with torchvision on tensors, a few values
     * away from PIL; clipvk computes what the PIL processor does. */
    if (!strcmp(name, "SiglipImageProcessor") || !strcmp(name, "SiglipImageProcessorFast")) *kind = KIND_SIGLIP;
    else if (!strncmp(name, "ChineseCLIPImageProcessor", 25) || !strcmp(name, "ChineseCLIPFeatureExtractor"))
        *kind = KIND_CHINESE_CLIP;
    else if (!strncmp(name, "Siglip2ImageProcessor", 21))
        return clipvk_fail(err, CLIPVK_ERROR_UNSUPPORTED,
                           "%s: %s (SigLIP 2 NaFlex, variable resolution) is not supported; fixed-resolution SigLIP 2 "
                           "models use SiglipImageProcessor",
                           path, name);
    return CLIPVK_OK;
}

static clipvk_status get_side(const char *path, const char *key, const cJSON *j, uint32_t *v, clipvk_error *err)
{
    double d = cJSON_IsNumber(j) ? j->valuedouble : NAN;
    if (!(d >= 1 && d <= MAX_CONFIG_SIDE) || d != floor(d))
        return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: %s must be an integer in [1, %u]", path, key,
                           MAX_CONFIG_SIDE);
    *v = (uint32_t)d;
    return CLIPVK_OK;
}

/* size / crop_size: an integer, {"height": H, "width": W}, or (size only)
 * {"shortest_edge": N}. *shortest tells which form was found. */
static clipvk_status get_size(const char *path, const char *key, const cJSON *j, int allow_shortest, int *shortest,
                              uint32_t *h, uint32_t *w, clipvk_error *err)
{
    clipvk_status s;
    if (cJSON_IsNumber(j)) {
        if ((s = get_side(path, key, j, h, err))) return s;
        *w = *h;
        /* Hugging Face reads a bare integer size as the shortest edge
         * (get_size_dict with default_to_square=False) and a bare integer
         * crop_size as a square. */
        *shortest = allow_shortest;
        return CLIPVK_OK;
    }
    if (!cJSON_IsObject(j))
        return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: %s must be an integer or an object", path, key);
    const cJSON *se = cJSON_GetObjectItemCaseSensitive(j, "shortest_edge");
    const cJSON *hh = cJSON_GetObjectItemCaseSensitive(j, "height");
    const cJSON *ww = cJSON_GetObjectItemCaseSensitive(j, "width");
    if (allow_shortest && se && !hh && !ww) {
        if ((s = get_side(path, key, se, h, err))) return s;
        *w = *h;
        *shortest = 1;
        return CLIPVK_OK;
    }
    if (hh && ww && !se) {
        char k[64];
        snprintf(k, sizeof k, "%s.height", key);
        if ((s = get_side(path, k, hh, h, err))) return s;
        snprintf(k, sizeof k, "%s.width", key);
        if ((s = get_side(path, k, ww, w, err))) return s;
        *shortest = 0;
        return CLIPVK_OK;
    }
    return clipvk_fail(err, CLIPVK_ERROR_UNSUPPORTED, "%s: %s must be %s{\"height\": H, \"width\": W}", path, key,
                       allow_shortest ? "{\"shortest_edge\": N} or " : "");
}

static clipvk_status get_flag(const char *path, const cJSON *root, const char *key, int *v, clipvk_error *err)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(root, key);
    if (!j || cJSON_IsNull(j)) return CLIPVK_OK;
    if (!cJSON_IsBool(j)) return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: %s must be true or false", path, key);
    *v = cJSON_IsTrue(j);
    return CLIPVK_OK;
}

/* image_mean / image_std: 3 numbers (or 1, for all channels). */
static clipvk_status get_triple(const char *path, const cJSON *root, const char *key, int positive, float *v,
                                clipvk_error *err)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(root, key);
    if (!j || cJSON_IsNull(j)) return CLIPVK_OK;
    int n = cJSON_IsArray(j) ? cJSON_GetArraySize(j) : cJSON_IsNumber(j) ? 1 : 0;
    if (n != 1 && n != 3)
        return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: %s must be a list of 3 numbers", path, key);
    for (int c = 0; c < 3; c++) {
        const cJSON *e = cJSON_IsArray(j) ? cJSON_GetArrayItem(j, n == 3 ? c : 0) : j;
        if (!cJSON_IsNumber(e) || !isfinite(e->valuedouble) || (positive && !(e->valuedouble > 0)))
            return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: %s must hold %snumbers", path, key,
                               positive ? "positive " : "");
        v[c] = (float)e->valuedouble; /* torchvision makes a float32 tensor of them */
    }
    return CLIPVK_OK;
}

clipvk_status clipvk_preprocess_config_load(const char *path, clipvk_preprocess_config *cfg, clipvk_error *err)
{
    clipvk_preprocess_config_default(cfg, 224);
    char *text;
    clipvk_status s = clipvk_read_file(path, 1u << 20, &text, NULL, err);
    if (s) return s;
    s = clipvk_preprocess_config_parse(path, text, cfg, err);
    free(text);
    return s;
}

clipvk_status clipvk_preprocess_config_parse(const char *path, const char *text, clipvk_preprocess_config *cfg,
                                             clipvk_error *err)
{
    clipvk_preprocess_config_default(cfg, 224);
    clipvk_status s = CLIPVK_OK;
    cJSON *root = cJSON_Parse(text);
    if (!root) return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: not valid JSON", path);
    processor_kind kind;
    if (!cJSON_IsObject(root)) {
        s = clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: not a JSON object", path);
        goto done;
    }
    if ((s = processor_kind_of(path, root, &kind, err))) goto done;
    if (kind == KIND_SIGLIP) clipvk_preprocess_config_siglip(cfg, 224);
    if (kind == KIND_CHINESE_CLIP) clipvk_preprocess_config_chinese_clip(cfg, 224);
    const cJSON *size = cJSON_GetObjectItemCaseSensitive(root, "size");
    const cJSON *crop = cJSON_GetObjectItemCaseSensitive(root, "crop_size");
    const cJSON *rf = cJSON_GetObjectItemCaseSensitive(root, "rescale_factor");
    const cJSON *rs = cJSON_GetObjectItemCaseSensitive(root, "resample");
    int sq;
    if (size && !cJSON_IsNull(size) &&
        (s = get_size(path, "size", size, 1, &cfg->resize_shortest, &cfg->resize_h, &cfg->resize_w, err)))
        goto done;
    if (kind == KIND_SIGLIP && cfg->resize_shortest) {
        /* SiglipImageProcessor reads size["height"] and size["width"]; an
         * integer or shortest_edge makes Hugging Face fail too */
        s = clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: SiglipImageProcessor needs size as {\"height\": H, \"width\": W}",
                        path);
        goto done;
    }
    /* ChineseCLIPImageProcessor reads an integer size as a square
     * (get_size_dict's default_to_square), as the hub's files give it */
    if (kind == KIND_CHINESE_CLIP) cfg->resize_shortest = 0;
    cfg->shortest = cfg->resize_h;
    /* SiglipImageProcessor has no crop: Hugging Face ignores these keys */
    if (kind != KIND_SIGLIP && crop && !cJSON_IsNull(crop) &&
        (s = get_size(path, "crop_size", crop, 0, &sq, &cfg->crop_h, &cfg->crop_w, err)))
        goto done;
    if ((s = get_flag(path, root, "do_resize", &cfg->do_resize, err)) ||
        (kind != KIND_SIGLIP && (s = get_flag(path, root, "do_center_crop", &cfg->do_center_crop, err))) ||
        (s = get_flag(path, root, "do_rescale", &cfg->do_rescale, err)) ||
        (s = get_flag(path, root, "do_normalize", &cfg->do_normalize, err)) ||
        (s = get_triple(path, root, "image_mean", 0, cfg->mean, err)) ||
        (s = get_triple(path, root, "image_std", 1, cfg->std, err)))
        goto done;
    if (rf && !cJSON_IsNull(rf)) {
        if (!cJSON_IsNumber(rf) || !(rf->valuedouble > 0) || !isfinite(rf->valuedouble)) {
            s = clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: rescale_factor must be a positive number", path);
            goto done;
        }
        cfg->rescale_factor = rf->valuedouble;
    }
    /* PIL's filter numbers: CLIP and SigLIP use 3 (bicubic), SigLIP 2's
     * conversion sets 2 (bilinear). LANCZOS 1, BOX 4, HAMMING 5 are not
     * implemented. */
    if (rs && !cJSON_IsNull(rs)) {
        double r = cJSON_IsNumber(rs) ? rs->valuedouble : -1;
        if (r != CLIPVK_RESAMPLE_NEAREST && r != CLIPVK_RESAMPLE_BILINEAR && r != CLIPVK_RESAMPLE_BICUBIC) {
            s = clipvk_fail(err, CLIPVK_ERROR_UNSUPPORTED,
                            "%s: resample must be 0 (nearest), 2 (bilinear) or 3 (bicubic); other filters are not "
                            "supported",
                            path);
            goto done;
        }
        cfg->resample = (clipvk_resample)(int)r;
    }
    if (!cfg->do_center_crop && (!cfg->do_resize || cfg->resize_shortest)) {
        s = clipvk_fail(err, CLIPVK_ERROR_UNSUPPORTED,
                        "%s: without do_center_crop or a resize to {height, width} images keep different sizes; "
                        "clipvk needs a fixed input size",
                        path);
        goto done;
    }
done:
    cJSON_Delete(root);
    return s;
}

void clipvk_preprocess_output_size(const clipvk_preprocess_config *cfg, uint32_t *h, uint32_t *w)
{
    *h = cfg->do_center_crop ? cfg->crop_h : cfg->resize_h;
    *w = cfg->do_center_crop ? cfg->crop_w : cfg->resize_w;
}

/* Where a crop of `crop` starts in a side of `side` (negative: the crop is
 * larger and the image sits inside zero padding). torchvision:
 * int(round(d / 2.0)), Python rounding half to even, and a pad of
 * (crop - side) // 2 before the image when the crop is larger. Hugging
 * Face: d // 2, and ceil((crop - side) / 2) before the image. */
static int64_t crop_offset(uint32_t side, uint32_t crop, clipvk_crop_rounding r)
{
    int64_t d = (int64_t)side - (int64_t)crop;
    if (r == CLIPVK_CROP_HF) return d >= 0 ? d / 2 : -((-d + 1) / 2);
    if (d < 0) return -((-d) / 2);
    int64_t q = d / 2;
    return (d & 1) && (q & 1) ? q + 1 : q; /* q + 0.5 goes to the even neighbour */
}

clipvk_status clipvk_preprocess_u8(const clipvk_image *img, const clipvk_preprocess_config *cfg, unsigned threads,
                                   uint8_t *out, clipvk_error *err)
{
    uint32_t w = img->width, h = img->height, rw = w, rh = h, ow, oh;
    if (!img->rgb || !w || !h || img->stride < (size_t)w * 3)
        return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT, "preprocess: empty or malformed image");
    if (cfg->do_resize && cfg->resize_shortest) {
        /* torchvision's _compute_resized_output_size: Python's true division
         * of integers (correctly rounded, as double division is here), then
         * int() truncation. */
        uint32_t s = w <= h ? w : h, l = w <= h ? h : w;
        double nl = (double)((uint64_t)cfg->shortest * l) / (double)s;
        if (nl >= MAX_RESIZED_SIDE)
            return clipvk_fail(err, CLIPVK_ERROR_UNSUPPORTED,
                               "preprocess: a %ux%u image is too elongated to resize to a shorter side of %u", w, h,
                               cfg->shortest);
        rw = w <= h ? cfg->shortest : (uint32_t)nl;
        rh = w <= h ? (uint32_t)nl : cfg->shortest;
    } else if (cfg->do_resize) {
        rw = cfg->resize_w;
        rh = cfg->resize_h;
    }
    clipvk_preprocess_output_size(cfg, &oh, &ow);
    int64_t left = 0, top = 0;
    if (cfg->do_center_crop) {
        left = crop_offset(rw, ow, cfg->crop);
        top = crop_offset(rh, oh, cfg->crop);
    }
    /* The part of the crop that lies on the resized image; the rest is the
     * zero padding torchvision and Hugging Face add. */
    int64_t x0 = left > 0 ? left : 0, y0 = top > 0 ? top : 0;
    int64_t x1 = left + ow < rw ? left + ow : rw, y1 = top + oh < rh ? top + oh : rh;
    if (x0 > 0 || y0 > 0 || x1 - left < ow || y1 - top < oh || x1 <= x0 || y1 <= y0)
        memset(out, 0, (size_t)ow * oh * 3);
    if (x1 <= x0 || y1 <= y0) return CLIPVK_OK;
    uint8_t *dst = out + ((size_t)(y0 - top) * ow + (size_t)(x0 - left)) * 3;
    return clipvk_resize(img->rgb, w, h, img->stride, cfg->resample, rw, rh, (uint32_t)x0, (uint32_t)y0,
                         (uint32_t)(x1 - x0), (uint32_t)(y1 - y0), dst, (size_t)ow * 3, threads, err);
}

clipvk_status clipvk_preprocess(const clipvk_image *img, const clipvk_preprocess_config *cfg, unsigned threads,
                                float *out, clipvk_error *err)
{
    uint32_t oh, ow;
    clipvk_preprocess_output_size(cfg, &oh, &ow);
    size_t plane = (size_t)oh * ow;
    uint8_t *px = malloc(plane * 3);
    if (!px) return clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "preprocess: out of host memory");
    clipvk_status s = clipvk_preprocess_u8(img, cfg, threads, px, err);
    if (s) {
        free(px);
        return s;
    }
    /* 256 values per channel, computed with torchvision's float32
     * operations in its order: ToTensor's x / 255, then (x - mean) / std.
     * Hugging Face's processors (CLIP's and SigLIP's) rescale as
     * float32(u8 * (1/255) in float64) instead: for every u8 that is the
     * same float as x / 255.0f (checked for all 256), so one table serves
     * both; another factor is applied in float64 as they do. */
    float lut[3][256];
    int torch_rescale = fabs(cfg->rescale_factor - 1.0 / 255.0) < 1e-15;
    for (int c = 0; c < 3; c++)
        for (int v = 0; v < 256; v++) {
            float x = (float)v;
            if (cfg->do_rescale) x = torch_rescale ? x / 255.0f : (float)(v * cfg->rescale_factor);
            if (cfg->do_normalize) x = (x - cfg->mean[c]) / cfg->std[c];
            lut[c][v] = x;
        }
    for (size_t i = 0; i < plane; i++) {
        out[i] = lut[0][px[i * 3]];
        out[plane + i] = lut[1][px[i * 3 + 1]];
        out[2 * plane + i] = lut[2][px[i * 3 + 2]];
    }
    free(px);
    return CLIPVK_OK;
}
