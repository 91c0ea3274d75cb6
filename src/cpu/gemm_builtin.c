/*
 * clipvk's own single-threaded SGEMM, for builds without a GEMM library
 * (Android, unless the app ships one) and as the reference the providers
 * are tested against. GotoBLAS's shape in miniature: a panel of NR columns
 * of op(B) and KC values of K is packed contiguously (so both layouts of B
 * read alike), then MR x NR tiles of C accumulate in registers while K runs.
 * The inner loop is NR independent lanes, which compilers vectorise without
 * reassociating sums (no -ffast-math); on x86-64 with GCC it is compiled
 * for AVX-512, AVX2 and a baseline, chosen at run time (target_clones).
 */
#include "cpu/cpu_internal.h"

#include <string.h>

#define MR 4
#define NR 16
#define KC 256

CLIPVK_CLONES
static void tile(uint32_t kc, const float *const ar[MR], const float *panel, float acc[MR][NR])
{
    for (uint32_t kk = 0; kk < kc; kk++) {
        const float *p = panel + (size_t)kk * NR;
        for (int i = 0; i < MR; i++) {
            float av = ar[i][kk];
            for (int j = 0; j < NR; j++) acc[i][j] += av * p[j];
        }
    }
}

void clipvk_cpu_sgemm_builtin(int b_trans, uint32_t m, uint32_t n, uint32_t k, const float *a, size_t lda,
                              const float *b, size_t ldb, float *c, size_t ldc, int accumulate)
{
    float panel[KC * NR];
    if (!accumulate)
        for (uint32_t i = 0; i < m; i++) memset(c + (size_t)i * ldc, 0, (size_t)n * sizeof *c);
    for (uint32_t j0 = 0; j0 < n; j0 += NR) {
        uint32_t nr = n - j0 < NR ? n - j0 : NR;
        for (uint32_t k0 = 0; k0 < k; k0 += KC) {
            uint32_t kc = k - k0 < KC ? k - k0 : KC;
            for (uint32_t kk = 0; kk < kc; kk++)
                for (uint32_t j = 0; j < NR; j++)
                    panel[kk * NR + j] = j >= nr            ? 0.0f
                                         : b_trans ? b[(size_t)(j0 + j) * ldb + k0 + kk]
                                                   : b[(size_t)(k0 + kk) * ldb + j0 + j];
            for (uint32_t i0 = 0; i0 < m; i0 += MR) {
                uint32_t mr = m - i0 < MR ? m - i0 : MR;
                /* rows past m repeat the last one; their sums are not stored */
                const float *ar[MR];
                for (uint32_t i = 0; i < MR; i++) ar[i] = a + (size_t)(i < mr ? i0 + i : m - 1) * lda + k0;
                float acc[MR][NR] = {{0}};
                tile(kc, ar, panel, acc);
                for (uint32_t i = 0; i < mr; i++)
                    for (uint32_t j = 0; j < nr; j++) c[(size_t)(i0 + i) * ldc + j0 + j] += acc[i][j];
            }
        }
    }
}
