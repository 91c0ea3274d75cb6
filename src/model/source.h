/*
 * source: where a model's files come from — a folder, or buffers the
 * application holds (clipvk_model_load_memory: an AAsset's buffer, a mapped
 * file). Every loader reads its named file ("config.json", "vocab.json",
 * ...) through here, so one loader serves both.
 */
#ifndef CLIPVK_MODEL_SOURCE_H
#define CLIPVK_MODEL_SOURCE_H

#include <stddef.h>
#include "clipvk.h"
#include "util/error.h"

typedef struct clipvk_model_source {
    const char *dir;                  /* a folder; NULL: the buffers below */
    const clipvk_model_file *files;   /* the application's buffers, valid while loading */
    uint32_t n;
} clipvk_model_source;

/* What messages call the file: "DIR/NAME", or "NAME (in memory)". */
void clipvk_source_path(const clipvk_model_source *src, const char *name, char *out, size_t size);

/* Whether the file exists (a folder) or was given (buffers). */
int clipvk_source_has(const clipvk_model_source *src, const char *name);

/* The buffer given under `name`; NULL for a folder or when not given. */
const clipvk_model_file *clipvk_source_buffer(const clipvk_model_source *src, const char *name);

/* The file's bytes in a malloc'ed copy with a NUL after the last byte;
 * larger than `max` is refused, as clipvk_read_file does. A buffer not
 * given is CLIPVK_ERROR_INVALID_ARGUMENT naming it. */
clipvk_status clipvk_source_read(const clipvk_model_source *src, const char *name, size_t max, char **data,
                                 size_t *size, clipvk_error *err);

/* Checks the application's buffers: names present and unique, data given
 * for a non-zero size. */
clipvk_status clipvk_source_check(const clipvk_model_source *src, clipvk_error *err);

#endif
