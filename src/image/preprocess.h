/*
 * The image preprocessing of CLIP and SigLIP, exact to the references.
 *
 * CLIP: OpenAI's
 * clip.load(...)[1], i.e. torchvision Resize(size, BICUBIC) of a PIL image
 * (shorter side to `size`, the longer to int(size * long / short)),
 * CenterCrop(size) with int(round((h - size) / 2.0)) offsets, ToTensor
 * (x / 255 in float32) and Normalize((x - mean) / std in float32). The
 * resized and cropped 8-bit pixels are bit-identical to Pillow 9.4's, and the
 * floats to torchvision's.
 *
 * The parameters come from a Hugging Face preprocessor_config.json.
 * Hugging Face's CLIPImageProcessor floors the crop offsets instead of
 * rounding them; CLIPVK_CROP_HF reproduces that on request.
 *
 * SigLIP and SigLIP 2 (Hugging Face's SiglipImageProcessor): a PIL resize
 * straight to height x width (no crop, the aspect ratio not kept), bicubic
 * for SigLIP and bilinear for SigLIP 2 (resample 2 in their configs), then
 * u8 * (1/255) and (x - 0.5) / 0.5 in float32. The 8-bit pixels are
 * bit-identical to Pillow 9.4's, the floats to the processor's.
 *
 * Images are converted to RGB first (decode.c), so the result equals the
 * reference applied to Image.open(path).convert("RGB"). For RGB, grey and
 * palette-free files that is also preprocess(Image.open(path)); PIL would
 * resize an RGBA image with premultiplied alpha, and a palette image with
 * nearest-neighbour, had it not been converted first.
 */
#ifndef CLIPVK_IMAGE_PREPROCESS_H
#define CLIPVK_IMAGE_PREPROCESS_H

#include <stddef.h>
#include <stdint.h>
#include "image/image.h"
#include "image/resize.h"

typedef enum clipvk_crop_rounding {
    CLIPVK_CROP_REFERENCE = 0, /* torchvision: round half to even (OpenAI's reference embeddings) */
    CLIPVK_CROP_HF = 1         /* Hugging Face CLIPImageProcessor: floor */
} clipvk_crop_rounding;

typedef struct clipvk_preprocess_config {
    int do_resize;
    int resize_shortest;     /* 1: shorter side to `shortest`; 0: exactly resize_w x resize_h */
    uint32_t shortest, resize_w, resize_h;
    int do_center_crop;
    uint32_t crop_w, crop_h;
    int do_rescale;
    double rescale_factor;   /* 1/255 is applied as torchvision's float32 x / 255 */
    int do_normalize;
    float mean[3], std[3];
    clipvk_crop_rounding crop;
    clipvk_resample resample; /* PIL's filter for the resize */
} clipvk_preprocess_config;

/* CLIP's defaults at `size` pixels: shortest edge and crop `size`, bicubic,
 * CLIP's mean and std, reference crop rounding. */
void clipvk_preprocess_config_default(clipvk_preprocess_config *cfg, uint32_t size);

/* SiglipImageProcessor's defaults at `size` pixels: resize straight to
 * size x size, bicubic, no crop, mean = std = 0.5. For a SigLIP folder
 * without a preprocessor_config.json (SigLIP 2's own files say bilinear). */
void clipvk_preprocess_config_siglip(clipvk_preprocess_config *cfg, uint32_t size);
/* Chinese-CLIP's (ChineseCLIPImageProcessor): straight to size x size,
 * bicubic, OpenAI's mean and std. */
void clipvk_preprocess_config_chinese_clip(clipvk_preprocess_config *cfg, uint32_t size);

/* Reads a preprocessor_config.json over the defaults of its
 * image_processor_type (or legacy feature_extractor_type) at size 224:
 * SiglipImageProcessor's for "SiglipImageProcessor[Fast]", CLIP's for the
 * CLIP names, a missing type and any other (as before types were read).
 * Accepts size as an integer, {"shortest_edge": N} or {"height": H,
 * "width": W} (SigLIP: only the last, as Hugging Face reads it); crop_size
 * as an integer or {"height", "width"} (SigLIP has no crop and ignores
 * do_center_crop and crop_size, as Hugging Face does); the do_* flags,
 * rescale_factor, image_mean, image_std; resample 0 (nearest), 2
 * (bilinear) or 3 (bicubic). SigLIP 2's variable-resolution
 * Siglip2ImageProcessor is refused. */
clipvk_status clipvk_preprocess_config_load(const char *path, clipvk_preprocess_config *cfg, clipvk_error *err);
/* The same for the NUL-terminated text of one (`path` names it in messages). */
clipvk_status clipvk_preprocess_config_parse(const char *path, const char *text, clipvk_preprocess_config *cfg,
                                             clipvk_error *err);

/* The output's height and width: every image gives the same. */
void clipvk_preprocess_output_size(const clipvk_preprocess_config *cfg, uint32_t *h, uint32_t *w);

/* Resizes and crops to 8-bit RGB, HWC, out_h * out_w * 3 bytes — the
 * pixels before ToTensor. */
clipvk_status clipvk_preprocess_u8(const clipvk_image *img, const clipvk_preprocess_config *cfg, unsigned threads,
                                   uint8_t *out, clipvk_error *err);

/* The whole pipeline: float32 CHW, 3 * out_h * out_w values. A large
 * image is resized on up to `threads` threads (0: one per core). */
clipvk_status clipvk_preprocess(const clipvk_image *img, const clipvk_preprocess_config *cfg, unsigned threads,
                                float *out, clipvk_error *err);

/* Decodes and preprocesses n files on `threads` threads (0: one per core,
 * at most n). Image i goes to out + i * 3 * out_h * out_w; status[i] and
 * errs[i] (if errs is not NULL) say how file i fared, and a failed file's
 * slot is zeroed. One bad file does not stop the others. Returns CLIPVK_OK
 * if every file succeeded, else the first failing file's status. */
clipvk_status clipvk_preprocess_files(const char *const *paths, size_t n, uint64_t max_pixels,
                                      const clipvk_preprocess_config *cfg, unsigned threads, float *out,
                                      clipvk_status *status, clipvk_error *errs);

#endif
