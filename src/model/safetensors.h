/*
 * safetensors: memory-maps a .safetensors file (or a sharded set named by
 * model.safetensors.index.json) and validates its header strictly before any
 * tensor is touched: header length inside the file, a JSON object of
 * tensors with known dtypes, shapes whose byte size matches their data
 * range, ranges inside the data section and not overlapping.
 */
#ifndef CLIPVK_SAFETENSORS_H
#define CLIPVK_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>
#include "util/error.h"

typedef enum clipvk_dtype {
    CLIPVK_DTYPE_F32, CLIPVK_DTYPE_F16, CLIPVK_DTYPE_BF16, CLIPVK_DTYPE_F64,
    CLIPVK_DTYPE_I64, CLIPVK_DTYPE_I32, CLIPVK_DTYPE_I16, CLIPVK_DTYPE_I8,
    CLIPVK_DTYPE_U64, CLIPVK_DTYPE_U32, CLIPVK_DTYPE_U16, CLIPVK_DTYPE_U8,
    CLIPVK_DTYPE_BOOL, CLIPVK_DTYPE_F8_E4M3, CLIPVK_DTYPE_F8_E5M2,
} clipvk_dtype;

#define CLIPVK_MAX_DIMS 8

typedef struct clipvk_tensor_info {
    char *name;
    clipvk_dtype dtype;
    uint32_t ndim;
    uint64_t shape[CLIPVK_MAX_DIMS];
    uint64_t count;           /* elements */
    const void *data;         /* inside the mapping */
    uint64_t bytes;
    uint32_t file;            /* which shard */
} clipvk_tensor_info;

typedef struct clipvk_safetensors clipvk_safetensors;

/* Opens `path`: a .safetensors file, or a model.safetensors.index.json. */
clipvk_status clipvk_safetensors_open(const char *path, clipvk_safetensors **out, clipvk_error *err);
/* The same checks on a single .safetensors image already in memory (`name`
 * is used in messages). The tensors point into `data`, which must outlive
 * the handle. Models are opened with clipvk_safetensors_open; this is for
 * the fuzz target and for callers that hold the bytes themselves. */
clipvk_status clipvk_safetensors_open_memory(const void *data, size_t size, const char *name,
                                            clipvk_safetensors **out, clipvk_error *err);
void clipvk_safetensors_close(clipvk_safetensors *st);

/* For other weight containers (model/torch_bin.h): a handle over tensors
 * found elsewhere, so the loader reads every container one way. Takes
 * ownership of everything, also on failure: `tensors` (malloc'ed, n of
 * them, each name malloc'ed; the data points into `map` or into one of the
 * `owned` blocks), the `owned` blocks and their array, and `map` (unmapped
 * at close unless `borrowed`). Sorts by name; a name twice is
 * CLIPVK_ERROR_FORMAT (`name`: the file, for the message). */
clipvk_status clipvk_safetensors_adopt(const char *name, void *map, size_t size, int borrowed,
                                      clipvk_tensor_info *tensors, uint32_t n, void **owned, uint32_t nowned,
                                      clipvk_safetensors **out, clipvk_error *err);

/* The tensor named `name`, or NULL. */
const clipvk_tensor_info *clipvk_safetensors_find(const clipvk_safetensors *st, const char *name);
uint32_t clipvk_safetensors_count(const clipvk_safetensors *st);
const clipvk_tensor_info *clipvk_safetensors_at(const clipvk_safetensors *st, uint32_t i);

const char *clipvk_dtype_name(clipvk_dtype t);
uint32_t clipvk_dtype_size(clipvk_dtype t);

/* Converts n elements of a float tensor (F32, F16, BF16, F64) to f32. */
clipvk_status clipvk_tensor_to_f32(const clipvk_tensor_info *t, uint64_t first, uint64_t n, float *out,
                                   clipvk_error *err);

#endif
