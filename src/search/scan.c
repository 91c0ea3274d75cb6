/*
 * The scan of a search: the collection's embeddings stream through one
 * device block at a time (a collection of a million 768-float embeddings is
 * 3 GB: more than one binding may cover and more than one allocation should
 * hold), similarity.comp scores each block against every query, and the
 * host keeps the best k of each query in a min-heap.
 */
#include "search/index.h"
#include "kernels/kernels.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK_BYTES_MAX (64ull << 20)

typedef struct hit {
    float score;
    uint64_t idx;
} hit;

/* a ranks below b: a lower score, or the same score at a higher index. */
static int worse(const hit *a, const hit *b) { return a->score < b->score || (a->score == b->score && a->idx > b->idx); }

static void sift_down(hit *h, uint32_t n, uint32_t i)
{
    for (;;) {
        uint32_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && worse(&h[l], &h[m])) m = l;
        if (r < n && worse(&h[r], &h[m])) m = r;
        if (m == i) return;
        hit t = h[i];
        h[i] = h[m], h[m] = t, i = m;
    }
}

/* Offers one candidate to a min-heap of at most k hits (the root is the worst kept). */
static void offer(hit *h, uint32_t *n, uint32_t k, hit c)
{
    if (isnan(c.score)) return;
    if (*n < k) {
        uint32_t i = (*n)++;
        h[i] = c;
        while (i && worse(&h[i], &h[(i - 1) / 2])) {
            hit t = h[i];
            h[i] = h[(i - 1) / 2], h[(i - 1) / 2] = t, i = (i - 1) / 2;
        }
    } else if (worse(&h[0], &c)) {
        h[0] = c;
        sift_down(h, *n, 0);
    }
}

static int better_first(const void *a, const void *b)
{
    const hit *x = a, *y = b;
    return worse(y, x) ? -1 : worse(x, y) ? 1 : 0;
}

/* Offers a block's scores [nq, m] (rows r0 ..) to each query's heap. */
static void offer_block(hit *heaps, uint32_t *found, uint32_t k, uint32_t nq, const float *block_scores, uint32_t m,
                        uint64_t r0)
{
    for (uint32_t q = 0; q < nq; q++) {
        hit *h = heaps + (size_t)q * k;
        const float *sc = block_scores + (size_t)q * m;
        for (uint32_t i = 0; i < m; i++) offer(h, &found[q], k, (hit){sc[i], r0 + i});
    }
}

clipvk_status clipvk_search_topk(clipvk_runtime *rt, const float *emb, uint64_t n, uint32_t dim, const float *queries,
                                 uint32_t nq, uint32_t k, uint64_t block_rows, uint64_t *idx, float *scores,
                                 uint32_t *found, clipvk_error *err)
{
    if (!dim || (n && !emb) || (nq && (!queries || !idx || !scores || !found)))
        return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT, "search: bad arguments");
    if (!nq) return CLIPVK_OK;
    memset(found, 0, nq * sizeof *found);
    if (!k || !n) return CLIPVK_OK;
    const clipvk_device_caps *caps = &rt->dev->caps;
    uint64_t row_bytes = (uint64_t)dim * 4, rows = clipvk_similarity_max_rows(caps, dim);
    if (rows > BLOCK_BYTES_MAX / row_bytes) rows = BLOCK_BYTES_MAX / row_bytes;
    /* The scores of a block [nq, rows] are one binding too. */
    if (rows > caps->max_storage_buffer_range / (4ull * nq)) rows = caps->max_storage_buffer_range / (4ull * nq);
    if (block_rows && block_rows < rows) rows = block_rows;
    if (rows > n) rows = n;
    if (!rows || (uint64_t)nq * row_bytes > caps->max_storage_buffer_range)
        return clipvk_fail(err, CLIPVK_ERROR_UNSUPPORTED, "search: %u queries of %u floats do not fit a binding", nq, dim);

    hit *heaps = malloc((size_t)nq * k * sizeof *heaps);
    float *block_scores = malloc(nq * rows * sizeof(float));
    clipvk_buffer eb = {0}, qb = {0}, sb = {0};
    clipvk_cmd *cmd = NULL;
    clipvk_status s = CLIPVK_OK;
    if (!heaps || !block_scores) {
        s = clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "search: out of host memory");
        goto done;
    }
    if (rt->cpu) { /* the native CPU backend reads the rows where they are */
        for (uint64_t r0 = 0; r0 < n && !s; r0 += rows) {
            uint32_t m = (uint32_t)(n - r0 < rows ? n - r0 : rows);
            clipvk_cpu_linear l = {.x = queries, .x_stride = dim, .w = emb + r0 * dim, .kp = dim, .y = block_scores,
                                   .y_stride = m, .m = nq, .n = m, .k = dim};
            if ((s = clipvk_cpu_matmul(rt->cpu, &l, err))) break;
            offer_block(heaps, found, k, nq, block_scores, m, r0);
        }
        goto ranked;
    }
    if ((s = clipvk_alloc(rt->tensors, rows * row_bytes, &eb, err)) ||
        (s = clipvk_alloc(rt->tensors, nq * row_bytes, &qb, err)) ||
        (s = clipvk_alloc(rt->tensors, nq * rows * 4, &sb, err)) ||
        (s = clipvk_upload(rt, &qb, 0, queries, nq * row_bytes, err)) ||
        (s = clipvk_cmd_create(rt->dev, rt->profile, &cmd, err)))
        goto done;
    uint32_t recorded = 0; /* rows of the current recording; a full block is recorded once */
    for (uint64_t r0 = 0; r0 < n && !s; r0 += rows) {
        uint32_t m = (uint32_t)(n - r0 < rows ? n - r0 : rows);
        if ((s = clipvk_upload(rt, &eb, 0, emb + r0 * dim, m * row_bytes, err))) break;
        if (m != recorded) {
            if ((s = clipvk_cmd_begin(cmd, err)) || (s = clipvk_similarity(rt, cmd, &eb, m, dim, &qb, nq, &sb, err)) ||
                (s = clipvk_cmd_end(cmd, err)))
                break;
            recorded = m;
        }
        if ((s = clipvk_cmd_submit(cmd, err)) || (s = clipvk_download(rt, &sb, 0, block_scores, nq * m * 4ull, err)))
            break;
        offer_block(heaps, found, k, nq, block_scores, m, r0);
    }
ranked:
    for (uint32_t q = 0; q < nq && !s; q++) {
        hit *h = heaps + (size_t)q * k;
        qsort(h, found[q], sizeof *h, better_first);
        for (uint32_t j = 0; j < k; j++) {
            idx[(size_t)q * k + j] = j < found[q] ? h[j].idx : UINT64_MAX;
            scores[(size_t)q * k + j] = j < found[q] ? h[j].score : NAN;
        }
    }
done:
    clipvk_cmd_destroy(cmd);
    if (sb.block) clipvk_free(rt->tensors, &sb);
    if (qb.block) clipvk_free(rt->tensors, &qb);
    if (eb.block) clipvk_free(rt->tensors, &eb);
    free(block_scores);
    free(heaps);
    return s;
}
