/*
 * clipvk's own single-threaded SGEMM, for builds without a GEMM library
 * (Android, unless the app ships one) and as the reference the providers
 * are tested against. GotoBLAS's shape in miniature: KC values of K times
 * NR columns of op(B) are packed contiguously (so both layouts of B read
 * alike), then MR x NR tiles of C accumulate in registers while K runs:
 * each k broadcasts MR values of A against the packed row of NR values.
 * The tiles are written with GCC's vector types, which the compiler maps
 * to the target's registers: a wide one (8 x 32, two zmm a row) where the
 * processor has AVX-512, chosen at run time, else a narrow one (6 x 16:
 * two ymm a row with AVX2, four q with NEON; on x86-64 Linux compiled for
 * AVX2 and the baseline and chosen at run time, CLIPVK_CLONES).
 *
 * Every element of C is summed in k order whatever the shapes, so a row's
 * result never depends on the rows computed with it.
 */
#include "cpu/cpu_internal.h"

#include <string.h>

#define NR 32 /* the packed panel's width */
#define KC 256

typedef float v16 __attribute__((vector_size(64)));

static void load_row(v16 *lo, v16 *hi, const float *c, uint32_t nr, int have)
{
    float buf[NR] = {0};
    if (have) memcpy(buf, c, (size_t)nr * sizeof *buf);
    memcpy(lo, buf, sizeof *lo);
    if (hi) memcpy(hi, buf + 16, sizeof *hi);
}

static void store_row(float *c, const v16 *lo, const v16 *hi, uint32_t nr)
{
    float buf[NR];
    memcpy(buf, lo, sizeof *lo);
    if (hi) memcpy(buf + 16, hi, sizeof *hi);
    memcpy(c, buf, (size_t)nr * sizeof *buf);
}

/* The wide tile, for AVX-512: 8 rows x 32 columns in 16 zmm accumulators.
 * C[0..m) x [0..nr) += A[0..m) x [k0, k0 + kc) · P (kc x NR, packed). */
#define WIDE_MR 8
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
__attribute__((target("avx512f,fma")))
#endif
static void tile_wide(uint32_t m, uint32_t nr, uint32_t kc, const float *a, size_t lda, const float *p, float *c,
                      size_t ldc)
{
    v16 acc0[WIDE_MR], acc1[WIDE_MR];
    for (uint32_t i = 0; i < WIDE_MR; i++) load_row(&acc0[i], &acc1[i], c + (size_t)i * ldc, nr, i < m);
    const float *ar[WIDE_MR];
    for (uint32_t i = 0; i < WIDE_MR; i++) ar[i] = a + (size_t)(i < m ? i : m - 1) * lda;
    for (uint32_t kk = 0; kk < kc; kk++) {
        v16 b0, b1;
        memcpy(&b0, p + (size_t)kk * NR, sizeof b0);
        memcpy(&b1, p + (size_t)kk * NR + 16, sizeof b1);
        for (uint32_t i = 0; i < WIDE_MR; i++) {
            float av = ar[i][kk];
            acc0[i] += av * b0;
            acc1[i] += av * b1;
        }
    }
    for (uint32_t i = 0; i < m; i++) store_row(c + (size_t)i * ldc, &acc0[i], &acc1[i], nr);
}

/* The narrow tile, for 16 registers (AVX2: 2 ymm a row) or NEON's 32
 * (4 q a row): 6 rows x 16 columns of the panel, starting at column j. */
#define NARROW_MR 6
CLIPVK_CLONES
static void tile_narrow(uint32_t m, uint32_t nr, uint32_t kc, const float *a, size_t lda, const float *p, float *c,
                        size_t ldc)
{
    v16 acc[NARROW_MR];
    for (uint32_t i = 0; i < NARROW_MR; i++) load_row(&acc[i], NULL, c + (size_t)i * ldc, nr, i < m);
    const float *ar[NARROW_MR];
    for (uint32_t i = 0; i < NARROW_MR; i++) ar[i] = a + (size_t)(i < m ? i : m - 1) * lda;
    for (uint32_t kk = 0; kk < kc; kk++) {
        v16 b;
        memcpy(&b, p + (size_t)kk * NR, sizeof b);
        for (uint32_t i = 0; i < NARROW_MR; i++) acc[i] += ar[i][kk] * b;
    }
    for (uint32_t i = 0; i < m; i++) store_row(c + (size_t)i * ldc, &acc[i], NULL, nr);
}

void clipvk_cpu_sgemm_builtin(int wide, int b_trans, uint32_t m, uint32_t n, uint32_t k, const float *a, size_t lda,
                              const float *b, size_t ldb, float *c, size_t ldc, int accumulate)
{
    float panel[KC * NR] __attribute__((aligned(64)));
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
            const float *ak = a + k0;
            if (wide) {
                for (uint32_t i0 = 0; i0 < m; i0 += WIDE_MR)
                    tile_wide(m - i0 < WIDE_MR ? m - i0 : WIDE_MR, nr, kc, ak + (size_t)i0 * lda, lda, panel,
                              c + (size_t)i0 * ldc + j0, ldc);
                continue;
            }
            for (uint32_t h = 0; h < nr; h += 16) /* the panel's two halves */
                for (uint32_t i0 = 0; i0 < m; i0 += NARROW_MR)
                    tile_narrow(m - i0 < NARROW_MR ? m - i0 : NARROW_MR, nr - h < 16 ? nr - h : 16, kc,
                                ak + (size_t)i0 * lda, lda, panel + h, c + (size_t)i0 * ldc + j0 + h, ldc);
        }
    }
}
