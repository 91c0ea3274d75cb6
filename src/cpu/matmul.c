/*
 * A Linear layer on the CPU: Y = act(X·Wᵀ + b) + R (matmul.comp's job).
 * The output is cut into tiles of up to ROWS rows and MAX_COLS columns;
 * each task multiplies its tile with the GEMM provider straight into Y
 * (a residual is Y's starting value and the GEMM adds to it; fp16 weights
 * are widened into scratch first, one slice at a time, so they stay halves
 * in memory), then adds the bias and applies the activation while the tile
 * is in cache. Tasks own disjoint parts of Y, and R is read at the same
 * place it is written, so R may be Y.
 *
 * A row's result must not depend on how many rows came with it (an image
 * embeds to the same bits alone or in a batch; texts are batched by
 * length). oneDNN 2.6 takes another path below 16 rows, with other sums
 * (measured: the same bits for every M >= 16 at any offset, any column
 * slice that is a multiple of 16, different ones below), so a tile of
 * fewer rows is multiplied padded to MIN_ROWS.
 */
#include "cpu/cpu_internal.h"
#include "cpu/vmath.h"

#include <math.h>
#include <string.h>

#define ROWS 256u    /* rows per tile: fp16 slices are widened once per this many rows */
#define MIN_ROWS 16u /* see above */
#define MAX_COLS 256u

typedef struct job {
    clipvk_cpu *cpu;
    const clipvk_cpu_linear *l;
    uint32_t cols;       /* columns per slice */
    uint32_t rows;       /* rows per block */
    uint32_t slices;
    int failed;
} job;

/* v = act(v + bias) over n values, in place, in passes that each
 * vectorise: no loads behind a NULL test, one activation per loop
 * (vmath.h). */
CLIPVK_CLONES
static void bias_act(float *restrict v, const float *restrict bias, uint32_t n, clipvk_cpu_act act)
{
    if (bias)
        for (uint32_t c = 0; c < n; c++) v[c] += bias[c];
    switch (act) {
    case CLIPVK_CPU_ACT_QUICK_GELU:
        for (uint32_t c = 0; c < n; c++) v[c] = v[c] / (1.0f + clipvk_expf(-1.702f * v[c]));
        break;
    case CLIPVK_CPU_ACT_GELU:
        for (uint32_t c = 0; c < n; c++) v[c] = 0.5f * v[c] * (1.0f + clipvk_erff(v[c] * 0.70710678f));
        break;
    case CLIPVK_CPU_ACT_GELU_TANH:
        /* 0.5 (1 + tanh(u)) = sigmoid(2u), as matmul_io.glsl computes it */
        for (uint32_t c = 0; c < n; c++) {
            float x = v[c], u = 0.7978845608f * (x + 0.044715f * x * x * x);
            v[c] = x / (1.0f + clipvk_expf(-2.0f * u));
        }
        break;
    default: break;
    }
}

static void run_tile(void *ctx, uint32_t task, uint32_t worker)
{
    job *j = ctx;
    const clipvk_cpu_linear *l = j->l;
    uint32_t slice = task % j->slices, block = task / j->slices;
    uint32_t n0 = slice * j->cols, nc = l->n - n0 < j->cols ? l->n - n0 : j->cols;
    uint32_t m0 = block * j->rows, mc = l->m - m0 < j->rows ? l->m - m0 : j->rows;
    uint32_t mp = mc < MIN_ROWS ? MIN_ROWS : mc; /* rows multiplied */
    size_t wfloats = l->w_fp16 ? (size_t)nc * l->k : 0, xfloats = mp > mc ? (size_t)mp * l->k : 0;
    float *scratch = clipvk_cpu_scratch(j->cpu, worker, (wfloats + xfloats + (size_t)mp * nc + 1) * sizeof(float));
    if (!scratch) {
        j->failed = 1;
        return;
    }
    const float *w;
    size_t ldw;
    if (l->w_fp16) {
        const uint16_t *h = (const uint16_t *)l->w + (size_t)n0 * l->kp;
        for (uint32_t r = 0; r < nc; r++) clipvk_cpu_widen(j->cpu, h + (size_t)r * l->kp, scratch + (size_t)r * l->k, l->k);
        w = scratch;
        ldw = l->k;
    } else {
        w = (const float *)l->w + (size_t)n0 * l->kp;
        ldw = l->kp;
    }
    const float *x = l->x + (size_t)m0 * l->x_stride;
    size_t ldx = l->x_stride;
    if (xfloats) { /* a short tile: its rows, then zeros */
        float *xp = scratch + wfloats;
        memset(xp, 0, xfloats * sizeof *xp);
        for (uint32_t i = 0; i < mc; i++) memcpy(xp + (size_t)i * l->k, x + (size_t)i * ldx, (size_t)l->k * sizeof *xp);
        x = xp;
        ldx = l->k;
    }
    const float *bias = l->bias ? l->bias + n0 : NULL;
    float *y = l->y + (size_t)m0 * l->y_stride + n0;
    const float *r = l->r ? l->r + (size_t)m0 * l->r_stride + n0 : NULL;
    if (r && l->act) { /* act(X·Wᵀ + b) + R: through scratch */
        float *t = scratch + wfloats + xfloats;
        clipvk_cpu_sgemm(j->cpu, 1, mp, nc, l->k, x, ldx, w, ldw, t, nc, 0);
        for (uint32_t i = 0; i < mc; i++) {
            float *ti = t + (size_t)i * nc, *yi = y + (size_t)i * l->y_stride;
            const float *ri = r + (size_t)i * l->r_stride;
            bias_act(ti, bias, nc, l->act);
            for (uint32_t c = 0; c < nc; c++) yi[c] = ti[c] + ri[c];
        }
        return;
    }
    /* The rest as (R + X·Wᵀ), then the bias and activation in place: a
     * residual is the starting value the GEMM adds to. Straight into Y,
     * where the epilogue then finds it in cache; a short tile in scratch
     * with the same arithmetic (same GEMM shapes, same order), so a row
     * gets the same bits either way. */
    float *c0 = y;
    size_t ldc = l->y_stride;
    if (xfloats) {
        c0 = scratch + wfloats + xfloats;
        ldc = nc;
        memset(c0, 0, (size_t)mp * nc * sizeof *c0);
    }
    if (r && (r != c0 || ldc != l->r_stride))
        for (uint32_t i = 0; i < mc; i++) memmove(c0 + (size_t)i * ldc, r + (size_t)i * l->r_stride, (size_t)nc * sizeof *y);
    clipvk_cpu_sgemm(j->cpu, 1, mp, nc, l->k, x, ldx, w, ldw, c0, ldc, r != NULL);
    for (uint32_t i = 0; i < mc; i++) {
        if (bias || l->act) bias_act(c0 + (size_t)i * ldc, bias, nc, l->act);
        if (c0 != y) memcpy(y + (size_t)i * l->y_stride, c0 + (size_t)i * ldc, (size_t)nc * sizeof *y);
    }
}

clipvk_status clipvk_cpu_matmul(clipvk_cpu *cpu, const clipvk_cpu_linear *l, clipvk_error *err)
{
    if (!l->m || !l->n) return CLIPVK_OK;
    if (l->x_stride < l->k || l->y_stride < l->n || (l->r && l->r_stride < l->n) || l->kp < l->k)
        return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT, "matmul: a row stride is shorter than its row");
    /* blocks of equal height (at most ROWS), so that tasks are alike */
    uint32_t blocks = (l->m + ROWS - 1) / ROWS, rows = (l->m + blocks - 1) / blocks;
    /* enough slices for two tasks per worker, of at least 32 columns (the
     * GEMM libraries' kernels are 16-48 columns wide) */
    uint32_t want = (2 * cpu->threads + blocks - 1) / blocks;
    uint32_t cols = (l->n + want - 1) / want;
    cols = (cols + 15) / 16 * 16;
    if (cols < 32) cols = 32;
    /* and at most MAX_COLS, so that the tile (and the widened weights) stay
     * in the core's cache between the GEMM and the epilogue */
    if (cols > MAX_COLS) cols = MAX_COLS;
    job j = {.cpu = cpu, .l = l, .cols = cols, .rows = rows, .slices = (l->n + cols - 1) / cols};
    clipvk_cpu_parallel(cpu, blocks * j.slices, run_tile, &j);
    if (j.failed) return clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "out of host memory (matmul scratch)");
    return CLIPVK_OK;
}
