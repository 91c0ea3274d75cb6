/*
 * GEMM providers for the CPU backend, loaded at run time so that clipvk
 * links none of them (a static libclipvk needs nothing more, and an
 * Android build runs on the builtin kernel unless the app ships a CBLAS):
 *
 *   oneDNN (libdnnl.so.2)  dnnl_sgemm: JIT kernels chosen from the CPU's
 *                          features (AVX2, AVX-512, AMX). The default on x86
 *                          where it loads: ahead of OpenBLAS because Debian's
 *                          OpenBLAS 0.3.21 does not know newer x86 cores and
 *                          falls back to its SSE3 kernels (3-5x slower,
 *                          ../shared/LESSONS.md) unless a process-wide
 *                          environment variable says otherwise.
 *   builtin                gemm_builtin.c: portable C the compiler vectorises
 *                          (0.5-0.7x oneDNN here, docs/PERF.md); the default
 *                          elsewhere and where oneDNN is missing.
 *   OpenBLAS / a CBLAS     cblas_sgemm, only when named ("openblas": a sequential
 *                          build, Debian's openblas-serial; or a library's path).
 *                          Called one at a time (see clipvk_cpu_sgemm), so its
 *                          GEMMs do not run in parallel: slower than builtin
 *                          with two or more threads here. A threaded OpenBLAS
 *                          is refused by name: clipvk splits the work over its
 *                          own workers, and a library pool on top would
 *                          oversubscribe the cores.
 *
 * Every call is single-threaded; oneDNN is told so per thread (OpenMP's
 * thread count is a per-thread setting), never globally, and the calling
 * thread gets its own setting back after each parallel loop (pool.c).
 */
#include "cpu/cpu_internal.h"
#include "platform/platform.h"
#include "util/half.h"

#include <stdio.h>
#include <string.h>

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define CLIPVK_X86 1
#endif
#if defined(__aarch64__)
#include <arm_neon.h>
#endif

typedef int (*dnnl_sgemm_fn)(char transa, char transb, int64_t m, int64_t n, int64_t k, float alpha,
                             const float *a, int64_t lda, const float *b, int64_t ldb, float beta, float *c,
                             int64_t ldc);
typedef void (*cblas_sgemm_fn)(int layout, int transa, int transb, int m, int n, int k, float alpha,
                               const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc);
enum { CBLAS_ROW_MAJOR = 101, CBLAS_NO_TRANS = 111, CBLAS_TRANS = 112 };

static pthread_mutex_t cblas_lock = PTHREAD_MUTEX_INITIALIZER; /* see clipvk_cpu_sgemm */

static int open_onednn(clipvk_cpu *cpu, const char *path)
{
    void *lib = clipvk_lib_open(path);
    if (!lib) return 0;
    clipvk_proc f = clipvk_lib_sym(lib, "dnnl_sgemm");
    if (!f) {
        clipvk_lib_close(lib);
        return 0;
    }
    cpu->gemm_lib = lib;
    cpu->sgemm = (void *)f;
    cpu->gemm = CLIPVK_GEMM_ONEDNN;
    /* libgomp, a dependency of Debian's build; absent with a sequential or TBB build */
    cpu->omp_set_num_threads = (void (*)(int))clipvk_lib_sym(lib, "omp_set_num_threads");
    cpu->omp_get_max_threads = (int (*)(void))clipvk_lib_sym(lib, "omp_get_max_threads");
    if (!cpu->omp_set_num_threads || !cpu->omp_get_max_threads) cpu->omp_set_num_threads = NULL, cpu->omp_get_max_threads = NULL;
    snprintf(cpu->gemm_name, sizeof cpu->gemm_name, "oneDNN");
    return 1;
}

static int open_cblas(clipvk_cpu *cpu, const char *path, int allow_threaded)
{
    void *lib = clipvk_lib_open(path);
    if (!lib) return 0;
    clipvk_proc f = clipvk_lib_sym(lib, "cblas_sgemm");
    int (*parallel)(void) = (int (*)(void))clipvk_lib_sym(lib, "openblas_get_parallel");
    if (!f || (parallel && parallel() != 0 && !allow_threaded)) {
        clipvk_lib_close(lib);
        return 0;
    }
    cpu->gemm_lib = lib;
    cpu->sgemm = (void *)f;
    cpu->gemm = CLIPVK_GEMM_CBLAS;
    snprintf(cpu->gemm_name, sizeof cpu->gemm_name, "%s (%s)", parallel ? "OpenBLAS" : "CBLAS", path);
    return 1;
}

static int open_openblas(clipvk_cpu *cpu)
{
    static const char *const names[] = {
#if defined(_WIN32)
        "libopenblas.dll",
#elif defined(__APPLE__)
        "libopenblas.0.dylib",
#else
        "libopenblas.so.0",
        /* Debian's sequential build, when the system's default is the threaded one */
        "/usr/lib/x86_64-linux-gnu/openblas-serial/libopenblas.so.0",
        "/usr/lib/aarch64-linux-gnu/openblas-serial/libopenblas.so.0",
#endif
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (open_cblas(cpu, names[i], 0)) return 1;
    return 0;
}

static int open_builtin(clipvk_cpu *cpu)
{
    cpu->gemm = CLIPVK_GEMM_BUILTIN;
    snprintf(cpu->gemm_name, sizeof cpu->gemm_name, "builtin");
    return 1;
}

#if defined(_WIN32)
#define ONEDNN_NAME "dnnl.dll"
#elif defined(__APPLE__)
#define ONEDNN_NAME "libdnnl.2.dylib"
#else
#define ONEDNN_NAME "libdnnl.so.2"
#endif

clipvk_status clipvk_cpu_gemm_open(clipvk_cpu *cpu, const char *which, clipvk_error *err)
{
    if (!which || !*which) {
#if CLIPVK_X86
        if (open_onednn(cpu, ONEDNN_NAME)) return CLIPVK_OK;
#endif
        open_builtin(cpu);
        return CLIPVK_OK;
    }
    if (!strcmp(which, "builtin") || !strcmp(which, "builtin-narrow")) {
        open_builtin(cpu);
        /* the narrow tile where the wide one would run (tests: the path of
         * AVX2 and NEON machines, on this one) */
        if (which[7]) cpu->gemm_narrow = 1, snprintf(cpu->gemm_name, sizeof cpu->gemm_name, "builtin (narrow)");
        return CLIPVK_OK;
    }
    if (!strcmp(which, "onednn")) {
        if (open_onednn(cpu, ONEDNN_NAME)) return CLIPVK_OK;
        return clipvk_fail(err, CLIPVK_ERROR_UNSUPPORTED, "GEMM \"onednn\": cannot load %s (Debian: libdnnl2)",
                           ONEDNN_NAME);
    }
    if (!strcmp(which, "openblas")) {
        if (open_openblas(cpu)) return CLIPVK_OK;
        return clipvk_fail(err, CLIPVK_ERROR_UNSUPPORTED,
                           "GEMM \"openblas\": no sequential OpenBLAS found (Debian: libopenblas0-serial)");
    }
    if (open_cblas(cpu, which, 1)) return CLIPVK_OK;
    return clipvk_fail(err, CLIPVK_ERROR_UNSUPPORTED,
                       "GEMM \"%s\": not builtin, builtin-narrow, onednn, openblas, or a library exporting cblas_sgemm",
                       which);
}

/* The provider stays loaded for the process, as the Vulkan loader does
 * (dispatch.c): oneDNN keeps its JIT kernels and OpenMP keeps its threads
 * past the calls that made them, and unloading a library whose threads
 * still run crashes the process. Loading it again is a reference count. */
void clipvk_cpu_gemm_close(clipvk_cpu *cpu) { cpu->gemm_lib = NULL; }

void clipvk_cpu_gemm_thread_init(clipvk_cpu *cpu)
{
    if (cpu->omp_set_num_threads) cpu->omp_set_num_threads(1);
}

int clipvk_cpu_gemm_caller_enter(clipvk_cpu *cpu)
{
    if (!cpu->omp_set_num_threads) return 0;
    int saved = cpu->omp_get_max_threads();
    if (saved != 1) cpu->omp_set_num_threads(1);
    return saved;
}

void clipvk_cpu_gemm_caller_leave(clipvk_cpu *cpu, int saved)
{
    if (cpu->omp_set_num_threads && saved != 1) cpu->omp_set_num_threads(saved);
}

/* The builtin kernel's AVX-512 tile where the processor has it. Not on
 * Windows: GCC there does not keep the stack aligned for AVX registers it
 * spills (its bug 54412), and aligned spills of a 64-byte register fault. */
static int builtin_wide(const clipvk_cpu *cpu)
{
#if defined(_WIN32)
    (void)cpu;
    return 0;
#else
    return (cpu->isa & CLIPVK_ISA_AVX512) && !cpu->gemm_narrow;
#endif
}

void clipvk_cpu_sgemm(const clipvk_cpu *cpu, int b_trans, uint32_t m, uint32_t n, uint32_t k, const float *a,
                      size_t lda, const float *b, size_t ldb, float *c, size_t ldc, int accumulate)
{
    if (!m || !n) return;
    switch (cpu->gemm) {
    case CLIPVK_GEMM_ONEDNN:
        ((dnnl_sgemm_fn)cpu->sgemm)('N', b_trans ? 'T' : 'N', m, n, k, 1.0f, a, (int64_t)lda, b, (int64_t)ldb,
                                    accumulate ? 1.0f : 0.0f, c, (int64_t)ldc);
        return;
    case CLIPVK_GEMM_CBLAS:
        /* One call at a time in the process: Debian's sequential OpenBLAS is
         * built without USE_LOCKING, and two threads inside it at once share
         * its buffers (seen here: embeddings that changed from run to run
         * with two workers, never with one or under this lock). The lock
         * guards the library's own process-wide state, hence static. */
        pthread_mutex_lock(&cblas_lock);
        ((cblas_sgemm_fn)cpu->sgemm)(CBLAS_ROW_MAJOR, CBLAS_NO_TRANS, b_trans ? CBLAS_TRANS : CBLAS_NO_TRANS, (int)m,
                                     (int)n, (int)k, 1.0f, a, (int)lda, b, (int)ldb, accumulate ? 1.0f : 0.0f, c,
                                     (int)ldc);
        pthread_mutex_unlock(&cblas_lock);
        return;
    default:
        clipvk_cpu_sgemm_builtin(builtin_wide(cpu), b_trans, m, n, k, a, lda, b, ldb, c, ldc,
                                 accumulate);
    }
}

/* ---- halves to floats */

#if CLIPVK_X86 && (defined(__GNUC__) || defined(__clang__))
__attribute__((target("avx,f16c"))) static void widen_f16c(const uint16_t *src, float *dst, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(src + i))));
    for (; i < n; i++) dst[i] = clipvk_f16_to_f32(src[i]);
}
#endif

void clipvk_cpu_widen(const clipvk_cpu *cpu, const uint16_t *src, float *dst, size_t n)
{
#if CLIPVK_X86 && (defined(__GNUC__) || defined(__clang__))
    if (cpu->isa & CLIPVK_ISA_F16C) {
        widen_f16c(src, dst, n);
        return;
    }
#elif defined(__aarch64__)
    (void)cpu;
    size_t j = 0;
    for (; j + 4 <= n; j += 4) vst1q_f32(dst + j, vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(src + j))));
    for (; j < n; j++) dst[j] = clipvk_f16_to_f32(src[j]);
    return;
#else
    (void)cpu;
#endif
    for (size_t i = 0; i < n; i++) dst[i] = clipvk_f16_to_f32(src[i]);
}
