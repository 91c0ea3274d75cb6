/*
 * bench_openblas: cblas_sgemm (OpenBLAS) at the shapes of `clipvk bench
 * --kernels matmul`, printed in the same format, so the two can be compared
 * side by side (tools/bench_compare.py). Y = X·Wᵀ + b with X [M, K], W [N, K]
 * (PyTorch's Linear layout), row-major, fp32: what a CPU runtime does.
 * The "fp16" rows are not measured (sgemm has no fp16 weights).
 * Built only where Debian's libopenblas-dev is installed; clipvk itself does
 * not depend on it. Threads: OpenBLAS's default (all cores), as lavapipe.
 *
 * usage: bench_openblas [--iters N] [--reps N] [--json]
 */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec * 1e-6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    int iters = 5, reps = 4, json = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json")) json = 1;
        else if (!strcmp(argv[i], "--iters") && i + 1 < argc) iters = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: bench_openblas [--iters N] [--reps N] [--json]\n");
            return 2;
        }
    }
    if (iters < 1 || reps < 1) return 2;
    static const struct { int m, k, n; } shapes[] = {
        {50, 768, 768},  {50, 768, 3072},  {50, 3072, 768},  {400, 768, 768},  {400, 768, 3072},  {400, 3072, 768},
        {77, 512, 512},  {77, 512, 2048},  {77, 2048, 512},  {400, 512, 512},  {400, 512, 2048},  {400, 2048, 512},
    };
    if (json) printf("[");
    else printf("# device: OpenBLAS %s\n# %-8s %-16s %-5s %10s %9s %9s\n", openblas_get_config(), "kernel", "shape",
                "prec", "ms", "GFLOP/s", "wall");
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int m = shapes[s].m, k = shapes[s].k, n = shapes[s].n;
        float *x = malloc((size_t)m * k * 4), *w = malloc((size_t)n * k * 4), *b = malloc((size_t)n * 4),
              *y = malloc((size_t)m * n * 4);
        if (!x || !w || !b || !y) return 1;
        for (size_t i = 0; i < (size_t)n * k; i++) w[i] = (float)((i * 2654435761u) % 1000) * 1e-3f - 0.5f;
        for (size_t i = 0; i < (size_t)m * k; i++) x[i] = (float)((i * 40503u) % 1000) * 1e-3f - 0.5f;
        for (int i = 0; i < n; i++) b[i] = 0.01f * (float)(i % 7);
        double *t = malloc((size_t)(iters * reps) * sizeof *t);
        for (int it = -1; it < iters; it++) /* it == -1: warm-up */
            for (int r = 0; r < reps; r++) {
                double t0 = now_ms();
                for (int i = 0; i < m; i++) memcpy(y + (size_t)i * n, b, (size_t)n * 4); /* the bias, as beta = 1 */
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1.0f, x, k, w, k, 1.0f, y, n);
                if (it >= 0) t[it * reps + r] = now_ms() - t0;
            }
        qsort(t, (size_t)(iters * reps), sizeof *t, cmp_double);
        double ms = t[iters * reps / 2], flops = 2.0 * m * n * k, gf = flops / (ms * 1e6);
        char shape[64];
        snprintf(shape, sizeof shape, "%dx%d->%d", m, k, n);
        if (json)
            printf("%s\n  {\"kernel\": \"sgemm\", \"shape\": \"%s\", \"precision\": \"fp32\", \"flops\": %.0f, "
                   "\"ms\": %.4f, \"gflops\": %.3f, \"wall_ms\": %.4f, \"wall_gflops\": %.3f}",
                   s ? "," : "", shape, flops, ms, gf, ms, gf);
        else
            printf("  %-8s %-16s %-5s %10.3f %9.2f %9.2f\n", "sgemm", shape, "fp32", ms, gf, gf);
        fflush(stdout);
        free(x), free(w), free(b), free(y), free(t);
    }
    if (json) printf("\n]\n");
    return 0;
}
