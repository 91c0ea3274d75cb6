/*
 * net: a Hugging Face CLIPModel folder loaded onto the device — config,
 * weights (validated by name, shape and dtype, converted to the storage
 * precision on upload) — and the recorded forward passes of its towers.
 */
#ifndef CLIPVK_NET_H
#define CLIPVK_NET_H

#include "kernels/kernels.h"
#include "model/config.h"
#include "model/source.h"

#include <stdio.h>

typedef struct clipvk_net_options {
    int towers;            /* CLIPVK_TOWERS_*; 0: both */
    clipvk_precision precision; /* CLIPVK_PRECISION_AUTO: fp16 (no device feature needed) */
    uint32_t max_batch;    /* largest batch one submission runs; 0: 8 */
    int fp16_inputs;       /* matmuls may round their inputs to fp16 (clipvk_matmul_args) */
} clipvk_net_options;

typedef struct clipvk_net clipvk_net;

clipvk_status clipvk_net_load(clipvk_runtime *rt, const char *dir, const clipvk_net_options *opt,
                                clipvk_net **out, clipvk_error *err);
/* The same from a folder or the application's buffers (model/source.h). */
clipvk_status clipvk_net_load_source(clipvk_runtime *rt, const clipvk_model_source *src, const clipvk_net_options *opt,
                                     clipvk_net **out, clipvk_error *err);
void clipvk_net_destroy(clipvk_net *m);

const clipvk_model_config *clipvk_net_get_config(const clipvk_net *m);
float clipvk_net_logit_scale(const clipvk_net *m);   /* the stored (log) value */
float clipvk_net_logit_bias(const clipvk_net *m);    /* sigmoid scoring's bias; 0 for softmax families */
clipvk_precision clipvk_net_precision(const clipvk_net *m);
/* "fp32", "fp16" or "fp16-tc": see clipvk_model_numerics */
const char *clipvk_net_numerics(const clipvk_net *m);
int clipvk_net_towers(const clipvk_net *m);

/* Image embeddings of n preprocessed images, pixels [n, C, S, S] f32
 * (S = image_size): out [n, projection_dim], L2-normalised when normalize. */
clipvk_status clipvk_net_encode_images(clipvk_net *m, const float *pixels, uint32_t n, int normalize, float *out,
                                         clipvk_error *err);

/* Text embeddings of n token rows of length len (ids < vocab; each row holds
 * its end-of-text token): out [n, projection_dim]. */
clipvk_status clipvk_net_encode_texts(clipvk_net *m, const int32_t *ids, uint32_t n, uint32_t len, int normalize,
                                        float *out, clipvk_error *err);

/* Both towers in one submission: n_images images and n_texts token rows
 * (either count may be 0), as the two calls above. */
clipvk_status clipvk_net_encode(clipvk_net *m, const float *pixels, uint32_t n_images, const int32_t *ids,
                                  uint32_t n_texts, uint32_t len, int normalize, float *image_out, float *text_out,
                                  clipvk_error *err);

/* The position each token row is pooled at: the last for families that
 * pool there (SigLIP); else Hugging Face's CLIP rule (legacy eos_token_id 2:
 * the largest id's first position; else the first eos). */
clipvk_status clipvk_net_pool_index(const clipvk_model_config *c, const int32_t *ids, uint32_t len, uint32_t *pos,
                                      clipvk_error *err);

/* With a profiling runtime: the GPU time of the last submission's
 * dispatches, summed per kernel (shader variant) and printed as a table. */
void clipvk_net_print_profile(const clipvk_net *m, FILE *f);

/* Peak bytes of device memory held by the model and its activations. */
uint64_t clipvk_net_device_bytes(const clipvk_net *m);

#endif
