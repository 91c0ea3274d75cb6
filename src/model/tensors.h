/*
 * tensors: every tensor a Hugging Face CLIPModel's config implies, by name
 * and shape. The loader checks them all before uploading anything; the demo
 * model writer creates them.
 */
#ifndef CLIPVK_TENSORS_H
#define CLIPVK_TENSORS_H

#include <stdint.h>
#include "model/config.h"

typedef struct clipvk_tensor_spec {
    char name[128];
    uint32_t ndim;          /* 0 for the scalar logit_scale */
    uint64_t shape[4];
} clipvk_tensor_spec;

/* Calls visit for each tensor of the given towers (CLIPVK_TOWERS_*) and
 * logit_scale; stops at and returns the first non-zero result. */
int clipvk_model_tensors(const clipvk_model_config *c, int towers,
                         int (*visit)(const clipvk_tensor_spec *t, void *user), void *user);

#endif
