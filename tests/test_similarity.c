/*
 * similarity.comp against a C reference (double sums), and the blocked top-K
 * scan of search/scan.c against a reference ranking: sizes that are not
 * multiples of anything (N 1, 7, 1000, 70001; dim 48, 50, 512, 768), one to
 * eleven queries (more than the 8 one dispatch handles), and a collection
 * larger than the device's storage-buffer range (70001 x 768 floats = 215 MB
 * against lavapipe's 128 MiB) so that E is bound in slices.
 */
#include "harness.h"
#include "search/index.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static double *reference(const float *e, uint64_t n, uint32_t dim, const float *q, uint32_t nq)
{
    double *r = malloc(nq * n * sizeof *r);
    for (uint32_t j = 0; j < nq; j++)
        for (uint64_t i = 0; i < n; i++) {
            double s = 0;
            for (uint32_t d = 0; d < dim; d++) s += (double)e[i * dim + d] * q[(size_t)j * dim + d];
            r[j * n + i] = s;
        }
    return r;
}

/* The kernel alone: every score, poisoned output first. */
static void check_kernel(clipvk_runtime *rt, const float *e, uint64_t n, uint32_t dim, const float *q, uint32_t nq,
                         const double *want)
{
    clipvk_buffer eb = test_buffer(rt, e, n * dim), qb = test_buffer(rt, q, (size_t)nq * dim),
                  sb = test_buffer(rt, NULL, nq * n);
    clipvk_cmd *cmd;
    OK(clipvk_cmd_create(rt->dev, 0, &cmd, &test_err));
    OK(clipvk_cmd_begin(cmd, &test_err));
    OK(clipvk_similarity(rt, cmd, &eb, (uint32_t)n, dim, &qb, nq, &sb, &test_err));
    OK(clipvk_cmd_end(cmd, &test_err));
    OK(clipvk_cmd_submit(cmd, &test_err));
    float *got = malloc(nq * n * 4), *wantf = malloc(nq * n * 4);
    test_read(rt, &sb, got, nq * n);
    for (uint64_t i = 0; i < nq * n; i++) wantf[i] = (float)want[i];
    char what[96];
    snprintf(what, sizeof what, "similarity N %llu dim %u queries %u", (unsigned long long)n, dim, nq);
    /* fp32 sums of dim products of values in [-1, 1]: error ~ 1e-7 * sqrt(dim) * |terms| */
    if (!test_compare(what, got, wantf, nq * n, 2e-5, 1e-5)) printf("ok   %s\n", what);
    free(got), free(wantf);
    clipvk_cmd_destroy(cmd);
    clipvk_free(rt->tensors, &sb), clipvk_free(rt->tensors, &qb), clipvk_free(rt->tensors, &eb);
}

static int desc_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x > y ? -1 : x < y ? 1 : 0;
}

/* The scan: the returned hits are the best k (up to rounding), best first, with their right scores. */
static void check_topk(clipvk_runtime *rt, const float *e, uint64_t n, uint32_t dim, const float *q, uint32_t nq,
                       uint32_t k, uint64_t block_rows, const double *want)
{
    uint64_t *idx = malloc((size_t)nq * k * sizeof *idx);
    float *sc = malloc((size_t)nq * k * sizeof *sc);
    uint32_t *found = malloc(nq * sizeof *found);
    double *sorted = malloc(n * sizeof *sorted);
    OK(clipvk_search_topk(rt, e, n, dim, q, nq, k, block_rows, idx, sc, found, &test_err));
    const double tol = 2e-5;
    int bad = 0;
    for (uint32_t j = 0; j < nq; j++) {
        uint32_t expect = n < k ? (uint32_t)n : k;
        CHECK(found[j] == expect, "top-%u of %llu: found %u", k, (unsigned long long)n, found[j]);
        memcpy(sorted, want + j * n, n * sizeof *sorted);
        qsort(sorted, n, sizeof *sorted, desc_double);
        for (uint32_t r = 0; r < found[j] && r < expect; r++) {
            uint64_t i = idx[(size_t)j * k + r];
            float s = sc[(size_t)j * k + r];
            int ok = i < n && fabs(s - want[j * n + i]) <= tol && fabs(s - sorted[r]) <= tol &&
                     (r == 0 || s <= sc[(size_t)j * k + r - 1]);
            for (uint32_t p = 0; ok && p < r; p++) ok = idx[(size_t)j * k + p] != i;
            if (!ok && !bad++)
                fprintf(stderr, "FAIL top-k N %llu dim %u block %llu query %u rank %u: index %llu score %.7f, want %.7f\n",
                        (unsigned long long)n, dim, (unsigned long long)block_rows, j, r, (unsigned long long)i, s,
                        sorted[r]);
        }
        for (uint32_t r = expect; r < k; r++)
            CHECK(idx[(size_t)j * k + r] == UINT64_MAX && isnan(sc[(size_t)j * k + r]), "rank %u past N not empty", r);
    }
    if (bad) test_failures++;
    else printf("ok   top-%u N %llu dim %u queries %u block %llu\n", k, (unsigned long long)n, dim, nq,
                (unsigned long long)block_rows);
    free(idx), free(sc), free(found), free(sorted);
}

static void run_case(clipvk_runtime *rt, uint64_t n, uint32_t dim, uint32_t nq, int kernel, uint32_t k,
                     uint64_t block_rows)
{
    float *e = malloc(n * dim * 4), *q = malloc((size_t)nq * dim * 4);
    test_fill(e, n * dim, -1, 1);
    test_fill(q, (size_t)nq * dim, -1, 1);
    double *want = reference(e, n, dim, q, nq);
    if (kernel) check_kernel(rt, e, n, dim, q, nq, want);
    if (k) check_topk(rt, e, n, dim, q, nq, k, block_rows, want);
    free(e), free(q), free(want);
}

int main(void)
{
    clipvk_runtime *rt = test_runtime();
    test_seed(11);
    run_case(rt, 1, 48, 1, 1, 5, 0);
    run_case(rt, 7, 48, 3, 1, 5, 0);
    run_case(rt, 7, 50, 11, 1, 7, 3);      /* scalar rows (dim not a multiple of 4); k = N; 3 blocks */
    run_case(rt, 1000, 512, 9, 1, 10, 0);
    run_case(rt, 1000, 768, 2, 1, 1000, 333); /* every row ranked, over 4 blocks */
    run_case(rt, 1000, 50, 1, 0, 4, 64);
    run_case(rt, 70001, 768, 2, 1, 5, 0);  /* E larger than one binding: sliced */
    run_case(rt, 70001, 512, 1, 0, 20, 0);
    return test_finish(rt);
}
