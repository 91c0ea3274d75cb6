/*
 * fingerprint: a 64-bit hash of a model folder's config.json and weight
 * files, so caches (label embeddings, search indexes) notice when the model
 * changes. Hashing 600 MB takes a few hundred ms, so each file's hash is
 * remembered in the cache folder under its path, size and mtime.
 */
#ifndef CLIPVK_FINGERPRINT_H
#define CLIPVK_FINGERPRINT_H

#include <stddef.h>
#include <stdint.h>
#include "util/error.h"

/* cache_base: as clipvk_cache_dir's base (NULL default, "" no memo). */
clipvk_status clipvk_model_fingerprint_files(const char *dir, const char *cache_base, uint64_t *out, clipvk_error *err);

/* The same value for a model held in memory (config.json's and
 * model.safetensors' bytes): a folder holding those files gives the same. */
uint64_t clipvk_model_fingerprint_buffers(const void *config, size_t config_size, const void *weights,
                                          size_t weights_size);

#endif
