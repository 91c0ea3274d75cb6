/*
 * npy: NumPy's .npy format, version 1-3, little-endian C-order arrays of
 * float32/float64/int32/int64/uint8 — what embed-image / embed-text read
 * (pixels, tokens) and write (embeddings).
 */
#ifndef CLI_NPY_H
#define CLI_NPY_H

#include <stdint.h>
#include <stdio.h>
#include "clipvk.h"

/* What a failed call says: a status and one line naming the file. */
typedef struct cli_npy_error {
    clipvk_status status;
    char msg[512];
} cli_npy_error;

typedef enum cli_npy_type { CLI_NPY_F32, CLI_NPY_F64, CLI_NPY_I32, CLI_NPY_I64, CLI_NPY_U8 } cli_npy_type;

#define CLI_NPY_MAX_DIMS 8

typedef struct cli_npy {
    cli_npy_type type;
    uint32_t ndim;
    uint64_t shape[CLI_NPY_MAX_DIMS];
    uint64_t count;       /* elements */
    void *data;           /* malloc'ed, count * item size bytes */
} cli_npy;

/* Reads `path` ("-" for stdin). Arrays larger than max_bytes are refused. */
clipvk_status cli_npy_read(const char *path, uint64_t max_bytes, cli_npy *out, cli_npy_error *err);
/* Parses an in-memory .npy image (name is used in messages). */
clipvk_status cli_npy_parse(const char *name, const uint8_t *buf, size_t size, cli_npy *out, cli_npy_error *err);
void cli_npy_free(cli_npy *a);

/* Writes a float32 array of the given shape to `path` ("-" for stdout). */
clipvk_status cli_npy_write_f32(const char *path, const float *data, const uint64_t *shape, uint32_t ndim,
                                   cli_npy_error *err);

uint32_t cli_npy_item_size(cli_npy_type t);

#endif
