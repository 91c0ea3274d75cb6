/*
 * npy: NumPy's .npy format, version 1-3, little-endian C-order arrays of
 * float32/float64/int32/int64/uint8 — what embed-image / embed-text read
 * (pixels, tokens) and write (embeddings).
 */
#ifndef CLIPVK_NPY_H
#define CLIPVK_NPY_H

#include <stdint.h>
#include <stdio.h>
#include "util/error.h"

typedef enum clipvk_npy_type { CLIPVK_NPY_F32, CLIPVK_NPY_F64, CLIPVK_NPY_I32, CLIPVK_NPY_I64, CLIPVK_NPY_U8 } clipvk_npy_type;

#define CLIPVK_NPY_MAX_DIMS 8

typedef struct clipvk_npy {
    clipvk_npy_type type;
    uint32_t ndim;
    uint64_t shape[CLIPVK_NPY_MAX_DIMS];
    uint64_t count;       /* elements */
    void *data;           /* malloc'ed, count * item size bytes */
} clipvk_npy;

/* Reads `path` ("-" for stdin). Arrays larger than max_bytes are refused. */
clipvk_status clipvk_npy_read(const char *path, uint64_t max_bytes, clipvk_npy *out, clipvk_error *err);
/* Parses an in-memory .npy image (name is used in messages). */
clipvk_status clipvk_npy_parse(const char *name, const uint8_t *buf, size_t size, clipvk_npy *out, clipvk_error *err);
void clipvk_npy_free(clipvk_npy *a);

/* Writes a float32 array of the given shape to `path` ("-" for stdout). */
clipvk_status clipvk_npy_write_f32(const char *path, const float *data, const uint64_t *shape, uint32_t ndim,
                                   clipvk_error *err);

uint32_t clipvk_npy_item_size(clipvk_npy_type t);

#endif
