/*
 * Label embeddings cached on disk, so classifying many photos (or running
 * again) against the same labels encodes each label once. Keyed by the
 * model's fingerprint (a changed model misses), the template set and the
 * label; each entry is one file under <cache>/labels/<fingerprint>/.
 */
#ifndef CLIPVK_CLI_LABEL_CACHE_H
#define CLIPVK_CLI_LABEL_CACHE_H

#include "clipvk.h"

/* out [n_labels, dim]: from the cache where present, else computed with
 * clipvk_label_embeddings and stored. *hits / *misses count them. Returns a
 * CLI exit code (the error printed). use_cache 0: always compute. */
int cli_label_embeddings(clipvk_context *ctx, clipvk_model *m, const char *const *labels, uint32_t n_labels, const char *const *templates,
                         uint32_t n_templates, int use_cache, float *out, uint32_t *hits, uint32_t *misses);

#endif
