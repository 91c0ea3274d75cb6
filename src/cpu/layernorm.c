/*
 * LayerNorm on the CPU (layernorm.comp's job): tasks of whole rows; the
 * mean first, then the mean of squared deviations (two passes, like the
 * shader, so rows with a large mean keep their precision), sums in double.
 */
#include "cpu/cpu_internal.h"

#include <math.h>

typedef struct job {
    const float *x, *gamma, *beta;
    float *y;
    size_t x_stride, y_stride;
    uint32_t rows, n, per_task;
    float eps;
} job;

static void run_rows(void *ctx, uint32_t task, uint32_t worker)
{
    (void)worker;
    const job *j = ctx;
    uint32_t r0 = task * j->per_task, r1 = r0 + j->per_task < j->rows ? r0 + j->per_task : j->rows;
    for (uint32_t r = r0; r < r1; r++) {
        const float *x = j->x + (size_t)r * j->x_stride;
        float *y = j->y + (size_t)r * j->y_stride;
        double s = 0, q = 0;
        for (uint32_t i = 0; i < j->n; i++) s += x[i];
        float mean = (float)(s / j->n);
        for (uint32_t i = 0; i < j->n; i++) {
            double d = (double)x[i] - mean;
            q += d * d;
        }
        float rstd = (float)(1.0 / sqrt(q / j->n + j->eps));
        for (uint32_t i = 0; i < j->n; i++) y[i] = (x[i] - mean) * rstd * j->gamma[i] + j->beta[i];
    }
}

void clipvk_cpu_layernorm(clipvk_cpu *cpu, const float *x, size_t x_stride, const float *gamma, const float *beta,
                          float *y, size_t y_stride, uint32_t rows, uint32_t n, float eps)
{
    uint32_t tasks = clipvk_cpu_split(cpu, rows, 16);
    if (!tasks) return;
    job j = {x, gamma, beta, y, x_stride ? x_stride : n, y_stride ? y_stride : n, rows, n, (rows + tasks - 1) / tasks,
             eps};
    clipvk_cpu_parallel(cpu, (rows + j.per_task - 1) / j.per_task, run_rows, &j);
}
