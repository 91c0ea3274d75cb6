/*
 * tensors: a model's weights as one table of units. A unit is what the
 * loader places in one go (a LayerNorm's weight and bias, a Linear layer —
 * or the q, k and v Linears stacked into one — a position table, a scalar),
 * with its tensor names and shapes and where it goes. Each family's file
 * (src/families/) lists its units; the loader checks every tensor of every
 * unit before uploading anything, then walks the same list to upload; the
 * demo model writer and the checks derive their tensor lists from it.
 */
#ifndef CLIPVK_TENSORS_H
#define CLIPVK_TENSORS_H

#include <stdint.h>
#include "model/config.h"

typedef enum clipvk_unit_kind {
    CLIPVK_UNIT_SCALAR,  /* one float kept on the host (logit_scale): shape [] or [1] */
    CLIPVK_UNIT_HOST,    /* floats kept on the host (SigLIP's probe) */
    CLIPVK_UNIT_BUFFER,  /* f32 on the device (class embedding, positions) */
    CLIPVK_UNIT_TABLE,   /* the token table, in the model's precision */
    CLIPVK_UNIT_NORM,    /* LayerNorm: weight and bias [d] */
    CLIPVK_UNIT_LINEAR,  /* parts x W [out, in] stacked along out, and their biases [out] */
    CLIPVK_UNIT_PATCH,   /* the patch convolution W [D, C, p, p] as a Linear [D, C*p*p] (+ bias) */
} clipvk_unit_kind;

#define CLIPVK_UNIT_PARTS 3
#define CLIPVK_TENSOR_NAME 160

typedef struct clipvk_unit {
    clipvk_unit_kind kind;
    uint32_t parts;                  /* LINEAR: 1 to 3; otherwise 1 */
    /* NORM, LINEAR, PATCH: name prefixes, completed by wsuffix / bsuffix;
     * otherwise the tensor's name */
    char name[CLIPVK_UNIT_PARTS][CLIPVK_TENSOR_NAME];
    const char *wsuffix, *bsuffix;   /* ".weight", ".bias" (PyTorch's MultiheadAttention: "_weight", "_bias") */
    int bias;                        /* LINEAR, PATCH: biases present */
    uint32_t ndim;                   /* of one part's weight */
    uint64_t shape[4];
    void *dest;                      /* the loader's: clipvk_linear*, clipvk_layernorm_params*, clipvk_buffer*,
                                      * float* (SCALAR) or float** (HOST); NULL when only listing */
} clipvk_unit;

typedef int (*clipvk_unit_visit)(const clipvk_unit *u, void *user);

/* One tensor of a unit, as a file must hold it. */
typedef struct clipvk_tensor_spec {
    char name[CLIPVK_TENSOR_NAME + 16];
    uint32_t ndim;          /* 0 for a scalar (which may also be stored as [1]) */
    uint64_t shape[4];
} clipvk_tensor_spec;

struct clipvk_net;

/* Calls visit for each unit of the given towers (CLIPVK_TOWERS_*) of c's
 * family, with dest pointing into m (NULL: m is NULL); stops at and returns
 * the first non-zero result. m's tower layer arrays must exist. */
int clipvk_model_units(const clipvk_model_config *c, int towers, struct clipvk_net *m, clipvk_unit_visit visit,
                       void *user);

/* Every tensor of every unit (weights, then biases), for checks and writers. */
int clipvk_model_tensors(const clipvk_model_config *c, int towers,
                         int (*visit)(const clipvk_tensor_spec *t, void *user), void *user);
/* The tensors of one unit. */
int clipvk_unit_tensors(const clipvk_unit *u, int (*visit)(const clipvk_tensor_spec *t, void *user), void *user);

/* ---- building blocks for the families */
/* A unit with a printf-formatted (first) name; other fields from proto. */
int clipvk_unit_emit(clipvk_unit_visit visit, void *user, const clipvk_unit *proto, const char *fmt, ...);
/* The encoder layers every Hugging Face CLIP-like tower has:
 * "<tower>.encoder.layers.N.{layer_norm1,self_attn.{q,k,v,out}_proj,layer_norm2,mlp.fc1,mlp.fc2}".
 * layers: the tower's layer array (NULL when listing). */
struct clipvk_layer;
int clipvk_units_encoder(const char *tower, const clipvk_tower_config *c, struct clipvk_layer *layers,
                         clipvk_unit_visit visit, void *user);

#endif
