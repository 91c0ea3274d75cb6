/*
 * Image search: the index file that `clipvk index` writes and `clipvk search`
 * reads, the model identity it records, and the scan that ranks it.
 *
 * Index file, version 1 (all integers little-endian):
 *
 *   offset  size  field
 *        0     8  magic "CLIPVKIX"
 *        8     4  u32 version (1)
 *       12     4  u32 dim: floats per embedding (the model's projection_dim), 1..65536
 *       16     8  u64 count: number of records
 *       24     8  u64 model id (clipvk_model_fingerprint_files) of the model that embedded them
 *       32     4  u32 L: bytes of the model folder's path that follows (0..4096)
 *       36     4  u32 reserved, 0
 *       40     8  u64 E: offset of the embeddings, a multiple of 64
 *       48     L  the model folder's absolute path (UTF-8, no NUL)
 *             ..  count records, each: u32 P (1..4096), u32 reserved 0,
 *                 u64 file size in bytes, i64 mtime in ns since the epoch,
 *                 P bytes of the image's absolute path (no NUL)
 *              8  u64 FNV-1a 64 of every byte before it (header, folder, records)
 *             ..  zeros up to E
 *        E  count × dim × 4  float32 embeddings, L2-normalised, in record order
 *
 * and the file ends there. The checksum covers the metadata but not the
 * embeddings (hashing gigabytes on every search is not cheap); their extent
 * is checked exactly. The reader validates every field and every length
 * against the file's size before allocating, so a truncated or corrupt file
 * is an error naming it, never a crash.
 */
#ifndef CLIPVK_SEARCH_INDEX_H
#define CLIPVK_SEARCH_INDEX_H

#include <stdint.h>
#include "util/error.h"

#define CLIPVK_INDEX_VERSION 1
#define CLIPVK_INDEX_MAX_PATH 4096

typedef struct clipvk_index_record {
    char *path;        /* absolute, malloc'ed */
    uint64_t size;     /* bytes, when embedded */
    int64_t mtime_ns;  /* modification time, when embedded */
} clipvk_index_record;

typedef struct clipvk_index_data {
    uint32_t dim;
    uint64_t model_id;
    char *model_dir;               /* malloc'ed; "" when unknown */
    uint64_t count;
    clipvk_index_record *entries;   /* [count] */
    float *emb;                    /* [count, dim] */
} clipvk_index_data;

/* Reads and validates an index file. */
clipvk_status clipvk_index_file_read(const char *path, clipvk_index_data *out, clipvk_error *err);
/* Writes it atomically: to a temporary file beside `path`, synced, then renamed. */
clipvk_status clipvk_index_file_write(const char *path, const clipvk_index_data *ix, clipvk_error *err);
void clipvk_index_data_free(clipvk_index_data *ix);



/* Ranks n embeddings E [n, dim] (host memory) against nq queries [nq, dim] by
 * dot product on the device, streaming E through device blocks of block_rows
 * rows (0: what one binding allows, at most 64 MiB) and keeping the best k per
 * query on the host. idx and scores [nq, k] get them best first (ties: the
 * lower index first); found[q] (nq entries) gets how many were ranked for
 * query q: min(n, k), less where scores are NaN (never ranked). */
struct clipvk_runtime;
clipvk_status clipvk_search_topk(struct clipvk_runtime *rt, const float *emb, uint64_t n, uint32_t dim,
                                 const float *queries, uint32_t nq, uint32_t k, uint64_t block_rows, uint64_t *idx,
                                 float *scores, uint32_t *found, clipvk_error *err);

#endif
